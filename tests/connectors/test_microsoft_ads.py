"""The Microsoft Advertising connector against hand-written responses in the API's real shapes.

Report jobs (submit, poll, download of a ZIP with a CSV preamble and footer), Customer and
Campaign Management queries, the identity platform's token grant, and REST faults. Microsoft's
reporting and management queries are not paged, and it sends no usage headers, so there is no
paging or slow-down case here.
"""

import asyncio
import hashlib
import io
import json
import re
import zipfile
from datetime import date

import httpx
import pytest

from generator.connectors import RetryPolicy, get_connector
from generator.connectors.microsoft_ads import API_VERSION, SCOPE
from generator.errors import (
    ApiVersionRetired,
    AuthFailed,
    ConnectorError,
    JobFailed,
    JobTimedOut,
    RateLimited,
    ResponseInvalid,
)
from generator.schema import AD_PERFORMANCE

from .conftest import FIXTURES, Replay, fixture

CREDENTIALS = {
    "developer_token": "DEV-t0ken-9988776655",
    "client_id": "3f5e2a10-9c1b-4d7e-8a6f-0b2c4d6e8f10",
    "client_secret": "secret~Q2xpZW50U2VjcmV0",
    "refresh_token": "M.C5-refresh-token-abcdef",
    "customer_id": "251873402",
}
ACCOUNT = "150123456"
SUBMIT = f"/Reporting/{API_VERSION}/GenerateReport/Submit"
POLL = f"/Reporting/{API_VERSION}/GenerateReport/Poll"
ACCOUNT_QUERY = f"/CustomerManagement/{API_VERSION}/Account/Query"
TOKEN = "/common/oauth2/v2.0/token"
ZIP = "/30000000012345678.zip"
BLOB = "bingadsappsstorageprod.blob.core.windows.net"
START, END = date(2026, 10, 1), date(2026, 10, 2)


def load(name: str):
    return fixture("microsoft_ads", name)


def zipped(text: str, name: str = "30000000012345678.csv") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


def report(name: str) -> httpx.Response:
    text = (FIXTURES / "microsoft_ads" / name).read_text(encoding="utf-8")
    return httpx.Response(200, content=zipped(text))


def fault(status: int, name: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=load(name), headers=headers)


def routes(**overrides) -> dict[str, list]:
    base = {
        TOKEN: [load("token.json")],
        ACCOUNT_QUERY: [load("account.json")],
        SUBMIT: [load("submit.json")],
        POLL: [load("poll_pending.json"), load("poll_success.json")],
        ZIP: [report("ad_performance.csv")],
        "/ConversionGoals/QueryByIds": [load("conversion_goals.json")],
    }
    return base | overrides


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def connector(replay: Replay, **options):
    c = get_connector(
        "microsoft_ads",
        CREDENTIALS,
        base_url="https://ads.test",
        transport=replay.transport,
        policy=options.pop("policy", RetryPolicy(base=0.001, cap=0.002)),
        **options,
    )
    c.api._sleep = Sleeps()
    c.poll_delay = 0.0
    return c


def body(request: httpx.Request) -> dict:
    return json.loads(request.content)


async def test_performance_request_shapes_and_normalisation():
    replay = Replay(routes())
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, START, END)
    paths = [r.url.path for r in replay.requests]
    assert paths == [TOKEN, ACCOUNT_QUERY, SUBMIT, POLL, POLL, f"/download-e5/ReportDownloads{ZIP}"]
    form = dict(httpx.QueryParams(replay.requests[0].content.decode()))
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": CREDENTIALS["refresh_token"],
        "client_id": CREDENTIALS["client_id"],
        "client_secret": CREDENTIALS["client_secret"],
        "scope": "https://ads.microsoft.com/msads.manage offline_access",
    }
    for request in replay.requests[1:5]:
        assert request.url.host == "ads.test"
        assert request.headers["authorization"] == "Bearer EwBwA8l6BAAUtestAccessTokenForReplay"
        assert request.headers["developertoken"] == CREDENTIALS["developer_token"]
        assert request.headers["customerid"] == CREDENTIALS["customer_id"]
        assert request.headers["customeraccountid"] == ACCOUNT
    assert body(replay.requests[1]) == {"AccountId": 150123456}
    assert body(replay.requests[2]) == {
        "ReportRequest": {
            "Type": "AdPerformanceReportRequest",
            "ExcludeColumnHeaders": False,
            "ExcludeReportFooter": False,
            "ExcludeReportHeader": False,
            "Format": "Csv",
            "FormatVersion": "2.0",
            "ReportName": "campaign-reporter ad_performance 2026-10-01..2026-10-02",
            "ReturnOnlyCompleteData": False,
            "Aggregation": "Daily",
            "Columns": [
                "TimePeriod",
                "AccountId",
                "CampaignId",
                "AdGroupId",
                "AdId",
                "CurrencyCode",
                "AccountName",
                "CampaignName",
                "AdGroupName",
                "AdTitle",
                "Impressions",
                "Clicks",
                "Spend",
                "ConversionsQualified",
                "Revenue",
            ],
            "Scope": {"AccountIds": [150123456]},
            "Time": {
                "CustomDateRangeStart": {"Day": 1, "Month": 10, "Year": 2026},
                "CustomDateRangeEnd": {"Day": 2, "Month": 10, "Year": 2026},
                "ReportTimeZone": "EasternTimeUSCanada",
            },
        }
    }
    assert body(replay.requests[3]) == {"ReportRequestId": "30000000012345678"}
    download = replay.requests[-1]
    assert download.url.host == BLOB and "sig=" in str(download.url)
    assert not {"authorization", "developertoken", "customerid", "customeraccountid"} & set(
        download.headers
    )

    first, sparse, big = table.to_pylist()
    assert first["date"] == date(2026, 10, 1)
    assert (first["spend_micros"], first["value_micros"], first["conversions"]) == (
        52_730_000,
        412_300_000,
        3.5,
    )
    assert (first["impressions"], first["clicks"]) == (1520, 87)
    assert first["currency"] == "USD" and first["account_timezone"] == "America/New_York"
    assert first["account_name"] == "Contoso <b>Search</b>"
    assert first["ad_name"] == "Waterproof jackets"
    assert first["creative_id"] == first["ad_id"] == "80000000101"
    assert (first["platform"], first["source"], first["api_version"]) == (
        "microsoft_ads",
        "microsoft_ads",
        API_VERSION,
    )
    assert (sparse["conversions"], sparse["value_micros"], sparse["ad_name"]) == (0.0, 0, None)
    assert big["spend_micros"] == 1_000_050_000
    assert c.pending == {ACCOUNT: {}}


async def test_unnamed_campaigns_and_ad_groups_keep_their_numbers_under_their_ids():
    # a deleted campaign's rows come back with empty CampaignName and AdGroupName cells
    replay = Replay(routes(**{ZIP: [report("ad_performance_unnamed.csv")]}))
    async with connector(replay) as c:
        table = await c.fetch("ad_performance", ACCOUNT, START, END)
        unresolved = c.unresolved_in(ACCOUNT).as_dict()
    rows = {(r["ad_id"], r["date"].day): r for r in table.to_pylist()}
    numbers = {k: (r["impressions"], r["clicks"], r["spend_micros"]) for k, r in rows.items()}
    assert numbers == {
        ("80000000101", 1): (1520, 87, 52_730_000),
        ("80000000909", 1): (640, 21, 17_400_000),
        ("80000000909", 2): (12, 0, 300_000),
    }
    gone = rows[("80000000909", 1)]
    assert (gone["conversions"], gone["value_micros"]) == (2.0, 96_500_000)
    for day in (1, 2):
        row = rows[("80000000909", day)]
        assert (row["campaign_id"], row["campaign_name"]) == ("411000009", "411000009")
        assert (row["ad_group_id"], row["ad_group_name"]) == ("1230000099", "1230000099")
        assert row["ad_name"] == "Old jackets"
    kept = rows[("80000000101", 1)]
    assert (kept["campaign_name"], kept["ad_group_name"]) == ("Search — Brand", "Core")
    assert unresolved == {"campaign": ["411000009"], "ad_group": ["1230000099"]}


async def test_actions_are_typed_by_goal_category_in_the_default_window():
    replay = Replay(routes(**{ZIP: [report("goals.csv")]}))
    async with connector(replay) as c:
        table = await c.fetch_actions(ACCOUNT, START, END)
        await c.fetch_actions(ACCOUNT, START, END)  # goals and account are read once
    rows = {r["action_type"]: r for r in table.to_pylist()}
    assert set(rows) == {"purchase", "add_to_cart", "other"}
    assert (rows["purchase"]["count"], rows["purchase"]["value_micros"]) == (3.5, 412_300_000)
    assert (rows["add_to_cart"]["count"], rows["add_to_cart"]["value_micros"]) == (12.0, 0)
    assert rows["other"]["ad_id"] == "80000000201"
    assert {r["attribution_window"] for r in rows.values()} == {"default"}
    goals = replay.to("/ConversionGoals/QueryByIds")
    assert len(goals) == 1 and len(replay.to(ACCOUNT_QUERY)) == 1
    assert body(goals[0])["ReturnAdditionalFields"] == "GoalCategory"
    assert "Event" in body(goals[0])["ConversionGoalTypes"]
    assert goals[0].url.path == f"/CampaignManagement/{API_VERSION}/ConversionGoals/QueryByIds"
    columns = body(replay.to(SUBMIT)[0])["ReportRequest"]["Columns"]
    assert {"Goal", "AllConversionsQualified", "AllRevenue"} <= set(columns)
    assert "Impressions" not in columns


def by_parent(key: str, answers: dict[int, str]):
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=load(answers[body(request)[key]]))

    return answer


async def test_creatives_walk_campaigns_ad_groups_and_ads():
    replay = Replay(
        {
            TOKEN: [load("token.json")],
            "/Campaigns/QueryByAccountId": [load("campaigns.json")],
            "/AdGroups/QueryByCampaignId": [
                by_parent(
                    "CampaignId",
                    {411000001: "ad_groups_search.json", 411000002: "ad_groups_shopping.json"},
                )
            ],
            "/Ads/QueryByAdGroupId": [
                by_parent(
                    "AdGroupId", {1230000011: "ads_search.json", 1230000021: "ads_shopping.json"}
                )
            ],
        }
    )
    async with connector(replay) as c:
        rows = {r["creative_id"]: r for r in (await c.fetch_creatives(ACCOUNT)).to_pylist()}
    search, expanded, product = rows["80000000101"], rows["80000000102"], rows["80000000201"]
    assert search["headline"] == "Waterproof jackets | Free <b>returns</b>"
    assert search["body"] == "Seam-sealed shells. Ships in 24h <script>alert(1)</script>"
    assert search["landing_url"] == "https://contoso.example/jackets?src=bing"
    assert search["format"] == "text" and search["asset_url"] is None
    assert search["ad_id"] == "80000000101" and search["account_id"] == ACCOUNT
    assert product["format"] == "product" and product["body"] == "Free shipping over $50"
    assert product["landing_url"] is None and product["headline"] is None
    assert len(search["version"]) == 16 and search["version"] != product["version"]
    # Domain overrides the final URL's; a space in a path shows as "_"
    assert search["display_url"] == "contoso.example/jackets"
    assert expanded["display_url"] == "contoso.example/rain_jackets/Sale"
    assert (expanded["format"], expanded["headline"]) == ("text", "Rain jackets")
    assert product["display_url"] is None
    campaigns = body(replay.to("/Campaigns/QueryByAccountId")[0])
    assert campaigns == {"AccountId": 150123456, "CampaignType": campaigns["CampaignType"]}
    assert {"Search", "Shopping"} <= set(campaigns["CampaignType"].split(","))
    ads = replay.to("/Ads/QueryByAdGroupId")
    assert len(ads) == 2 and all("ResponsiveSearch" in body(r)["AdTypes"] for r in ads)
    assert all(r.headers["customeraccountid"] == ACCOUNT for r in replay.requests[1:])


async def creatives_of(edit) -> list[dict]:
    """The creatives of one ad group's recorded ads after ``edit(ads)`` changed them."""
    ads = load("ads_search.json")
    edit(ads["Ads"])
    campaigns = load("campaigns.json")
    campaigns["Campaigns"] = campaigns["Campaigns"][:1]
    replay = Replay(
        {
            TOKEN: [load("token.json")],
            "/Campaigns/QueryByAccountId": [campaigns],
            "/AdGroups/QueryByCampaignId": [load("ad_groups_search.json")],
            "/Ads/QueryByAdGroupId": [ads],
        }
    )
    async with connector(replay) as c:
        return sorted((await c.fetch_creatives(ACCOUNT)).to_pylist(), key=lambda r: r["ad_id"])


def _headline(ads):
    ads[0]["Headlines"][0]["Asset"]["Text"] = "Down parkas"


def _offer(ads):
    ads[0]["Descriptions"][1]["Asset"]["Text"] = "Ships in 24h — now 25% off"


def _paths(ads):
    ads[0] |= {"Path1": "parkas", "Path2": "sale"}


def _no_domain(ads):
    ads[0]["Domain"] = None


@pytest.mark.parametrize(
    ("edit", "changed", "shown"),
    [
        (lambda ads: None, False, "contoso.example/jackets"),
        (_headline, True, "contoso.example/jackets"),
        (_offer, True, "contoso.example/jackets"),
        (_paths, False, "contoso.example/parkas/sale"),  # not part of the version
        (_no_domain, False, "contoso.example/jackets"),  # the final URL's domain shows
    ],
)
async def test_new_copy_makes_a_new_version_and_nothing_else_does(edit, changed, shown):
    before, other_before = await creatives_of(lambda ads: None)
    after, other_after = await creatives_of(edit)
    assert (after["version"] != before["version"]) == changed
    assert other_after["version"] == other_before["version"]
    assert after["display_url"] == shown


async def test_versions_stored_before_display_urls_keep_their_keys():
    search, _ = await creatives_of(lambda ads: None)
    content = "\x1f".join(
        [
            "ResponsiveSearch",
            "Waterproof jackets | Free <b>returns</b>",
            "Seam-sealed shells. Ships in 24h <script>alert(1)</script>",
            "https://contoso.example/jackets?src=bing",
            "text",
        ]
    )
    assert search["version"] == hashlib.sha256(content.encode()).hexdigest()[:16]


async def test_one_connector_sends_each_account_its_own_customer_account_header():
    def account(request: httpx.Request) -> httpx.Response:
        answer = load("account.json")
        answer["Account"]["Id"] = body(request)["AccountId"]
        return httpx.Response(200, json=answer)

    replay = Replay({TOKEN: [load("token.json")], ACCOUNT_QUERY: [account]})
    async with connector(replay) as c:
        infos = await asyncio.gather(*(c.account_info(a) for a in ("111", "222", "333")))
    assert [i.account_id for i in infos] == ["111", "222", "333"]
    for request in replay.to(ACCOUNT_QUERY):
        assert request.headers["customeraccountid"] == str(body(request)["AccountId"])


async def test_an_expired_token_is_refreshed_and_the_rotated_refresh_token_handed_on():
    issued = iter(["access-one-1234567", "access-two-7654321"])

    def grant(request: httpx.Request) -> httpx.Response:
        answer = load("token.json") | {"access_token": next(issued)}
        return httpx.Response(200, json=answer)

    rotations: list[str] = []
    expired_then_fine = [fault(401, "token_expired.json"), load("account.json")]
    replay = Replay(routes(**{TOKEN: [grant], ACCOUNT_QUERY: expired_then_fine}))
    async with connector(replay, on_rotate=rotations.append) as c:
        info = await c.account_info(ACCOUNT)
    assert info.timezone == "America/New_York"
    first, second = replay.to(ACCOUNT_QUERY)
    assert first.headers["authorization"] == "Bearer access-one-1234567"
    assert second.headers["authorization"] == "Bearer access-two-7654321"
    assert rotations == ["M.C535_BAY.-CRotatedRefreshTokenForReplay"]
    refreshes = replay.to(TOKEN)
    assert "M.C535_BAY" in dict(httpx.QueryParams(refreshes[1].content.decode()))["refresh_token"]


async def test_a_rejected_refresh_token_is_an_auth_failure():
    denied = {"error": "invalid_grant", "error_description": "AADSTS70000: grant is expired"}
    replay = Replay(routes(**{TOKEN: [httpx.Response(400, json=denied)]}))
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="AADSTS70000"):
            await c.account_info(ACCOUNT)


async def test_the_job_is_polled_until_it_succeeds():
    polls = [load("poll_pending.json")] * 3 + [load("poll_success.json")]
    replay = Replay(routes(**{POLL: polls}))
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, START, END)
    assert table.num_rows == 3 and len(replay.to(POLL)) == 4 and len(replay.to(SUBMIT)) == 1


async def test_a_failed_job_raises_and_is_not_kept_pending():
    replay = Replay(routes(**{POLL: [load("poll_error.json")]}))
    async with connector(replay) as c:
        with pytest.raises(JobFailed, match="Status Error"):
            await c.fetch_performance(ACCOUNT, START, END)
    assert c.pending == {ACCOUNT: {}}


async def test_a_job_running_past_the_deadline_is_resumed_not_resubmitted():
    replay = Replay(routes(**{POLL: [load("poll_pending.json"), load("poll_success.json")]}))
    async with connector(replay) as c:
        c.job_timeout = 0.0
        with pytest.raises(JobTimedOut):
            await c.fetch_performance(ACCOUNT, START, END)
        assert c.pending == {ACCOUNT: {"ad_performance:2026-10-01:2026-10-02": "30000000012345678"}}
        c.job_timeout = 60.0
        table = await c.fetch_performance(ACCOUNT, START, END)
    assert table.num_rows == 3 and len(replay.to(SUBMIT)) == 1
    assert c.pending == {ACCOUNT: {}}


async def test_a_resumed_job_the_platform_forgot_is_submitted_again():
    unknown = {
        "TrackingId": "x",
        "Type": "ApiFaultDetail",
        "BatchErrors": [],
        "OperationErrors": [{"Code": 2100, "ErrorCode": "InvalidReportId", "Message": "gone"}],
    }

    def poll(request: httpx.Request) -> httpx.Response:
        if body(request)["ReportRequestId"] == "forgotten-job":
            return httpx.Response(400, json=unknown)
        return httpx.Response(200, json=load("poll_success.json"))

    replay = Replay(routes(**{POLL: [poll]}))
    async with connector(replay) as c:
        c.pending[ACCOUNT] = {"ad_performance:2026-10-01:2026-10-02": "forgotten-job"}
        table = await c.fetch_performance(ACCOUNT, START, END)
    assert table.num_rows == 3 and len(replay.to(SUBMIT)) == 1


async def test_success_without_a_download_url_is_an_empty_report():
    replay = Replay(routes(**{POLL: [load("poll_success_empty.json")]}))
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, START, END)
    assert table.num_rows == 0 and table.schema == AD_PERFORMANCE
    assert not replay.to(ZIP)


@pytest.mark.parametrize(
    ("limited", "wait"),
    [
        (fault(429, "call_rate_exceeded.json", **{"Retry-After": "2"}), 2.0),
        (fault(429, "call_rate_exceeded.json"), 60.0),
        (fault(400, "call_rate_exceeded.json"), 60.0),  # the code alone says it
        (httpx.Response(429), 60.0),
    ],
    ids=["hinted", "documented-minute", "body-coded", "bare-429"],
)
async def test_call_rate_limits_wait_and_retry(limited, wait):
    replay = Replay(routes(**{SUBMIT: [limited, load("submit.json")]}))
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, START, END)
        assert c.api._sleep == [wait] and c.api.stats.rate_limited == 1
    assert table.num_rows == 3


async def test_rate_limits_that_never_lift_end_in_rate_limited():
    replay = Replay(routes(**{SUBMIT: [fault(429, "call_rate_exceeded.json")]}))
    policy = RetryPolicy(base=0.001, cap=0.002, rate_limit_wait=100)
    async with connector(replay, policy=policy) as c:
        with pytest.raises(RateLimited, match="CallRateExceeded") as raised:
            await c.fetch_performance(ACCOUNT, START, END)
    assert raised.value.retry_after == 60.0


async def test_a_retired_version_names_the_constant_to_bump():
    replay = Replay(routes(**{ACCOUNT_QUERY: [fault(400, "version_retired.json")]}))
    async with connector(replay) as c:
        with pytest.raises(ApiVersionRetired) as raised:
            await c.account_info(ACCOUNT)
    message = str(raised.value)
    assert "bump API_VERSION in generator/connectors/microsoft_ads.py" in message
    assert "ApiVersionNoLongerSupported" in message


async def test_rejected_credentials_fail_with_advice_but_without_secrets():
    replay = Replay(routes(**{ACCOUNT_QUERY: [fault(401, "invalid_credentials.json")]}))
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="InvalidCredentials") as raised:
            await c.account_info(ACCOUNT)
    message = str(raised.value)
    assert "developer_token" in message and "customer_id" in message
    assert not any(secret in message for secret in CREDENTIALS.values() if len(secret) > 9)


@pytest.mark.parametrize(
    "transient",
    [
        fault(500, "internal_error.json"),
        fault(400, "internal_error.json"),  # code 0 is transient whatever the status
        httpx.Response(503, text="Service Unavailable"),
    ],
    ids=["internal-error", "code-0", "bare-503"],
)
async def test_transient_failures_are_retried(transient):
    replay = Replay(routes(**{POLL: [transient, load("poll_success.json")]}))
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, START, END)
        assert c.api.stats.retries == 1
    assert table.num_rows == 3


async def test_other_client_errors_fail_with_the_platform_message():
    replay = Replay(routes(**{SUBMIT: [fault(400, "null_request.json")]}))
    async with connector(replay) as c:
        with pytest.raises(ConnectorError, match="NullRequest") as raised:
            await c.fetch_performance(ACCOUNT, START, END)
    assert type(raised.value) is ConnectorError and "HTTP 400" in str(raised.value)


@pytest.mark.parametrize(
    ("answer", "quoted"),
    [(httpx.Response(404, text="Not Found"), "Not Found"), (httpx.Response(400, json=[1]), "[1]")],
)
async def test_a_client_error_without_a_fault_quotes_the_body(answer, quoted):
    replay = Replay(routes(**{SUBMIT: [answer]}))
    async with connector(replay) as c:
        with pytest.raises(ConnectorError, match=rf"HTTP \d+: {re.escape(quoted)}"):
            await c.fetch_performance(ACCOUNT, START, END)


async def test_cut_downloads_and_bodies_are_fetched_again():
    whole = report("ad_performance.csv")
    cut = httpx.Response(200, content=whole.content[: len(whole.content) // 2])
    poll = load("poll_success.json")
    half, listed = httpx.Response(200, text=json.dumps(poll)[:30]), httpx.Response(200, json=[])
    replay = Replay(routes(**{ZIP: [cut, whole], POLL: [half, listed, poll]}))
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, START, END)
        assert c.api.stats.retries == 3
    assert table.num_rows == 3 and len(replay.to(ZIP)) == 2


async def test_a_report_without_column_header_is_invalid_after_retries():
    garbled = httpx.Response(200, content=zipped('"Report Name: x"\r\n"Rows: 0"\r\n'))
    replay = Replay(routes(**{ZIP: [garbled]}))
    policy = RetryPolicy(attempts=1, base=0.001, cap=0.002)
    async with connector(replay, policy=policy) as c:
        with pytest.raises(ResponseInvalid, match="unreadable body"):
            await c.fetch_performance(ACCOUNT, START, END)


async def test_a_missing_required_column_names_platform_version_and_field():
    text = (FIXTURES / "microsoft_ads" / "ad_performance.csv").read_text(encoding="utf-8")
    without_ad = text.replace('"AdId",', '"AdIdentifier",')
    replay = Replay(routes(**{ZIP: [httpx.Response(200, content=zipped(without_ad))]}))
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid) as raised:
            await c.fetch_performance(ACCOUNT, START, END)
    message = str(raised.value)
    assert message.startswith("microsoft_ads") and "'AdId'" in message and API_VERSION in message


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        ("account_unmapped_zone.json", ConnectorError, "TIME_ZONES"),
        ("account_without_zone.json", ResponseInvalid, "without TimeZone"),
    ],
)
async def test_account_time_zones_must_be_known(answer, error, words):
    replay = Replay(routes(**{ACCOUNT_QUERY: [load(answer)]}))
    async with connector(replay) as c:
        with pytest.raises(error, match=words):
            await c.fetch_performance(ACCOUNT, START, END)


async def test_account_info_and_refusals_before_any_call():
    replay = Replay(routes())
    async with connector(replay) as c:
        info = await c.account_info(ACCOUNT)
        assert (info.name, info.currency, info.timezone) == (
            "Contoso <b>Search</b>",
            "USD",
            "America/New_York",
        )
        with pytest.raises(ConnectorError, match="numeric AccountId"):
            await c.account_info("F150A2B3")
    with pytest.raises(AuthFailed, match="customer_id"):
        get_connector("microsoft_ads", {k: v for k, v in CREDENTIALS.items() if k != "customer_id"})
    assert SCOPE.endswith("offline_access")


@pytest.mark.parametrize(
    ("submit", "poll", "words"),
    [
        ({"ReportRequestId": None}, "poll_success.json", "no ReportRequestId"),
        (None, "poll_unknown_status.json", "'Queued'"),
    ],
)
async def test_answers_missing_their_fields_are_invalid(submit, poll, words):
    replay = Replay(routes(**{SUBMIT: [submit or load("submit.json")], POLL: [load(poll)]}))
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match=words):
            await c.fetch_performance(ACCOUNT, START, END)
