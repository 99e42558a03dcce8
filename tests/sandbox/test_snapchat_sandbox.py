"""The Snapchat emulation answers in the Marketing API's shapes, errors and limits."""

from datetime import UTC, date, datetime

import httpx
import pytest

from generator.sandbox import DEMO_CREDENTIALS, DEMO_ENVIRONMENT, Faults, create_app

CREDENTIALS = DEMO_CREDENTIALS["snapchat"]
ACCOUNT = "8a1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
BASE = f"/v1/adaccounts/{ACCOUNT}"
STATS = {
    "granularity": "DAY",
    "breakdown": "ad",
    "fields": "impressions,swipes,spend,conversion_sign_ups,conversion_sign_ups_swipe_up,"
    "conversion_sign_ups_view,custom_event_1,conversion_purchases_value",
    "start_time": "2026-10-31T00:00:00.000-07:00",
    "end_time": "2026-11-02T00:00:00.000-08:00",
}


@pytest.fixture
def http(world):
    def make(faults=None):
        app = create_app(world, faults, now=NOW)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sbx/snapchat")

    return make


async def token(client, **change) -> str:
    form = {"grant_type": "refresh_token", **CREDENTIALS, **change}
    return await client.post("/login/oauth2/access_token", data=form)


async def authed(client) -> dict[str, str]:
    body = (await token(client)).json()
    return {"authorization": f"Bearer {body['access_token']}"}


def truth(world, first, last):
    return [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "snapchat" and first <= r["date"] <= last
    ]


async def test_the_token_endpoint(http):
    async with http(Faults(token_ttl=5000)) as client:
        good = await token(client)
        wrong_secret = await token(client, client_secret="nope")
        wrong_refresh = await token(client, refresh_token="nope")
        wrong_grant = await token(client, grant_type="password")
    body = good.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800  # Snap's 30 minutes
    assert body["refresh_token"] == CREDENTIALS["refresh_token"]
    assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "invalid_client")
    assert (wrong_refresh.status_code, wrong_refresh.json()["error"]) == (400, "invalid_grant")
    assert wrong_grant.json()["error"] == "unsupported_grant_type"
    assert DEMO_ENVIRONMENT["SNAPCHAT_REFRESH_TOKEN"] == CREDENTIALS["refresh_token"]


async def test_the_ad_account_and_its_wrapped_lists(http, world):
    async with http() as client:
        headers = await authed(client)
        account = (await client.get(BASE, headers=headers)).json()
        lists = {
            things: (await client.get(f"{BASE}/{things}", headers=headers)).json()
            for things in ("campaigns", "adsquads", "ads", "creatives", "media")
        }
    assert account["request_status"] == "SUCCESS"
    wrapper = account["adaccounts"][0]
    assert wrapper["sub_request_status"] == "SUCCESS"
    assert (wrapper["adaccount"]["currency"], wrapper["adaccount"]["timezone"]) == (
        "USD",
        "America/Los_Angeles",
    )
    ads = world.ads_of("snapchat", ACCOUNT)
    assert [w["ad"]["id"] for w in lists["ads"]["ads"]] == [ad.ad_id for ad in ads]
    assert len(lists["campaigns"]["campaigns"]) == len({ad.campaign_id for ad in ads})
    squad = lists["adsquads"]["adsquads"][0]["adsquad"]
    assert squad["campaign_id"] == ads[0].campaign_id
    ad = lists["ads"]["ads"][0]["ad"]
    assert (ad["ad_squad_id"], ad["creative_id"]) == (ads[0].ad_group_id, ads[0].creative_id)
    creative = lists["creatives"]["creatives"][0]["creative"]
    media = {w["media"]["id"]: w["media"] for w in lists["media"]["media"]}
    assert creative["web_view_properties"]["url"] == ads[0].landing_url
    assert media[creative["top_snap_media_id"]]["download_link"] == (
        f"http://sbx/cdn/{ads[0].creative_id}.png"
    )
    assert all("paging" not in body for body in lists.values())


async def test_lists_page_by_next_link(http, world):
    async with http() as client:
        headers = await authed(client)
        ids, url, pages = [], f"{BASE}/ads?limit=4", 0
        while url:
            body = (await client.get(url, headers=headers)).json()
            ids += [w["ad"]["id"] for w in body["ads"]]
            url, pages = body.get("paging", {}).get("next_link"), pages + 1
    assert ids == [ad.ad_id for ad in world.ads_of("snapchat", ACCOUNT)] and pages == 2


async def test_daily_stats_across_a_dst_switch_match_the_world(http, world):
    async with http() as client:
        headers = await authed(client)
        body = (await client.get(f"{BASE}/stats", params=STATS, headers=headers)).json()
        empty = (
            await client.get(
                f"{BASE}/stats", params={**STATS, "omit_empty": "true"}, headers=headers
            )
        ).json()
    stat = body["timeseries_stats"][0]["timeseries_stat"]
    assert (stat["type"], stat["granularity"], stat["swipe_up_attribution_window"]) == (
        "AD_ACCOUNT",
        "DAY",
        "28_DAY",
    )
    assert stat["finalized_data_end_time"] == "2026-11-23T00:00:00.000-08:00"
    series = stat["breakdown_stats"]["ad"]
    days = series[0]["timeseries"]
    assert [(d["start_time"], d["end_time"]) for d in days] == [
        ("2026-10-31T00:00:00.000-07:00", "2026-11-01T00:00:00.000-07:00"),
        ("2026-11-01T00:00:00.000-07:00", "2026-11-02T00:00:00.000-08:00"),
    ]
    assert set(days[0]["stats"]) == set(STATS["fields"].split(","))
    facts = truth(world, date(2026, 10, 31), date(2026, 11, 1))
    stats = [d["stats"] for ad in series for d in ad["timeseries"]]
    assert sum(s["spend"] for s in stats) == sum(f["spend_micros"] for f in facts)
    assert sum(s["swipes"] for s in stats) == sum(f["clicks"] for f in facts)
    assert sum(s["conversion_sign_ups"] for s in stats) == sum(f["conversions"] for f in facts)
    assert sum(s["conversion_sign_ups_view"] for s in stats) == sum(
        f["view_conversions"] for f in facts
    )
    assert sum(s["custom_event_1"] for s in stats) == sum(f["secondary_actions"] for f in facts)
    assert {s["conversion_purchases_value"] for s in stats} == {0}
    kept_ads = empty["timeseries_stats"][0]["timeseries_stat"]["breakdown_stats"]["ad"]
    kept = [day for ad in kept_ads for day in ad["timeseries"]]
    assert len(kept) == len(facts) <= len(stats)


async def test_stats_page_over_ads(http, world):
    async with http() as client:
        headers = await authed(client)
        first = (
            await client.get(f"{BASE}/stats", params={**STATS, "limit": 5}, headers=headers)
        ).json()
        second = (await client.get(first["paging"]["next_link"], headers=headers)).json()
    ads = [
        a["id"]
        for body in (first, second)
        for a in body["timeseries_stats"][0]["timeseries_stat"]["breakdown_stats"]["ad"]
    ]
    assert ads == [ad.ad_id for ad in world.ads_of("snapchat", ACCOUNT)]
    assert "paging" not in second


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"start_time": "2026-10-31T00:00:00.000Z"}, "start of day (00:00:00)"),
        ({"start_time": "2026-10-31T00:00:00.000"}, "start_time that is the start of day"),
        ({"end_time": "2026-11-02T00:00:00.000-07:00"}, "end_time that is the start of day"),
        ({"end_time": "soon"}, "not a valid ISO 8601"),
        ({"end_time": "2026-12-02T00:00:00.000-08:00"}, "1 to 31 days"),
        ({"end_time": "2026-10-31T00:00:00.000-07:00"}, "1 to 31 days"),
        ({"granularity": "HOUR"}, "granularity=DAY"),
        ({"fields": "impressions,reach"}, "Invalid stats field: reach"),
        ({"view_attribution_window": "7_DAY"}, "view 1_DAY"),
        ({"limit": "0"}, "limit must be between"),
        ({"limit": "5", "cursor": "bm9wZQ=="}, "not valid"),
    ],
)
async def test_bad_stats_queries_get_snaps_400(http, change, needle):
    async with http() as client:
        headers = await authed(client)
        response = await client.get(f"{BASE}/stats", params={**STATS, **change}, headers=headers)
    body = response.json()
    assert response.status_code == 400 and body["request_status"] == "ERROR"
    assert needle in body["debug_message"] and body["error_code"] == "E1001"


@pytest.mark.parametrize(
    ("path", "auth", "status", "needle"),
    [
        ("/v2/adaccounts/x", True, 404, "Unsupported API version v2"),
        (BASE, False, 401, "invalid or expired access token"),
        ("/v1/adaccounts/not-mine", True, 403, "not authorized to access ad account"),
        (f"{BASE}/segments", True, 404, "can not be found"),
    ],
)
async def test_errors_in_snaps_shape(http, path, auth, status, needle):
    async with http() as client:
        headers = await authed(client) if auth else {"authorization": "Bearer stolen"}
        response = await client.get(path, headers=headers)
    body = response.json()
    assert response.status_code == status and needle in body["debug_message"]
    assert body["request_status"] == "ERROR" and body["request_id"]


async def test_tokens_expire(world):
    clock = [0.0]
    app = create_app(world, Faults(token_ttl=2.0), now=NOW)
    app.state.sandbox.tokens.clock = lambda: clock[0]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://sbx/snapchat"
    ) as client:
        headers = await authed(client)
        fresh = await client.get(BASE, headers=headers)
        clock[0] = 3.0
        stale = await client.get(BASE, headers=headers)
    assert fresh.status_code == 200 and stale.status_code == 401


async def test_the_throttle_answers_429_without_retry_after(http):
    async with http(Faults(rate_limit=0.1)) as client:
        headers = await authed(client)
        answers = [await client.get(BASE, headers=headers) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert "retry-after" not in answers[-1].headers
    assert answers[-1].json()["debug_message"] == "Rate limit exceeded."


async def test_faults_outage_errors_and_truncation(http):
    async with http(Faults(outage={"snapchat"})) as client:
        down = await client.get(BASE, headers=await authed(client))
    assert down.status_code == 503 and down.text == "upstream connect error"
    async with http(Faults(error_rate=1.0)) as client:
        headers = await authed(client)
        answers = [await client.get(BASE, headers=headers) for _ in range(12)]
    assert {a.status_code for a in answers} <= {500, 502, 503}
    assert any(a.status_code == 500 and a.json()["error_code"] == "E2001" for a in answers)
    async with http(Faults(truncate_rate=1.0)) as client:
        cut = await client.get(BASE, headers=await authed(client))
    with pytest.raises(ValueError):
        cut.json()


def test_day_stats_for_a_purchase_client_and_an_idle_day(world):
    from generator.sandbox.snapchat import _day_stats

    ad = next(a for a in world.ads if a.client.primary_action == "purchase")
    row = {
        "impressions": 10,
        "clicks": 2,
        "spend_micros": 30_000,
        "conversions": 3,
        "click_conversions": 2,
        "view_conversions": 1,
        "value_micros": 90_000_000,
        "secondary_actions": 5,
    }
    stats = _day_stats(ad, row)
    assert (stats["conversion_purchases"], stats["conversion_purchases_value"]) == (3, 90_000_000)
    assert (stats["conversion_add_cart"], stats["conversion_add_cart_view"]) == (5, 0)
    assert set(_day_stats(ad, None).values()) == {0}
