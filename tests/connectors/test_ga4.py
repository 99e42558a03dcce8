"""GA4 against hand-written answers in the Data and Admin APIs' real shapes."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from generator.connectors import ga4, get_connector
from generator.connectors.ga4 import API_VERSION, GA4, KEY_EVENTS, channel_of
from generator.errors import (
    ApiVersionRetired,
    AuthFailed,
    ConnectorError,
    RateLimited,
    ResponseInvalid,
)
from generator.schema import SITE_EVENTS

from .conftest import FIXTURES, Replay, fixture

CREDENTIALS = {
    "client_id": "ga4-client.apps.googleusercontent.com",
    "client_secret": "ga4-client-secret-abcdef",
    "refresh_token": "1//ga4-refresh-token-xyz",
}
PROPERTY = "312456789"
REPORT = f"/{API_VERSION}/properties/{PROPERTY}:runReport"
ADMIN = f"/{API_VERSION}/properties/{PROPERTY}"
NOV_1 = date(2026, 11, 1)
RAW_IDS = ("1041174459.1761955200", "5511860698.1761868800", "9280429052.1761955200")
EVENT_DIMENSIONS = [
    "dateHourMinute",
    "customUser:client_id",
    "eventName",
    "sessionSource",
    "sessionMedium",
    "sessionCampaignName",
    "deviceCategory",
    "country",
    "pagePath",
]


def connector(replay: Replay, page_size: int | None = None) -> GA4:
    c = get_connector("ga4", CREDENTIALS, base_url="https://ga4.test", transport=replay.transport)
    c.api._sleep = _sleep
    if page_size:
        c.page_size = page_size
    return c


async def _sleep(seconds):
    _sleep.calls.append(seconds)


_sleep.calls = []


def routes(*answers, admin=None) -> Replay:
    table = {"/token": [fixture("ga4", "token.json")], ":runReport": list(answers)}
    if admin is not None:
        table[ADMIN] = [admin]
    return Replay(table)


def error(status: int, name: str, **headers) -> httpx.Response:
    return httpx.Response(status, json=fixture("ga4", name), headers=headers)


def bodies(replay: Replay) -> list[dict]:
    return [json.loads(r.content) for r in replay.to(":runReport")]


def paged(answer: dict, size: int) -> list[dict]:
    """``answer`` cut into pages of ``size`` rows, each with the whole ``rowCount``."""
    rows = answer["rows"]
    return [answer | {"rows": rows[at : at + size]} for at in range(0, len(rows), size)]


async def test_funnel_request_paging_and_normalisation():
    replay = routes(fixture("ga4", "funnel_page1.json"), fixture("ga4", "funnel_page2.json"))
    async with connector(replay, page_size=2) as c:
        table = await c.fetch_site_funnel(PROPERTY, date(2026, 10, 1), date(2026, 10, 2))
    token, first, _ = replay.requests
    form = dict(httpx.QueryParams(token.content.decode()))
    assert form == {"grant_type": "refresh_token", **CREDENTIALS}
    assert first.url.path == REPORT and first.url.host == "ga4.test"
    assert first.headers["authorization"] == "Bearer ya29.a0AfB_ga4-test-access-token"
    page1, page2 = bodies(replay)
    assert page1["dateRanges"] == [{"startDate": "2026-10-01", "endDate": "2026-10-02"}]
    assert [d["name"] for d in page1["dimensions"]] == [
        "date",
        "sessionSource",
        "sessionMedium",
        "sessionCampaignName",
        "eventName",
    ]
    assert [m["name"] for m in page1["metrics"]] == ["eventCount", "keyEvents", "totalRevenue"]
    assert page1["returnPropertyQuota"] is True and "dimensionFilter" not in page1
    assert (page1["limit"], page1["offset"], page2["offset"]) == (2, 0, 2)
    rows = table.to_pylist()
    assert len(rows) == 3
    start, purchase, direct = rows
    assert start["date"] == date(2026, 10, 1) and start["event_count"] == 120
    assert purchase["revenue_micros"] == 1_234_567_891 and purchase["key_events"] == 3.0
    assert direct["key_events"] == 1.0 and direct["session_source"] == "(direct)"
    assert {(r["property_id"], r["account_timezone"], r["currency"]) for r in rows} == {
        (PROPERTY, "America/New_York", "USD")
    }
    assert {(r["source"], r["api_version"]) for r in rows} == {("ga4", API_VERSION)}


async def test_an_empty_report_has_no_rows_and_no_row_count():
    replay = routes(fixture("ga4", "empty.json"))
    async with connector(replay) as c:
        for fetch in (c.fetch_site_funnel, c.fetch_touchpoints, c.fetch_conversions):
            assert (await fetch(f"properties/{PROPERTY}", NOV_1, NOV_1)).num_rows == 0
    assert len(replay.to(":runReport")) == 3
    assert {body["limit"] for body in bodies(replay)} == {250_000}


async def test_touchpoints_keep_the_utc_day_and_hash_users():
    replay = routes(fixture("ga4", "touchpoints.json"))
    async with connector(replay) as c:
        table = await c.fetch_touchpoints(PROPERTY, NOV_1, NOV_1)
    body = bodies(replay)[0]
    # local days one either side: the lake keeps touchpoints by UTC day
    assert body["dateRanges"] == [{"startDate": "2026-10-31", "endDate": "2026-11-02"}]
    assert [d["name"] for d in body["dimensions"]][:2] == ["dateHourMinute", "customUser:client_id"]
    assert [m["name"] for m in body["metrics"]] == ["sessions"]
    rows = table.to_pylist()
    stamps = [r["timestamp"] for r in rows]
    assert all(s.date() == NOV_1 for s in stamps)
    assert stamps[0] == datetime(2026, 11, 1, 0, 30, tzinfo=UTC)
    assert stamps[1] == stamps[2] == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # sessions = 2
    assert [r["channel"] for r in rows] == [
        "google_ads",
        "facebook",
        "facebook",
        "direct",
        "email",
        "x",
        "organic_search",
        "other",
    ]
    assert [r["platform"] for r in rows] == [
        "google_ads",
        "facebook",
        "facebook",
        None,
        None,
        "x",
    ] + [None] * 2
    assert rows[0]["campaign_id"] == "20035036484" and rows[3]["campaign_id"] is None
    assert {r["interaction"] for r in rows} == {"session"} and rows[0]["ad_id"] is None
    users = [r["user_id"] for r in rows]
    assert users[0] == users[1] and users[0] != users[3]
    assert all(len(u) == 32 and u not in RAW_IDS for u in users)
    assert not any(raw in json.dumps([str(v) for v in rows]) for raw in RAW_IDS)


async def test_conversions_one_row_per_key_event_with_exact_revenue():
    replay = routes(fixture("ga4", "conversions.json"))
    async with connector(replay) as c:
        table = await c.fetch_conversions(PROPERTY, NOV_1, NOV_1)
    body = bodies(replay)[0]
    in_list = {"values": list(KEY_EVENTS), "caseSensitive": True}
    assert body["dimensionFilter"] == {
        "filter": {"fieldName": "eventName", "inListFilter": in_list}
    }
    assert {"purchase", "generate_lead", "book_appointment"} <= set(KEY_EVENTS)
    rows = table.to_pylist()
    assert [r["action_type"] for r in rows] == ["purchase", "lead", "lead"] + ["purchase"] * 4
    assert rows[0]["conversion_id"] == "T-1001" and rows[0]["value_micros"] == 161_247_129
    assert rows[3]["conversion_id"] == "T-1002" and rows[3]["value_micros"] == 10_005_000
    split = [r["value_micros"] for r in rows[4:]]
    assert split == [3_336_668, 3_336_666, 3_336_666] and sum(split) == 10_010_000
    ids = [r["conversion_id"] for r in rows]
    assert len(set(ids)) == len(ids) == 7
    assert rows[1]["value_micros"] == 0 and rows[0]["currency"] == "USD"
    assert rows[0]["timestamp"] == datetime(2026, 11, 1, 15, 15, tzinfo=UTC)
    assert all(r["user_id"] not in RAW_IDS and len(r["user_id"]) == 32 for r in rows)
    assert not any(raw in id_ for raw in RAW_IDS for id_ in ids)


async def test_site_events_request_paging_and_normalisation():
    replay = routes(*paged(fixture("ga4", "site_events.json"), 4))
    async with connector(replay, page_size=4) as c:
        table = await c.fetch_site_events(PROPERTY, NOV_1, NOV_1)
    first, second = bodies(replay)
    # local days one either side, as for touchpoints: the lake keeps site events by UTC day
    assert first["dateRanges"] == [{"startDate": "2026-10-31", "endDate": "2026-11-02"}]
    assert [d["name"] for d in first["dimensions"]] == EVENT_DIMENSIONS  # GA4's most: nine
    assert [m["name"] for m in first["metrics"]] == ["eventCount"]
    assert "dimensionFilter" not in first and first["returnPropertyQuota"] is True
    assert (first["limit"], first["offset"], second["offset"]) == (4, 0, 4)
    assert table.schema == SITE_EVENTS
    rows = table.to_pylist()
    # New York, the night clocks go back: 20:30 EDT on Oct 31 is already Nov 1 in UTC, 23:59
    # UTC the last minute kept; 01:30 happened twice (the first, EDT, is taken), 02:30 is EST
    assert [(r["timestamp"], r["event_name"], r["event_count"]) for r in rows] == [
        (datetime(2026, 11, 1, 0, 30, tzinfo=UTC), "session_start", 1),
        (datetime(2026, 11, 1, 0, 34, tzinfo=UTC), "view_item", 1),
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "view_item", 3),
        (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), "add_to_cart", 2),
        (datetime(2026, 11, 1, 23, 59, tzinfo=UTC), "purchase", 1),
    ]
    channels = ["google_ads", "google_ads", "facebook", "direct", "email"]
    assert [r["channel"] for r in rows] == channels
    cart = rows[3]
    assert (cart["session_source"], cart["session_medium"], cart["session_campaign"]) == (
        "(direct)",
        "(none)",
        "(direct)",
    )
    assert (cart["device_category"], cart["country"], cart["page_path"]) == (
        "tablet",
        "Germany",
        "/cart",
    )
    assert rows[2]["page_path"] == "/products/down-parka"
    users = [r["user_id"] for r in rows]
    assert users[0] == users[1] != users[2] and len(set(users)) == 3
    assert all(len(u) == 32 and u not in RAW_IDS for u in users)
    assert {(r["property_id"], r["source"], r["api_version"]) for r in rows} == {
        (PROPERTY, "ga4", API_VERSION)
    }


async def test_site_events_hash_users_as_touchpoints_do():
    answers = [fixture("ga4", "touchpoints.json"), *[fixture("ga4", "site_events.json")] * 2]
    async with connector(routes(*answers)) as c:
        touch = await c.fetch_touchpoints(PROPERTY, NOV_1, NOV_1)
        events = await c.fetch_site_events(f"properties/{PROPERTY}", NOV_1, NOV_1)
        elsewhere = await c.fetch_site_events("398765432", NOV_1, NOV_1)
    # the first touchpoint and the first event are both client id RAW_IDS[0]
    assert touch["user_id"][0] == events["user_id"][0]
    assert not set(events["user_id"].to_pylist()) & set(elsewhere["user_id"].to_pylist())


@pytest.mark.parametrize(
    "name", ["funnel_page1.json", "touchpoints.json", "conversions.json", "site_events.json"]
)
@pytest.mark.parametrize("indent", [None, 2])
def test_cells_read_off_the_bytes_are_the_parsed_ones(name, indent):
    content = json.dumps(fixture("ga4", name), indent=indent, ensure_ascii=False).encode()
    page = ga4._report_page(httpx.Response(200, content=content))
    assert ga4._VALUES in page  # the fast reading applied
    assert ga4._columns(page, ()) == ga4._columns(json.loads(content), ())
    assert page["rowCount"] == json.loads(content)["rowCount"]


def _empty_cell(body):  # proto3 JSON may leave an empty string out
    body["rows"][1]["dimensionValues"][0] = {}


def _totals(body):  # cells outside the rows
    body["totals"] = [body["rows"][0]]


def _extra_key(body):
    body["rows"][0]["note"] = "x"


@pytest.mark.parametrize(
    ("change", "minute"),
    [(_empty_cell, ""), (_totals, "202610312034"), (_extra_key, "202610312034")],
)
def test_answers_of_another_shape_are_parsed_whole(change, minute):
    body = fixture("ga4", "site_events.json")
    change(body)
    content = json.dumps(body).encode()
    page = ga4._report_page(httpx.Response(200, content=content))
    assert ga4._VALUES not in page and page == json.loads(content)
    assert ga4._columns(page, ())["dateHourMinute"][1] == minute


async def test_account_info_reads_the_admin_property():
    replay = routes(admin=fixture("ga4", "property.json"))
    async with connector(replay) as c:
        info = await c.account_info(PROPERTY)
    assert (info.name, info.currency, info.timezone) == (
        "northwindoutfitters.com",
        "USD",
        "America/New_York",
    )
    assert replay.requests[-1].method == "GET" and replay.requests[-1].url.path == ADMIN
    broken = {k: v for k, v in fixture("ga4", "property.json").items() if k != "timeZone"}
    async with connector(routes(admin=broken)) as c:
        with pytest.raises(ResponseInvalid, match="'timeZone' missing from the v1beta"):
            await c.account_info(PROPERTY)


async def test_a_low_property_quota_slows_down_before_the_limit():
    _sleep.calls.clear()
    replay = routes(fixture("ga4", "quota_low.json"))
    async with connector(replay) as c:
        await c.fetch_site_funnel(PROPERTY, NOV_1, NOV_1)
        assert c.api.stats.rate_limited == 0
    # 1,000 of 40,000 hourly tokens left: a quarter of the 10% reserve, so 3/4 of 60 s
    assert _sleep.calls == [45.0]


@pytest.mark.parametrize(
    ("answer", "waits"),
    [
        (error(429, "exhausted_concurrent.json"), "backoff"),
        (httpx.Response(429, text="Too Many Requests", headers={"Retry-After": "7"}), [7.0]),
        (httpx.Response(429), "backoff"),
    ],
)
async def test_rate_limits_are_waited_out(answer, waits):
    _sleep.calls.clear()
    replay = routes(answer, fixture("ga4", "empty.json"))
    async with connector(replay) as c:
        await c.fetch_site_funnel(PROPERTY, NOV_1, NOV_1)
        assert c.api.stats.rate_limited == 1 and c.api.stats.retries == 0
    if waits == "backoff":
        assert len(_sleep.calls) == 1 and 0 < _sleep.calls[0] <= 0.5
    else:
        assert _sleep.calls == waits


async def test_an_exhausted_hourly_quota_marks_the_sync_stale_at_once():
    replay = routes(error(429, "exhausted_per_hour.json"))
    async with connector(replay) as c:
        with pytest.raises(RateLimited, match="Exhausted property tokens per hour") as err:
            await c.fetch_site_funnel(PROPERTY, NOV_1, NOV_1)
    assert err.value.retry_after == 3600.0 and len(replay.to(":runReport")) == 1


async def test_an_expired_token_is_refreshed_once():
    replay = routes(error(401, "unauthenticated.json"), fixture("ga4", "empty.json"))
    async with connector(replay) as c:
        await c.fetch_site_funnel(PROPERTY, NOV_1, NOV_1)
    assert len(replay.to("/token")) == 2
    async with connector(routes(error(401, "unauthenticated.json"))) as c:
        with pytest.raises(AuthFailed, match="freshly issued access token"):
            await c.fetch_site_funnel(PROPERTY, NOV_1, NOV_1)


async def test_a_rejected_refresh_token_keeps_secrets_out_of_the_message():
    replay = Replay({"/token": [httpx.Response(400, json=fixture("ga4", "invalid_grant.json"))]})
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="Token has been expired or revoked") as err:
            await c.fetch_site_funnel(PROPERTY, NOV_1, NOV_1)
    assert not any(secret in str(err.value) for secret in CREDENTIALS.values())


@pytest.mark.parametrize(
    ("answer", "error_type", "message"),
    [
        (
            httpx.Response(404, text=(FIXTURES / "ga4" / "not_found.html").read_text()),
            ApiVersionRetired,
            "bump API_VERSION in generator/connectors/ga4.py",
        ),
        (
            httpx.Response(
                400,
                json={
                    "error": {
                        "code": 400,
                        "message": "Method google.analytics.data.v1beta.RunReport is retired.",
                        "status": "FAILED_PRECONDITION",
                    }
                },
            ),
            ApiVersionRetired,
            r"GA4 API v1beta is not served \(Method google",
        ),
        (error(403, "permission_denied.json"), AuthFailed, "sufficient permissions"),
        (
            error(400, "invalid_metric.json"),
            ConnectorError,
            "HTTP 400 INVALID_ARGUMENT: Did you mean keyEvents",
        ),
    ],
)
async def test_fatal_errors_say_how_to_fix_them(answer, error_type, message):
    replay = routes(answer)
    async with connector(replay) as c:
        with pytest.raises(error_type, match=message) as err:
            await c.fetch_site_funnel(PROPERTY, NOV_1, NOV_1)
    assert err.value.platform == "ga4" and err.value.request == f"POST {REPORT}"
    assert len(replay.to(":runReport")) == 1


async def test_a_truncated_body_is_retried_then_reported():
    truncated = httpx.Response(200, content=b'{"dimensionHeaders": [{"name": "da')
    replay = routes(truncated, fixture("ga4", "funnel_page1.json"))
    async with connector(replay, page_size=5) as c:
        assert (await c.fetch_site_funnel(PROPERTY, NOV_1, NOV_1)).num_rows == 2
        assert c.api.stats.retries == 1
    async with connector(routes([{"not": "an object"}])) as c:
        with pytest.raises(ResponseInvalid, match="unreadable body"):
            await c.fetch_site_funnel(PROPERTY, NOV_1, NOV_1)


async def test_server_errors_are_retried():
    replay = routes(httpx.Response(503), httpx.Response(500), fixture("ga4", "empty.json"))
    async with connector(replay) as c:
        await c.fetch_site_funnel(PROPERTY, NOV_1, NOV_1)
        assert c.api.stats.retries == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing_field.json", r"ga4: required field 'date' missing from the v1beta response"),
        ("no_metadata", r"required field 'metadata.currencyCode' missing"),
        ("short_row", "rows do not match the headers"),
        ("bad_minute", "field 'dateHourMinute' has value '2026-10-31 20:30' that cannot be read"),
        ("bad_count", r"field 'sessions' has value '1.5' that cannot be read \(v1beta\)"),
    ],
)
async def test_broken_answers_name_platform_version_and_field(change, message):
    touch = fixture("ga4", "touchpoints.json")
    if change == "missing_field.json":
        answer, fetch = fixture("ga4", change), "fetch_site_funnel"
    else:
        answer, fetch = touch, "fetch_touchpoints"
        if change == "no_metadata":
            del touch["metadata"]
        elif change == "short_row":
            touch["rows"][0]["metricValues"] = []
        elif change == "bad_minute":
            touch["rows"][0]["dimensionValues"][0]["value"] = "2026-10-31 20:30"
        else:
            touch["rows"][0]["metricValues"][0]["value"] = "1.5"
    async with connector(routes(answer)) as c:
        with pytest.raises(ResponseInvalid, match=message):
            await getattr(c, fetch)(PROPERTY, NOV_1, NOV_1)


async def test_a_quota_named_inside_a_value_is_not_read_as_the_quota():
    _sleep.calls.clear()
    answer = fixture("ga4", "funnel_page1.json")
    answer["rows"][0]["dimensionValues"][3]["value"] = '"propertyQuota": {"tokensPerHour"'
    answer["propertyQuota"]["tokensPerHour"]["remaining"] = 3_000
    truncated_quota = dict(answer)
    del truncated_quota["propertyQuota"]
    async with connector(routes(answer, truncated_quota), page_size=2) as c:
        table = await c.fetch_site_funnel(PROPERTY, NOV_1, NOV_1)
    assert table.num_rows == 4 and _sleep.calls == [15.0]


async def test_thresholded_reports_are_logged_and_a_garbled_quota_ignored(caplog):
    _sleep.calls.clear()
    answer = fixture("ga4", "funnel_page1.json")
    answer["metadata"]["subjectToThresholding"] = True
    body = json.dumps(answer).encode()
    garbled = body[: body.rindex(b'"propertyQuota"')] + b'"propertyQuota": {"tokensPer'
    quota_last = httpx.Response(200, content=body[:-1] + b', "propertyQuota": 7}')
    replay = routes(answer, httpx.Response(200, content=garbled), quota_last)
    async with connector(replay, page_size=2) as c:
        table = await c.fetch_site_funnel(PROPERTY, NOV_1, NOV_1)
        assert c.api.stats.retries == 1  # the garbled page is unreadable: asked again
    assert table.num_rows == 4 and len(_sleep.calls) == 1  # the backoff, no quota pause
    assert "thresholded" in caplog.text


async def test_property_ids_and_what_ga4_does_not_offer():
    async with connector(routes()) as c:
        with pytest.raises(ConnectorError, match="a GA4 property id is a number"):
            await c.fetch_site_funnel("UA-1234-5", NOV_1, NOV_1)
        with pytest.raises(ConnectorError, match="does not provide ad_performance"):
            await c.fetch("ad_performance", PROPERTY, NOV_1, NOV_1)
    assert GA4.has_creatives is False
    assert GA4.datasets == ("site_funnel", "site_events", "touchpoints", "conversions")
    with pytest.raises(AuthFailed, match="credentials lack refresh_token"):
        get_connector("ga4", {k: v for k, v in CREDENTIALS.items() if k != "refresh_token"})


@pytest.mark.parametrize(
    ("source", "medium", "channel"),
    [
        ("google", "cpc", "google_ads"),
        ("Google", "CPC", "google_ads"),
        ("bing", "cpc", "microsoft_ads"),
        ("instagram", "paid_social", "instagram"),
        ("linkedin", "paid_social", "linkedin"),
        ("x.com", "paid_social", "x"),
        ("reddit", "paid_social", "reddit"),
        ("google", "organic", "organic_search"),
        ("(direct)", "(none)", "direct"),
        ("newsletter", "email", "email"),
        ("partner-blog.example", "referral", "referral"),
        ("facebook", "referral", "referral"),
        ("(not set)", "(not set)", "other"),
    ],
)
def test_channels_come_from_the_declared_rules(source, medium, channel):
    assert channel_of(source, medium) == channel


def test_fixtures_are_json():
    for path in (FIXTURES / "ga4").glob("*.json"):
        assert isinstance(json.loads(Path(path).read_text()), dict)
