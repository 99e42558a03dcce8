import base64
import json
from datetime import UTC, date, datetime

import httpx
import pytest

from generator.connectors import get_connector
from generator.connectors import pinterest as module
from generator.connectors.pinterest import API_VERSION, COLUMNS
from generator.errors import (
    ApiVersionRetired,
    AuthFailed,
    ConnectorError,
    JobFailed,
    JobTimedOut,
    PlatformUnavailable,
    RateLimited,
    ResponseInvalid,
)

from .conftest import Replay, fixture

CREDENTIALS = {
    "client_id": "1484937",
    "client_secret": "pinterest-client-secret-abcdef",
    "refresh_token": "pinr_original-refresh-token-xyz",
}
ACCOUNT = "549755813888"
ROOT = f"/{API_VERSION}/ad_accounts/{ACCOUNT}"
ANALYTICS, REPORTS = f"{ROOT}/ads/analytics", f"{ROOT}/reports"
ACCOUNT_PATH = f"/ad_accounts/{ACCOUNT}"
DOWNLOAD = "/metrics_report.json"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
RECENT = (date(2026, 10, 1), date(2026, 10, 2))
OLD = (date(2026, 5, 1), date(2026, 5, 2))


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(module, "utc_now", lambda: NOW)


def pin(name: str):
    return [fixture("pinterest", name)]


def answer(status: int, name: str, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(status, json=fixture("pinterest", name), headers=headers)


def routes(overrides: dict[str, list] | None = None) -> dict[str, list]:
    """The answers of a healthy account, with ``overrides`` (path suffix -> answers)."""
    base = {
        "/oauth/token": pin("token.json"),
        ACCOUNT_PATH: pin("ad_account.json"),
        "/campaigns": pin("campaigns.json"),
        "/ad_groups": pin("ad_groups.json"),
        "/ads": [fixture("pinterest", "ads_page_1.json"), fixture("pinterest", "ads_page_2.json")],
        "/ads/analytics": pin("ads_analytics.json"),
        "/reports": [
            fixture("pinterest", "report_submitted.json"),
            fixture("pinterest", "report_in_progress.json"),
            fixture("pinterest", "report_finished.json"),
        ],
        DOWNLOAD: pin("report_file.json"),
        "/pins/394909817263": pin("pin_image.json"),
        "/pins/394909817264": pin("pin_video.json"),
    }
    return base | (overrides or {})


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def connector(replay: Replay, **options):
    c = get_connector(
        "pinterest", CREDENTIALS, base_url="https://pin.test", transport=replay.transport, **options
    )
    c.api._sleep = Sleeps()
    c.poll_delay = 0.0
    return c


async def test_performance_request_shape_and_paid_only_delivery():
    rotated = []
    replay = Replay(routes())
    async with connector(replay, on_rotate=rotated.append) as c:
        table = await c.fetch_performance(ACCOUNT, *RECENT)
    token = replay.to("/oauth/token")[0]
    basic = base64.b64encode(b"1484937:pinterest-client-secret-abcdef").decode()
    assert token.headers["authorization"] == f"Basic {basic}"
    form = dict(httpx.QueryParams(token.content.decode()))
    assert form == {"grant_type": "refresh_token", "refresh_token": CREDENTIALS["refresh_token"]}
    assert rotated == ["pinr_AQAAAH9ROTATEDrefreshTOKENexampleZZZ"]  # continuous refresh

    (analytics,) = replay.to("/ads/analytics")
    params = analytics.url.params
    assert analytics.url.path == ANALYTICS
    assert analytics.headers["authorization"].startswith("Bearer pina_")
    assert (params["start_date"], params["end_date"], params["granularity"]) == (
        "2026-10-01",
        "2026-10-02",
        "DAY",
    )
    assert params["ad_ids"] == "687195905986,687195905987"
    assert (params["click_window_days"], params["view_window_days"]) == ("30", "1")
    assert params["engagement_window_days"] == "30"
    assert params["conversion_report_time"] == "TIME_OF_AD_ACTION"
    columns = params["columns"].split(",")
    assert columns == list(COLUMNS)
    assert {
        "IMPRESSION_1",
        "CLICKTHROUGH_1",
        "SPEND_IN_MICRO_DOLLAR",
        "TOTAL_CLICK_CHECKOUT",
    } <= set(columns)
    assert "TOTAL_ENGAGEMENT_ADD_TO_CART" not in columns  # not a Pinterest column

    first_ads, second_ads = replay.to("/ads")
    assert first_ads.url.params["page_size"] == "250"
    assert first_ads.url.params.get_list("entity_statuses") == ["ACTIVE", "PAUSED", "ARCHIVED"]
    assert second_ads.url.params["bookmark"] == "Y2JVbm9QUVIzWGJnMDZ8MQ=="

    shells, archived, quiet = table.to_pylist()
    assert (shells["impressions"], shells["clicks"]) == (12044, 71)  # _1 only, never _2
    assert shells["spend_micros"] == 66_240_000
    assert (shells["conversions"], shells["value_micros"]) == (5.0, 450_210_000)
    assert shells["campaign_name"] == "Shopping — Outdoor looks"
    assert (shells["ad_group_name"], shells["ad_name"]) == ("Core", "Waterproof shells — 1")
    assert shells["creative_id"] == "394909817263"
    assert (shells["account_name"], shells["currency"]) == ("Northwind <b>Pins</b>", "USD")
    assert (shells["account_timezone"], shells["platform"], shells["source"]) == (
        "UTC",
        "pinterest",
        "pinterest",
    )
    assert archived["spend_micros"] == 20_840_000 and archived["clicks"] == 0
    assert archived["conversions"] == 3.0 and archived["value_micros"] == 0  # leads, no value
    assert archived["ad_group_name"] == "Expansion"
    assert quiet["date"] == date(2026, 10, 2)
    assert (quiet["impressions"], quiet["spend_micros"], quiet["conversions"]) == (0, 0, 0.0)
    assert set(table.column("api_version").to_pylist()) == {API_VERSION}


async def test_actions_keep_every_window_and_share_the_read_with_performance():
    replay = Replay(routes())
    async with connector(replay) as c:
        await c.fetch_performance(ACCOUNT, *RECENT)
        table = await c.fetch_actions(ACCOUNT, *RECENT)
        await c.fetch_actions(ACCOUNT, *RECENT)  # a second read goes to Pinterest again
    assert len(replay.to("/ads/analytics")) == 2
    rows = {
        (r["ad_id"], r["action_type"], r["attribution_window"]): (r["count"], r["value_micros"])
        for r in table.to_pylist()
    }
    shells = "687195905986"
    assert rows[(shells, "purchase", "default")] == (5.0, 450_210_000)
    assert rows[(shells, "purchase", "30d_click")] == (3.0, 270_120_000)
    assert rows[(shells, "purchase", "30d_engagement")] == (1.0, 90_040_000)
    assert rows[(shells, "purchase", "1d_view")] == (1.0, 90_050_000)
    assert rows[(shells, "add_to_cart", "default")] == (9.0, 0)
    assert rows[(shells, "add_to_cart", "30d_click")] == (9.0, 0)
    assert rows[("687195905987", "lead", "default")] == (3.0, 0)
    assert rows[("687195905987", "lead", "1d_view")] == (1.0, 0)
    assert (shells, "lead", "default") not in rows  # nothing to report: no row
    assert {r["date"] for r in table.to_pylist()} == {date(2026, 10, 1)}
    assert set(table.column("account_timezone").to_pylist()) == {"UTC"}


async def test_older_ranges_come_from_an_async_report_downloaded_without_credentials():
    replay = Replay(routes())
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, *OLD)
        actions = await c.fetch_actions(ACCOUNT, *OLD)
        assert c.pending == {ACCOUNT: {}}
    assert not replay.to("/ads/analytics")
    submit, first_poll, _ = replay.to("/reports")
    body = json.loads(submit.content)
    assert submit.method == "POST" and submit.url.path == REPORTS
    assert (body["start_date"], body["end_date"], body["granularity"]) == (
        "2026-05-01",
        "2026-05-02",
        "DAY",
    )
    assert (body["level"], body["report_format"]) == ("PIN_PROMOTION", "JSON")
    assert body["columns"] == list(COLUMNS) and body["click_window_days"] == 30
    assert first_poll.url.params["token"] == "25000031-8f1c2e" and first_poll.method == "GET"
    (download,) = replay.to(DOWNLOAD)
    assert "authorization" not in download.headers
    assert download.url.params["X-Amz-Signature"] == "9c1e"
    rows = {(r["ad_id"], r["date"]): r for r in table.to_pylist()}
    assert rows[("687195905986", date(2026, 5, 1))]["value_micros"] == 180_000_000
    assert rows[("687195905986", date(2026, 5, 1))]["impressions"] == 9000
    assert rows[("687195905987", date(2026, 5, 1))]["spend_micros"] == 16_000_000  # id from key
    assert sum(table.column("spend_micros").to_pylist()) == 113_900_000
    assert actions.num_rows == 2  # purchase default and 30d_click, on one day only


async def test_a_report_still_running_is_resumed_by_the_next_run():
    replay = Replay(routes({"/reports": [fixture("pinterest", "report_submitted.json")]}))
    first = connector(replay)
    first.job_timeout = 0.0
    async with first:
        with pytest.raises(JobTimedOut):
            await first.fetch_performance(ACCOUNT, *OLD)
        pending = first.pending
    assert pending == {ACCOUNT: {"ads:2026-05-01:2026-05-02": "25000031-8f1c2e"}}
    replay = Replay(routes({"/reports": [fixture("pinterest", "report_finished.json")]}))
    async with connector(replay) as second:
        second.pending = {ACCOUNT: dict(pending[ACCOUNT])}
        table = await second.fetch_performance(ACCOUNT, *OLD)
        assert second.pending == {ACCOUNT: {}}
    assert [r.method for r in replay.to("/reports")] == ["GET"]  # resumed, not resubmitted
    assert table.num_rows == 3


async def test_a_failed_report_fails_the_window():
    answers = [fixture("pinterest", n) for n in ("report_submitted.json", "report_failed.json")]
    async with connector(Replay(routes({"/reports": answers}))) as c:
        with pytest.raises(JobFailed, match="FAILED: Report generation failed"):
            await c.fetch_performance(ACCOUNT, *OLD)
        assert c.pending == {ACCOUNT: {}}


async def test_a_report_without_a_file_has_no_rows_and_long_ranges_are_split():
    finished = {"report_status": "FINISHED", "url": None, "size": 0}
    submitted = fixture("pinterest", "report_submitted.json")
    replay = Replay(routes({"/reports": [submitted, finished, submitted, finished]}))
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, date(2025, 7, 1), date(2026, 2, 1))
    assert table.num_rows == 0 and not replay.to(DOWNLOAD)
    bodies = [json.loads(r.content) for r in replay.to("/reports") if r.method == "POST"]
    assert [(b["start_date"], b["end_date"]) for b in bodies] == [
        ("2025-07-01", "2026-01-02"),
        ("2026-01-03", "2026-02-01"),
    ]


async def test_a_start_pinterest_finds_too_old_falls_back_to_a_report():
    replay = Replay(routes({"/ads/analytics": [answer(400, "beyond_history.json")]}))
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, date(2026, 8, 27), date(2026, 8, 28))
    assert len(replay.to("/ads/analytics")) == 1 and len(replay.to(DOWNLOAD)) == 1
    assert table.num_rows == 3


@pytest.mark.parametrize(
    ("response", "waited"),
    [
        (answer(429, "rate_limited.json", {"X-RateLimit-Reset": "3"}), [3.0]),
        (answer(429, "report_cost_limit.json"), [1.0]),
        (answer(400, "retry_after.json"), [5.0]),
    ],
    ids=["reset-header", "retry-after-in-message", "code-1-retry-after"],
)
async def test_rate_limits_wait_what_pinterest_says(response, waited):
    replay = Replay(routes({ACCOUNT_PATH: [response, pin("ad_account.json")[0]]}))
    async with connector(replay) as c:
        info = await c.account_info(ACCOUNT)
        assert c.api.stats.rate_limited == 1
        assert c.api._sleep == waited
    assert (info.name, info.currency, info.timezone) == ("Northwind <b>Pins</b>", "USD", "UTC")


async def test_a_rate_limit_without_a_hint_backs_off_and_a_persistent_one_gives_up():
    limited = answer(429, "rate_limited.json")
    replay = Replay(routes({ACCOUNT_PATH: [limited, pin("ad_account.json")[0]]}))
    async with connector(replay) as c:
        await c.account_info(ACCOUNT)
        assert len(c.api._sleep) == 1 and 0.25 <= c.api._sleep[0] <= 0.5  # first backoff
    from generator.connectors import RetryPolicy

    replay = Replay(routes({ACCOUNT_PATH: [limited]}))
    async with connector(replay, policy=RetryPolicy(rate_limit_wait=1.0)) as c:
        with pytest.raises(RateLimited, match="pinterest"):
            await c.account_info(ACCOUNT)


async def test_usage_headers_slow_calls_down_before_the_limit():
    def near_limit(request):
        headers = {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset": "10",
        }
        return httpx.Response(200, json=fixture("pinterest", "ad_account.json"), headers=headers)

    replay = Replay(routes({ACCOUNT_PATH: [near_limit]}))
    async with connector(replay) as c:
        await c.account_info(ACCOUNT)
        assert c.api._sleep == [2.0]  # 10 s until the reset, 4 calls left: one every 2 s
    relaxed = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "50", "X-RateLimit-Reset": "9"}
    ok = httpx.Response(200, json=fixture("pinterest", "ad_account.json"), headers=relaxed)
    async with connector(Replay(routes({ACCOUNT_PATH: [ok]}))) as c:
        await c.account_info(ACCOUNT)
        assert c.api._sleep == []


async def test_an_expired_access_token_is_refreshed_once():
    expired = answer(401, "authentication_failed.json")
    replay = Replay(routes({ACCOUNT_PATH: [expired, pin("ad_account.json")[0]]}))
    async with connector(replay) as c:
        await c.account_info(ACCOUNT)
    _, second = replay.to("/oauth/token")
    assert dict(httpx.QueryParams(second.content.decode()))["refresh_token"] == (
        "pinr_AQAAAH9ROTATEDrefreshTOKENexampleZZZ"  # the rotated token is the one used next
    )
    replay = Replay(routes({ACCOUNT_PATH: [expired]}))
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="freshly issued"):
            await c.account_info(ACCOUNT)


async def test_a_rejected_refresh_token_fails_without_leaking_it():
    replay = Replay(routes({"/oauth/token": [answer(400, "invalid_refresh.json")]}))
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="re-authorise") as caught:
            await c.account_info(ACCOUNT)
    assert CREDENTIALS["refresh_token"] not in str(caught.value)
    assert CREDENTIALS["client_secret"] not in str(caught.value)
    with pytest.raises(AuthFailed, match="refresh_token"):
        get_connector("pinterest", {**CREDENTIALS, "refresh_token": ""})


@pytest.mark.parametrize(
    ("status", "name", "error", "message"),
    [
        (
            410,
            "version_retired.json",
            ApiVersionRetired,
            "bump API_VERSION in generator/connectors/pinterest.py",
        ),
        (403, "forbidden.json", AuthFailed, "code 29: You are not permitted"),
        (400, "invalid_column.json", ConnectorError, "Invalid column: TOTAL_ENGAGEMENT"),
    ],
)
async def test_client_errors_fail_with_pinterests_message(status, name, error, message):
    replay = Replay(routes({ACCOUNT_PATH: [answer(status, name)]}))
    async with connector(replay) as c:
        with pytest.raises(error, match=message) as caught:
            await c.account_info(ACCOUNT)
    assert f"GET /{API_VERSION}/ad_accounts/{ACCOUNT}" in str(caught.value)


async def test_transient_errors_and_garbled_bodies_are_retried():
    good = fixture("pinterest", "ads_analytics.json")
    cut = httpx.Response(200, content=json.dumps(good).encode()[:100])
    flaky = [answer(400, "transient.json"), answer(503, "transient.json"), cut, good]
    replay = Replay(routes({"/ads/analytics": flaky}))
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, *RECENT)
        assert c.api.stats.retries == 3
    assert table.num_rows == 3
    report = [
        httpx.Response(200, content=b'{"687195905986": [{"DATE": "2026-0'),
        pin("report_file.json")[0],
    ]
    async with connector(Replay(routes({DOWNLOAD: report}))) as c:
        assert (await c.fetch_performance(ACCOUNT, *OLD)).num_rows == 3


async def test_bodies_that_never_read_or_never_answer_give_up():
    cut = httpx.Response(200, content=b'[{"AD_ID": "6871')
    async with connector(Replay(routes({"/ads/analytics": [cut]}))) as c:
        with pytest.raises(ResponseInvalid, match="unreadable body"):
            await c.fetch_performance(ACCOUNT, *RECENT)
    for wrong in ({"items": "not a list"}, {"items": [{"name": "no id"}], "bookmark": None}):
        async with connector(Replay(routes({"/campaigns": [wrong]}))) as c:
            with pytest.raises(ResponseInvalid, match="a page of items with ids"):
                await c.fetch_performance(ACCOUNT, *RECENT)
    down = answer(500, "transient.json")
    async with connector(Replay(routes({ACCOUNT_PATH: [down]}))) as c:
        with pytest.raises(PlatformUnavailable, match="gave up"):
            await c.account_info(ACCOUNT)


async def test_a_row_without_its_date_names_platform_version_and_field():
    rows = [{"AD_ID": "687195905986", "CAMPAIGN_ID": "626736533506", "IMPRESSION_1": 5}]
    async with connector(Replay(routes({"/ads/analytics": [rows]}))) as c:
        with pytest.raises(ResponseInvalid, match=r"pinterest.*'DATE'.*v5"):
            await c.fetch_performance(ACCOUNT, *RECENT)
    bad_value = [{**rows[0], "DATE": "2026-10-01", "TOTAL_CLICK_CHECKOUT": "many"}]
    async with connector(Replay(routes({"/ads/analytics": [bad_value]}))) as c:
        with pytest.raises(ResponseInvalid, match="'many'"):
            await c.fetch_actions(ACCOUNT, *RECENT)
    async with connector(Replay(routes({"/ads/analytics": [bad_value]}))) as c:
        with pytest.raises(ResponseInvalid, match="'many'"):
            await c.fetch_performance(ACCOUNT, *RECENT)


async def test_an_account_without_currency_is_an_invalid_answer():
    account = {**fixture("pinterest", "ad_account.json"), "currency": None}
    async with connector(Replay(routes({ACCOUNT_PATH: [account]}))) as c:
        with pytest.raises(ResponseInvalid, match="without currency"):
            await c.account_info(ACCOUNT)
    submitted = {"report_status": "IN_PROGRESS", "message": "Too many reports"}
    async with connector(Replay(routes({"/reports": [submitted]}))) as c:
        with pytest.raises(ResponseInvalid, match="no report token.*Too many reports"):
            await c.fetch_performance(ACCOUNT, *OLD)


async def test_creatives_are_the_promoted_pins():
    replay = Replay(routes())
    async with connector(replay) as c:
        rows = {r["creative_id"]: r for r in (await c.fetch_creatives(ACCOUNT)).to_pylist()}
    image, video = rows["394909817263"], rows["394909817264"]
    assert (image["ad_id"], image["name"]) == ("687195905986", "Waterproof shells — 1")
    assert image["headline"] == "Waterproof shells, built for storms"
    assert image["body"].startswith("Seam-sealed") and image["call_to_action"] is None
    assert image["landing_url"] == "https://northwindoutfitters.com/lp/0-0?ad=0"
    assert image["format"] == "image"
    assert image["asset_url"] == "https://i.pinimg.com/originals/91/4b/d7/914bd7eb.jpg"
    assert (image["width"], image["height"]) == (1000, 1500)
    assert video["format"] == "video" and video["asset_url"].endswith("abcdef.0000000.jpg")
    assert (video["width"], video["height"]) == (1080, 1920)
    assert len(image["version"]) == 16 and image["version"] != video["version"]
    assert image["first_seen"] == NOW.date() and image["platform"] == "pinterest"
    assert {r.url.params["ad_account_id"] for r in replay.to("/pins/394909817263")} == {ACCOUNT}


async def test_a_pin_promoted_by_several_ads_is_one_creative():
    first, second = (fixture("pinterest", n) for n in ("ads_page_1.json", "ads_page_2.json"))
    again = {**first["items"][0], "id": "687195905999", "name": "Waterproof shells — copy"}
    pinless = {**first["items"][0], "id": "687195905900", "pin_id": None}
    second = {**second, "items": [*second["items"], again, pinless]}
    replay = Replay(routes({"/ads": [first, second]}))
    async with connector(replay) as c:
        rows = (await c.fetch_creatives(ACCOUNT)).to_pylist()
    assert sorted((r["creative_id"], r["ad_id"]) for r in rows) == [
        ("394909817263", "687195905986"),  # the first ad that promotes it
        ("394909817264", "687195905987"),
    ]
    assert len(replay.to("/pins/394909817263")) == 1


LABELS = ("campaign_id", "campaign_name", "ad_group_id", "ad_group_name", "ad_name")


async def test_entities_the_lists_miss_degrade_to_ids_and_keep_their_numbers():
    campaigns, groups = (
        fixture("pinterest", "campaigns.json"),
        fixture("pinterest", "ad_groups.json"),
    )
    campaigns["items"] = [i for i in campaigns["items"] if i["id"] != "626736533507"]
    groups["items"] = [i for i in groups["items"] if i["id"] != "2680060704746"]
    replay = Replay(routes({"/campaigns": [campaigns], "/ad_groups": [groups]}))
    async with connector(replay) as c:
        table = await c.fetch("ad_performance", ACCOUNT, *RECENT)
        actions = await c.fetch("actions", ACCOUNT, *RECENT)
        unresolved = c.unresolved_in(ACCOUNT).as_dict()
    shells, archived, quiet = table.to_pylist()
    numbers = ("impressions", "clicks", "spend_micros", "conversions", "value_micros")
    assert [tuple(r[n] for n in numbers) for r in (shells, archived, quiet)] == [
        (12044, 71, 66_240_000, 5.0, 450_210_000),
        (5210, 0, 20_840_000, 3.0, 0),
        (0, 0, 0, 0.0, 0),
    ]
    assert tuple(shells[n] for n in LABELS) == (
        "626736533506",
        "Shopping — Outdoor looks",
        "2680060704746",
        "2680060704746",
        "Waterproof shells — 1",
    )
    assert tuple(archived[n] for n in LABELS) == (
        "626736533507",
        "626736533507",
        "2680060704747",
        "Expansion",
        "Layer up for autumn — 1",
    )
    assert shells["creative_id"] == "394909817263"
    counts = {
        (r["ad_id"], r["action_type"], r["attribution_window"]): (r["count"], r["campaign_id"])
        for r in actions.to_pylist()
    }
    assert counts[("687195905987", "lead", "default")] == (3.0, "626736533507")
    assert counts[("687195905986", "purchase", "default")] == (5.0, "626736533506")
    assert actions.num_rows == 9  # as many as with complete lists
    assert unresolved == {"campaign": ["626736533507"], "ad_group": ["2680060704746"]}


async def test_a_report_row_of_an_ad_no_list_returns_keeps_its_numbers():
    report = fixture("pinterest", "report_file.json")
    report["687195900000"] = [  # deleted: in the report, in no list
        {"DATE": "2026-05-02", "CAMPAIGN_ID": "626736533506", "IMPRESSION_1": 700}
    ]
    async with connector(Replay(routes({DOWNLOAD: [report]}))) as c:
        table = await c.fetch("ad_performance", ACCOUNT, *OLD)
        unresolved = c.unresolved_in(ACCOUNT).as_dict()
    rows = {(r["ad_id"], r["date"].day): r for r in table.to_pylist()}
    assert len(rows) == 4 and sum(table.column("spend_micros").to_pylist()) == 113_900_000
    gone = rows["687195900000", 2]
    assert (gone["impressions"], gone["creative_id"]) == (700, None)
    assert tuple(gone[n] for n in LABELS) == (
        "626736533506",
        "Shopping — Outdoor looks",
        "unknown",
        "Unknown ad group",
        "687195900000",
    )
    assert unresolved == {"ad_group": ["unknown"], "ad": ["687195900000"]}
