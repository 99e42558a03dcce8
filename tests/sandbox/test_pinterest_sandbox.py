import asyncio
import base64
import json
from datetime import UTC, date, datetime

import httpx
import pytest

from generator.sandbox import DEMO_CREDENTIALS, DEMO_ENVIRONMENT, Faults, create_app
from generator.sandbox import pinterest as sandbox

CREDENTIALS = DEMO_CREDENTIALS["pinterest"]
ACCOUNT = "549755813888"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
BASIC = base64.b64encode(f"{CREDENTIALS['client_id']}:{CREDENTIALS['client_secret']}".encode())
COLUMNS = "AD_ID,CAMPAIGN_ID,IMPRESSION_1,IMPRESSION_2,CLICKTHROUGH_1,CLICKTHROUGH_2,"
COLUMNS += "SPEND_IN_MICRO_DOLLAR,TOTAL_CHECKOUT,TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR,"
COLUMNS += "TOTAL_CLICK_CHECKOUT,TOTAL_ENGAGEMENT_CHECKOUT,TOTAL_VIEW_CHECKOUT,"
COLUMNS += "TOTAL_CLICK_ADD_TO_CART,TOTAL_CONVERSIONS"


@pytest.fixture
def http(world):
    def make(faults=None):
        app = create_app(world, faults, now=NOW)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://sbx/pinterest"
        )

    return make


async def refresh(client, refresh_token=CREDENTIALS["refresh_token"], basic=BASIC):
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await client.post(
        "/v5/oauth/token", data=form, headers={"authorization": f"Basic {basic.decode()}"}
    )


async def login(client) -> dict[str, str]:
    token = (await refresh(client)).json()["access_token"]
    return {"authorization": f"Bearer {token}"}


def truth(world, first: date, last: date, ad_ids=None) -> list[dict]:
    return [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "pinterest"
        and first <= r["date"] <= last
        and (ad_ids is None or r["ad_id"] in ad_ids)
    ]


def ads(world) -> list[str]:
    return sorted(ad.ad_id for ad in world.ads_of("pinterest", ACCOUNT))


def analytics_params(world, start="2026-10-01", end="2026-10-31", **extra) -> dict:
    return {
        "start_date": start,
        "end_date": end,
        "columns": COLUMNS,
        "granularity": "DAY",
        "ad_ids": ",".join(ads(world)),
        "click_window_days": "30",
        "view_window_days": "1",
    } | extra


def test_credentials_and_environment_are_declared():
    assert set(CREDENTIALS) == {"client_id", "client_secret", "refresh_token"}
    assert DEMO_ENVIRONMENT["PINTEREST_REFRESH_TOKEN"] == CREDENTIALS["refresh_token"]
    assert {"PINTEREST_CLIENT_ID", "PINTEREST_CLIENT_SECRET"} <= set(DEMO_ENVIRONMENT)


async def test_refresh_tokens_rotate_and_stay_valid(http):
    async with http() as client:
        first = await refresh(client)
        body = first.json()
        assert first.status_code == 200
        assert body["token_type"] == "bearer" and body["expires_in"] == 3600
        assert body["refresh_token"] != CREDENTIALS["refresh_token"]
        assert body["refresh_token_expires_in"] == 60 * 86400
        second = (await refresh(client, body["refresh_token"])).json()
        assert second["refresh_token"] not in (body["refresh_token"], CREDENTIALS["refresh_token"])
        assert (await refresh(client)).status_code == 200  # the authorised one still works
        forged = body["refresh_token"][:-4] + "0000"
        rejected = await refresh(client, forged)
        assert rejected.status_code == 400 and rejected.json()["code"] == 1
        bad_client = await refresh(client, basic=base64.b64encode(b"1484937:wrong"))
        assert bad_client.status_code == 401 and bad_client.json()["code"] == 2
        not_basic = await client.post("/v5/oauth/token", data={"grant_type": "refresh_token"})
        assert not_basic.status_code == 401
        garbled = await refresh(client, basic=b"abc")  # not base64 at all
        assert garbled.status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc"])
async def test_calls_without_a_live_access_token_are_refused(http, header):
    async with http() as client:
        headers = {"authorization": header} if header else {}
        response = await client.get(f"/v5/ad_accounts/{ACCOUNT}", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"code": 2, "message": "Authentication failed."}


async def test_access_tokens_expire(http):
    async with http(Faults(token_ttl=0.05)) as client:
        headers = await login(client)
        assert (await client.get(f"/v5/ad_accounts/{ACCOUNT}", headers=headers)).status_code == 200
        await asyncio.sleep(0.1)
        assert (await client.get(f"/v5/ad_accounts/{ACCOUNT}", headers=headers)).status_code == 401


async def test_the_ad_account_has_a_currency_but_no_time_zone(http):
    async with http() as client:
        headers = await login(client)
        response = await client.get(f"/v5/ad_accounts/{ACCOUNT}", headers=headers)
        other = await client.get("/v5/ad_accounts/123", headers=headers)
    body = response.json()
    assert (body["id"], body["currency"], body["name"]) == (ACCOUNT, "USD", "Northwind Pins")
    assert not any("zone" in key for key in body)
    assert int(response.headers["x-ratelimit-remaining"]) < int(
        response.headers["x-ratelimit-limit"]
    )
    assert other.status_code == 403 and other.json()["code"] == 29


async def test_entities_page_by_bookmark_and_hide_archived_ads_by_default(http, world):
    async with http() as client:
        headers = await login(client)
        path = f"/v5/ad_accounts/{ACCOUNT}/ads"
        default = (await client.get(path, headers=headers)).json()
        seen, bookmark, pages = [], None, 0
        while True:
            params = {"page_size": 5, "entity_statuses": ["ACTIVE", "PAUSED", "ARCHIVED"]}
            params |= {"bookmark": bookmark} if bookmark else {}
            page = (await client.get(path, params=params, headers=headers)).json()
            seen += page["items"]
            pages += 1
            if not (bookmark := page["bookmark"]):
                break
        comma = await client.get(path, params={"entity_statuses": "ARCHIVED"}, headers=headers)
        campaigns = (
            await client.get(f"/v5/ad_accounts/{ACCOUNT}/campaigns", headers=headers)
        ).json()
        groups = (await client.get(f"/v5/ad_accounts/{ACCOUNT}/ad_groups", headers=headers)).json()
        too_big = await client.get(path, params={"page_size": 251}, headers=headers)
        bad_mark = await client.get(path, params={"bookmark": "!!"}, headers=headers)
        unknown = await client.get(f"/v5/ad_accounts/{ACCOUNT}/keywords", headers=headers)
    assert pages == 3 and sorted(a["id"] for a in seen) == ads(world)
    archived = {a["id"] for a in seen if a["status"] == "ARCHIVED"}
    assert archived and {a["id"] for a in comma.json()["items"]} == archived
    assert {a["id"] for a in default["items"]} == set(ads(world)) - archived
    assert default["bookmark"] is None
    by_ad = {ad.ad_id: ad for ad in world.ads_of("pinterest", ACCOUNT)}
    assert all(a["pin_id"] == by_ad[a["id"]].creative_id for a in seen)
    assert {c["name"] for c in campaigns["items"]} == {
        "Shopping — Outdoor looks",
        "Awareness — Autumn layers",
    }
    assert len(groups["items"]) == 4 and all(g["campaign_id"] for g in groups["items"])
    assert too_big.status_code == 400 and bad_mark.status_code == 400
    assert unknown.status_code == 404


async def test_analytics_rows_match_the_world_and_keep_earned_apart(http, world):
    async with http() as client:
        headers = await login(client)
        path = f"/v5/ad_accounts/{ACCOUNT}/ads/analytics"
        response = await client.get(path, params=analytics_params(world), headers=headers)
    rows = response.json()
    expected = truth(world, date(2026, 10, 1), date(2026, 10, 31))
    assert response.status_code == 200 and isinstance(rows, list)
    assert len(rows) == len(expected)
    assert sum(r.get("IMPRESSION_1", 0) for r in rows) == sum(r["impressions"] for r in expected)
    assert sum(r.get("CLICKTHROUGH_1", 0) for r in rows) == sum(r["clicks"] for r in expected)
    assert sum(r.get("IMPRESSION_2", 0) for r in rows) > 0  # earned activity exists
    spend = sum(r.get("SPEND_IN_MICRO_DOLLAR", 0) for r in rows)
    assert spend == sum(r["spend_micros"] for r in expected)
    windows = ("TOTAL_CLICK_CHECKOUT", "TOTAL_ENGAGEMENT_CHECKOUT", "TOTAL_VIEW_CHECKOUT")
    conversions = sum(r["conversions"] for r in expected)
    assert sum(r.get("TOTAL_CHECKOUT", 0) for r in rows) == conversions
    assert sum(r.get(w, 0) for r in rows for w in windows) == conversions
    value = sum(r.get("TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR", 0) for r in rows)
    assert value == sum(r["value_micros"] for r in expected)
    carts = sum(r.get("TOTAL_CLICK_ADD_TO_CART", 0) for r in rows)
    assert carts == sum(r["secondary_actions"] for r in expected)
    assert sum(r.get("TOTAL_CONVERSIONS", 0) for r in rows) == conversions + carts
    assert all(set(r) <= {"DATE", *COLUMNS.split(",")} for r in rows)
    assert all(0 not in r.values() for r in rows)  # columns without value are left out


async def test_analytics_filter_by_ad_and_answer_one_ad_only(http, world):
    one = ads(world)[0]
    async with http() as client:
        headers = await login(client)
        path = f"/v5/ad_accounts/{ACCOUNT}/ads/analytics"
        params = analytics_params(world, ad_ids=one)
        rows = (await client.get(path, params=params, headers=headers)).json()
    assert {r["AD_ID"] for r in rows} == {one}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start_date": "2026-08-25", "end_date": "2026-08-30"}, "only get data from the last 90"),
        ({"start_date": "2026-08-26", "end_date": "2026-11-25"}, "within 90 days"),
        ({"end_date": "2026-09-01"}, "within 90 days"),
        ({"start_date": "yesterday"}, "must be dates"),
        ({"columns": "IMPRESSION_1,TOTAL_ENGAGEMENT_ADD_TO_CART"}, "TOTAL_ENGAGEMENT_ADD_TO_CART"),
        ({"columns": ""}, "columns is required"),
        ({"granularity": "HOUR"}, "granularity DAY"),
        ({"view_window_days": "3"}, "view_window_days"),
        ({"ad_ids": ""}, "ad_ids"),
        ({"ad_ids": ",".join(str(n) for n in range(101))}, "ad_ids"),
    ],
)
async def test_analytics_refuse_what_pinterest_refuses(http, world, change, message):
    async with http() as client:
        headers = await login(client)
        path = f"/v5/ad_accounts/{ACCOUNT}/ads/analytics"
        response = await client.get(path, params=analytics_params(world, **change), headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == 1 and message in response.json()["message"]


async def test_reports_finish_at_the_second_poll_and_download_without_credentials(http, world):
    body = {
        "start_date": "2026-05-01",
        "end_date": "2026-06-30",
        "granularity": "DAY",
        "level": "PIN_PROMOTION",
        "columns": COLUMNS.split(","),
        "report_format": "JSON",
        "click_window_days": 30,
    }
    async with http() as client:
        headers = await login(client)
        path = f"/v5/ad_accounts/{ACCOUNT}/reports"
        submitted = (await client.post(path, json=body, headers=headers)).json()
        token = submitted["token"]
        first = (await client.get(path, params={"token": token}, headers=headers)).json()
        second = (await client.get(path, params={"token": token}, headers=headers)).json()
        third = (await client.get(path, params={"token": token}, headers=headers)).json()
        url = httpx.URL(second["url"])
        signed = await client.get(url, headers=headers)
        download = await client.get(url)
        unknown = (await client.get(path, params={"token": "nope"}, headers=headers)).json()
        missing = await client.get("/downloads/nope.json")
    assert submitted["report_status"] == "IN_PROGRESS"
    assert first == {"report_status": "IN_PROGRESS", "url": None, "size": None}
    assert second["report_status"] == "FINISHED" and second["size"] == len(download.content)
    assert third == second  # the file is built once
    assert url.params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert signed.status_code == 400 and b"<Code>InvalidArgument</Code>" in signed.content
    report = download.json()
    expected = truth(world, date(2026, 5, 1), date(2026, 6, 30))
    assert set(report) == {r["ad_id"] for r in expected}
    rows = [row for ad_rows in report.values() for row in ad_rows]
    assert len(rows) == len(expected)
    assert sum(r.get("SPEND_IN_MICRO_DOLLAR", 0) for r in rows) == sum(
        r["spend_micros"] for r in expected
    )
    assert sum(r.get("TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR", 0) for r in rows) == sum(
        r["value_micros"] for r in expected
    )
    assert unknown["report_status"] == "DOES_NOT_EXIST"
    assert missing.status_code == 404 and b"NoSuchKey" in missing.content


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        ({"start_date": "2025-07-01", "end_date": "2026-02-01"}, "within 186 days"),
        ({"level": "CAMPAIGN"}, "level PIN_PROMOTION"),
        ({"report_format": "CSV"}, "report_format JSON"),
    ],
)
async def test_reports_refuse_what_the_sandbox_does_not_serve(http, body, message):
    valid = {
        "start_date": "2026-05-01",
        "end_date": "2026-05-31",
        "granularity": "DAY",
        "level": "PIN_PROMOTION",
        "columns": ["AD_ID", "IMPRESSION_1"],
    }
    async with http() as client:
        headers = await login(client)
        path = f"/v5/ad_accounts/{ACCOUNT}/reports"
        content = body if isinstance(body, bytes) else json.dumps(valid | body).encode()
        response = await client.post(path, content=content, headers=headers)
    assert response.status_code == 400 and message in response.json()["message"]


async def test_pins_carry_copy_and_the_cdn_image(http, world):
    ad = world.ads_of("pinterest", ACCOUNT)[0]
    async with http() as client:
        headers = await login(client)
        params = {"ad_account_id": ACCOUNT}
        pin = (
            await client.get(f"/v5/pins/{ad.creative_id}", params=params, headers=headers)
        ).json()
        elsewhere = await client.get(
            f"/v5/pins/{ad.creative_id}", params={"ad_account_id": "1"}, headers=headers
        )
        meta_ad = world.ads_of("meta", "act_1029384756")[0]
        not_a_pin = await client.get(f"/v5/pins/{meta_ad.creative_id}", headers=headers)
    assert (pin["id"], pin["title"], pin["description"]) == (ad.creative_id, ad.headline, ad.body)
    assert pin["link"] == ad.landing_url and pin["media"]["media_type"] == "image"
    original = pin["media"]["images"]["originals"]
    assert original["url"] == f"http://sbx/cdn/{ad.creative_id}.png"
    assert (original["width"], original["height"]) == (1000, 1500)
    assert elsewhere.status_code == 404 and not_a_pin.status_code == 404


async def test_more_calls_a_second_than_allowed_are_throttled(http):
    async with http(Faults(rate_limit=3.0)) as client:
        headers = await login(client)
        answers = [
            await client.get(f"/v5/ad_accounts/{ACCOUNT}", headers=headers) for _ in range(4)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    limited = answers[-1]
    assert limited.json()["code"] == 8
    assert limited.headers["x-ratelimit-limit"] == "3"
    assert limited.headers["x-ratelimit-reset"] == "1"


@pytest.mark.parametrize(("version", "status"), [("v4", 410), ("v3", 410), ("v6", 404)])
async def test_retired_and_unknown_versions(http, version, status):
    async with http() as client:
        headers = await login(client)
        response = await client.get(f"/{version}/ad_accounts/{ACCOUNT}", headers=headers)
    assert response.status_code == status
    if status == 410:
        assert (
            "sunset" in response.json()["message"] and sandbox.VERSION in response.json()["message"]
        )


async def test_outages_and_truncated_bodies(http, world):
    async with http(Faults(outage={"pinterest"})) as client:
        token = await refresh(client)
        api = await client.get(f"/v5/ad_accounts/{ACCOUNT}", headers={"authorization": "Bearer x"})
        download = await client.get("/downloads/nope.json")
    assert token.status_code == 503 and api.status_code == 503
    assert api.json()["code"] == 12
    assert download.status_code == 503 and b"InternalError" in download.content
    async with http(Faults(truncate_rate=1.0)) as client:
        headers = await login(client)
        cut = await client.get(f"/v5/ad_accounts/{ACCOUNT}", headers=headers)
        refused = await client.get("/v5/ad_accounts/1", headers=headers)
    with pytest.raises(ValueError):
        json.loads(cut.content)
    assert refused.json()["code"] == 29  # error answers are never cut
