import gzip
import json
from datetime import date

import httpx
import pytest
from aiolimiter import AsyncLimiter

from generator.connectors import get_connector
from generator.connectors.amazon_ads import API_VERSION, AmazonAds
from generator.errors import (
    ApiVersionRetired,
    AuthFailed,
    ConnectorError,
    JobFailed,
    JobTimedOut,
    PlatformUnavailable,
    ResponseInvalid,
)

from .conftest import FIXTURES, Replay, fixture

CREDENTIALS = {
    "client_id": "amzn1.application-oa2-client.fixture0123",
    "client_secret": "amzn1.oa2-cs.v1.fixture-secret-0123456789",
    "refresh_token": "Atzr|IwEBIFixtureRefreshToken0123456789",
}
PROFILE, VENDOR = "3456789012345678", "1234567890123456"
REPORT = "a15115d8-3da4-49a4-95d5-cc0a3af5f85d"
DUPLICATE = "9553f2aa-0c4d-4b8e-9f0e-3d2a6c1b7e55"
BASE = "https://amazon.test"
OCT1, OCT2 = date(2026, 10, 1), date(2026, 10, 2)


def connector(replay: Replay, **credentials) -> AmazonAds:
    c = get_connector(
        "amazon_ads",
        {**CREDENTIALS, **credentials},
        base_url=BASE if "region" not in credentials else None,
        transport=replay.transport,
    )
    c.api._sleep = _sleep
    c.api.limiter = AsyncLimiter(1000, 1)  # replayed answers need no burst cap
    c.poll_delay = 0.0
    return c


async def _sleep(seconds):
    _sleep.calls.append(seconds)


_sleep.calls = []


def amazon(name: str, status: int, **headers) -> httpx.Response:
    return httpx.Response(status, json=fixture("amazon_ads", name), headers=headers)


def s3(name: str, status: int) -> httpx.Response:
    body = (FIXTURES / "amazon_ads" / name).read_bytes()
    return httpx.Response(status, content=body, headers={"content-type": "application/xml"})


def rows_file(rows=None) -> httpx.Response:
    body = json.dumps(rows if rows is not None else fixture("amazon_ads", "report_rows.json"))
    return httpx.Response(200, content=gzip.compress(body.encode()))


def report(**overrides) -> Replay:
    """A whole report: token, profiles, created, polled three times, downloaded."""
    routes = {
        "/auth/o2/token": [fixture("amazon_ads", "token.json")],
        "/v2/profiles": [fixture("amazon_ads", "profiles.json")],
        "/reporting/reports": [fixture("amazon_ads", "report_created.json")],
        f"/reporting/reports/{REPORT}": [
            fixture("amazon_ads", "report_created.json"),
            fixture("amazon_ads", "report_processing.json"),
            fixture("amazon_ads", "report_completed.json"),
        ],
        ".json.gz": [rows_file()],
    }
    return Replay({**routes, **overrides})


async def test_report_request_shape_and_normalisation():
    replay = report()
    async with connector(replay) as c:
        table = await c.fetch_performance(PROFILE, OCT1, OCT2)
    (token,) = replay.to("/auth/o2/token")
    form = dict(httpx.QueryParams(token.content.decode()))
    assert token.url == f"{BASE}/auth/o2/token"
    assert form == {"grant_type": "refresh_token", **CREDENTIALS}
    profiles, create = replay.to("/v2/profiles")[0], replay.to("/reporting/reports")[0]
    assert profiles.headers["amazon-advertising-api-clientid"] == CREDENTIALS["client_id"]
    assert "amazon-advertising-api-scope" not in profiles.headers
    assert create.method == "POST" and create.url == f"{BASE}/reporting/reports"
    assert create.headers["amazon-advertising-api-scope"] == PROFILE
    assert create.headers["content-type"] == "application/vnd.createasyncreportrequest.v3+json"
    assert create.headers["accept"] == "application/vnd.createasyncreportresponse.v3+json"
    assert create.headers["authorization"] == "Bearer Atza|IwEBIFixtureAccessTokenOne0123456789"
    body = json.loads(create.content)
    assert (body["startDate"], body["endDate"]) == ("2026-10-01", "2026-10-02")
    config = body["configuration"]
    assert config["reportTypeId"] == "spAdvertisedProduct" and config["groupBy"] == ["advertiser"]
    assert (config["timeUnit"], config["format"]) == ("DAILY", "GZIP_JSON")
    assert {"date", "adId", "cost", "purchases7d", "sales30d"} <= set(config["columns"])
    polls = replay.to(f"/reporting/reports/{REPORT}")
    assert len(polls) == 3 and polls[0].headers["amazon-advertising-api-scope"] == PROFILE
    (download,) = replay.to(".json.gz")
    assert str(download.url).startswith(f"{BASE}/s3/a15115d8-")
    assert download.url.params["X-Amz-Signature"].startswith("0f3c2a9d")
    assert not any(h.startswith("amazon-") or h == "authorization" for h in download.headers)

    rows = {(r["date"].day, r["ad_id"][-3:]): r for r in table.to_pylist()}
    first, empty, big = rows[(1, "123")], rows[(1, "456")], rows[(2, "123")]
    assert (first["campaign_id"], first["ad_group_id"]) == ("158410630682987", "72320882861500")
    assert first["campaign_name"] == "SP — Jackets <b>exact</b>"
    assert (first["ad_name"], first["creative_id"]) == ("NW-SHELL-3L", "B0CJ7Q2XYZ")
    assert (first["impressions"], first["clicks"], first["spend_micros"]) == (2216, 13, 14_500_000)
    assert (first["conversions"], first["value_micros"]) == (2.0, 119_980_000)  # 7 days: seller
    assert (empty["ad_name"], empty["spend_micros"], empty["conversions"]) == (
        "B0CJ7Q2ABC",
        70_000,
        0,
    )
    assert (big["spend_micros"], big["value_micros"]) == (1_234_560_000, 719_880_000)
    assert {(r["currency"], r["account_timezone"]) for r in rows.values()} == {
        ("USD", "America/Los_Angeles")
    }
    assert {r["account_name"] for r in rows.values()} == {"Acme Outdoor <b>US</b>"}
    assert {(r["platform"], r["source"], r["api_version"]) for r in rows.values()} == {
        ("amazon_ads", "amazon_ads", API_VERSION)
    }


async def test_unnamed_campaigns_and_ad_groups_keep_their_numbers_under_their_ids():
    # an archived campaign's rows: campaignName null, adGroupName empty
    archived = {
        "date": "2026-10-01",
        "campaignId": 158410630699999,
        "campaignName": None,
        "adGroupId": 72320882869999,
        "adGroupName": "",
        "adId": 301234567890999,
        "advertisedAsin": "B0CJ7Q2OLD",
        "campaignBudgetCurrencyCode": "USD",
        "impressions": 420,
        "clicks": 6,
        "cost": 3.21,
        "purchases7d": 1,
        "sales7d": 49.5,
    }
    replay = report(
        **{".json.gz": [rows_file([*fixture("amazon_ads", "report_rows.json"), archived])]}
    )
    async with connector(replay) as c:
        table = await c.fetch("ad_performance", PROFILE, OCT1, OCT2)
        unresolved = c.unresolved_in(PROFILE).as_dict()
    rows = {(r["date"].day, r["ad_id"][-3:]): r for r in table.to_pylist()}
    assert len(rows) == 4
    gone = rows[(1, "999")]
    assert (gone["impressions"], gone["clicks"], gone["spend_micros"]) == (420, 6, 3_210_000)
    assert (gone["conversions"], gone["value_micros"]) == (1.0, 49_500_000)
    assert (gone["campaign_id"], gone["campaign_name"]) == ("158410630699999",) * 2
    assert (gone["ad_group_id"], gone["ad_group_name"]) == ("72320882869999",) * 2
    assert (gone["ad_name"], gone["creative_id"]) == ("B0CJ7Q2OLD", "B0CJ7Q2OLD")
    assert rows[(2, "123")]["campaign_name"] == "SP — Jackets <b>exact</b>"
    assert rows[(2, "123")]["spend_micros"] == 1_234_560_000
    assert unresolved == {"campaign": ["158410630699999"], "ad_group": ["72320882869999"]}


async def test_actions_keep_every_window_and_one_report_feeds_both_tables():
    replay = report()
    async with connector(replay) as c:
        await c.fetch_performance(PROFILE, OCT1, OCT2)
        table = await c.fetch_actions(PROFILE, OCT1, OCT2)
        assert len(replay.to("/reporting/reports")) == 1
        await c.fetch_actions(PROFILE, OCT1, OCT2)
    assert len(replay.to("/reporting/reports")) == 2  # read once already: a new report
    rows = {(r["date"].day, r["attribution_window"]): r for r in table.to_pylist()}
    assert {r["action_type"] for r in table.to_pylist()} == {"purchase"}
    assert {k[1] for k in rows} == {"default", "1d", "7d", "14d", "30d"}
    assert len(rows) == table.num_rows == 10  # the row without any purchase is left out
    assert rows[(1, "default")]["count"] == rows[(1, "7d")]["count"] == 2.0
    assert rows[(1, "default")]["value_micros"] == 119_980_000
    assert [rows[(1, w)]["count"] for w in ("1d", "7d", "14d", "30d")] == [1.0, 2.0, 3.0, 3.0]
    assert rows[(2, "30d")]["count"] == 15.0 and rows[(2, "30d")]["value_micros"] == 0  # missing


async def test_a_vendor_profile_counts_fourteen_days_by_default():
    replay = report()
    async with connector(replay) as c:
        info = await c.account_info(VENDOR)
        table = await c.fetch_performance(VENDOR, OCT1, OCT2)
    assert (info.name, info.currency, info.timezone) == ("Acme Outdoor DE", "EUR", "Europe/Berlin")
    first = next(r for r in table.to_pylist() if r["date"].day == 1 and r["ad_id"].endswith("123"))
    assert (first["conversions"], first["value_micros"]) == (3.0, 171_470_000)
    assert first["currency"] == "USD"  # the row's own currency code wins over the profile's


def chunked(failing: str = "") -> tuple[Replay, list]:
    """A replay numbering each created report (r1, r2, ...); ``failing`` ends FAILED."""
    created = []

    def create(request):
        body = json.loads(request.content)
        created.append((body["startDate"], body["endDate"]))
        answer = {**fixture("amazon_ads", "report_created.json"), "reportId": f"r{len(created)}"}
        return httpx.Response(200, json=answer)

    def poll(request):
        report_id = request.url.path.rsplit("/", 1)[1]
        name = "report_failed.json" if report_id == failing else "report_completed.json"
        return httpx.Response(200, json={**fixture("amazon_ads", name), "reportId": report_id})

    routes = {"/reporting/reports": [create], **{f"/r{n}": [poll] for n in (1, 2, 3)}}
    return report(**routes), created


async def test_a_long_range_is_split_into_reports_of_31_days():
    replay, created = chunked()
    async with connector(replay) as c:
        table = await c.fetch_performance(PROFILE, date(2026, 9, 22), date(2026, 11, 23))
    assert sorted(created) == [
        ("2026-09-22", "2026-10-22"),
        ("2026-10-23", "2026-11-22"),
        ("2026-11-23", "2026-11-23"),
    ]
    assert table.num_rows == 9  # the replayed file, once per report


async def test_one_failed_piece_fails_the_range_after_the_others_finish():
    replay, created = chunked(failing="r2")
    async with connector(replay) as c:
        with pytest.raises(JobFailed, match="report job r2 failed"):
            await c.fetch_actions(PROFILE, date(2026, 9, 22), date(2026, 11, 23))
        assert c.pending == {PROFILE: {}}  # the others were read, the failed one dropped
    assert len(created) == 3 and len(replay.to(".json.gz")) == 2


async def test_a_duplicate_request_resumes_the_report_amazon_already_has():
    duplicate_poll = {**fixture("amazon_ads", "report_completed.json"), "reportId": DUPLICATE}
    replay = report(
        **{
            "/reporting/reports": [amazon("duplicate.json", 425)],
            f"/reporting/reports/{DUPLICATE}": [duplicate_poll],
        }
    )
    async with connector(replay) as c:
        table = await c.fetch_performance(PROFILE, OCT1, OCT2)
    assert table.num_rows == 3 and len(replay.to("/reporting/reports")) == 1
    assert len(replay.to(f"/reporting/reports/{DUPLICATE}")) == 1
    assert not replay.to(f"/reporting/reports/{REPORT}")


async def test_a_cut_creation_answer_is_resent_and_the_duplicate_resumed():
    cut = httpx.Response(200, content=b'{"configuration": {"adProduct": "SPON')
    nameless = httpx.Response(200, json={"status": "PENDING"})
    duplicate_poll = {**fixture("amazon_ads", "report_completed.json"), "reportId": DUPLICATE}
    replay = report(
        **{
            "/reporting/reports": [cut, nameless, amazon("duplicate.json", 425)],
            f"/reporting/reports/{DUPLICATE}": [duplicate_poll],
        }
    )
    async with connector(replay) as c:
        await c.fetch_performance(PROFILE, OCT1, OCT2)
        assert c.api.stats.retries == 2
    assert len(replay.to("/reporting/reports")) == 3


async def test_an_expired_token_is_refreshed_once_and_a_dead_refresh_token_fails():
    replay = report(
        **{
            "/auth/o2/token": [
                fixture("amazon_ads", "token.json"),
                fixture("amazon_ads", "token_2.json"),
            ],
            "/v2/profiles": [
                amazon("unauthorized.json", 401),
                fixture("amazon_ads", "profiles.json"),
            ],
        }
    )
    async with connector(replay) as c:
        await c.account_info(PROFILE)
    first, second = replay.to("/v2/profiles")
    assert first.headers["authorization"].endswith("One0123456789")
    assert second.headers["authorization"].endswith("Two9876543210")
    replay = report(**{"/auth/o2/token": [amazon("invalid_grant.json", 400)]})
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="invalid grant parameter") as err:
            await c.account_info(PROFILE)
    assert CREDENTIALS["refresh_token"] not in str(err.value)
    assert CREDENTIALS["client_secret"] not in str(err.value)


@pytest.mark.parametrize("status", [401, 403])
async def test_a_profile_the_login_cannot_use_fails_without_refreshing(status):
    replay = report(**{"/reporting/reports": [amazon("scope_denied.json", status)]})
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="cannot access this profile") as err:
            await c.fetch_performance(PROFILE, OCT1, OCT2)
    assert "Not authorized to access scope" in str(err.value)
    assert len(replay.to("/auth/o2/token")) == 1 and len(replay.to("/reporting/reports")) == 1


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "Thu, 01 Jan 1970 00:00:00 GMT"}, 0.0),  # a date already passed
        ({}, None),  # report creation gives no Retry-After (ads-advanced-tools-docs#344)
    ],
)
async def test_rate_limits_wait_as_told_or_back_off(headers, wait):
    _sleep.calls.clear()
    limited = amazon("too_many_requests.json", 429, **headers)
    replay = report(
        **{"/reporting/reports": [limited, fixture("amazon_ads", "report_created.json")]}
    )
    async with connector(replay) as c:
        await c.fetch_performance(PROFILE, OCT1, OCT2)
        assert c.api.stats.rate_limited == 1 and c.api.stats.retries == 0
    if wait is not None:
        assert _sleep.calls == [wait]
    else:
        assert len(_sleep.calls) == 1 and 0.25 <= _sleep.calls[0] <= 0.5


@pytest.mark.parametrize(
    ("name", "status", "error", "needle"),
    [
        ("version_retired.json", 410, ApiVersionRetired, "bump API_VERSION"),
        ("unsupported_media.json", 415, ApiVersionRetired, "generator/connectors/amazon_ads.py"),
        ("invalid_columns.json", 400, ConnectorError, "400: configuration columns includes"),
    ],
)
async def test_fatal_answers_say_what_to_fix(name, status, error, needle):
    replay = report(**{"/reporting/reports": [amazon(name, status)]})
    async with connector(replay) as c:
        with pytest.raises(error, match=needle) as err:
            await c.fetch_performance(PROFILE, OCT1, OCT2)
    assert err.value.platform == "amazon_ads" and err.value.request == "POST /reporting/reports"
    assert len(replay.to("/reporting/reports")) == 1
    assert not c.pending[PROFILE]  # nothing was submitted


async def test_server_errors_are_retried_then_give_up():
    flaky = [amazon("internal_error.json", 500), httpx.Response(502, text="<html>Bad Gateway")]
    replay = report(**{"/v2/profiles": [*flaky, fixture("amazon_ads", "profiles.json")]})
    async with connector(replay) as c:
        await c.account_info(PROFILE)
        assert c.api.stats.retries == 2
    replay = report(**{"/v2/profiles": [httpx.Response(503)]})
    async with connector(replay) as c:
        with pytest.raises(PlatformUnavailable, match="gave up after 7 failures"):
            await c.account_info(PROFILE)


async def test_a_cut_download_is_fetched_again_and_a_garbled_one_reported():
    cut = httpx.Response(200, content=rows_file().content[:40])
    replay = report(**{".json.gz": [cut, rows_file()]})
    async with connector(replay) as c:
        assert (await c.fetch_performance(PROFILE, OCT1, OCT2)).num_rows == 3
    assert len(replay.to(".json.gz")) == 2
    replay = report(**{".json.gz": [rows_file({"rows": []})]})
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match="not a JSON array of rows"):
            await c.fetch_performance(PROFILE, OCT1, OCT2)


@pytest.mark.parametrize(
    ("name", "status", "needle"),
    [
        ("s3_invalid_argument.xml", 400, "InvalidArgument: Only one auth mechanism allowed"),
        ("s3_expired.xml", 403, "AccessDenied: Request has expired"),
    ],
)
async def test_s3_refusals_name_s3s_reason_without_the_token(name, status, needle):
    replay = report(**{".json.gz": [s3(name, status)]})
    async with connector(replay) as c:
        with pytest.raises(ConnectorError, match=needle) as err:
            await c.fetch_performance(PROFILE, OCT1, OCT2)
    assert "Atza|" not in str(err.value)


async def test_a_failed_report_or_one_without_a_url_is_reported():
    replay = report(
        **{f"/reporting/reports/{REPORT}": [fixture("amazon_ads", "report_failed.json")]}
    )
    async with connector(replay) as c:
        with pytest.raises(JobFailed, match="FAILED: Report generation failed"):
            await c.fetch_performance(PROFILE, OCT1, OCT2)
        assert not c.pending[PROFILE]
    done = {**fixture("amazon_ads", "report_completed.json"), "url": None}
    replay = report(**{f"/reporting/reports/{REPORT}": [done]})
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match="COMPLETED without a url"):
            await c.fetch_performance(PROFILE, OCT1, OCT2)


async def test_a_report_still_pending_at_the_deadline_is_resumed_next_time():
    pending = fixture("amazon_ads", "report_created.json")
    replay = report(**{f"/reporting/reports/{REPORT}": [pending]})
    async with connector(replay) as c:
        c.job_timeout, c.poll_delay = 0.0, 0.01
        with pytest.raises(JobTimedOut) as err:
            await c.fetch_performance(PROFILE, OCT1, OCT2)
        assert err.value.job_id == REPORT
        assert c.pending == {PROFILE: {"spAdvertisedProduct:2026-10-01:2026-10-02": REPORT}}
        replay.routes[f"/reporting/reports/{REPORT}"] = [
            fixture("amazon_ads", "report_completed.json")
        ]
        c.job_timeout = 60.0
        assert (await c.fetch_performance(PROFILE, OCT1, OCT2)).num_rows == 3
        assert c.pending == {PROFILE: {}}
    assert len(replay.to("/reporting/reports")) == 1  # resumed, never submitted again


@pytest.mark.parametrize(("drop", "field"), [("adId", "adId"), ("date", "date")])
async def test_a_missing_required_field_names_platform_version_and_field(drop, field):
    rows = fixture("amazon_ads", "report_rows.json")
    del rows[1][drop]
    replay = report(**{".json.gz": [rows_file(rows)]})
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match=f"'{field}' missing .* {API_VERSION}") as err:
            await c.fetch_performance(PROFILE, OCT1, OCT2)
    assert err.value.platform == "amazon_ads"


async def test_a_value_that_is_not_a_number_is_reported():
    rows = fixture("amazon_ads", "report_rows.json")
    rows[0]["cost"] = "14,50"
    replay = report(**{".json.gz": [rows_file(rows)]})
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match="'14,50' that is not a major"):
            await c.fetch_performance(PROFILE, OCT1, OCT2)


async def test_profiles_that_do_not_fit():
    async with connector(report()) as c:
        with pytest.raises(ConnectorError, match="profile 42 is not among this login's"):
            await c.account_info("42")
    profiles = fixture("amazon_ads", "profiles.json")
    del profiles[0]["timezone"]
    async with connector(report(**{"/v2/profiles": [profiles]})) as c:
        with pytest.raises(ResponseInvalid, match="without timezone"):
            await c.account_info(PROFILE)
    async with connector(report(**{"/v2/profiles": [{"profiles": []}, profiles]})) as c:
        await c.account_info(VENDOR)  # an object instead of the list is retried as garbled
        assert c.api.stats.retries == 1


async def test_creatives_are_the_advertised_products():
    replay = report(
        **{
            "/sp/productAds/list": [
                fixture("amazon_ads", "product_ads_page_1.json"),
                fixture("amazon_ads", "product_ads_page_2.json"),
            ],
            "/product/metadata": [fixture("amazon_ads", "product_metadata.json")],
        }
    )
    async with connector(replay) as c:
        table = await c.fetch_creatives(PROFILE)
    first, second = replay.to("/sp/productAds/list")
    assert (
        first.headers["content-type"]
        == first.headers["accept"]
        == "application/vnd.spProductAd.v3+json"
    )
    assert first.headers["amazon-advertising-api-scope"] == PROFILE
    assert json.loads(first.content) == {"maxResults": 5000}
    assert json.loads(second.content) == {"maxResults": 5000, "nextToken": "eyJvZmZzZXQiOjJ9"}
    (metadata,) = replay.to("/product/metadata")
    assert metadata.headers["content-type"] == "application/vnd.productmetadatarequest.v1+json"
    assert json.loads(metadata.content) == {
        "asins": ["B0CJ7Q2XYZ", "B0CJ7Q2ABC"],
        "checkItemDetails": True,
        "pageIndex": 0,
        "pageSize": 2,
    }
    rows = {r["creative_id"]: r for r in table.to_pylist()}
    shell, parka = rows["B0CJ7Q2XYZ"], rows["B0CJ7Q2ABC"]
    assert table.num_rows == 2 and shell["ad_id"] == "301234567890123"  # the first of two ads
    assert shell["headline"] == shell["name"] == "Acme 3-layer rain shell <script>alert(1)</script>"
    assert shell["asset_url"] == "https://m.media-amazon.com/images/I/71abcDEF12L._SL1500_.jpg"
    assert shell["landing_url"] == "https://www.amazon.com/dp/B0CJ7Q2XYZ"
    assert (shell["format"], shell["platform"], shell["account_id"]) == (
        "product",
        "amazon_ads",
        PROFILE,
    )
    assert (parka["headline"], parka["asset_url"]) == (None, None)  # no metadata came back
    assert shell["version"] != parka["version"]


async def test_regions_pick_their_hosts_and_an_unknown_region_is_refused():
    replay = report()
    async with connector(replay, region="eu") as c:
        await c.account_info(PROFILE)
    assert replay.to("/auth/o2/token")[0].url.host == "api.amazon.co.uk"
    assert replay.to("/v2/profiles")[0].url.host == "advertising-api-eu.amazon.com"
    async with connector(report(), region="fe") as c:
        assert (
            c._download_url("https://s3.example/x.json.gz?a=1")
            == "https://s3.example/x.json.gz?a=1"
        )
    with pytest.raises(ConnectorError, match="region 'sa' is not one of na, eu, fe"):
        get_connector("amazon_ads", {**CREDENTIALS, "region": "sa"})


def test_declaration_and_credentials():
    assert (AmazonAds.api_version, AmazonAds.lookback_days, AmazonAds.rate) == ("v3", 30, 8.0)
    assert AmazonAds.sunset and AmazonAds.datasets == ("ad_performance", "actions")
    with pytest.raises(AuthFailed, match="credentials lack client_secret, refresh_token"):
        get_connector("amazon_ads", {"client_id": "x"})
