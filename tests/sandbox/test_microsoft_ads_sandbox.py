"""The Microsoft Advertising emulation answers in the API's shapes, from the world's numbers."""

import asyncio
import csv
import io
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest

from generator.sandbox import DEMO_CREDENTIALS, DEMO_ENVIRONMENT, Faults, create_app
from generator.sandbox.catalog import CLIENTS
from generator.sandbox.microsoft_ads import CUSTOMER_ID, MAX_REPORT_DAYS
from generator.sandbox.world import COPY_PERIOD_DAYS, WORLD_START

CREDENTIALS = DEMO_CREDENTIALS["microsoft_ads"]
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
NORTHWIND, BRIGHTLINE, HARBOR = "180234567", "180345678", "180456789"
TOKEN = "/common/oauth2/v2.0/token"
SUBMIT, POLL = "/Reporting/v13/GenerateReport/Submit", "/Reporting/v13/GenerateReport/Poll"
PERFORMANCE = [
    "TimePeriod",
    "AccountId",
    "AdId",
    "AdTitle",
    "AdType",
    "CurrencyCode",
    "Impressions",
    "Clicks",
    "Spend",
    "Conversions",
    "ConversionsQualified",
    "Revenue",
]
GOALS = ["TimePeriod", "AdId", "Goal", "GoalType", "AllConversionsQualified", "AllRevenue"]
CLIENT_OF = {a.account_id: c for c in CLIENTS for a in c.accounts if a.source == "microsoft_ads"}


@pytest.fixture
def http(world):
    def make(faults=None):
        app = create_app(world, faults, now=NOW)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://sbx/microsoft_ads"
        )

    return make


async def grant(client, **changes) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "client_id": CREDENTIALS["client_id"],
        "client_secret": CREDENTIALS["client_secret"],
        "refresh_token": CREDENTIALS["refresh_token"],
        "scope": "https://ads.microsoft.com/msads.manage offline_access",
    }
    return await client.post(TOKEN, data={**form, **changes})


async def call(client, path, body, account=NORTHWIND, token=None, **headers) -> httpx.Response:
    token = token or (await grant(client)).json()["access_token"]
    sent = {
        "Authorization": f"Bearer {token}",
        "DeveloperToken": CREDENTIALS["developer_token"],
        "CustomerId": CUSTOMER_ID,
        "CustomerAccountId": account,
        **headers,
    }
    return await client.post(path, json=body, headers=sent)


def report_request(columns, since, until, account=NORTHWIND, **changes) -> dict:
    day = lambda d: {"Day": d.day, "Month": d.month, "Year": d.year}  # noqa: E731
    request = {
        "Type": "AdPerformanceReportRequest",
        "Format": "Csv",
        "FormatVersion": "2.0",
        "ReportName": "sandbox test",
        "Aggregation": "Daily",
        "Columns": columns,
        "Scope": {"AccountIds": [int(account)]},
        "Time": {
            "CustomDateRangeStart": day(since),
            "CustomDateRangeEnd": day(until),
            "ReportTimeZone": "EasternTimeUSCanada",
        },
    }
    return {"ReportRequest": request | changes}


async def run(client, columns, since, until, account=NORTHWIND, **changes) -> tuple[dict, str]:
    """Submit, poll to the end; the last status and the job id."""
    token = (await grant(client)).json()["access_token"]
    body = report_request(columns, since, until, account, **changes)
    submitted = await call(client, SUBMIT, body, account, token)
    assert submitted.status_code == 200, submitted.text
    job = submitted.json()["ReportRequestId"]
    first = (await call(client, POLL, {"ReportRequestId": job}, account, token)).json()
    assert first == {"ReportRequestStatus": {"ReportDownloadUrl": None, "Status": "Pending"}}
    status = (await call(client, POLL, {"ReportRequestId": job}, account, token)).json()
    return status["ReportRequestStatus"], job


def unzip(content: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        (member,) = archive.namelist()
        return archive.read(member).decode("utf-8-sig").splitlines()


async def download(client, columns, since, until, account=NORTHWIND) -> list[str]:
    status, _ = await run(client, columns, since, until, account)
    assert status["Status"] == "Success" and status["ReportDownloadUrl"]
    response = await client.get(status["ReportDownloadUrl"])
    assert response.status_code == 200
    return unzip(response.content)


def rows_of(lines: list[str]) -> list[dict[str, str]]:
    header = next(i for i, line in enumerate(lines) if line.startswith('"TimePeriod"'))
    return [r for r in csv.DictReader(lines[header:]) if not r["TimePeriod"].startswith("©")]


def truth(world, account, since, until) -> list[dict]:
    return [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "microsoft_ads" and r["account_id"] == account
        if since <= r["date"] <= until
    ]


def cents(text: str) -> int:
    major, _, minor = text.partition(".")
    return int(major) * 100 + int(minor)


async def test_the_token_grant_rotates_refresh_tokens(http):
    async with http() as client:
        answer = await grant(client)
        assert answer.status_code == 200
        body = answer.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
        assert body["scope"].startswith("https://ads.microsoft.com/msads.manage")
        rotated = body["refresh_token"]
        assert rotated != CREDENTIALS["refresh_token"]
        assert (await grant(client, refresh_token=rotated)).status_code == 200
        reused = await grant(client, refresh_token=rotated)
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
        assert reused.json()["error_codes"] == [70000]
        assert (await grant(client)).status_code == 200  # the configured token stays valid
        bad = await grant(client, client_secret="nope")
        assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
        unsupported = await grant(client, grant_type="password")
        assert unsupported.json()["error"] == "unsupported_grant_type"
        assert (await grant(client, scope="openid")).json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("account", "zone", "name"),
    [
        (NORTHWIND, "EasternTimeUSCanada", "Northwind — Bing"),
        (BRIGHTLINE, "CentralTimeUSCanada", "Brightline — Bing"),
        (HARBOR, "PacificTimeUSCanadaTijuana", "Harbor — Bing"),
    ],
)
async def test_account_query_answers_the_advertiser_account(http, account, zone, name):
    async with http() as client:
        answer = await call(
            client, "/CustomerManagement/v13/Account/Query", {"AccountId": int(account)}, account
        )
        assert answer.status_code == 200
        values = answer.json()["Account"]
        assert (values["Id"], values["Name"], values["TimeZone"]) == (int(account), name, zone)
        assert values["CurrencyCode"] == "USD" and values["ParentCustomerId"] == int(CUSTOMER_ID)
        other = await call(
            client, "/CustomerManagement/v13/Account/Query", {"AccountId": 1}, account
        )
        assert other.status_code == 403 and other.json()["Errors"][0]["Code"] == 106


def error_code(response: httpx.Response) -> int:
    body = response.json()
    return (body.get("Errors") or body.get("OperationErrors"))[0]["Code"]


async def test_the_gate_refuses_in_microsofts_terms(http):
    path = "/CustomerManagement/{}/Account/Query"
    body = {"AccountId": int(NORTHWIND)}
    async with http(Faults(token_ttl=0.05)) as client:
        token = (await grant(client)).json()["access_token"]
        await asyncio.sleep(0.1)
        expired = await call(client, path.format("v13"), body, token=token)
        assert (expired.status_code, error_code(expired)) == (401, 109)
        assert expired.json()["Type"] == "AdApiFaultDetail"
        assert expired.json()["Errors"][0]["ErrorCode"] == "AuthenticationTokenExpired"
    async with http() as client:
        unknown = await call(client, path.format("v13"), body, token="not-a-token")
        assert (unknown.status_code, error_code(unknown)) == (401, 105)
        developer = await call(client, path.format("v13"), body, DeveloperToken="wrong")
        assert (developer.status_code, error_code(developer)) == (401, 105)
        customer = await call(client, path.format("v13"), body, CustomerId="123")
        assert (customer.status_code, error_code(customer)) == (403, 106)
        stranger = await call(client, path.format("v13"), body, account="999")
        assert (stranger.status_code, error_code(stranger)) == (403, 106)
        retired = await call(client, path.format("v12"), body)
        assert (retired.status_code, error_code(retired)) == (400, 303)
        assert "no longer supported" in retired.json()["Errors"][0]["Message"]
        assert (await call(client, path.format("v14"), body)).status_code == 404


async def test_campaign_management_walks_the_account(http, world):
    ads = world.ads_of("microsoft_ads", NORTHWIND)
    async with http() as client:
        body = {"AccountId": int(NORTHWIND), "CampaignType": "Search,Shopping"}
        campaigns = (
            await call(client, "/CampaignManagement/v13/Campaigns/QueryByAccountId", body)
        ).json()["Campaigns"]
        assert {c["Id"] for c in campaigns} == {int(a.campaign_id) for a in ads}
        assert {c["CampaignType"] for c in campaigns} == {"Search", "Shopping"}
        seen = []
        for campaign in campaigns:
            groups = await call(
                client,
                "/CampaignManagement/v13/AdGroups/QueryByCampaignId",
                {"CampaignId": campaign["Id"]},
            )
            for group in groups.json()["AdGroups"]:
                answer = await call(
                    client,
                    "/CampaignManagement/v13/Ads/QueryByAdGroupId",
                    {"AdGroupId": group["Id"], "AdTypes": ["ResponsiveSearch", "Product"]},
                )
                seen += answer.json()["Ads"]
        assert sorted(a["Id"] for a in seen) == sorted(int(a.ad_id) for a in ads)
        search = next(a for a in seen if a["Type"] == "ResponsiveSearch")
        source = world.ad(str(search["Id"]))
        assert search["Headlines"][0]["Asset"] == {
            "Id": None,
            "Name": None,
            "Type": "TextAsset",
            "Text": source.copy_on(NOW.date())[0],
        }
        assert search["FinalUrls"] == [source.landing_url]
        assert (search["Path1"], search["Path2"], search["Domain"]) == (
            *source.display_paths,
            None,
        )
        product = next(a for a in seen if a["Type"] == "Product")
        assert product["FinalUrls"] is None and "Headlines" not in product
        only_text = await call(
            client,
            "/CampaignManagement/v13/Ads/QueryByAdGroupId",
            {"AdGroupId": product_group(world), "AdTypes": ["ResponsiveSearch"]},
        )
        assert only_text.json()["Ads"] == []
        no_types = await call(
            client,
            "/CampaignManagement/v13/Ads/QueryByAdGroupId",
            {"AdGroupId": product_group(world)},
        )
        assert no_types.status_code == 400 and error_code(no_types) == 1326
        bad_group = await call(
            client,
            "/CampaignManagement/v13/Ads/QueryByAdGroupId",
            {"AdGroupId": 1, "AdTypes": ["Product"]},
        )
        assert error_code(bad_group) == 1201
        bad_campaign = await call(
            client, "/CampaignManagement/v13/AdGroups/QueryByCampaignId", {"CampaignId": 1}
        )
        assert error_code(bad_campaign) == 1100
        untyped = await call(
            client,
            "/CampaignManagement/v13/Campaigns/QueryByAccountId",
            {"AccountId": int(NORTHWIND)},
        )
        assert error_code(untyped) == 1049
        other = await call(
            client,
            "/CampaignManagement/v13/Campaigns/QueryByAccountId",
            {"AccountId": 1, "CampaignType": "Search"},
        )
        assert other.status_code == 403


async def ads_on(world, account: str, now: datetime) -> dict[str, dict]:
    """Every search ad of the account, by id, as Ads/QueryByAdGroupId serves it at ``now``."""
    transport = httpx.ASGITransport(create_app(world, None, now=now))
    groups = sorted({a.ad_group_id for a in world.ads_of("microsoft_ads", account)})
    seen = []
    async with httpx.AsyncClient(transport=transport, base_url="http://sbx/microsoft_ads") as c:
        access = (await grant(c)).json()["access_token"]
        for group in groups:
            body = {"AdGroupId": int(group), "AdTypes": ["ResponsiveSearch"]}
            path = "/CampaignManagement/v13/Ads/QueryByAdGroupId"
            seen += (await call(c, path, body, account, access)).json()["Ads"]
    return {str(a["Id"]): a for a in seen}


async def test_ads_read_as_they_are_on_the_sandboxs_day(world):
    """Copy the world rewrites every 28 days is served as it reads on the sandbox's day; other
    ads, the display paths and the final URLs stay as they were."""
    boundary = WORLD_START + timedelta(days=18 * COPY_PERIOD_DAYS)  # a period starts
    after = datetime.combine(boundary, time(12), UTC)
    old = await ads_on(world, BRIGHTLINE, after - timedelta(days=1))
    new = await ads_on(world, BRIGHTLINE, after)
    assert set(old) == set(new)
    changed = set()
    for ad_id, served in new.items():
        ad, before = world.ad(ad_id), old[ad_id]
        headline, body = ad.copy_on(boundary)
        assert served["Headlines"][0]["Asset"]["Text"] == headline
        assert served["Descriptions"][0]["Asset"]["Text"] == body
        assert (served["Path1"], served["Path2"]) == ad.display_paths
        assert (served["Path1"], served["Path2"], served["FinalUrls"]) == (
            before["Path1"],
            before["Path2"],
            before["FinalUrls"],
        )
        if (served["Headlines"], served["Descriptions"]) != (
            before["Headlines"],
            before["Descriptions"],
        ):
            changed.add(ad_id)
    assert changed and changed == {a for a in new if world.ad(a).rewrites_copy}


async def test_report_titles_are_the_ads_copy_on_the_sandboxs_day(http, world):
    async with http() as client:
        lines = await download(client, PERFORMANCE, date(2026, 10, 1), date(2026, 10, 2))
    rows = rows_of(lines)
    titles = {r["AdId"]: r["AdTitle"] for r in rows}
    ads = [world.ad(a) for a in titles]
    assert any(ad.rewrites_copy for ad in ads)
    assert titles == {ad.ad_id: ad.copy_on(NOW.date())[0] for ad in ads}


def product_group(world) -> int:
    ad = next(
        a for a in world.ads_of("microsoft_ads", NORTHWIND) if a.campaign.objective != "search"
    )
    return int(ad.ad_group_id)


async def test_conversion_goals_carry_their_category_when_asked(http):
    path = "/CampaignManagement/v13/ConversionGoals/QueryByIds"
    async with http() as client:
        body = {"ConversionGoalIds": None, "ConversionGoalTypes": "Event,Url"}
        plain = (await call(client, path, body)).json()["ConversionGoals"]
        assert all("GoalCategory" not in g for g in plain)
        asked = (await call(client, path, body | {"ReturnAdditionalFields": "GoalCategory"})).json()
        goals = {g["Name"]: g for g in asked["ConversionGoals"]}
        assert goals["Online purchase"]["GoalCategory"] == "Purchase"
        assert goals["Online purchase"]["ExcludeFromBidding"] is False
        assert goals["Add to cart"]["ExcludeFromBidding"] is True
        leads = (
            await call(client, path, body | {"ReturnAdditionalFields": "GoalCategory"}, HARBOR)
        ).json()
        assert {g["GoalCategory"] for g in leads["ConversionGoals"]} == {
            "SubmitLeadForm",
            "Contact",
        }
        missing = await call(client, path, {"ConversionGoalIds": None})
        assert missing.status_code == 400 and error_code(missing) == 5508
        assert error_code(await call(client, path, None)) == 100
        token = (await grant(client)).json()["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "DeveloperToken": CREDENTIALS["developer_token"],
            "CustomerId": CUSTOMER_ID,
            "CustomerAccountId": NORTHWIND,
        }
        garbled = await client.post(path, content=b"{not json", headers=headers)
        assert garbled.status_code == 400 and error_code(garbled) == 100


async def test_the_report_holds_the_worlds_numbers_in_microsofts_csv(http, world):
    since, until = date(2026, 10, 1), date(2026, 10, 31)
    async with http() as client:
        lines = await download(client, PERFORMANCE, since, until)
    assert lines[0] == '"Report Name: sandbox test"'
    assert lines[1] == '"Report Time: 10/1/2026,10/31/2026"'
    assert lines[2] == '"Time Zone: (GMT-05:00) Eastern Time (US & Canada)"'
    assert lines[3] == '"Last Completed Available Day: 11/24/2026 12:00:00 PM (GMT)"'
    assert lines[9] == "" and lines[10].startswith('"TimePeriod","AccountId"')
    assert lines[-2] == "" and lines[-1] == '"©2026 Microsoft Corporation. All rights reserved. "'
    rows, expected = rows_of(lines), truth(world, NORTHWIND, since, until)
    assert lines[8] == f'"Rows: {len(rows)}"' and len(rows) == len(expected)
    assert sum(int(r["Impressions"]) for r in rows) == sum(r["impressions"] for r in expected)
    assert sum(int(r["Clicks"]) for r in rows) == sum(r["clicks"] for r in expected)
    assert sum(cents(r["Spend"]) for r in rows) * 10_000 == sum(r["spend_micros"] for r in expected)
    assert sum(cents(r["Revenue"]) for r in rows) * 10_000 == sum(
        r["value_micros"] for r in expected
    )
    assert sum(float(r["ConversionsQualified"]) for r in rows) == sum(
        r["conversions"] for r in expected
    )
    assert {r["Conversions"] for r in rows} == {"0"}  # deprecated since 2022
    assert {r["AdType"] for r in rows} == {"Responsive search ad", "Product ad"}
    assert list(rows[0]) == PERFORMANCE


async def test_goal_reports_split_conversions_by_goal(http, world):
    since, until = date(2026, 10, 1), date(2026, 10, 31)
    async with http() as client:
        for account in (NORTHWIND, HARBOR):
            rows = rows_of(await download(client, GOALS, since, until, account))
            expected = truth(world, account, since, until)
            by_goal = Counter()
            for r in rows:
                by_goal[r["Goal"]] += float(r["AllConversionsQualified"])
                by_goal[r["Goal"], "value"] += cents(r["AllRevenue"]) * 10_000
            client_spec = CLIENT_OF[account]
            primary = {"purchase": "Online purchase", "lead": "Lead form submitted"}[
                client_spec.primary_action
            ]
            secondary = {"add_to_cart": "Add to cart", "contact": "Call or email click"}[
                client_spec.secondary_action
            ]
            assert by_goal[primary] == sum(r["conversions"] for r in expected)
            assert by_goal[primary, "value"] == sum(r["value_micros"] for r in expected)
            assert by_goal[secondary] == sum(r["secondary_actions"] for r in expected)
            assert by_goal[secondary, "value"] == 0 and {r["GoalType"] for r in rows} == {"Event"}


async def test_empty_and_oversized_reports(http):
    async with http() as client:
        empty, _ = await run(client, PERFORMANCE, date(2025, 1, 1), date(2025, 1, 31))
        assert empty == {"ReportDownloadUrl": None, "Status": "Success"}
        until = date(2026, 11, 23)
        since = date.fromordinal(until.toordinal() - MAX_REPORT_DAYS)
        failed, _ = await run(client, PERFORMANCE, since, until)
        assert failed == {"ReportDownloadUrl": None, "Status": "Error"}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"Type": None}, 100),
        ({"Columns": ["TimePeriod", "Bogus"]}, 2015),
        ({"Columns": ["AdId", "Clicks"]}, 2014),
        ({"Columns": ["TimePeriod", "Goal", "Impressions"]}, 2015),
        ({"Time": {"CustomDateRangeStart": {"Day": 1}}}, 2019),
        ({"Aggregation": "Weekly"}, 2010),
        ({"Scope": {"AccountIds": [int(HARBOR)]}}, 2004),
    ],
)
async def test_bad_report_requests_are_refused(http, changes, code):
    body = report_request(PERFORMANCE, date(2026, 10, 1), date(2026, 10, 2), **changes)
    async with http() as client:
        refused = await call(client, SUBMIT, body)
    assert refused.status_code == 400 and error_code(refused) == code
    assert refused.json()["Type"] == "ApiFaultDetail" and refused.json()["BatchErrors"] == []


async def test_bad_dates_and_zones_are_refused(http):
    async with http() as client:
        backwards = report_request(PERFORMANCE, date(2026, 10, 2), date(2026, 10, 1))
        assert error_code(await call(client, SUBMIT, backwards)) == 2020
        zone = report_request(PERFORMANCE, date(2026, 10, 1), date(2026, 10, 2))
        zone["ReportRequest"]["Time"]["ReportTimeZone"] = "America/New_York"
        assert error_code(await call(client, SUBMIT, zone)) == 2021
        default = report_request(PERFORMANCE, date(2026, 10, 1), date(2026, 10, 2))
        del default["ReportRequest"]["Time"]["ReportTimeZone"]
        job = (await call(client, SUBMIT, default)).json()["ReportRequestId"]
        for _ in range(2):
            status = (await call(client, POLL, {"ReportRequestId": job})).json()
        lines = unzip(
            (await client.get(status["ReportRequestStatus"]["ReportDownloadUrl"])).content
        )
        assert (
            lines[2] == '"Time Zone: (GMT-08:00) Pacific Time (US & Canada); Tijuana"'
        )  # the default


async def test_jobs_are_polled_by_their_own_account(http):
    async with http() as client:
        status, job = await run(client, PERFORMANCE, date(2026, 10, 1), date(2026, 10, 2))
        again = (await call(client, POLL, {"ReportRequestId": job})).json()
        assert again["ReportRequestStatus"] == status  # a finished job keeps its answer
        other = await call(client, POLL, {"ReportRequestId": job}, BRIGHTLINE)
        assert other.status_code == 400 and error_code(other) == 2100
        unknown = await call(client, POLL, {"ReportRequestId": "123"})
        assert error_code(unknown) == 2100


async def test_downloads_are_pre_signed_and_take_no_credentials(http):
    async with http() as client:
        status, _ = await run(client, PERFORMANCE, date(2026, 10, 1), date(2026, 10, 2))
        url = httpx.URL(status["ReportDownloadUrl"])
        assert url.host == "sbx" and url.path.startswith("/microsoft_ads/ReportDownloads/")
        assert url.params["sp"] == "r" and url.params["sig"]
        for headers in ({"Authorization": "Bearer x"}, {"DeveloperToken": "x"}):
            refused = await client.get(url, headers=headers)
            assert (
                refused.status_code == 403 and "<Code>AuthenticationFailed</Code>" in refused.text
            )
        forged = await client.get(url.copy_set_param("sig", "forged"))
        assert forged.status_code == 403
        assert unzip((await client.get(url)).content)[0] == '"Report Name: sandbox test"'


async def test_calls_over_the_rate_are_refused_with_117(http):
    async with http(Faults(rate_limit=1.0)) as client:
        token = (await grant(client)).json()["access_token"]
        body = {"AccountId": int(NORTHWIND)}
        answers = [
            await call(client, "/CustomerManagement/v13/Account/Query", body, token=token)
            for _ in range(7)
        ]
        other = await call(
            client,
            "/CustomerManagement/v13/Account/Query",
            {"AccountId": int(HARBOR)},
            HARBOR,
            token,
        )
    limited = [a for a in answers if a.status_code == 429]
    assert limited and other.status_code == 200  # the budget is per account
    assert error_code(limited[0]) == 117 and float(limited[0].headers["retry-after"]) > 0
    assert limited[0].json()["Errors"][0]["ErrorCode"] == "CallRateExceeded"


async def test_faults_break_calls_and_downloads(http):
    async with http(Faults(outage={"microsoft_ads"})) as client:
        answer = await call(
            client, "/CustomerManagement/v13/Account/Query", {"AccountId": int(NORTHWIND)}
        )
        assert answer.status_code == 503
        blob = await client.get("/ReportDownloads/1.zip?sig=x")
        assert blob.status_code == 503 and "<Code>ServerBusy</Code>" in blob.text
    async with http(Faults(error_rate=1.0, seed=3)) as client:
        statuses = Counter()
        for _ in range(12):
            answer = await call(
                client, "/CustomerManagement/v13/Account/Query", {"AccountId": int(NORTHWIND)}
            )
            statuses[answer.status_code] += 1
            if answer.status_code == 500:
                assert answer.json()["OperationErrors"][0]["ErrorCode"] == "InternalError"
        assert set(statuses) <= {500, 502, 503} and statuses[500]
    async with http(Faults(truncate_rate=1.0)) as client:
        cut = await call(
            client, "/CustomerManagement/v13/Account/Query", {"AccountId": int(NORTHWIND)}
        )
        with pytest.raises(ValueError):
            cut.json()


def test_credentials_and_environment_are_declared():
    assert set(CREDENTIALS) == {
        "developer_token",
        "client_id",
        "client_secret",
        "refresh_token",
        "customer_id",
    }
    for name in ("DEVELOPER_TOKEN", "CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN", "CUSTOMER_ID"):
        assert DEMO_ENVIRONMENT[f"MICROSOFT_ADS_{name}"] == CREDENTIALS[name.lower()]
