"""The TikTok connector against hand-written answers in the Marketing API's shapes."""

import json
from datetime import date

import httpx
import pytest

from generator.connectors import get_connector
from generator.connectors import tiktok as tiktok_module
from generator.connectors.labels import UNKNOWN_ID
from generator.connectors.tiktok import API_VERSION
from generator.errors import (
    ApiVersionRetired,
    AuthFailed,
    ConnectorError,
    PlatformUnavailable,
    ResponseInvalid,
)

from .conftest import Replay, fixture

TOKEN = "tt-long-lived-0123456789abcdef"
ADVERTISER = "7012345678901234567"
INFO, REPORT = "/advertiser/info/", "/report/integrated/get/"
ADS, IMAGES, VIDEOS = "/ad/get/", "/file/image/ad/info/", "/file/video/ad/info/"
OCT = (date(2026, 10, 1), date(2026, 10, 2))


def connector(replay: Replay, sleeps: list | None = None):
    c = get_connector(
        "tiktok", {"access_token": TOKEN}, base_url="https://tt.test", transport=replay.transport
    )

    async def sleep(seconds):
        (sleeps if sleeps is not None else []).append(seconds)

    c.api._sleep = sleep
    return c


def tt(name: str, status: int = 200, **headers) -> httpx.Response:
    return httpx.Response(status, json=fixture("tiktok", name), headers=headers)


def routes(**extra) -> dict:
    return {
        INFO: [fixture("tiktok", "advertiser_info.json")],
        REPORT: [fixture("tiktok", "report_page_1.json"), fixture("tiktok", "report_page_2.json")],
        **extra,
    }


def params(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params)


async def test_performance_request_shape_paging_and_normalisation():
    replay = Replay(routes())
    async with connector(replay) as c:
        table = await c.fetch_performance(ADVERTISER, *OCT)
    info, *pages = replay.requests
    assert info.url.path == f"/open_api/{API_VERSION}/advertiser/info/"
    assert json.loads(params(info)["advertiser_ids"]) == [ADVERTISER]
    assert info.headers["access-token"] == TOKEN and "authorization" not in info.headers
    first, second = (params(p) for p in pages)
    assert pages[0].url.path == f"/open_api/{API_VERSION}/report/integrated/get/"
    assert first["advertiser_id"] == ADVERTISER and first["data_level"] == "AUCTION_AD"
    assert (first["service_type"], first["report_type"]) == ("AUCTION", "BASIC")
    assert json.loads(first["dimensions"]) == ["ad_id", "stat_time_day"]
    metrics = json.loads(first["metrics"])
    assert {"spend", "conversion", "complete_payment", "total_complete_payment_rate"} <= set(
        metrics
    )
    assert (first["start_date"], first["end_date"]) == ("2026-10-01", "2026-10-02")
    assert (first["page"], first["page_size"], second["page"]) == ("1", "1000", "2")
    rows = table.to_pylist()
    assert len(rows) == 3
    big, tiny, later = rows
    assert big["spend_micros"] == 1_265_870_000 and big["value_micros"] == 1_021_300_000
    assert (big["impressions"], big["clicks"], big["conversions"]) == (152_340, 1021, 14.0)
    assert big["campaign_name"] == "Spark Ads — Trail <b>tested</b>" and big["ad_name"] == (
        "Shells 🔥 — 1"
    )
    assert (big["ad_group_id"], big["creative_id"]) == ("1790000000000000010", big["ad_id"])
    assert (big["currency"], big["account_timezone"]) == ("USD", "America/New_York")
    assert big["account_name"] == "Acme Outdoor <US>" and big["platform"] == "tiktok"
    assert (tiny["spend_micros"], tiny["value_micros"]) == (50_000, 0)  # "-" is missing
    assert later["date"] == date(2026, 10, 2) and later["value_micros"] == 644_050_000
    assert {r["api_version"] for r in rows} == {API_VERSION}


async def test_actions_reuse_the_windows_report_and_map_events():
    replay = Replay(routes())
    async with connector(replay) as c:
        await c.fetch_performance(ADVERTISER, *OCT)
        table = await c.fetch_actions(ADVERTISER, *OCT)
        again = await c.fetch_actions(ADVERTISER, *OCT)  # a second read asks again
    assert len(replay.to(REPORT)) == 4 and len(replay.to(INFO)) == 1
    rows = sorted(table.to_pylist(), key=lambda r: (r["date"], r["action_type"]))
    assert [(r["date"].day, r["action_type"], r["count"], r["value_micros"]) for r in rows] == [
        (1, "add_to_cart", 52.0, 0),
        (1, "purchase", 14.0, 1_021_300_000),
        (2, "add_to_cart", 31.0, 0),
        (2, "purchase", 9.0, 644_050_000),
    ]
    assert {r["attribution_window"] for r in rows} == {"default"}
    assert again.num_rows == table.num_rows


async def test_actions_first_then_performance_share_one_read():
    replay = Replay(routes())
    async with connector(replay) as c:
        await c.fetch_actions(ADVERTISER, *OCT)
        performance = await c.fetch_performance(ADVERTISER, *OCT)
    assert len(replay.to(REPORT)) == 2 and performance.num_rows == 3


async def test_rows_without_attributes_keep_their_numbers_and_degrade_to_ids():
    # ad 1 names itself on day 1 only; ad 5 is deleted ("-" everywhere); ad 6's campaign and
    # ad group come back unnamed
    replay = Replay(routes(**{REPORT: [fixture("tiktok", "report_unlabelled.json")]}))
    async with connector(replay) as c:
        performance = await c.fetch("ad_performance", ADVERTISER, *OCT)
        actions = await c.fetch("actions", ADVERTISER, *OCT)
        unresolved = c.unresolved_in(ADVERTISER).as_dict()
    filtering = json.loads(params(replay.to(REPORT)[0])["filtering"])
    assert filtering == [
        {"field_name": "ad_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
    ]
    rows = {(r["ad_id"][-1], r["date"].day): r for r in performance.to_pylist()}
    numbers = {k: (r["impressions"], r["clicks"], r["spend_micros"]) for k, r in rows.items()}
    assert numbers == {
        ("1", 1): (1000, 10, 100_000_000),
        ("1", 2): (900, 9, 80_500_000),
        ("5", 1): (321, 3, 12_340_000),
        ("6", 1): (50, 1, 5_000_000),
    }
    assert (rows[("1", 2)]["conversions"], rows[("1", 2)]["value_micros"]) == (2.0, 75_250_000)
    columns = ("campaign_id", "campaign_name", "ad_group_id", "ad_group_name", "ad_name")
    labels = {k: tuple(r[c] for c in columns) for k, r in rows.items()}
    named = ("1790000000000000100", "Spark Ads — Trail", "1790000000000000010", "Core")
    assert labels[("1", 1)] == labels[("1", 2)] == (*named, "Shells — 1")  # from day 1
    assert labels[("5", 1)] == (
        UNKNOWN_ID,
        "Unknown campaign",
        UNKNOWN_ID,
        "Unknown ad group",
        "1790000000000000005",
    )
    assert labels[("6", 1)] == (
        "1790000000000000200",
        "1790000000000000200",
        "1790000000000000020",
        "1790000000000000020",
        "Archived hero",
    )
    assert unresolved == {
        "campaign": ["1790000000000000200", UNKNOWN_ID],
        "ad_group": ["1790000000000000020", UNKNOWN_ID],
        "ad": ["1790000000000000005"],
    }
    events = sorted(
        (r["ad_id"][-1], r["date"].day, r["action_type"], r["count"], r["value_micros"])
        for r in actions.to_pylist()
    )
    assert events == [
        ("1", 1, "purchase", 1.0, 50_000_000),
        ("1", 2, "purchase", 2.0, 75_250_000),
        ("5", 1, "add_to_cart", 3.0, 0),
    ]
    assert {r["campaign_id"] for r in actions.to_pylist() if r["ad_id"].endswith("5")} == {
        UNKNOWN_ID
    }


async def test_long_windows_are_read_in_thirty_day_pieces():
    replay = Replay(routes(**{REPORT: [fixture("tiktok", "report_empty.json")]}))
    async with connector(replay) as c:
        table = await c.fetch_performance(ADVERTISER, date(2026, 9, 1), date(2026, 10, 31))
    spans = sorted((params(r)["start_date"], params(r)["end_date"]) for r in replay.to(REPORT))
    assert spans == [
        ("2026-09-01", "2026-09-30"),
        ("2026-10-01", "2026-10-30"),
        ("2026-10-31", "2026-10-31"),
    ]
    assert table.num_rows == 0


def image_info(request):
    images = fixture("tiktok", "images.json")
    wanted = json.loads(params(request)["image_ids"])
    found = [i for i in images["data"]["list"] if i["image_id"] in wanted]
    return httpx.Response(200, json={**images, "data": {"list": found}})


def creative_routes(ads=None, videos=None) -> dict:
    return {
        ADS: [ads or fixture("tiktok", "ads.json")],
        IMAGES: [image_info],
        VIDEOS: [videos or fixture("tiktok", "videos.json")],
    }


async def test_creatives_join_ads_with_their_images_and_videos(monkeypatch):
    monkeypatch.setattr(tiktok_module, "IMAGE_BATCH", 1)
    replay = Replay(creative_routes())
    async with connector(replay) as c:
        rows = {r["ad_id"]: r for r in (await c.fetch_creatives(ADVERTISER)).to_pylist()}
    ads_request = replay.to(ADS)[0]
    assert "ad_text" in json.loads(params(ads_request)["fields"])
    assert params(ads_request)["page_size"] == "1000"
    assert len(replay.to(IMAGES)) == 2
    (videos,) = replay.to(VIDEOS)
    assert params(videos) == {
        "advertiser_id": ADVERTISER,
        "video_ids": json.dumps(["v10033g50000cover0001"]),
    }
    video, image, text = (rows[f"179000000000000000{n}"] for n in (1, 3, 4))
    assert video["format"] == "video" and (video["width"], video["height"]) == (1080, 1920)
    # the video's poster (video_cover_url), not the cover image of image_ids
    assert video["asset_url"].startswith(
        "https://p16-sign-sg.tiktokcdn.com/tos-alisg-p-0051/poster"
    )
    assert video["duration_ms"] == 15046
    assert video["headline"] == "Waterproof shells, built for <script>storms</script>"
    assert (video["call_to_action"], video["creative_id"]) == ("SHOP_NOW", video["ad_id"])
    assert video["landing_url"] == "https://acme.example/shells?utm_source=tiktok"
    assert image["format"] == "image" and image["height"] == 628 and image["duration_ms"] is None
    assert text["format"] == "text" and text["asset_url"] is None
    assert len({r["version"] for r in rows.values()}) == 3
    # versions hash the files' ids: the same as before posters and durations were read
    assert [rows[f"179000000000000000{n}"]["version"] for n in (1, 3, 4)] == [
        "ba09082625cede9d",
        "9ebcbbe192aca779",
        "86332af9fe56f9cb",
    ]
    assert {r["platform"] for r in rows.values()} == {"tiktok"}


@pytest.mark.parametrize(
    ("shape", "url", "duration"),
    [
        ("poster_url", "https://p16-sign-sg.tiktokcdn.com/poster-b", 15046),  # another spelling
        ("string", "https://p16-sign-sg.tiktokcdn.com/tos-alisg-p-0051/poster-0001", 9500),
        ("unknown", "https://p16-sign-sg.tiktokcdn.com/cover-0001", None),  # its cover image
    ],
)
async def test_video_posters_and_durations_in_other_shapes(shape, url, duration):
    videos = fixture("tiktok", "videos.json")
    info = videos["data"]["list"][0]
    if shape == "poster_url":
        info["poster_url"] = "https://p16-sign-sg.tiktokcdn.com/poster-b~tplv-noop.image"
        del info["video_cover_url"]
    elif shape == "string":
        info["duration"] = "9.5"
    else:  # TikTok leaves out a video it cannot use
        videos["data"]["list"] = []
    async with connector(Replay(creative_routes(videos=videos))) as c:
        rows = {r["ad_id"]: r for r in (await c.fetch_creatives(ADVERTISER)).to_pylist()}
    video = rows["1790000000000000001"]
    assert video["asset_url"].startswith(url) and video["duration_ms"] == duration
    assert video["format"] == "video"


async def test_a_duration_that_is_not_a_number_is_named():
    videos = fixture("tiktok", "videos.json")
    videos["data"]["list"][0]["duration"] = "long"
    async with connector(Replay(creative_routes(videos=videos))) as c:
        with pytest.raises(ResponseInvalid, match="'long' is not a number"):
            await c.fetch_creatives(ADVERTISER)


def _upload(answers: list[dict], change: str) -> list[dict]:
    """ad/get, image and video answers after the advertiser replaced a picture (or after the
    CDN only re-signed the URLs)."""
    text = json.dumps(answers)
    if change == "image":  # a new image upload: a new id and file
        text = text.replace("catalog-0003", "catalog-0003-r1")
    elif change == "video":  # a new video with its own poster
        text = text.replace("cover0001", "cover0001r1").replace("poster-0001", "poster-0001-r1")
    else:  # the same files signed again on another CDN host
        text = text.replace("x-expires=1795000000", "x-expires=1799999999")
        text = text.replace("p16-sign-sg", "p19-sign-va")
    return json.loads(text)


@pytest.mark.parametrize(
    ("change", "changed"),
    [("image", {"3"}), ("video", {"1"}), ("resigned", set())],
)
async def test_a_new_upload_is_a_new_version_and_a_new_signature_is_not(change, changed):
    answers = [fixture("tiktok", name) for name in ("ads.json", "images.json", "videos.json")]
    versions, urls = [], []
    for ads, images, videos in (answers, _upload(answers, change)):

        def image_answer(request, images=images):
            wanted = json.loads(params(request)["image_ids"])
            found = [i for i in images["data"]["list"] if i["image_id"] in wanted]
            return httpx.Response(200, json={**images, "data": {"list": found}})

        async with connector(Replay({ADS: [ads], IMAGES: [image_answer], VIDEOS: [videos]})) as c:
            rows = (await c.fetch_creatives(ADVERTISER)).to_pylist()
        versions.append({r["ad_id"][-1]: r["version"] for r in rows})
        urls.append({r["ad_id"][-1]: r["asset_url"] for r in rows})
    (before, after), (old, new) = versions, urls
    assert {k for k in before if before[k] != after[k]} == changed
    assert {k for k in old if old[k] != new[k]} >= changed  # a new URL came with it


async def test_account_info_is_read_once_and_checked():
    replay = Replay(routes())
    async with connector(replay) as c:
        first = await c.account_info(ADVERTISER)
        assert await c.account_info(ADVERTISER) == first
    assert (first.name, first.currency, first.timezone) == (
        "Acme Outdoor <US>",
        "USD",
        "America/New_York",
    )
    assert len(replay.requests) == 1
    bare = fixture("tiktok", "advertiser_info.json")
    bare["data"]["list"][0] = {"advertiser_id": ADVERTISER, "timezone": "Etc/GMT+5"}
    async with connector(Replay({INFO: [bare]})) as c:
        with pytest.raises(ResponseInvalid, match="without currency or time zone"):
            await c.account_info(ADVERTISER)


async def test_a_body_coded_rate_limit_backs_off_without_a_hint():
    sleeps: list[float] = []
    replay = Replay(routes(**{INFO: [tt("rate_limited.json"), tt("advertiser_info.json")]}))
    async with connector(replay, sleeps) as c:
        await c.account_info(ADVERTISER)
        assert c.api.stats.rate_limited == 1 and c.api.stats.retries == 0
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5  # the policy's first backoff


async def test_a_gateway_429_waits_its_retry_after():
    sleeps: list[float] = []
    limited = httpx.Response(429, text="Too Many Requests", headers={"Retry-After": "3"})
    replay = Replay(routes(**{INFO: [limited, tt("advertiser_info.json")]}))
    async with connector(replay, sleeps) as c:
        await c.account_info(ADVERTISER)
    assert sleeps == [3.0]


@pytest.mark.parametrize(
    ("name", "status", "error", "needle"),
    [
        ("token_revoked.json", 200, AuthFailed, "re-authorise the app"),
        ("token_empty.json", 200, AuthFailed, "code 40104"),
        ("no_permission.json", 200, AuthFailed, "Business Center"),
        ("invalid_metric.json", 200, ConnectorError, "Invalid metric complete_payments"),
        ("version_deprecated.json", 404, ApiVersionRetired, "bump API_VERSION in generator/"),
        ("version_deprecated.json", 200, ApiVersionRetired, "connectors/tiktok.py"),
    ],
)
async def test_fatal_codes_say_how_to_fix_them(name, status, error, needle):
    replay = Replay({INFO: [tt(name, status)]})
    async with connector(replay) as c:
        with pytest.raises(error, match=needle) as caught:
            await c.account_info(ADVERTISER)
    assert len(replay.requests) == 1  # never retried
    assert caught.value.platform == "tiktok"
    assert caught.value.request == f"GET /open_api/{API_VERSION}/advertiser/info/"
    assert TOKEN not in str(caught.value)
    assert type(caught.value) is error


async def test_a_plain_404_is_an_error_not_a_retired_version():
    replay = Replay({INFO: [httpx.Response(404, text="Not Found")]})
    async with connector(replay) as c:
        with pytest.raises(ConnectorError, match="HTTP 404") as caught:
            await c.account_info(ADVERTISER)
    assert not isinstance(caught.value, ApiVersionRetired)


async def test_server_codes_and_gateway_errors_are_retried_then_give_up():
    answers = [
        tt("system_error.json"),
        httpx.Response(502, text="<html>"),
        tt("advertiser_info.json"),
    ]
    replay = Replay({INFO: answers})
    async with connector(replay) as c:
        await c.account_info(ADVERTISER)
        assert c.api.stats.retries == 2
    async with connector(Replay({INFO: [tt("system_error.json")]})) as c:
        with pytest.raises(PlatformUnavailable, match="code 50000"):
            await c.account_info(ADVERTISER)


async def test_a_truncated_body_is_retried_then_reported():
    cut = httpx.Response(200, content=b'{"code":0,"message":"OK","data":{"list":[{"adv')
    replay = Replay(routes(**{INFO: [cut, tt("advertiser_info.json")]}))
    async with connector(replay) as c:
        assert (await c.account_info(ADVERTISER)).currency == "USD"
    async with connector(Replay({INFO: [{"code": 0, "message": "OK"}]})) as c:
        with pytest.raises(ResponseInvalid, match="unreadable body"):
            await c.account_info(ADVERTISER)
    broken = {**fixture("tiktok", "ads.json"), "data": {"list": "nope"}}
    async with connector(Replay({ADS: [broken]})) as c:
        with pytest.raises(ResponseInvalid, match="data.list"):
            await c.fetch_creatives(ADVERTISER)


async def test_a_missing_required_field_names_platform_version_and_field():
    replay = Replay(routes(**{REPORT: [fixture("tiktok", "report_missing_ad_id.json")]}))
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match="dimensions.ad_id") as caught:
            await c.fetch_performance(ADVERTISER, *OCT)
    assert "tiktok" in str(caught.value) and API_VERSION in str(caught.value)


async def test_a_metric_that_is_not_a_number_is_named():
    page = fixture("tiktok", "report_page_2.json")
    page["data"]["list"][0]["metrics"]["complete_payment"] = "lots"
    replay = Replay(routes(**{REPORT: [page]}))
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match="complete_payment"):
            await c.fetch_actions(ADVERTISER, *OCT)


def test_the_token_is_required():
    with pytest.raises(AuthFailed, match="credentials lack access_token"):
        get_connector("tiktok", {"app_id": "123"})
