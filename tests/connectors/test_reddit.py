"""The Reddit Ads connector against replayed answers in Reddit's own shapes."""

import base64
import json
from datetime import date

import httpx
import pytest
from aiolimiter import AsyncLimiter

from generator.connectors import RetryPolicy, get_connector
from generator.connectors.reddit import API_VERSION, FIELDS, USER_AGENT, Reddit
from generator.errors import ApiVersionRetired, AuthFailed, ConnectorError, ResponseInvalid

from .conftest import Replay, fixture

ACCOUNT = "t2_abc123xy"
BASE = "https://reddit.test"
CREDENTIALS = {
    "client_id": "rdt-client-0123",
    "client_secret": "rdt-secret-0123456789",
    "refresh_token": "rdt-refresh-0123456789",
}
START, END = date(2026, 10, 1), date(2026, 10, 2)
TOKEN = fixture("reddit", "token.json")["access_token"]


def reddit(name: str, status: int = 200, **headers) -> httpx.Response:
    return httpx.Response(status, json=fixture("reddit", name), headers=headers)


def account(**overrides) -> Replay:
    """An ad account with three ads (two pages), a two-page report and the ads' posts."""
    routes = {
        "/api/v1/access_token": [fixture("reddit", "token.json")],
        f"/ad_accounts/{ACCOUNT}/reports": [
            fixture("reddit", "report_page_1.json"),
            fixture("reddit", "report_page_2.json"),
        ],
        f"/ad_accounts/{ACCOUNT}/campaigns": [fixture("reddit", "campaigns.json")],
        f"/ad_accounts/{ACCOUNT}/ad_groups": [fixture("reddit", "ad_groups.json")],
        f"/ad_accounts/{ACCOUNT}/ads": [
            fixture("reddit", "ads_page_1.json"),
            fixture("reddit", "ads_page_2.json"),
        ],
        "/profiles/t2_prof01/posts": [fixture("reddit", "posts.json")],
        f"/ad_accounts/{ACCOUNT}": [fixture("reddit", "ad_account.json")],
    }
    return Replay({k: overrides.get(k, v) for k, v in routes.items()})


def connector(replay: Replay, **options) -> Reddit:
    c = get_connector(
        "reddit",
        CREDENTIALS,
        base_url=BASE,
        transport=replay.transport,
        policy=RetryPolicy(base=0.001, cap=0.002),
        **options,
    )
    c.api._sleep = _sleep
    c.api.limiter = AsyncLimiter(1000, 1)
    _sleep.calls.clear()
    return c


async def _sleep(seconds):
    _sleep.calls.append(seconds)


_sleep.calls = []


async def test_token_grant_uses_basic_auth_and_a_descriptive_user_agent():
    replay = account()
    async with connector(replay) as c:
        await c.account_info(ACCOUNT)
    (grant,) = replay.to("/api/v1/access_token")
    assert grant.method == "POST" and grant.url == f"{BASE}/api/v1/access_token"
    pair = base64.b64decode(grant.headers["authorization"].removeprefix("Basic ")).decode()
    assert pair == f"{CREDENTIALS['client_id']}:{CREDENTIALS['client_secret']}"
    form = dict(httpx.QueryParams(grant.content.decode()))
    assert form == {"grant_type": "refresh_token", "refresh_token": CREDENTIALS["refresh_token"]}
    assert grant.headers["user-agent"] == USER_AGENT
    call = replay.to(f"/ad_accounts/{ACCOUNT}")[0]
    assert call.url.path == f"/api/{API_VERSION}/ad_accounts/{ACCOUNT}"
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.headers["user-agent"] == USER_AGENT
    assert CREDENTIALS["client_secret"] not in str(call.headers)


async def test_entities_and_report_pages_are_followed_with_the_same_body():
    replay = account()
    async with connector(replay) as c:
        await c.fetch_performance(ACCOUNT, START, END)
    campaigns = replay.to(f"/ad_accounts/{ACCOUNT}/campaigns")[0]
    assert campaigns.url.params["page.size"] == "1000"
    first_ads, second_ads = replay.to(f"/ad_accounts/{ACCOUNT}/ads")
    assert "page.token" not in first_ads.url.params
    assert second_ads.url.host == "reddit.test"  # next_url rebased onto base_url
    assert second_ads.url.params["page.token"] == "Mg"
    first, second = replay.to(f"/ad_accounts/{ACCOUNT}/reports")
    assert first.method == second.method == "POST"
    body = json.loads(first.content)
    assert body == {
        "data": {
            "starts_at": "2026-10-01T05:00:00Z",  # local midnight in Chicago, daylight time
            "ends_at": "2026-10-03T05:00:00Z",
            "fields": list(FIELDS),
            "breakdowns": ["AD_ID", "DATE"],
            "time_zone_id": "America/Chicago",
        }
    }
    assert {"IMPRESSIONS", "CLICKS", "SPEND", "CONVERSION_LEAD_VIEWS"} <= set(
        body["data"]["fields"]
    )
    assert json.loads(second.content) == body
    assert second.url.host == "reddit.test" and second.url.params["page.token"] == "Mg"


async def test_performance_is_normalised_and_joined_to_entity_names():
    async with connector(account()) as c:
        table = await c.fetch_performance(ACCOUNT, START, END)
    rows = {r["ad_id"]: r for r in table.to_pylist()}
    first = rows["3984567001"]
    assert (first["impressions"], first["clicks"]) == (5120, 37)
    assert first["spend_micros"] == 18_250_000  # micros
    assert first["conversions"] == 4.0  # purchase 1 + lead 2 + 1; sign-ups are not counted
    assert first["value_micros"] == 129_990_000  # 12999 cents
    assert (first["campaign_id"], first["ad_group_id"]) == ("1984567001", "2984567001")
    assert first["campaign_name"] == "r/dataengineering — Conversation"
    assert first["ad_group_name"] == "Core — data engineers"
    assert first["ad_name"] == "Ship pipelines <b>fast</b>" and first["creative_id"] == "t3_1abcde"
    assert first["account_name"] == "Brightline <i>Reddit</i>"
    assert (first["currency"], first["account_timezone"]) == ("USD", "America/Chicago")
    assert (first["platform"], first["source"], first["api_version"]) == ("reddit", "reddit", "v3")
    assert first["date"] == date(2026, 10, 1)
    empty = rows["3984567002"]
    assert empty["date"] == date(2026, 10, 1)  # a timestamp-shaped date is read as its day
    assert (empty["spend_micros"], empty["conversions"], empty["value_micros"]) == (0, 0.0, 0)
    assert empty["campaign_id"] == "1984567001"  # from its ad group: the ad did not say
    late = rows["3984567003"]
    assert late["conversions"] == 2.0 and late["ad_group_name"] == "Expansion"


async def test_actions_keep_the_accounts_click_and_view_windows():
    async with connector(account()) as c:
        table = await c.fetch_actions(ACCOUNT, START, END)
    rows = {
        (r["ad_id"][-1], r["action_type"], r["attribution_window"]): r for r in table.to_pylist()
    }
    counts = {k: v["count"] for k, v in rows.items()}
    assert counts[("1", "lead", "default")] == 3.0
    assert counts[("1", "lead", "7d_click")] == 2.0 and counts[("1", "lead", "1d_view")] == 1.0
    assert counts[("1", "signup", "default")] == 4.0
    assert counts[("1", "page_view", "default")] == 42.0
    assert counts[("3", "lead", "7d_click")] == 0.0 and counts[("3", "lead", "1d_view")] == 2.0
    purchase = rows[("1", "purchase", "default")]
    assert (purchase["count"], purchase["value_micros"]) == (1.0, 129_990_000)
    assert rows[("1", "purchase", "7d_click")]["value_micros"] == 0  # value is not split
    assert not [k for k in rows if k[0] == "2"]  # nothing converted
    assert {k[1] for k in rows} == {"purchase", "lead", "signup", "page_view"}


async def test_one_report_serves_both_datasets_and_entities_are_read_once():
    replay = account()
    async with connector(replay) as c:
        await c.fetch_performance(ACCOUNT, START, END)
        await c.fetch_actions(ACCOUNT, START, END)
        assert len(replay.to(f"/ad_accounts/{ACCOUNT}/reports")) == 2  # one report, two pages
        await c.fetch_actions(ACCOUNT, START, END)
        await c.fetch_creatives(ACCOUNT)
    assert len(replay.to(f"/ad_accounts/{ACCOUNT}/reports")) == 3  # a new report (one page)
    assert len(replay.to(f"/ad_accounts/{ACCOUNT}/ads")) == 2
    assert len(replay.to(f"/ad_accounts/{ACCOUNT}")) == 1
    assert len(replay.to("/api/v1/access_token")) == 1


async def test_creatives_come_from_posts_with_the_ads_link():
    replay = account()
    async with connector(replay) as c:
        table = await c.fetch_creatives(ACCOUNT)
    assert replay.to("/profiles/t2_prof01/posts")[0].url.params["page.size"] == "1000"
    rows = {r["creative_id"]: r for r in table.to_pylist()}
    image = rows["t3_1abcde"]
    assert image["ad_id"] == "3984567001" and image["format"] == "image"
    assert image["headline"] == "Ship data pipelines in an afternoon"
    assert image["body"] == "Connect 300+ sources. <script>alert(1)</script>"
    assert image["call_to_action"] == "Learn More"
    assert image["landing_url"] == "https://brightline.dev/lp/reddit?utm_source=reddit"
    assert image["asset_url"] == "https://i.redd.it/k3x9b2c4d5e6.jpg"
    text = rows["t3_1abcdf"]
    assert (text["format"], text["asset_url"]) == ("text", None)
    assert text["landing_url"] == "https://brightline.dev/lp/text"  # the post's destination
    gone = rows["t3_1abcdg"]  # its post is no longer listed
    assert (gone["format"], gone["headline"], gone["landing_url"]) == (
        "text",
        None,
        "https://brightline.dev/report",
    )
    assert len({r["version"] for r in rows.values()}) == 3


async def test_an_expired_token_is_refreshed_once_and_a_dead_grant_fails():
    expired = reddit("unauthorized.json", 401)
    replay = account(**{f"/ad_accounts/{ACCOUNT}": [expired, fixture("reddit", "ad_account.json")]})
    async with connector(replay) as c:
        info = await c.account_info(ACCOUNT)
    assert info.currency == "USD" and len(replay.to("/api/v1/access_token")) == 2
    replay = account(**{"/api/v1/access_token": [reddit("token_invalid_grant.json", 400)]})
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="invalid_grant") as caught:
            await c.account_info(ACCOUNT)
    assert all(secret not in str(caught.value) for secret in CREDENTIALS.values())
    with pytest.raises(AuthFailed, match="refresh_token"):
        get_connector("reddit", {**CREDENTIALS, "refresh_token": ""})


async def test_a_429_waits_the_reset_reddit_gives_or_backs_off_without_one():
    limited = reddit("too_many_requests.json", 429, **{"x-ratelimit-reset": "7"})
    bare = reddit("too_many_requests.json", 429)
    after = reddit("too_many_requests.json", 429, **{"retry-after": "3"})
    routes = [limited, bare, after, fixture("reddit", "ad_account.json")]
    replay = account(**{f"/ad_accounts/{ACCOUNT}": routes})
    async with connector(replay) as c:
        await c.account_info(ACCOUNT)
        assert c.api.stats.rate_limited == 3
    assert _sleep.calls[0] == 7.0 and 0 < _sleep.calls[1] <= 1.0 and _sleep.calls[2] == 3.0


async def test_low_remaining_calls_pause_until_the_window_resets():
    low = {"x-ratelimit-used": "58", "x-ratelimit-remaining": "2", "x-ratelimit-reset": "41"}
    roomy = {"x-ratelimit-used": "3", "x-ratelimit-remaining": "57", "x-ratelimit-reset": "41"}
    replay = account(
        **{
            f"/ad_accounts/{ACCOUNT}": [reddit("ad_account.json", **low)],
            f"/ad_accounts/{ACCOUNT}/campaigns": [reddit("campaigns.json", **roomy)],
        }
    )
    async with connector(replay) as c:
        await c.fetch_performance(ACCOUNT, START, END)
        assert c.api.stats.rate_limited == 0
    assert _sleep.calls == [41.0]


async def test_a_retired_version_names_the_constant_to_bump():
    replay = account(**{f"/ad_accounts/{ACCOUNT}": [reddit("gone.json", 410)]})
    async with connector(replay) as c:
        with pytest.raises(
            ApiVersionRetired, match="bump API_VERSION in generator/connectors/reddit.py"
        ):
            await c.account_info(ACCOUNT)


async def test_forbidden_and_bad_requests_fail_with_reddits_message_server_errors_retry():
    replay = account(**{f"/ad_accounts/{ACCOUNT}": [reddit("forbidden.json", 403)]})
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="Insufficient authentication scopes.*adsread"):
            await c.account_info(ACCOUNT)
    replay = account(**{f"/ad_accounts/{ACCOUNT}/reports": [reddit("invalid_field.json", 400)]})
    async with connector(replay) as c:
        with pytest.raises(ConnectorError, match="HTTP 400: invalid field: campaign_name"):
            await c.fetch_performance(ACCOUNT, START, END)
    down = reddit("server_error.json", 503)
    plain = httpx.Response(502, text="<html>Bad Gateway</html>")
    replay = account(
        **{f"/ad_accounts/{ACCOUNT}": [down, plain, fixture("reddit", "ad_account.json")]}
    )
    async with connector(replay) as c:
        await c.account_info(ACCOUNT)
        assert c.api.stats.retries == 2
    odd = httpx.Response(418, text="I'm a teapot")
    async with connector(account(**{f"/ad_accounts/{ACCOUNT}": [odd]})) as c:
        with pytest.raises(ConnectorError, match="HTTP 418: I'm a teapot"):
            await c.account_info(ACCOUNT)


async def test_truncated_pages_are_fetched_again_and_garbage_is_refused():
    page = json.dumps(fixture("reddit", "report_page_2.json")).encode()
    replay = account(
        **{
            f"/ad_accounts/{ACCOUNT}/reports": [
                fixture("reddit", "report_page_1.json"),
                httpx.Response(200, content=page[:50]),
                fixture("reddit", "report_page_2.json"),
            ]
        }
    )
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, START, END)
        assert c.api.stats.retries == 1
    assert table.num_rows == 3
    shapeless = {"data": [], "pagination": {}}
    async with connector(account(**{f"/ad_accounts/{ACCOUNT}/reports": [shapeless]})) as c:
        with pytest.raises(ResponseInvalid, match="unreadable body"):
            await c.fetch_performance(ACCOUNT, START, END)
    listless = {"data": {"id": "x"}}
    async with connector(account(**{f"/ad_accounts/{ACCOUNT}/campaigns": [listless]})) as c:
        with pytest.raises(ResponseInvalid, match="unreadable body"):
            await c.fetch_performance(ACCOUNT, START, END)
    array = httpx.Response(200, json=[1, 2])
    async with connector(account(**{f"/ad_accounts/{ACCOUNT}": [array]})) as c:
        with pytest.raises(ResponseInvalid, match="unreadable body"):
            await c.account_info(ACCOUNT)


async def test_a_next_page_on_a_foreign_host_is_refused():
    page = fixture("reddit", "report_page_1.json")
    page["pagination"]["next_url"] = "https://attacker.example/api/v3/steal?page.token=Mg"
    replay = account(**{f"/ad_accounts/{ACCOUNT}/reports": [page]})
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match="unexpected host"):
            await c.fetch_performance(ACCOUNT, START, END)
    assert not [r for r in replay.requests if r.url.host == "attacker.example"]


async def test_missing_required_fields_name_platform_version_and_field():
    bare = fixture("reddit", "ad_account.json")
    del bare["data"]["currency"]
    async with connector(account(**{f"/ad_accounts/{ACCOUNT}": [bare]})) as c:
        with pytest.raises(ResponseInvalid, match=r"reddit: .*'currency' \(v3\)"):
            await c.account_info(ACCOUNT)
    page = fixture("reddit", "report_page_2.json")
    del page["data"]["metrics"][0]["ad_id"]
    async with connector(account(**{f"/ad_accounts/{ACCOUNT}/reports": [page]})) as c:
        with pytest.raises(ResponseInvalid, match=r"'ad_id' missing .* v3"):
            await c.fetch_performance(ACCOUNT, START, END)
    bad = fixture("reddit", "report_page_2.json")
    bad["data"]["metrics"][0]["conversion_lead_views"] = "two"
    async with connector(account(**{f"/ad_accounts/{ACCOUNT}/reports": [bad]})) as c:
        with pytest.raises(ResponseInvalid, match="'two' that is not a number"):
            await c.fetch_performance(ACCOUNT, START, END)


async def test_an_account_without_attribution_settings_names_plain_windows():
    plain = fixture("reddit", "ad_account.json")
    plain["data"].pop("click_attribution_window")
    plain["data"]["view_attribution_window"] = "WEEK"
    async with connector(account(**{f"/ad_accounts/{ACCOUNT}": [plain]})) as c:
        table = await c.fetch_actions(ACCOUNT, START, END)
    assert set(table.column("attribution_window").to_pylist()) == {"default", "click", "7d_view"}


async def test_entities_the_lists_miss_degrade_to_ids_and_keep_their_numbers():
    groups = fixture("reddit", "ad_groups.json")
    groups["data"] = [g for g in groups["data"] if g["id"] != "2984567001"]
    last_ads = {**fixture("reddit", "ads_page_2.json"), "data": []}  # 3984567003 is gone
    replay = account(
        **{
            f"/ad_accounts/{ACCOUNT}/ad_groups": [groups],
            f"/ad_accounts/{ACCOUNT}/ads": [fixture("reddit", "ads_page_1.json"), last_ads],
        }
    )
    async with connector(replay) as c:
        table = await c.fetch("ad_performance", ACCOUNT, START, END)
        actions = await c.fetch("actions", ACCOUNT, START, END)
        unresolved = c.unresolved_in(ACCOUNT).as_dict()
    rows = {r["ad_id"]: r for r in table.to_pylist()}
    numbers = ("impressions", "clicks", "spend_micros", "conversions", "value_micros")
    assert {ad: tuple(r[n] for n in numbers) for ad, r in rows.items()} == {
        "3984567001": (5120, 37, 18_250_000, 4.0, 129_990_000),
        "3984567002": (800, 0, 0, 0.0, 0),
        "3984567003": (2300, 11, 7_890_000, 2.0, 0),
    }
    labels = ("campaign_id", "campaign_name", "ad_group_id", "ad_group_name", "ad_name")
    assert {ad: tuple(r[n] for n in labels) for ad, r in rows.items()} == {
        # the ad lists its campaign: only the ad group's name is missing
        "3984567001": (
            "1984567001",
            "r/dataengineering — Conversation",
            "2984567001",
            "2984567001",
            "Ship pipelines <b>fast</b>",
        ),
        # the ad names only its (missing) ad group: the campaign cannot be known
        "3984567002": ("unknown", "Unknown campaign", "2984567001", "2984567001", "Text only"),
        "3984567003": (
            "unknown",
            "Unknown campaign",
            "unknown",
            "Unknown ad group",
            "3984567003",
        ),
    }
    assert (rows["3984567001"]["creative_id"], rows["3984567003"]["creative_id"]) == (
        "t3_1abcde",
        None,
    )
    counts = {
        (r["ad_id"], r["action_type"], r["attribution_window"]): (r["count"], r["campaign_id"])
        for r in actions.to_pylist()
    }
    assert counts[("3984567001", "purchase", "default")] == (1.0, "1984567001")
    assert counts[("3984567003", "lead", "default")] == (2.0, "unknown")
    assert actions.num_rows == 15
    assert unresolved == {
        "campaign": ["unknown"],
        "ad_group": ["2984567001", "unknown"],
        "ad": ["3984567003"],
    }
