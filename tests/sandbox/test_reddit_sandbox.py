import asyncio
import base64
from datetime import UTC, date, datetime

import httpx
import pytest

from generator.sandbox import DEMO_CREDENTIALS, DEMO_ENVIRONMENT, Faults, create_app
from generator.sandbox import reddit as reddit_sandbox

ACCOUNT = "t2_7xk3p9qz"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
CREDS = DEMO_CREDENTIALS["reddit"]
AGENT = {"user-agent": "python:campaign-reporter-tests:v1 (by /u/tester)"}
BASIC = base64.b64encode(f"{CREDS['client_id']}:{CREDS['client_secret']}".encode()).decode()
REPORT = f"/api/v3/ad_accounts/{ACCOUNT}/reports"
FIELDS = ["IMPRESSIONS", "CLICKS", "SPEND", "CONVERSION_LEAD_CLICKS", "CONVERSION_LEAD_VIEWS"]
FIELDS += ["CONVERSION_SIGN_UP_CLICKS", "CONVERSION_PURCHASE_TOTAL_VALUE", "CTR"]


@pytest.fixture
def http(world):
    def make(faults=None):
        app = create_app(world, faults or Faults(rate_limit=1000), now=NOW)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://sbx/reddit", headers=AGENT
        )

    return make


async def token(client, **form) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": CREDS["refresh_token"], **form}
    return await client.post(
        "/api/v1/access_token", data=data, headers={"authorization": f"Basic {BASIC}"}
    )


async def authed(client) -> dict[str, str]:
    return {"authorization": f"Bearer {(await token(client)).json()['access_token']}"}


def report_body(starts="2026-10-01T05:00:00Z", ends="2026-10-04T05:00:00Z", **changes):
    data = {
        "starts_at": starts,
        "ends_at": ends,
        "fields": FIELDS,
        "breakdowns": ["AD_ID", "DATE"],
        "time_zone_id": "America/Chicago",
    }
    return {"data": {**data, **changes}}


def test_demo_credentials_and_environment_are_declared():
    assert set(CREDS) == {"client_id", "client_secret", "refresh_token"}
    assert DEMO_ENVIRONMENT["REDDIT_REFRESH_TOKEN"] == CREDS["refresh_token"]


async def test_the_token_grant_checks_basic_auth_grant_and_user_agent(http):
    async with http(Faults(rate_limit=1000, token_ttl=120)) as client:
        good = await token(client)
        wrong = await client.post(
            "/api/v1/access_token",
            data={"grant_type": "refresh_token", "refresh_token": CREDS["refresh_token"]},
            headers={"authorization": "Basic " + base64.b64encode(b"a:b").decode()},
        )
        garbled = await client.post("/api/v1/access_token", headers={"authorization": "Basic %%"})
        grant = await token(client, grant_type="password")
        stale = await token(client, refresh_token="old")
        generic = await client.post(
            "/api/v1/access_token", headers={"user-agent": "python-httpx/0.28"}
        )
    assert good.status_code == 200
    assert good.json()["token_type"] == "bearer" and good.json()["expires_in"] == 120
    assert good.json()["scope"] == "adsread"
    assert wrong.status_code == garbled.status_code == 401
    assert wrong.json() == {"message": "Unauthorized", "error": 401}
    assert grant.json() == {"error": "unsupported_grant_type"}
    assert stale.status_code == 400 and stale.json() == {"error": "invalid_grant"}
    assert generic.status_code == 403 and generic.json()["error"]["reason"] == "FORBIDDEN"


async def test_api_calls_need_a_live_token_and_a_user_agent(http):
    async with http(Faults(rate_limit=1000, token_ttl=0.05)) as client:
        none = await client.get(f"/api/v3/ad_accounts/{ACCOUNT}")
        headers = await authed(client)
        fresh = await client.get(f"/api/v3/ad_accounts/{ACCOUNT}", headers=headers)
        generic = await client.get(
            f"/api/v3/ad_accounts/{ACCOUNT}", headers={**headers, "user-agent": ""}
        )
        await asyncio.sleep(0.06)
        expired = await client.get(f"/api/v3/ad_accounts/{ACCOUNT}", headers=headers)
    assert none.status_code == expired.status_code == 401
    assert expired.json() == {"message": "Unauthorized", "error": 401}
    assert fresh.status_code == 200 and generic.status_code == 403


async def test_the_account_and_its_entities(http, world):
    ads = world.ads_of("reddit", ACCOUNT)
    async with http() as client:
        headers = await authed(client)
        account = (await client.get(f"/api/v3/ad_accounts/{ACCOUNT}", headers=headers)).json()
        lists = {
            edge: (
                await client.get(
                    f"/api/v3/ad_accounts/{ACCOUNT}/{edge}",
                    params={"page.size": 1000},
                    headers=headers,
                )
            ).json()
            for edge in ("campaigns", "ad_groups", "ads")
        }
        missing = await client.get("/api/v3/ad_accounts/t2_nobody", headers=headers)
        edge = await client.get(f"/api/v3/ad_accounts/{ACCOUNT}/pixels", headers=headers)
    data = account["data"]
    assert (data["currency"], data["time_zone_id"]) == ("USD", "America/Chicago")
    assert (data["click_attribution_window"], data["view_attribution_window"]) == ("MONTH", "DAY")
    assert {c["id"]: c["name"] for c in lists["campaigns"]["data"]} == {
        ad.campaign_id: ad.campaign.name for ad in ads
    }
    assert {g["id"]: g["campaign_id"] for g in lists["ad_groups"]["data"]} == {
        ad.ad_group_id: ad.campaign_id for ad in ads
    }
    listed = {a["id"]: a for a in lists["ads"]["data"]}
    assert set(listed) == {ad.ad_id for ad in ads}
    one = listed[ads[0].ad_id]
    assert one["click_url"] == ads[0].landing_url and one["post_id"].startswith("t3_")
    assert {"post_url", "preview_url", "profile_id"} <= set(one)
    assert lists["ads"]["pagination"]["next_url"] is None
    assert missing.status_code == 404 and missing.json()["error"]["code"] == 404
    assert edge.status_code == 404


async def test_lists_page_by_token_and_refuse_bad_pages(http, world):
    async with http() as client:
        headers = await authed(client)
        url, seen, pages = f"/api/v3/ad_accounts/{ACCOUNT}/ads?page.size=4", [], 0
        while url:
            body = (await client.get(url, headers=headers)).json()
            seen += [a["id"] for a in body["data"]]
            url, pages = body["pagination"]["next_url"], pages + 1
        too_big = await client.get(
            f"/api/v3/ad_accounts/{ACCOUNT}/ads", params={"page.size": 1001}, headers=headers
        )
        bad = await client.get(
            f"/api/v3/ad_accounts/{ACCOUNT}/ads", params={"page.token": "!"}, headers=headers
        )
    assert pages == 2 and sorted(seen) == sorted(ad.ad_id for ad in world.ads_of("reddit", ACCOUNT))
    assert too_big.status_code == bad.status_code == 400


async def test_posts_carry_copy_and_cdn_media(http, world):
    ads = world.ads_of("reddit", ACCOUNT)
    async with http() as client:
        headers = await authed(client)
        listed = (await client.get(f"/api/v3/ad_accounts/{ACCOUNT}/ads", headers=headers)).json()
        profile = listed["data"][0]["profile_id"]
        posts = (await client.get(f"/api/v3/profiles/{profile}/posts", headers=headers)).json()
        nobody = await client.get("/api/v3/profiles/t2_nobody/posts", headers=headers)
    by_id = {p["id"]: p for p in posts["data"]}
    ad = next(a for a in ads if a.ad_id == listed["data"][0]["id"])
    post = by_id[listed["data"][0]["post_id"]]
    assert (post["headline"], post["body"], post["type"]) == (ad.headline, ad.body, "IMAGE")
    assert post["content"][0]["media_url"] == f"http://sbx/cdn/{ad.creative_id}.png"
    assert nobody.status_code == 404


async def test_v2_answers_gone(http):
    async with http() as client:
        old = await client.get(f"/api/v2.0/accounts/{ACCOUNT}")
        older = await client.post(f"/api/v2/accounts/{ACCOUNT}/reports")
    assert old.status_code == older.status_code == 410
    assert "v3" in old.json()["error"]["message"]


async def test_a_report_gives_the_worlds_rows_in_local_days(http, world):
    async with http() as client:
        headers = await authed(client)
        answer = await client.post(REPORT, json=report_body(), headers=headers)
        lower = await client.post(
            REPORT, json=report_body(breakdowns=["date", "ad_id"]), headers=headers
        )
    rows = answer.json()["data"]["metrics"]
    assert answer.json()["pagination"]["next_url"] is None
    assert lower.json()["data"]["metrics"] == rows
    truth = [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["account_id"] == ACCOUNT and date(2026, 10, 1) <= r["date"] <= date(2026, 10, 3)
    ]
    assert {r["date"] for r in rows} == {"2026-10-01", "2026-10-02", "2026-10-03"}
    assert len(rows) == len(truth)
    assert sum(r["spend"] for r in rows) == sum(r["spend_micros"] for r in truth)
    assert sum(r["impressions"] for r in rows) == sum(r["impressions"] for r in truth)
    assert sum(r["conversion_lead_clicks"] for r in rows) == sum(
        r["click_conversions"] for r in truth
    )
    assert sum(r["conversion_sign_up_clicks"] for r in rows) == sum(
        r["secondary_actions"] for r in truth
    )
    assert {r["conversion_purchase_total_value"] for r in rows} == {0}  # a lead-gen client
    assert set(rows[0]) == {"ad_id", "date", *(f.lower() for f in FIELDS)}


async def test_report_pages_follow_next_url_with_the_same_body(http, monkeypatch):
    monkeypatch.setattr(reddit_sandbox, "REPORT_PAGE", 5)
    async with http() as client:
        headers = await authed(client)
        url, rows, pages = REPORT, [], 0
        while url:
            body = (await client.post(url, json=report_body(), headers=headers)).json()
            rows += body["data"]["metrics"]
            url, pages = body["pagination"]["next_url"], pages + 1
    assert pages > 2 and len({(r["ad_id"], r["date"]) for r in rows}) == len(rows)


@pytest.mark.parametrize(
    "body, message",
    [
        (report_body(fields=["IMPRESSIONS", "CAMPAIGN_NAME"]), "invalid field: campaign_name"),
        (report_body(breakdowns=["CAMPAIGN_ID", "DATE"]), "breakdowns"),
        (report_body(starts="2026-10-01T05:30:00Z"), "on the hour"),
        (report_body(ends="2026-09-01T05:00:00Z"), "before ends_at"),
        (report_body(starts="2026-10-01T05:00:00"), "UTC offset"),
        (report_body(time_zone_id="Mars/Olympus"), "time_zone_id"),
        ({"fields": ["IMPRESSIONS"]}, "the body must be"),
    ],
)
async def test_bad_reports_are_refused(http, body, message):
    async with http() as client:
        headers = await authed(client)
        refused = await client.post(REPORT, json=body, headers=headers)
    assert refused.status_code == 400 and message in refused.json()["error"]["message"]


async def test_a_burst_over_the_window_is_throttled_with_reddits_headers(http):
    async with http(Faults(rate_limit=2)) as client:
        headers = await authed(client)
        answers = [
            await client.get(f"/api/v3/ad_accounts/{ACCOUNT}", headers=headers) for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["x-ratelimit-used"] for a in answers] == ["1", "2", "3"]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[2].json() == {"error": {"code": 429, "message": "Too Many Requests"}}
    assert 0 <= int(answers[2].headers["x-ratelimit-reset"]) <= 1


async def test_faults_fail_calls_and_cut_bodies(http):
    async with http(Faults(outage={"reddit"})) as client:
        down = await token(client)
    assert down.status_code == 503 and down.json()["error"]["code"] == 503
    async with http(Faults(rate_limit=1000, truncate_rate=1.0)) as client:
        headers = await authed(client)
        cut = await client.get(f"/api/v3/ad_accounts/{ACCOUNT}", headers=headers)
    with pytest.raises(ValueError):
        cut.json()
