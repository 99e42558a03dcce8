"""The TikTok emulation answers in the Marketing API's shapes, errors and limits."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from generator.sandbox import DEMO_CREDENTIALS, DEMO_ENVIRONMENT, Faults, create_app
from generator.sandbox.assets import asset_kind, creative_format, revision, video_length

TOKEN = DEMO_CREDENTIALS["tiktok"]["access_token"]
ADVERTISER = "7012345678901234567"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
API = "/open_api/v1.3"
TOO_MANY = json.dumps(["i"] * 101)
REPORT = {
    "advertiser_id": ADVERTISER,
    "service_type": "AUCTION",
    "report_type": "BASIC",
    "data_level": "AUCTION_AD",
    "dimensions": json.dumps(["ad_id", "stat_time_day"]),
    "metrics": json.dumps(
        [
            *("campaign_id", "ad_name", "spend", "impressions", "clicks", "conversion"),
            *("complete_payment", "total_complete_payment_rate", "web_event_add_to_cart"),
            *("form", "cost_per_conversion"),
        ]
    ),
    "start_date": "2026-10-01",
    "end_date": "2026-10-02",
}


@pytest.fixture
def http(world):
    def make(faults=None):
        app = create_app(world, faults, now=NOW)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sbx/tiktok")

    return make


def auth(token=TOKEN):
    return {"access-token": token} if token else {}


def truth(world, first=date(2026, 10, 1), last=date(2026, 10, 2)):
    return [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "tiktok" and r["account_id"] == ADVERTISER and first <= r["date"] <= last
    ]


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


async def read_report(client, **params) -> tuple[list[dict], list[dict]]:
    rows, infos, page = [], [], 1
    while True:
        query = {**REPORT, **params, "page": page}
        body = (
            await client.get(f"{API}/report/integrated/get/", params=query, headers=auth())
        ).json()
        assert body["code"] == 0, body
        rows += body["data"]["list"]
        infos.append(body["data"]["page_info"])
        if page >= body["data"]["page_info"]["total_page"]:
            return rows, infos
        page += 1


async def test_advertiser_info(http):
    async with http() as client:
        full = await client.get(
            f"{API}/advertiser/info/",
            params={"advertiser_ids": json.dumps([ADVERTISER])},
            headers=auth(),
        )
        some = await client.get(
            f"{API}/advertiser/info/",
            params={"advertiser_ids": f'["{ADVERTISER}"]', "fields": '["currency"]'},
            headers=auth(),
        )
    body = full.json()
    assert (body["code"], body["message"]) == (0, "OK") and len(body["request_id"]) == 30
    info = body["data"]["list"][0]
    assert (info["name"], info["currency"]) == ("Northwind TikTok", "USD")
    assert (info["timezone"], info["display_timezone"]) == ("Etc/GMT+5", "America/New_York")
    assert some.json()["data"]["list"] == [{"advertiser_id": ADVERTISER, "currency": "USD"}]
    assert DEMO_ENVIRONMENT["TIKTOK_ACCESS_TOKEN"] == TOKEN


async def test_the_report_pages_and_matches_the_world(http, world):
    async with http() as client:
        rows, infos = await read_report(client, page_size=7)
    facts = truth(world)
    assert len(infos) == -(-len(facts) // 7) > 1
    assert infos[0] == {
        "page": 1,
        "page_size": 7,
        "total_number": len(facts),
        "total_page": len(infos),
    }
    assert len(rows) == len(facts)
    first = rows[0]
    assert set(first) == {"dimensions", "metrics"}
    assert first["dimensions"]["stat_time_day"] == "2026-10-01 00:00:00"
    assert set(first["metrics"]) == set(json.loads(REPORT["metrics"]))
    assert all(isinstance(v, str) for r in rows for v in r["metrics"].values())
    metrics = [r["metrics"] for r in rows]
    assert sum(int(m["impressions"]) for m in metrics) == sum(f["impressions"] for f in facts)
    assert sum(cents(m["spend"]) for m in metrics) * 10_000 == sum(f["spend_micros"] for f in facts)
    assert sum(int(m["conversion"]) for m in metrics) == sum(f["conversions"] for f in facts)
    assert sum(int(m["complete_payment"]) for m in metrics) == sum(f["conversions"] for f in facts)
    assert sum(cents(m["total_complete_payment_rate"]) for m in metrics) * 10_000 == sum(
        f["value_micros"] for f in facts
    )
    assert sum(int(m["web_event_add_to_cart"]) for m in metrics) == sum(
        f["secondary_actions"] for f in facts
    )
    assert {m["form"] for m in metrics} == {"0"}  # an event the client does not track
    assert any(m["cost_per_conversion"] == "-" for m in metrics if m["conversion"] == "0")


async def test_ads_and_their_images(http, world):
    async with http() as client:
        ads = (
            await client.get(
                f"{API}/ad/get/",
                params={"advertiser_id": ADVERTISER, "page_size": 1000},
                headers=auth(),
            )
        ).json()["data"]
        narrow = (
            await client.get(
                f"{API}/ad/get/",
                params={"advertiser_id": ADVERTISER, "fields": '["ad_id","image_ids"]'},
                headers=auth(),
            )
        ).json()["data"]
        image_ids = [i for ad in ads["list"] for i in ad["image_ids"]]
        images = (
            await client.get(
                f"{API}/file/image/ad/info/",
                params={
                    "advertiser_id": ADVERTISER,
                    "image_ids": json.dumps([*image_ids[:3], "ad-site-i18n-sg/unknown"]),
                },
                headers=auth(),
            )
        ).json()["data"]["list"]
    known = world.ads_of("tiktok", ADVERTISER)
    assert {a["ad_id"] for a in ads["list"]} == {ad.ad_id for ad in known}
    assert ads["page_info"]["total_number"] == len(known)
    assert narrow["page_info"]["page_size"] == 10 and len(narrow["list"]) == 10
    assert all(set(a) == {"ad_id", "image_ids"} for a in narrow["list"])
    video = next(a for a in ads["list"] if a["ad_format"] == "SINGLE_VIDEO")
    assert video["video_id"] and video["call_to_action"] == "SHOP_NOW"
    assert video["landing_page_url"].startswith("https://northwindoutfitters.com/lp/")
    assert {a["ad_format"] for a in ads["list"]} == {"SINGLE_VIDEO", "SINGLE_IMAGE"}
    assert len(images) == 3
    assert images[0]["image_url"].startswith("http://sbx/cdn/") and images[0]["width"] == 1080


async def test_videos_give_their_poster_duration_and_size(http, world):
    async with http() as client:
        ads = (
            await client.get(
                f"{API}/ad/get/",
                params={"advertiser_id": ADVERTISER, "page_size": 1000},
                headers=auth(),
            )
        ).json()["data"]["list"]
        video_ids = [a["video_id"] for a in ads if a["video_id"]]
        params = {**A, "video_ids": json.dumps([*video_ids, "v10033g50000unknown"])}
        videos = await client.get(f"{API}/file/video/ad/info/", params=params, headers=auth())
        videos = videos.json()["data"]["list"]
        cover = next(
            v for v in videos if asset_kind(world.ad_by_creative(v["material_id"])) == "image"
        )
        poster = await client.get(cover["video_cover_url"])
        preview = await client.get(cover["preview_url"])
    known = [ad for ad in world.ads_of("tiktok", ADVERTISER) if creative_format(ad) == "video"]
    assert len(video_ids) == len(known) and [v["video_id"] for v in videos] == video_ids
    for info in videos:
        ad = world.ad_by_creative(info["material_id"])
        rev = revision(ad, NOW.date())
        assert info["video_id"].endswith(ad.creative_id + (f"r{rev}" if rev else ""))
        assert info["duration"] == video_length(ad, rev) and isinstance(info["duration"], float)
        assert (info["width"], info["height"]) == (1080, 1920)
        assert info["video_cover_url"].split("?")[0] == (
            f"http://sbx/cdn/{ad.creative_id}-poster" + (f"-r{rev}" if rev else "") + ".png"
        )
        assert "x-expires=" in info["video_cover_url"] and info["preview_url_expire_time"]
        assert {"bit_rate", "size", "signature", "format", "displayable"} <= set(info)
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/png"
    assert preview.status_code == 404  # the sandbox never serves a video file


A = {"advertiser_id": ADVERTISER}


@pytest.mark.parametrize(
    ("path", "params", "token", "status", "code", "needle"),
    [
        ("/open_api/v1.2/ad/get/", A, TOKEN, 404, 40400, "v1.2 has been deprecated"),
        ("/open_api/v9.9/ad/get/", A, TOKEN, 404, 40400, "v9.9 does not exist"),
        (f"{API}/campaign/get/", A, TOKEN, 404, 40400, "Not found"),
        (f"{API}/ad/get/", A, "", 200, 40104, "Access token is null"),
        (f"{API}/ad/get/", A, "stolen", 200, 40105, "incorrect or has been revoked"),
        (f"{API}/ad/get/", {}, TOKEN, 200, 40002, "advertiser_id: Missing data"),
        (f"{API}/ad/get/", {"advertiser_id": "1"}, TOKEN, 200, 40001, "No permission"),
        (f"{API}/ad/get/", {**A, "page_size": "1001"}, TOKEN, 200, 40002, "between 1 and"),
        (f"{API}/ad/get/", {**A, "page": "x"}, TOKEN, 200, 40002, "must be integers"),
        (f"{API}/ad/get/", {**A, "fields": "[oops"}, TOKEN, 200, 40002, "Not a valid list"),
        (f"{API}/ad/get/", {**A, "fields": '"ad_id"'}, TOKEN, 200, 40002, "Not a valid list"),
        (f"{API}/advertiser/info/", {"advertiser_ids": '["9"]'}, TOKEN, 200, 40001, "tiser 9"),
        (f"{API}/file/image/ad/info/", {**A, "image_ids": "[]"}, TOKEN, 200, 0, "OK"),
        (f"{API}/file/image/ad/info/", {**A, "image_ids": '["i"]'}, TOKEN, 200, 0, "OK"),
        (f"{API}/file/image/ad/info/", {**A, "image_ids": TOO_MANY}, TOKEN, 200, 40002, "image"),
        (f"{API}/file/video/ad/info/", {**A, "video_ids": "[]"}, TOKEN, 200, 0, "OK"),
        (f"{API}/file/video/ad/info/", A, TOKEN, 200, 40002, "video_ids: Missing"),
        (f"{API}/file/video/ad/info/", {**A, "video_ids": TOO_MANY}, TOKEN, 200, 40002, "60"),
    ],
)
async def test_errors_in_tiktoks_shape(http, path, params, token, status, code, needle):
    async with http() as client:
        response = await client.get(path, params=params, headers=auth(token))
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code and needle in body["message"], body
    assert body["request_id"] and body["data"] in ({}, {"list": []})


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"metrics": '["spend","reach"]'}, "Invalid metric reach"),
        ({"dimensions": '["campaign_id"]'}, "dimensions"),
        ({"data_level": "AUCTION_CAMPAIGN"}, "data_level"),
        ({"service_type": "RESERVATION"}, "service_type"),
        ({"start_date": "2026-09-01", "end_date": "2026-09-30"}, None),
        ({"start_date": "2026-09-01", "end_date": "2026-10-01"}, "cannot exceed 30 days"),
        ({"start_date": "2026-10-03"}, "earlier than start_date"),
        ({"end_date": "yesterday"}, "Not a valid date"),
    ],
)
async def test_report_parameters_are_checked(http, change, needle):
    async with http() as client:
        response = await client.get(
            f"{API}/report/integrated/get/", params={**REPORT, **change}, headers=auth()
        )
    body = response.json()
    if needle is None:
        assert body["code"] == 0 and body["data"]["page_info"]["page_size"] == 10
    else:
        assert (response.status_code, body["code"]) == (200, 40002) and needle in body["message"]


async def test_the_throttle_answers_40100(http):
    async with http(Faults(rate_limit=0.1)) as client:  # a burst of 5
        answers = [
            (
                await client.get(
                    f"{API}/advertiser/info/", params={"advertiser_ids": "[]"}, headers=auth()
                )
            ).json()
            for _ in range(6)
        ]
    assert [a["code"] for a in answers] == [0, 0, 0, 0, 0, 40100]
    assert "Too many requests" in answers[-1]["message"]


async def test_faults_outage_server_codes_and_truncation(http):
    async with http(Faults(outage={"tiktok"})) as client:
        down = await client.get(f"{API}/ad/get/", headers=auth())
    assert down.status_code == 503 and "Bad Gateway" in down.text
    async with http(Faults(error_rate=1.0)) as client:
        answers = [await client.get(f"{API}/ad/get/", headers=auth()) for _ in range(15)]
    statuses = {a.status_code for a in answers}
    assert statuses <= {200, 502, 503} and 200 in statuses
    coded = [a.json() for a in answers if a.status_code == 200]
    assert {b["code"] for b in coded} == {50000}
    async with http(Faults(truncate_rate=1.0)) as client:
        cut = await client.get(
            f"{API}/ad/get/", params={"advertiser_id": ADVERTISER}, headers=auth()
        )
        error = await client.get(f"{API}/ad/get/", headers=auth("stolen"))
    with pytest.raises(ValueError):
        cut.json()
    assert error.json()["code"] == 40105
