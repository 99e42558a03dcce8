"""Microsoft Advertising (Bing Ads) API v13 over REST: async report jobs, Microsoft identity.

Reports are jobs: ``POST /Reporting/v13/GenerateReport/Submit`` with an
``AdPerformanceReportRequest`` answers a ``ReportRequestId``; ``.../Poll`` answers
``ReportRequestStatus.Status`` Pending | Success | Error and, on success, a pre-signed
``ReportDownloadUrl`` on blob storage (null when the report has no rows). The download (sent
without any credential) is a ZIP holding one CSV: a quoted header preamble (report name, time
zone, ``Rows: n``), the column names, the rows, and a copyright footer. Days are those of
``ReportTimeZone``, set explicitly from the account's zone (Microsoft defaults to Pacific);
``Spend`` and ``Revenue`` are major-unit numbers. Every API call carries ``DeveloperToken``,
``CustomerId`` (the manager) and ``CustomerAccountId``, set per request because one connector
serves every account of the manager.

Conversions: ``ad_performance.conversions``/``value_micros`` are ``ConversionsQualified`` and
``Revenue`` (``Conversions`` reports 0 since its 2022 deprecation): the goals used for bidding.
``actions`` come from a second report split by ``Goal`` with ``AllConversionsQualified`` and
``AllRevenue`` (every goal, also those excluded from bidding); a goal's canonical type is its
``GoalCategory`` from Campaign Management ``ConversionGoals/QueryByIds``. Microsoft counts each
goal in its own conversion window, so every action row is in the "default" window. Creatives
are the ads of ``Ads/QueryByAdGroupId``: responsive search ads are text; product ads show
Merchant Center images the Ads API does not expose. A text ad's ``display_url`` is its
``Domain`` (a pilot-only override, usually null) or else its final URL's domain, without
"www.", then ``Path1``/``Path2`` with spaces shown as underscores (learn.microsoft.com/
advertising/campaign-management-service/responsivesearchad, .../expandedtextad). It is not
part of the version, so versions stored before it was read keep their keys.

The report carries the campaign, ad group and ad names itself and, without a status
``Filter``, the rows of deleted campaigns, ad groups and ads too. A name that comes back empty
becomes its id and is recorded as unresolved (``Connector.fetch``); a goal that
``ConversionGoals/QueryByIds`` no longer returns counts as "other".

Errors are ``{"TrackingId", "Type": "AdApiFaultDetail", "Errors": [{Code, ErrorCode,
Message}]}`` (``ApiFaultDetail``/``ApiFault``: ``OperationErrors``, ``BatchErrors``): 117
CallRateExceeded (wait 60 s, the documented advice, unless ``Retry-After`` says), 109 expired
token, 105/106 credentials or access, 303 retired version, 0/207/4204 transient (per Airbyte).
Microsoft sends no usage headers to slow down on. HTTP statuses of REST faults are 'verify'.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
import pyarrow as pa

from generator.connectors.auth import OAuth2Refresh
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.http import retry_after
from generator.connectors.jobs import JobStatus
from generator.connectors.normalize import Col, content_version, normalize, utc_now
from generator.connectors.paging import dig
from generator.connectors.payloads import csv_records, unzip_text
from generator.connectors.redact import redact
from generator.connectors.verdicts import Fail, RateLimit, Refresh, Retry, Verdict
from generator.errors import ApiVersionRetired, AuthFailed, ConnectorError, ResponseInvalid
from generator.schema import ACTIONS, AD_PERFORMANCE, CREATIVES

__all__ = ["API_VERSION", "SUNSET", "TIME_ZONES", "MicrosoftAds"]

#: The pinned Bing Ads API version (REST and SOAP share it). v13 has been current since
#: 2019 and no successor is announced; check learn.microsoft.com/advertising/guides/
#: migration-guide and the Microsoft Advertising API blog when bumping.
API_VERSION = "v13"
SUNSET = "none announced (v13 GA 2019; versions get about a year's notice)"
SCOPE = "https://ads.microsoft.com/msads.manage offline_access"
SUBMIT, POLL = (f"/Reporting/{API_VERSION}/GenerateReport/{op}" for op in ("Submit", "Poll"))
CAMPAIGNS = f"/CampaignManagement/{API_VERSION}"
RETIRED, RATE_LIMITED, TOKEN_EXPIRED = 303, 117, 109
TRANSIENT = frozenset({0, 207, 4204})
CALL_RATE_WAIT = 60.0  # "resubmit the request under the limit after waiting 60 seconds"
_BUMP = (
    "bump API_VERSION in generator/connectors/microsoft_ads.py and re-record "
    "tests/fixtures/microsoft_ads"
)

#: Microsoft's time zone names (account ``TimeZone`` and ``ReportTimeZone`` agree on these)
#: -> IANA. Others (e.g. AthensBuckarestIstanbul) are spelled differently in the two value
#: sets: add them with care.
# fmt: off
TIME_ZONES = {
    "EasternTimeUSCanada": "America/New_York", "CentralTimeUSCanada": "America/Chicago",
    "MountainTimeUSCanada": "America/Denver", "Arizona": "America/Phoenix",
    "PacificTimeUSCanadaTijuana": "America/Los_Angeles", "Alaska": "America/Anchorage",
    "Hawaii": "Pacific/Honolulu", "AtlanticTimeCanada": "America/Halifax",
    "GuadalajaraMexicoCityMonterrey": "America/Mexico_City", "Brasilia": "America/Sao_Paulo",
    "BogotaLimaQuito": "America/Bogota", "AucklandWellington": "Pacific/Auckland",
    "GreenwichMeanTimeDublinEdinburghLisbonLondon": "Europe/London",
    "AmsterdamBerlinBernRomeStockholmVienna": "Europe/Berlin",
    "BrusselsCopenhagenMadridParis": "Europe/Paris", "SarajevoSkopjeWarsawZagreb": "Europe/Warsaw",
    "HelsinkiKyivRigaSofiaTallinnVilnius": "Europe/Helsinki",
    "ChennaiKolkataMumbaiNewDelhi": "Asia/Kolkata", "KualaLumpurSingapore": "Asia/Singapore",
    "BeijingChongqingHongKongUrumqi": "Asia/Shanghai", "OsakaSapporoTokyo": "Asia/Tokyo",
    "CanberraMelbourneSydney": "Australia/Sydney",
}
#: GoalCategory -> canonical action type (anything else is "other")
GOAL_CATEGORIES = {
    "Purchase": "purchase", "AddToCart": "add_to_cart", "BeginCheckout": "begin_checkout",
    "SubmitLeadForm": "lead", "BookAppointment": "lead", "RequestQuote": "lead",
    "Signup": "signup", "Contact": "contact", "Subscribe": "subscribe", "PageView": "page_view",
    "Download": "app_install",
}
# fmt: on
_REPORT_ZONES = {iana: name for name, iana in TIME_ZONES.items()}
_IDS = ("TimePeriod", "AccountId", "CampaignId", "AdGroupId", "AdId", "CurrencyCode")
PERFORMANCE_COLUMNS = (
    *_IDS,
    *("AccountName", "CampaignName", "AdGroupName", "AdTitle", "Impressions", "Clicks"),
    *("Spend", "ConversionsQualified", "Revenue"),
)
GOAL_COLUMNS = (*_IDS, "Goal", "AllConversionsQualified", "AllRevenue")
CAMPAIGN_TYPES = "Search,Shopping,Audience,DynamicSearchAds,PerformanceMax"  # flags: verify
GOAL_TYPES = (
    "Url,Duration,PagesViewedPerVisit,Event,AppInstall,OfflineConversion,InStoreTransaction"
)
AD_TYPES = ["ResponsiveSearch", "ExpandedText", "Product", "ResponsiveAd", "DynamicSearch"]
FORMATS = {"Product": "product", "ResponsiveAd": "image"}  # the others are text ads

_IDENTITY = {
    "date": Col("TimePeriod", "date", required=True),
    "currency": Col("CurrencyCode", required=True),
    "campaign_id": Col("CampaignId", "id", required=True),
    "ad_group_id": Col("AdGroupId", "id"),
    "ad_id": Col("AdId", "id", required=True),
}
PERFORMANCE = {
    **_IDENTITY,
    "account_name": Col("AccountName"),
    "campaign_name": Col("CampaignName"),
    "ad_group_name": Col("AdGroupName"),
    "ad_name": Col("AdTitle"),
    "creative_id": Col("AdId", "id"),  # a Microsoft ad is its own creative
    "impressions": Col("Impressions", "count", default=0),
    "clicks": Col("Clicks", "count", default=0),
    "spend_micros": Col("Spend", "major", default=0),
    "conversions": Col("ConversionsQualified", "number", default=0.0),
    "value_micros": Col("Revenue", "major", default=0),
}
ACTION_FIELDS = {
    **_IDENTITY,
    "action_type": Col("_action_type", required=True),
    "count": Col("AllConversionsQualified", "number", default=0.0),
    "value_micros": Col("AllRevenue", "major", default=0),
}
CREATIVE_FIELDS = {
    "creative_id": Col("Id", "id", required=True),
    "ad_id": Col("Id", "id", required=True),
    **{k: Col(f"_copy.{k}") for k in ("headline", "body", "landing_url", "display_url")},
    "format": Col("_copy.format", required=True),
    "version": Col("_copy.version", required=True),
}


class MicrosoftAds(Connector):
    """Microsoft Advertising accounts of one manager customer (credential ``customer_id``)."""

    platform = "microsoft_ads"
    api_version = API_VERSION
    sunset = SUNSET
    hosts: ClassVar[dict[str, str]] = {
        "oauth": "https://login.microsoftonline.com",
        "reporting": "https://reporting.api.bingads.microsoft.com",
        "customer": "https://clientcenter.api.bingads.microsoft.com",
        "campaign": "https://campaign.api.bingads.microsoft.com",
    }
    #: Microsoft publishes no figure: 117 says a per-minute budget ran out, and its guidance is
    #: at most 10 concurrent calls. A month of one account is about ten calls ('verify').
    rate = 20.0
    lookback_days = 30  # the default conversion window of a goal
    credential_names = (
        "developer_token",
        "client_id",
        "client_secret",
        "refresh_token",
        "customer_id",
    )

    def __init__(self, credentials: Mapping[str, str], **options: Any) -> None:
        super().__init__(credentials, **options)
        self._accounts: dict[str, AccountInfo] = {}
        self._goals: dict[str, dict[str, str]] = {}

    def make_auth(self) -> OAuth2Refresh:
        c = self.credentials
        return OAuth2Refresh(
            self.platform,
            self.url("oauth", "/common/oauth2/v2.0/token"),
            client_id=c["client_id"],
            client_secret=c["client_secret"],
            refresh_token=c["refresh_token"],
            extra={"scope": SCOPE},
            on_rotate=self.on_rotate,
        )

    def classify(self, response: httpx.Response, request: str) -> Verdict | None:
        if response.status_code < 300:
            return None
        errors = _fault_errors(response)
        codes = {e.get("Code") for e in errors}
        detail = _describe(errors)
        if RETIRED in codes:
            message = f"Microsoft Advertising API {API_VERSION} is retired ({detail}); {_BUMP}"
            return Fail(ApiVersionRetired(message, platform=self.platform, request=request))
        if RATE_LIMITED in codes or response.status_code == 429:
            return RateLimit(detail or "HTTP 429", retry_after(response) or CALL_RATE_WAIT)
        if TOKEN_EXPIRED in codes or (response.status_code == 401 and not codes):
            return Refresh()
        if codes & {105, 106}:
            advice = "check developer_token, and that the refresh token's user manages this "
            advice += "account under customer_id (the manager customer)"
            return Fail(AuthFailed(f"{detail}; {advice}", platform=self.platform, request=request))
        if codes & TRANSIENT:
            return Retry(f"transient error {detail}")
        if response.status_code >= 500:
            return None
        text = detail or redact(response.text[:300])
        message = f"HTTP {response.status_code}: {text}"
        return Fail(ConnectorError(message, platform=self.platform, request=request))

    async def account_info(self, account_id: str) -> AccountInfo:
        """Name, currency and time zone of an account (Customer Management, read once)."""
        if account_id not in self._accounts:
            path = f"/CustomerManagement/{API_VERSION}/Account/Query"
            body = await self._post("customer", path, account_id, {"AccountId": _id(account_id)})
            self._accounts[account_id] = _account(account_id, body.get("Account") or {})
        return self._accounts[account_id]

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily rows per ad; conversions as the module docstring says."""
        info = await self.account_info(account_id)
        rows = await self._report(info, "ad_performance", PERFORMANCE_COLUMNS, start, end)
        zone = info.timezone
        return self._normalize(rows, PERFORMANCE, AD_PERFORMANCE, account_id, account_timezone=zone)

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily conversions per ad and goal, typed by the goal's category."""
        info = await self.account_info(account_id)
        categories = await self._goal_types(account_id)
        rows = await self._report(info, "actions", GOAL_COLUMNS, start, end)
        for row in rows:
            row["_action_type"] = categories.get(row.get("Goal") or "", "other")
        constants = {"attribution_window": "default", "account_timezone": info.timezone}
        return self._normalize(rows, ACTION_FIELDS, ACTIONS, account_id, **constants)

    async def fetch_creatives(self, account_id: str) -> pa.Table:
        """Every ad of the account, walked campaign -> ad group -> ads."""
        body = {"AccountId": _id(account_id), "CampaignType": CAMPAIGN_TYPES}
        campaigns = await self._entities(account_id, "Campaigns/QueryByAccountId", [body])
        bodies = [{"CampaignId": c.get("Id")} for c in campaigns]
        groups = await self._entities(account_id, "AdGroups/QueryByCampaignId", bodies)
        bodies = [{"AdGroupId": g.get("Id"), "AdTypes": AD_TYPES} for g in groups]
        ads = await self._entities(account_id, "Ads/QueryByAdGroupId", bodies)
        rows = [{**ad, "_copy": _ad_copy(ad)} for ad in ads]
        first_seen = utc_now().date()
        return self._normalize(rows, CREATIVE_FIELDS, CREATIVES, account_id, first_seen=first_seen)

    # -- the pieces -----------------------------------------------------------------------

    def _headers(self, account_id: str) -> dict[str, str]:
        # per call, never default headers: the download must carry none of them
        c = self.credentials
        return {
            "DeveloperToken": c["developer_token"],
            "CustomerId": c["customer_id"],
            "CustomerAccountId": account_id,
        }

    async def _post(self, host: str, path: str, account_id: str, body: dict) -> dict[str, Any]:
        url, headers = self.url(host, path), self._headers(account_id)
        return await self.api.call("POST", url, json=body, headers=headers, parse=_object)

    async def _entities(self, account_id: str, operation: str, bodies: list[dict]) -> list[dict]:
        """The entities of one Campaign Management query per body (run concurrently)."""
        key = operation.split("/")[0]
        path = f"{CAMPAIGNS}/{operation}"
        answers = await asyncio.gather(
            *(self._post("campaign", path, account_id, b) for b in bodies)
        )
        return [item for answer in answers for item in answer.get(key) or []]

    async def _goal_types(self, account_id: str) -> dict[str, str]:
        """Goal name -> canonical action type, from each goal's GoalCategory (read once)."""
        if account_id not in self._goals:
            body = {"ConversionGoalIds": None, "ConversionGoalTypes": GOAL_TYPES}
            body["ReturnAdditionalFields"] = "GoalCategory"  # not returned unless asked for
            goals = await self._entities(account_id, "ConversionGoals/QueryByIds", [body])
            self._goals[account_id] = {
                str(g.get("Name")): GOAL_CATEGORIES.get(g.get("GoalCategory"), "other")
                for g in goals
            }
        return self._goals[account_id]

    async def _report(
        self, info: AccountInfo, dataset: str, columns: tuple[str, ...], start: date, end: date
    ) -> list[dict[str, str]]:
        """One report job's CSV rows, submitted, polled and downloaded (or resumed)."""
        account_id = info.account_id
        request = _report_request(info, dataset, columns, start, end)

        async def submit() -> str:
            answer = await self._post("reporting", SUBMIT, account_id, request)
            if not answer.get("ReportRequestId"):
                message = f"Submit answered no ReportRequestId ({API_VERSION})"
                raise ResponseInvalid(message, platform=self.platform)
            return str(answer["ReportRequestId"])

        async def poll(job_id: str) -> JobStatus:
            answer = await self._post("reporting", POLL, account_id, {"ReportRequestId": job_id})
            return _job_status(answer)

        async def fetch(job_id: str, status: JobStatus) -> list[dict[str, str]]:
            if not status.result:
                return []  # Success without a URL: the report has no rows
            return await self.api.call("GET", status.result, authenticate=False, parse=_rows)

        return await self.run_report(account_id, f"{dataset}:{start}:{end}", submit, poll, fetch)

    def _normalize(self, rows, fields, schema, account_id: str, **constants) -> pa.Table:
        constants |= {"platform": self.platform, "source": self.platform, "account_id": account_id}
        constants |= {"fetched_at": utc_now(), "api_version": API_VERSION}
        return normalize(
            rows,
            fields,
            schema,
            constants=constants,
            platform=self.platform,
            api_version=API_VERSION,
        )


def _id(account_id: str) -> int:
    """The numeric account id the API wants (not the account number such as F1234567)."""
    if not account_id.isdigit():
        raise ConnectorError(
            f"account id {account_id!r} is not the numeric AccountId (the UI's 'Account ID')",
            platform="microsoft_ads",
        )
    return int(account_id)


def _account(account_id: str, account: dict[str, Any]) -> AccountInfo:
    missing = [k for k in ("CurrencyCode", "TimeZone") if not account.get(k)]
    if missing:
        message = f"account {account_id} answered without {', '.join(missing)} ({API_VERSION})"
        raise ResponseInvalid(message, platform="microsoft_ads")
    zone = TIME_ZONES.get(account["TimeZone"])
    if zone is None:
        raise ConnectorError(
            f"account {account_id} keeps time zone {account['TimeZone']!r}, which TIME_ZONES "
            "in generator/connectors/microsoft_ads.py does not map yet: add it",
            platform="microsoft_ads",
        )
    return AccountInfo(account_id, str(account.get("Name") or ""), account["CurrencyCode"], zone)


def _report_request(
    info: AccountInfo, name: str, columns: tuple[str, ...], start: date, end: date
) -> dict[str, Any]:
    day = lambda d: {"Day": d.day, "Month": d.month, "Year": d.year}  # noqa: E731
    return {
        "ReportRequest": {
            "Type": "AdPerformanceReportRequest",
            "ExcludeColumnHeaders": False,
            "ExcludeReportFooter": False,
            "ExcludeReportHeader": False,
            "Format": "Csv",
            "FormatVersion": "2.0",
            "ReportName": f"campaign-reporter {name} {start}..{end}",
            "ReturnOnlyCompleteData": False,
            "Aggregation": "Daily",
            "Columns": list(columns),
            "Scope": {"AccountIds": [_id(info.account_id)]},
            "Time": {
                "CustomDateRangeStart": day(start),
                "CustomDateRangeEnd": day(end),
                # explicit: Microsoft would use Pacific days (account_info mapped the zone)
                "ReportTimeZone": _REPORT_ZONES[info.timezone],
            },
        }
    }


def _job_status(body: dict[str, Any]) -> JobStatus:
    status = dig(body, "ReportRequestStatus.Status")
    if status == "Error":
        return JobStatus(failed=True, detail="the report request ended with Status Error")
    if status == "Success":
        url = dig(body, "ReportRequestStatus.ReportDownloadUrl")
        return JobStatus(done=True, detail=status, result=url)
    if status == "Pending":
        return JobStatus(detail=status)
    message = f"Poll answered no known ReportRequestStatus ({status!r}, {API_VERSION})"
    raise ResponseInvalid(message, platform="microsoft_ads")


def _rows(response: httpx.Response) -> list[dict[str, str]]:
    """The data rows of a downloaded report: after the preamble, before the copyright line."""
    text = unzip_text(response.content)
    lines = text.splitlines()
    header = next((i for i, x in enumerate(lines) if x.strip('"').startswith("TimePeriod")), None)
    if header is None:
        raise ValueError("the report has no column header line")
    # the docs print the footer as "@2020 Microsoft ...", real files start it with "©"
    return csv_records(text, skip=header, footer="©")


def _ad_copy(ad: dict[str, Any]) -> dict[str, Any]:
    """Headline, body, links and format of an ad, and a version hashed from that content (the
    display URL aside: see the module docstring)."""
    texts = {
        k: [str(dig(a, "Asset.Text")) for a in ad.get(k) or [] if dig(a, "Asset.Text")]
        for k in ("Headlines", "Descriptions")
    }
    copy = {
        "headline": " | ".join(texts["Headlines"]) or ad.get("TitlePart1") or None,
        "body": " ".join(texts["Descriptions"]) or ad.get("PromotionalText") or None,
        "landing_url": (ad.get("FinalUrls") or [None])[0],
        "format": FORMATS.get(str(ad.get("Type")), "text"),
    }
    # str() of each part, None included, as before: stored versions keep their keys
    copy["version"] = content_version(*map(str, (ad.get("Type"), *copy.values())))
    text = copy["format"] == "text"
    copy["display_url"] = _display_url(ad, copy["landing_url"]) if text else None
    return copy


def _display_url(ad: dict[str, Any], landing_url: str | None) -> str | None:
    """The URL a text ad shows: its domain, then Path1 and Path2 (a space shows as "_")."""
    domain = ad.get("Domain") or landing_url
    try:  # Domain may come without a scheme ("contoso.com")
        host = urlsplit(domain if "//" in domain else f"//{domain}").hostname if domain else None
    except ValueError:  # malformed: no domain we could name
        host = None
    if not host:
        return None
    paths = (str(p).replace(" ", "_") for p in (ad.get("Path1"), ad.get("Path2")) if p)
    return "/".join([host.removeprefix("www."), *paths])


def _object(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def _describe(errors: list[dict[str, Any]]) -> str:
    text = "; ".join(f"{e.get('ErrorCode')} ({e.get('Code')}): {e.get('Message')}" for e in errors)
    return redact(text)[:400]


def _fault_errors(response: httpx.Response) -> list[dict[str, Any]]:
    """The errors of a REST fault body (any of its three shapes), or [] for another body."""
    try:
        body = response.json()
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    found = [*(body.get("Errors") or []), *(body.get("OperationErrors") or [])]
    found += body.get("BatchErrors") or []
    return [e for e in found if isinstance(e, dict)]
