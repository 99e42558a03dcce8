"""LinkedIn connector against hand-written answers in LinkedIn's shapes (Replay)."""

from datetime import date
from urllib.parse import parse_qsl

import httpx
import pytest

from generator.connectors import RetryPolicy, get_connector
from generator.connectors.linkedin import API_VERSION, restli, restli_query
from generator.errors import (
    ApiVersionRetired,
    AuthFailed,
    ConnectorError,
    PlatformUnavailable,
    RateLimited,
    ResponseInvalid,
)

from .conftest import Replay, fixture

ACCOUNT = "512345678"
CREDENTIALS = {
    "client_id": "78abcdefgh1234",
    "client_secret": "client-secret-WPL_AP1",
    "refresh_token": "AQX-original-refresh-token",
}
DAY1, DAY2 = date(2026, 10, 1), date(2026, 10, 2)
ANALYTICS = "/rest/adAnalytics"


def load(name: str):
    return fixture("linkedin", name)


def query(request: httpx.Request) -> str:
    return request.url.raw_path.decode().partition("?")[2]


def params(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(query(request)))


def by_query(**answers):
    """An answer chosen by a substring of the raw query (the first that matches, else 'rest')."""

    def answer(request: httpx.Request) -> httpx.Response:
        raw = query(request)
        name = next((v for k, v in answers.items() if k != "rest" and k in raw), answers["rest"])
        return httpx.Response(200, json=load(name))

    return answer


def api(**overrides) -> dict[str, list]:
    """Every LinkedIn route answered from the fixtures; ``overrides`` replace routes."""
    routes = {
        "/oauth/v2/accessToken": [load("token.json")],
        f"/rest/adAccounts/{ACCOUNT}": [load("ad_account.json")],
        "/creatives": [by_query(pageToken="creatives_page2.json", rest="creatives_page1.json")],
        "/adCampaigns": [load("campaigns.json")],
        "/adCampaignGroups": [load("campaign_groups.json")],
        "/rest/conversions": [
            by_query(**{"start=100": "conversions_page2.json", "rest": "conversions_page1.json"})
        ],
        ANALYTICS: [
            by_query(
                **{
                    "q=statistics": "statistics_conversions.json",
                    "fields=oneClickLeads,dateRange": "analytics_leads.json",
                    "rest": "analytics_performance.json",
                }
            )
        ],
        "/rest/posts": [load("posts.json")],
        "/rest/images": [load("images.json")],
    }
    return {**routes, **overrides}


def connector(replay: Replay, credentials=CREDENTIALS, **options):
    c = get_connector(
        "linkedin", credentials, base_url="https://li.test", transport=replay.transport, **options
    )
    c.api._sleep = _sleep
    return c


async def _sleep(seconds):
    _sleep.calls.append(seconds)


_sleep.calls = []


def error(status: int, name: str, **headers) -> httpx.Response:
    return httpx.Response(status, json=load(name), headers=headers)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("CREATIVE", "CREATIVE"),
        (20, "20"),
        (True, "true"),
        ("urn:li:sponsoredAccount:1", "urn%3Ali%3AsponsoredAccount%3A1"),
        ("a,b(c):d'e f", "a%2Cb%28c%29%3Ad%27e%20f"),
        ({"value": "DAILY"}, "(value:DAILY)"),
        (["urn:li:sponsoredCreative:1", "x"], "List(urn%3Ali%3AsponsoredCreative%3A1,x)"),
        (
            {"start": {"year": 2026, "month": 10, "day": 1}, "end": {"year": 2026}},
            "(start:(year:2026,month:10,day:1),end:(year:2026))",
        ),
        ({"status": {"values": ("ACTIVE", "PAUSED")}}, "(status:(values:List(ACTIVE,PAUSED)))"),
        ([], "List()"),
    ],
)
def test_restli_encoding(value, encoded):
    assert restli(value) == encoded


def test_restli_query_keeps_fields_a_plain_list():
    assert (
        restli_query({"q": "analytics", "pivot": {"value": "CREATIVE"}, "fields": ("a", "b")})
        == "q=analytics&pivot=(value:CREATIVE)&fields=a,b"
    )


async def test_performance_request_shape_and_normalisation():
    replay = Replay(api())
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, DAY1, DAY2)
    token = replay.to("/oauth/v2/accessToken")[0]
    assert dict(httpx.QueryParams(token.content.decode())) == {
        "grant_type": "refresh_token",
        "refresh_token": CREDENTIALS["refresh_token"],
        "client_id": CREDENTIALS["client_id"],
        "client_secret": CREDENTIALS["client_secret"],
    }
    (report,) = replay.to(ANALYTICS)
    assert query(report) == (
        "q=analytics&pivot=(value:CREATIVE)&timeGranularity=(value:DAILY)"
        "&dateRange=(start:(year:2026,month:10,day:1),end:(year:2026,month:10,day:2))"
        "&accounts=List(urn%3Ali%3AsponsoredAccount%3A512345678)"
        "&fields=impressions,clicks,costInLocalCurrency,externalWebsiteConversions,"
        "oneClickLeads,conversionValueInLocalCurrency,dateRange,pivotValues"
    )
    assert report.url.host == "li.test" and report.url.path == ANALYTICS
    assert report.headers["linkedin-version"] == API_VERSION
    assert report.headers["x-restli-protocol-version"] == "2.0.0"
    assert report.headers["authorization"] == "Bearer AQV-test-access-token-8dj2"
    first, following = replay.to("/creatives")
    assert first.headers["x-restli-method"] == "FINDER"
    assert params(first) == {"q": "criteria", "sortOrder": "ASCENDING", "pageSize": "100"}
    assert params(following)["pageToken"] == "DgoKBAi8/+LbBRIHCgUIaBgB=="
    assert "pageToken=DgoKBAi8%2F%2BLbBRIHCgUIaBgB%3D%3D" in query(following)
    assert query(replay.to("/adCampaigns")[0]) == (
        "q=search&search=(status:(values:List(ACTIVE,PAUSED,ARCHIVED,CANCELED,DRAFT,"
        "PENDING_DELETION,REMOVED,COMPLETED)))&pageSize=500"
    )
    rows = table.to_pylist()
    assert len(rows) == 3
    website, leads, quiet = rows
    assert (website["spend_micros"], website["value_micros"]) == (107_530_000, 1_250_000_000)
    assert (website["impressions"], website["clicks"], website["conversions"]) == (13468, 242, 5.0)
    assert (leads["spend_micros"], leads["conversions"]) == (64_200_000, 9.0)
    assert (quiet["spend_micros"], quiet["conversions"], quiet["value_micros"]) == (0, 0.0, 0)
    assert quiet["date"] == DAY2
    assert (website["campaign_id"], website["ad_group_id"], website["ad_id"]) == (
        "3001",
        "2001",
        "1001",
    )
    assert website["campaign_name"] == "Sponsored Content — <b>Data</b> leaders"
    assert website["ad_group_name"] == "Data leaders — Core"
    assert website["ad_name"] == "Pipelines <script>alert(1)</script>"
    assert leads["campaign_id"] == "3002" and leads["creative_id"] == "1002"
    assert {r["currency"] for r in rows} == {"EUR"}
    assert {r["account_timezone"] for r in rows} == {"UTC"}
    assert {r["account_name"] for r in rows} == {"Brightline <EMEA> Ads"}
    assert {(r["platform"], r["source"], r["api_version"]) for r in rows} == {
        ("linkedin", "linkedin", API_VERSION)
    }


async def test_the_structure_is_read_once_per_account():
    replay = Replay(api())
    async with connector(replay) as c:
        await c.fetch_performance(ACCOUNT, DAY1, DAY2)
        await c.fetch_performance(ACCOUNT, DAY1, DAY2)
    assert len(replay.to("/creatives")) == 2  # two pages, once
    assert len(replay.to("/oauth/v2/accessToken")) == 1


def fields_of(request: httpx.Request) -> list[str]:
    return params(request)["fields"].split(",")


async def test_fields_are_chunked_under_the_limit_and_joined_per_day_and_creative():
    full = load("analytics_performance.json")["elements"]

    def answer(request):
        wanted = fields_of(request)
        elements = [{k: v for k, v in e.items() if k in wanted} for e in full]
        return httpx.Response(200, json={"elements": elements})

    replay = Replay(api(**{ANALYTICS: [answer]}))
    async with connector(replay) as c:
        c.max_fields = 5  # three metrics per request, plus dateRange and pivotValues
        table = await c.fetch_performance(ACCOUNT, DAY1, DAY2)
    requests = replay.to(ANALYTICS)
    assert [len(fields_of(r)) for r in requests] == [5, 5]
    assert all(fields_of(r)[-2:] == ["dateRange", "pivotValues"] for r in requests)
    website = table.to_pylist()[0]
    assert (website["impressions"], website["spend_micros"], website["conversions"]) == (
        13468,
        107_530_000,
        5.0,
    )
    assert website["value_micros"] == 1_250_000_000


def date_range(request: httpx.Request) -> str:
    return params(request)["dateRange"]


def per_day(copies: int = 1):
    """Answers ``copies`` elements for each requested day (read back from the request)."""

    def answer(request: httpx.Request) -> httpx.Response:
        raw = date_range(request)
        lo, hi = (int(part.split("day:")[1].rstrip(")")) for part in raw.split("),end:"))
        month = {"year": 2026, "month": 10}
        elements = [
            {
                "dateRange": {"start": {**month, "day": d}, "end": {**month, "day": d}},
                "pivotValues": ["urn:li:sponsoredCreative:1001"],
                "impressions": 10,
            }
            for d in range(lo, hi + 1)
            for _ in range(copies)
        ]
        return httpx.Response(200, json={"elements": elements})

    return answer


async def test_ranges_are_cut_under_the_element_cap():
    replay = Replay(api(**{ANALYTICS: [per_day()]}))
    async with connector(replay) as c:
        c.max_elements = 12  # four creatives: three days a request
        table = await c.fetch_performance(ACCOUNT, date(2026, 10, 1), date(2026, 10, 7))
    assert table.num_rows == 7
    assert [date_range(r)[-7:] for r in replay.to(ANALYTICS)] == ["day:3))", "day:6))", "day:7))"]


async def test_an_answer_that_fills_the_cap_is_fetched_again_in_halves():
    replay = Replay(api(**{ANALYTICS: [per_day(copies=4)]}))
    async with connector(replay) as c:
        c.max_elements = 8  # four creatives: two days a request, but a full answer may be cut
        table = await c.fetch_performance(ACCOUNT, date(2026, 10, 1), date(2026, 10, 3))
    assert table.num_rows == 3
    assert [date_range(r) for r in replay.to(ANALYTICS)] == [
        "(start:(year:2026,month:10,day:1),end:(year:2026,month:10,day:2))",
        "(start:(year:2026,month:10,day:1),end:(year:2026,month:10,day:1))",
        "(start:(year:2026,month:10,day:2),end:(year:2026,month:10,day:2))",
        "(start:(year:2026,month:10,day:3),end:(year:2026,month:10,day:3))",
    ]


async def test_a_single_day_over_the_cap_is_an_error():
    replay = Replay(api(**{ANALYTICS: [per_day()]}))
    async with connector(replay) as c:
        c.max_elements = 1
        with pytest.raises(ResponseInvalid, match="1-element cap for the single day 2026-10-01"):
            await c.fetch_performance(ACCOUNT, DAY1, DAY1)


async def test_actions_by_conversion_rule_type_and_window():
    replay = Replay(api())
    async with connector(replay) as c:
        table = await c.fetch_actions(ACCOUNT, DAY1, DAY2)
    rows = {
        (r["ad_id"], r["action_type"], r["attribution_window"]): (r["count"], r["value_micros"])
        for r in table.to_pylist()
    }
    assert rows == {
        ("1001", "lead", "post_click"): (5.0, 1_250_000_000),  # 4 website + 1 form lead
        ("1001", "lead", "post_view"): (1.0, 0),
        ("1001", "signup", "post_click"): (2.0, 0),
        ("1002", "lead", "post_click"): (9.0, 0),
        ("1003", "other", "post_click"): (2.0, 10_500_000),  # DONATE, and a rule not listed
    }
    assert {r["date"] for r in table.to_pylist()} == {DAY1}
    assert {r["ad_group_id"] for r in table.to_pylist()} == {"2001", "2002"}
    first, second = replay.to("/rest/conversions")
    assert query(first) == "q=account&account=urn%3Ali%3AsponsoredAccount%3A512345678&count=100"
    assert params(second)["start"] == "100"
    statistics = next(r for r in replay.to(ANALYTICS) if "q=statistics" in query(r))
    assert params(statistics)["pivots"] == "List(CREATIVE,CONVERSION)"
    assert fields_of(statistics) == [
        "externalWebsitePostClickConversions",
        "externalWebsitePostViewConversions",
        "conversionValueInLocalCurrency",
        "dateRange",
        "pivotValues",
    ]


async def test_creatives_resolve_the_sponsored_posts_and_their_images():
    replay = Replay(api())
    async with connector(replay) as c:
        rows = {r["creative_id"]: r for r in (await c.fetch_creatives(ACCOUNT)).to_pylist()}
    (posts,) = replay.to("/rest/posts")
    assert posts.headers["x-restli-method"] == "BATCH_GET"
    assert query(posts) == "ids=List(urn%3Ali%3Ashare%3A7001,urn%3Ali%3AugcPost%3A7002)"
    (images,) = replay.to("/rest/images")
    assert (
        query(images) == "ids=List(urn%3Ali%3Aimage%3AC4E10AQ1aaa,urn%3Ali%3Aimage%3AC4E10AQ2bbb)"
    )
    image, article, text, inmail = (rows[i] for i in ("1001", "1002", "1003", "1004"))
    assert image["format"] == "image" and image["headline"] == "Ship pipelines fast"
    assert image["body"] == "Ship data pipelines <b>in an afternoon</b>. 300+ sources."
    assert image["landing_url"] == "https://brightline.example/lp?utm_source=linkedin"
    assert image["call_to_action"] == "LEARN_MORE"
    assert image["asset_url"].startswith("https://media.licdn.com/dms/image/C4E10AQ1aaa/")
    assert image["name"] == "Pipelines <script>alert(1)</script>" and image["ad_id"] == "1001"
    assert (article["headline"], article["landing_url"]) == (
        "State of Data Ops",
        "https://brightline.example/report",
    )
    assert article["call_to_action"] == "DOWNLOAD" and article["asset_url"] is None
    assert (text["format"], text["headline"], text["body"]) == (
        "text",
        "Book a demo",
        "20 minutes, your stack.",
    )
    assert text["landing_url"] == "https://brightline.example/demo" and text["name"] is None
    assert (inmail["format"], inmail["headline"], inmail["asset_url"]) == ("message", None, None)
    assert len({r["version"] for r in rows.values()}) == 4


async def test_a_creative_version_ignores_the_expiring_download_url():
    resigned = load("images.json")
    resigned["results"]["urn:li:image:C4E10AQ1aaa"]["downloadUrl"] += "-resigned"
    versions = []
    for images in (load("images.json"), resigned):
        async with connector(Replay(api(**{"/rest/images": [images]}))) as c:
            versions.append((await c.fetch_creatives(ACCOUNT)).to_pylist()[0]["version"])
    assert versions[0] == versions[1]


async def test_account_info_reports_utc_days():
    async with connector(Replay(api())) as c:
        info = await c.account_info(ACCOUNT)
    assert (info.name, info.currency, info.timezone) == ("Brightline <EMEA> Ads", "EUR", "UTC")


async def test_an_expired_token_is_refreshed_with_the_rotated_refresh_token():
    rotated = []
    replay = Replay(
        api(
            **{
                f"/rest/adAccounts/{ACCOUNT}": [
                    error(401, "invalid_token.json"),
                    load("ad_account.json"),
                ]
            }
        )
    )
    async with connector(replay, on_rotate=rotated.append) as c:
        await c.account_info(ACCOUNT)
    first, second = (dict(parse_qsl(r.content.decode())) for r in replay.to("accessToken"))
    assert first["refresh_token"] == CREDENTIALS["refresh_token"]
    assert second["refresh_token"] == "AQX-rotated-refresh-1"
    assert rotated == ["AQX-rotated-refresh-1"]
    replay = Replay(api(**{f"/rest/adAccounts/{ACCOUNT}": [error(401, "invalid_token.json")]}))
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="freshly issued access token"):
            await c.account_info(ACCOUNT)


async def test_a_plain_access_token_is_used_as_is_and_never_refreshed():
    token = {"access_token": "AQV-long-lived-access-token"}
    replay = Replay(api(**{f"/rest/adAccounts/{ACCOUNT}": [error(401, "invalid_token.json")]}))
    async with connector(replay, credentials=token) as c:
        with pytest.raises(
            AuthFailed, match="access token rejected \\(Invalid access token\\); issue a new one"
        ) as err:
            await c.account_info(ACCOUNT)
    assert replay.requests[0].headers["authorization"] == "Bearer AQV-long-lived-access-token"
    assert not replay.to("accessToken") and len(replay.requests) == 1
    assert token["access_token"] not in str(err.value)


def test_credentials_need_a_refresh_or_an_access_token():
    with pytest.raises(AuthFailed, match="refresh_token .* or access_token"):
        get_connector("linkedin", {"client_id": "x", "client_secret": "y"})


async def test_a_rejected_refresh_token_names_the_cause_not_the_secret():
    bad = httpx.Response(400, json=load("invalid_refresh_token.json"))
    async with connector(Replay(api(**{"/oauth/v2/accessToken": [bad]}))) as c:
        with pytest.raises(AuthFailed, match="invalid, expired or revoked") as err:
            await c.account_info(ACCOUNT)
    assert CREDENTIALS["refresh_token"] not in str(err.value)
    assert CREDENTIALS["client_secret"] not in str(err.value)


@pytest.mark.parametrize(
    ("answer", "waits"),
    [
        (error(429, "throttled.json"), "backoff"),
        (error(429, "throttled.json", **{"Retry-After": "7"}), [7.0]),
        (httpx.Response(429), "backoff"),
        (error(503, "throttled.json"), "retry"),  # a throttle body on a 5xx is a server error
    ],
)
async def test_rate_limits_are_waited_out(answer, waits):
    _sleep.calls.clear()
    replay = Replay(api(**{f"/rest/adAccounts/{ACCOUNT}": [answer, load("ad_account.json")]}))
    async with connector(replay, policy=RetryPolicy(base=0.5, cap=1.0)) as c:
        assert (await c.account_info(ACCOUNT)).currency == "EUR"
        limited, retried = c.api.stats.rate_limited, c.api.stats.retries
    assert (limited, retried) == ((0, 1) if waits == "retry" else (1, 0))
    if isinstance(waits, list):
        assert _sleep.calls == waits
    else:
        assert len(_sleep.calls) == 1 and 0.25 <= _sleep.calls[0] <= 0.5


async def test_a_daily_quota_waits_for_midnight_utc_and_reports_it():
    replay = Replay(api(**{f"/rest/adAccounts/{ACCOUNT}": [error(429, "throttled_daily.json")]}))
    async with connector(replay, policy=RetryPolicy(rate_limit_wait=0)) as c:
        verdict = c.classify(error(429, "throttled_daily.json"), "GET x")
        assert 0 < verdict.after <= 86_400
        with pytest.raises(RateLimited, match="DAY limit") as err:
            await c.account_info(ACCOUNT)
    assert 0 < err.value.retry_after <= 86_400
    assert len(replay.to(ACCOUNT)) == 1


async def test_a_retired_version_names_the_constant_to_bump():
    replay = Replay(api(**{ANALYTICS: [error(426, "nonexistent_version.json")]}))
    async with connector(replay) as c:
        with pytest.raises(ApiVersionRetired) as err:
            await c.fetch_performance(ACCOUNT, DAY1, DAY2)
    message = str(err.value)
    assert "bump API_VERSION in generator/connectors/linkedin.py" in message
    assert "Requested version 20250201 is not active" in message
    assert err.value.request == f"GET {ANALYTICS}"
    assert len(replay.to(ANALYTICS)) == 1


@pytest.mark.parametrize(
    ("answer", "error_type", "message"),
    [
        (error(403, "access_denied.json"), AuthFailed, "Not enough permissions .* role on the"),
        (error(400, "illegal_argument.json"), ConnectorError, "400 ILLEGAL_ARGUMENT: Invalid"),
        (httpx.Response(404, text="<html>no</html>"), ConnectorError, "HTTP 404"),
    ],
)
async def test_client_errors_fail_with_linkedins_message(answer, error_type, message):
    replay = Replay(api(**{f"/rest/adAccounts/{ACCOUNT}": [answer]}))
    async with connector(replay) as c:
        with pytest.raises(error_type, match=message) as err:
            await c.account_info(ACCOUNT)
    assert err.value.platform == "linkedin" and len(replay.to(ACCOUNT)) == 1


async def test_server_errors_are_retried_then_give_up():
    replay = Replay(api(**{f"/rest/adAccounts/{ACCOUNT}": [httpx.Response(500)]}))
    async with connector(replay, policy=RetryPolicy(attempts=2)) as c:
        with pytest.raises(PlatformUnavailable, match="gave up after 3 failures"):
            await c.account_info(ACCOUNT)


async def test_a_truncated_body_is_retried_and_a_wrong_shape_reported():
    cut = httpx.Response(200, content=b'{"elements": [{"dateRange": {"start": ')
    replay = Replay(api(**{ANALYTICS: [cut, load("analytics_performance.json")]}))
    async with connector(replay) as c:
        assert (await c.fetch_performance(ACCOUNT, DAY1, DAY2)).num_rows == 3
        assert c.api.stats.retries == 1
    for body in ({"paging": {}}, ["not", "an", "object"]):
        replay = Replay(api(**{ANALYTICS: [body]}))
        async with connector(replay, policy=RetryPolicy(attempts=1)) as c:
            with pytest.raises(ResponseInvalid, match="unreadable body"):
                await c.fetch_performance(ACCOUNT, DAY1, DAY2)


def element(**changes):
    base = load("analytics_performance.json")["elements"][0]
    return {"elements": [{k: v for k, v in {**base, **changes}.items() if v is not None}]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (element(dateRange=None), "required field 'dateRange' missing from adAnalytics element 0"),
        (element(dateRange={"start": {"year": 2026}}), "required field 'dateRange'"),
        (element(pivotValues=None), "required field 'pivotValues' missing"),
        (element(pivotValues=[]), "required field 'pivotValues' missing"),
        (element(clicks="many"), "'metrics.clicks' has value 'many' that is not a count"),
        (element(oneClickLeads="n/a"), "'oneClickLeads' has value 'n/a' that is not a number"),
        (element(costInLocalCurrency="1,5"), "'metrics.costInLocalCurrency' has value '1,5'"),
    ],
)
async def test_a_missing_or_garbled_field_names_platform_version_and_field(body, message):
    async with connector(Replay(api(**{ANALYTICS: [body]}))) as c:
        with pytest.raises(ResponseInvalid, match=message) as err:
            await c.fetch_performance(ACCOUNT, DAY1, DAY2)
    assert err.value.platform == "linkedin" and API_VERSION in str(err.value)


async def test_a_creative_without_an_id_is_reported():
    page = load("creatives_page2.json")
    del page["elements"][0]["id"]
    replay = Replay(api(**{"/creatives": [page]}))
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match=f"required field 'id' .* {API_VERSION}"):
            await c.fetch_creatives(ACCOUNT)


def numbers(table) -> list[tuple]:
    return [(r["date"], r["ad_id"], r["impressions"], r["spend_micros"]) for r in table.to_pylist()]


def labels(table) -> dict[str, tuple]:
    return {
        r["ad_id"]: (r["campaign_id"], r["campaign_name"], r["ad_group_id"], r["ad_group_name"])
        for r in table.to_pylist()
    }


async def test_an_unknown_creative_rereads_the_structure_once_then_degrades():
    stranger = element(pivotValues=["urn:li:sponsoredCreative:4242"])
    replay = Replay(api(**{ANALYTICS: [stranger]}))
    async with connector(replay) as c:
        first = await c.fetch("ad_performance", ACCOUNT, DAY1, DAY2)
        second = await c.fetch("ad_performance", ACCOUNT, DAY1, DAY2)
        unresolved = c.unresolved_in(ACCOUNT).as_dict()
    assert len(replay.to("/creatives")) == 4  # two pages, read twice: once more, not per fetch
    for table in (first, second):
        (row,) = table.to_pylist()
        assert (row["impressions"], row["clicks"], row["spend_micros"]) == (13468, 242, 107_530_000)
        assert (row["ad_id"], row["ad_name"], row["creative_id"]) == ("4242", "4242", "4242")
        assert (row["campaign_id"], row["ad_group_id"]) == ("unknown", "unknown")
    assert unresolved == {"campaign": ["unknown"], "ad_group": ["unknown"], "ad": ["4242"]}
    orphan = load("campaigns.json")
    orphan["elements"][0]["campaignGroup"] = "urn:li:sponsoredCampaignGroup:9"
    replay = Replay(api(**{"/adCampaigns": [orphan]}))
    async with connector(replay) as c:
        table = await c.fetch("ad_performance", ACCOUNT, DAY1, DAY2)
        assert c.unresolved_in(ACCOUNT).as_dict() == {"campaign": ["9"]}
    assert labels(table)["1001"] == ("9", "9", "2001", "Data leaders — Core")
    assert len(replay.to("/creatives")) == 2  # every creative known: no re-read


async def test_entities_the_finders_miss_degrade_to_ids_and_keep_their_numbers():
    # creative 4242 was deleted; campaign group 3002 is outside what the search returns
    groups = load("campaign_groups.json")
    groups["elements"] = [g for g in groups["elements"] if g["id"] != 3002]
    performance = load("analytics_performance.json")
    deleted = {**performance["elements"][1], "pivotValues": ["urn:li:sponsoredCreative:4242"]}
    performance["elements"].append({**deleted, "impressions": 700, "oneClickLeads": 2})
    leads = load("analytics_leads.json")
    leads["elements"].append({**leads["elements"][0], "pivotValues": deleted["pivotValues"]})

    def analytics(request):
        raw = query(request)
        if "q=statistics" in raw:
            return httpx.Response(200, json=load("statistics_conversions.json"))
        return httpx.Response(200, json=leads if "fields=oneClickLeads," in raw else performance)

    replay = Replay(api(**{"/adCampaignGroups": [groups], ANALYTICS: [analytics]}))
    async with connector(replay) as c:
        table = await c.fetch("ad_performance", ACCOUNT, DAY1, DAY2)
        actions = await c.fetch("actions", ACCOUNT, DAY1, DAY2)
        unresolved = c.unresolved_in(ACCOUNT).as_dict()
    assert numbers(table) == [
        (DAY1, "1001", 13468, 107_530_000),
        (DAY1, "1002", 8000, 64_200_000),
        (DAY2, "1001", 500, 0),
        (DAY1, "4242", 700, 64_200_000),
    ]
    assert table["conversions"].to_pylist() == [5.0, 9.0, 0.0, 2.0]
    assert labels(table) == {
        "1001": ("3001", "Sponsored Content — <b>Data</b> leaders", "2001", "Data leaders — Core"),
        "1002": ("3002", "3002", "2002", "State of Data Ops — form"),
        "4242": ("unknown", "Unknown campaign", "unknown", "Unknown ad group"),
    }
    assert dict(zip(table["ad_id"].to_pylist(), table["ad_name"].to_pylist(), strict=True)) == {
        "1001": "Pipelines <script>alert(1)</script>",
        "1002": "Report download",
        "4242": "4242",
    }
    kept = {(r["ad_id"], r["action_type"], r["attribution_window"]): r for r in actions.to_pylist()}
    assert {k: v["count"] for k, v in kept.items() if k[0] in ("1002", "4242")} == {
        ("1002", "lead", "post_click"): 9.0,
        ("4242", "lead", "post_click"): 9.0,
    }
    assert [kept[ad, "lead", "post_click"]["campaign_id"] for ad in ("1002", "4242")] == [
        "3002",
        "unknown",
    ]
    assert actions.num_rows == 6
    assert unresolved == {"campaign": ["3002", "unknown"], "ad_group": ["unknown"], "ad": ["4242"]}
    assert len(replay.to("/creatives")) == 4  # read, then once more for 4242, never again
