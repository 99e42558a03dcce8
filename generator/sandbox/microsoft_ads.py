"""Microsoft Advertising API v13 as the sandbox speaks it: identity-platform OAuth, REST
Customer and Campaign Management queries, Reporting jobs and their ZIP/CSV downloads.

Served under ``/microsoft_ads`` in place of login.microsoftonline.com and the clientcenter,
campaign and reporting hosts of api.bingads.microsoft.com (their paths do not overlap):

- ``POST /common/oauth2/v2.0/token``: the refresh-token grant (form: client_id, client_secret,
  refresh_token, scope with ``msads.manage``). Each refresh rotates the refresh token and
  retires the rotated one it used (the configured one stays valid); access tokens live
  ``Faults.token_ttl``. Errors are AADSTS JSON: ``invalid_client``, ``invalid_grant``, ...
- ``POST /CustomerManagement/v13/Account/Query`` ``{AccountId}`` -> ``{"Account": {...}}``;
- ``POST /CampaignManagement/v13/Campaigns/QueryByAccountId``, ``AdGroups/QueryByCampaignId``,
  ``Ads/QueryByAdGroupId`` (``AdTypes`` required) and ``ConversionGoals/QueryByIds``
  (``GoalCategory`` only when ``ReturnAdditionalFields`` asks for it): ``{"<Entities>": [...]}``;
- ``POST /Reporting/v13/GenerateReport/Submit`` ``{"ReportRequest": {...}}`` (the REST
  discriminator ``Type`` must be ``AdPerformanceReportRequest``; Daily, Csv) ->
  ``{"ReportRequestId"}``; ``.../Poll`` ``{ReportRequestId}`` -> ``{"ReportRequestStatus":
  {"Status", "ReportDownloadUrl"}}``: Pending at the first poll, Success from the second (Error
  when the range spans more than ``MAX_REPORT_DAYS``, the sandbox's stand-in for a report
  Microsoft cannot build), the URL null when the report has no rows;
- ``GET /ReportDownloads/{id}.zip?sv&se&sr&sp&sig``: the pre-signed blob. A request carrying
  ``Authorization`` or ``DeveloperToken`` is refused (403, blob storage's XML error): a real
  blob store would silently receive the secrets, the sandbox makes that a failure.

Every API call needs a live bearer token (109 AuthenticationTokenExpired when it expired, 105
InvalidCredentials when unknown), ``DeveloperToken`` (105), ``CustomerId`` of the manager (106)
and a ``CustomerAccountId`` the manager holds, matching the account asked about (106); a job
is polled with its account's header. Calls are throttled per account: 117 CallRateExceeded
with HTTP 429 and ``Retry-After`` (fractional; Microsoft's docs say wait 60 s: 'verify' that it
sends the header). Retired versions (v9-v12) answer 303 ApiVersionNoLongerSupported. Faults
give 500 (code 0 InternalError) or a bare 502/503; successful bodies may be cut short.

Ads are served as they read on the sandbox's day (``SandboxState.now``), in the entity listing
and in the reports' ``AdTitle``/``AdDescription`` alike (modelled as the entity's current
values on every row: 'verify'): copy that the world rewrites over time (``Ad.copy_on``)
changes there.
Responsive search ads carry ``Path1``/``Path2`` (appended to the final URL's domain in the
shown URL) and ``Domain`` null (that override is a limited pilot; learn.microsoft.com/
advertising/campaign-management-service/responsivesearchad).

Reports come from ``state.rows``: one row per day x ad, in the account's days whatever
``ReportTimeZone`` says (a simplification; the zone must be a valid name and is echoed in the
preamble). Money is major units with two decimals; ``Conversions`` is "0" (deprecated in
2022); ``ConversionsQualified``/``Revenue`` are the world's conversions and value (the
client's primary goal is the only one used for bidding). With ``Goal``, one row per goal
with conversions: the primary goal (``AllConversionsQualified`` = conversions, ``AllRevenue``
= value) and the secondary (= secondary actions, no revenue). Fault codes not quoted from
Microsoft's docs (those for bad report requests and unknown ids) are modelled: 'verify'.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import secrets
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.sandbox.common import Refused, bearer, handler, json_reply, read_form
from generator.sandbox.state import SandboxState
from generator.sandbox.world import Ad

__all__ = ["CREDENTIALS", "CURRENT_VERSIONS", "ENVIRONMENT", "MAX_REPORT_DAYS", "routes"]

NAME = "microsoft_ads"
CUSTOMER_ID = "251873402"
CREDENTIALS = {
    "developer_token": "1SBX0MSADS7QDEVT0KEN",
    "client_id": "4c8d2f9e-1b7a-4e36-9d51-5a7dbb0c0de1",
    "client_secret": "sbx~ms.Q2xpZW50U2VjcmV0U2FuZGJveE1pY3Jvc29mdA",
    "refresh_token": "M.C5sbx_BAY.-CSandboxRefreshTokenTWljcm9zb2Z0QWRz",
    "customer_id": CUSTOMER_ID,
}
ENVIRONMENT = {f"MICROSOFT_ADS_{name.upper()}": value for name, value in CREDENTIALS.items()}
CURRENT_VERSIONS = ("v13",)
RETIRED_VERSIONS = frozenset(f"v{n}" for n in range(9, 13))
POLLS_TO_FINISH = 2
MAX_REPORT_DAYS = 400
SCOPE = "https://ads.microsoft.com/msads.manage"
#: IANA -> (Microsoft's name, as account TimeZone and ReportTimeZone; the preamble's label)
ZONES = {
    "America/New_York": ("EasternTimeUSCanada", "(GMT-05:00) Eastern Time (US & Canada)"),
    "America/Chicago": ("CentralTimeUSCanada", "(GMT-06:00) Central Time (US & Canada)"),
    "America/Los_Angeles": (
        "PacificTimeUSCanadaTijuana",
        "(GMT-08:00) Pacific Time (US & Canada); Tijuana",
    ),
    "Europe/Berlin": (
        "AmsterdamBerlinBernRomeStockholmVienna",
        "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
    ),
}
REPORT_TIME_ZONES = frozenset(
    {name for name, _ in ZONES.values()}
    | {"MountainTimeUSCanada", "Arizona", "Alaska", "Hawaii", "BrusselsCopenhagenMadridParis"}
    | {"GreenwichMeanTimeDublinEdinburghLisbonLondon", "OsakaSapporoTokyo"}
)
#: canonical action -> (conversion goal name, GoalCategory)
GOALS = {
    "purchase": ("Online purchase", "Purchase"),
    "add_to_cart": ("Add to cart", "AddToCart"),
    "lead": ("Lead form submitted", "SubmitLeadForm"),
    "signup": ("Free trial sign-up", "Signup"),
    "contact": ("Call or email click", "Contact"),
}
_AD_TYPES = {"search": ("ResponsiveSearch", "Responsive search ad")}
_PRODUCT = ("Product", "Product ad")
_METRICS = ("Impressions", "Clicks", "Spend", "Conversions", "ConversionsQualified", "Revenue")
_GOAL_METRICS = ("AllConversionsQualified", "AllRevenue")
_ATTRIBUTES = (
    *("TimePeriod", "AccountId", "AccountName", "AccountNumber", "CampaignId", "CampaignName"),
    *("CampaignType", "AdGroupId", "AdGroupName", "AdId", "AdTitle", "AdDescription", "AdType"),
    *("FinalUrl", "CurrencyCode", "Goal", "GoalType"),
)
COLUMNS = frozenset((*_ATTRIBUTES, *_METRICS, *_GOAL_METRICS))


@dataclass
class _Job:
    id: str
    account: str
    since: date
    until: date
    columns: list[str]
    zone: str
    name: str
    polls: int = 0
    archive: bytes | None = None
    rows: int = 0


def routes() -> list[Route]:
    cm = "/CampaignManagement/{version}"
    api = [
        ("/CustomerManagement/{version}/Account/Query", _account),
        (cm + "/Campaigns/QueryByAccountId", _campaigns),
        (cm + "/AdGroups/QueryByCampaignId", _ad_groups),
        (cm + "/Ads/QueryByAdGroupId", _ads),
        (cm + "/ConversionGoals/QueryByIds", _goals),
        ("/Reporting/{version}/GenerateReport/Submit", _submit),
        ("/Reporting/{version}/GenerateReport/Poll", _poll),
    ]
    return [
        Route("/common/oauth2/v2.0/token", _token, methods=["POST"]),
        *(Route(path, handler(NAME, serve, gate=_gate), methods=["POST"]) for path, serve in api),
        Route("/ReportDownloads/{job}.zip", handler(NAME, _download, gate=_blob_gate)),
    ]


# -- errors --------------------------------------------------------------------------------------


def _fault(
    status: int, code: int, error_code: str, message: str, *, kind: str = "AdApiFaultDetail"
) -> Refused:
    """A REST ApplicationFault: ``AdApiFaultDetail`` (Errors) or ``ApiFaultDetail``
    (OperationErrors, BatchErrors)."""
    error = {"Code": code, "ErrorCode": error_code, "Message": message}
    body: dict[str, Any] = {"TrackingId": str(uuid.uuid4()), "Type": kind}
    if kind == "AdApiFaultDetail":
        body["Errors"] = [{**error, "Detail": None, "Type": "AdApiError"}]
    else:
        body["OperationErrors"] = [{**error, "Details": None, "Type": "OperationError"}]
        body["BatchErrors"] = []
    return Refused(JSONResponse(body, status_code=status))


def _invalid(code: int, error_code: str, message: str, kind: str = "ApiFaultDetail") -> Refused:
    return _fault(400, code, error_code, message, kind=kind)


def _blob_error(status: int, code: str, message: str) -> Refused:
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>'
        f"{code}</Code><Message>{message}\nRequestId:{uuid.uuid4()}</Message></Error>"
    )
    return Refused(Response(xml, status, media_type="application/xml"))


# -- the token endpoint and the gate -------------------------------------------------------------


async def _token(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    state.requests[NAME] += 1
    form = await read_form(request)
    if form.get("grant_type") != "refresh_token":
        message = "The app requested an unsupported grant type."
        return _aad(400, "unsupported_grant_type", 70003, message)
    if (form.get("client_id"), form.get("client_secret")) != (
        CREDENTIALS["client_id"],
        CREDENTIALS["client_secret"],
    ):
        return _aad(401, "invalid_client", 7000215, "Invalid client secret provided.")
    if SCOPE not in form.get("scope", "").split():
        return _aad(400, "invalid_scope", 70011, f"The scope must include {SCOPE}.")
    live = state.scratch(NAME).setdefault("refresh_tokens", set())
    used = form.get("refresh_token", "")
    if used != CREDENTIALS["refresh_token"] and used not in live:
        message = "The user could not be authenticated or the grant is expired."
        return _aad(400, "invalid_grant", 70000, message)
    live.discard(used)
    rotated = f"M.C5sbx_BAY.-C{secrets.token_urlsafe(32)}"
    live.add(rotated)
    ttl = int(max(state.faults.token_ttl, 1))
    return JSONResponse(
        {
            "token_type": "Bearer",
            "scope": f"{SCOPE} offline_access",
            "expires_in": ttl,
            "ext_expires_in": ttl,
            "access_token": state.tokens.issue(NAME, CUSTOMER_ID, state.faults.token_ttl),
            "refresh_token": rotated,
        }
    )


def _aad(status: int, error: str, code: int, description: str) -> JSONResponse:
    """An identity-platform error: ``error``, ``error_description`` (AADSTSnnn: ...), codes."""
    body = {"error": error, "error_description": f"AADSTS{code}: {description}"}
    body |= {"error_codes": [code], "trace_id": str(uuid.uuid4())}
    return JSONResponse(body, status_code=status)


async def _gate(request: Request, state: SandboxState) -> None:
    """Faults, version, token, developer token, customer, account and throttle, in order."""
    if failed := await state.faults.before(NAME):
        if failed == 500:
            message = "An internal error has occurred."
            raise _fault(500, 0, "InternalError", message, kind="ApiFaultDetail")
        raise Refused(Response("Service Unavailable", failed, media_type="text/plain"))
    version = request.path_params["version"]
    if version in RETIRED_VERSIONS:
        message = (
            "This version of the Microsoft Ads API is no longer supported. Please migrate to "
            "the latest version of the API. For more details, visit "
            "https://go.microsoft.com/fwlink/?linkid=862106."
        )
        raise _invalid(303, "ApiVersionNoLongerSupported", message, kind="AdApiFaultDetail")
    if version not in CURRENT_VERSIONS:
        raise Refused(Response("Not Found", 404, media_type="text/plain"))
    token = bearer(request)
    if state.tokens.check(NAME, token) is None:
        if token.startswith(f"sbx.{NAME}."):
            message = "Authentication token expired. Please renew it or obtain a new token."
            raise _fault(401, 109, "AuthenticationTokenExpired", message)
        raise _credentials()
    if request.headers.get("developertoken") != CREDENTIALS["developer_token"]:
        raise _credentials()
    account = request.headers.get("customeraccountid", "")
    if request.headers.get("customerid") != CUSTOMER_ID or not state.world.account(NAME, account):
        raise _not_authorized()
    if (wait := state.throttle.take(NAME, account)) is not None:
        refused = _fault(
            429,
            117,
            "CallRateExceeded",
            "You have exceeded the number of calls that you are allowed to make in a minute. "
            "Please reduce the number of calls that you make per minute.",
        )
        refused.response.headers["Retry-After"] = f"{max(wait, 0.01):.3f}"
        raise refused


def _credentials() -> Refused:
    message = (
        "Authentication failed. Either supplied credentials are invalid or the account is inactive"
    )
    return _fault(401, 105, "InvalidCredentials", message)


def _not_authorized() -> Refused:
    message = "The user does not represent a authorized developer."
    return _fault(403, 106, "UserIsNotAuthorized", message)


async def _blob_gate(request: Request, state: SandboxState) -> None:
    if failed := await state.faults.before(NAME):
        message = "The server is currently unable to receive requests."
        raise _blob_error(failed, "ServerBusy", message)
    if "authorization" in request.headers or "developertoken" in request.headers:
        raise _blob_error(
            403,
            "AuthenticationFailed",
            "Server failed to authenticate the request: a pre-signed URL takes no credentials.",
        )


# -- management queries --------------------------------------------------------------------------


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _invalid(100, "NullRequest", "The request message is null.")
    return body


def _ads_of(request: Request, state: SandboxState) -> list[Ad]:
    return state.world.ads_of(NAME, request.headers["customeraccountid"])


async def _account(request: Request, state: SandboxState) -> Response:
    body = await _body(request)
    account = str(body.get("AccountId", ""))
    found = state.world.account(NAME, account)
    if found is None or account != request.headers["customeraccountid"]:
        raise _not_authorized()
    _, spec = found
    values = {
        "BillToCustomerId": int(CUSTOMER_ID),
        "CurrencyCode": spec.currency,
        "AccountFinancialStatus": "ClearFinancialStatus",
        "Id": int(account),
        "Language": "English",
        "Name": spec.name,
        "Number": f"F1{int(account) % 10**6:06d}",
        "ParentCustomerId": int(CUSTOMER_ID),
        "PaymentMethodType": "Invoice",
        "AccountLifeCycleStatus": "Active",
        "TimeZone": ZONES[spec.timezone][0],
        "PauseReason": None,
        "ForwardCompatibilityMap": [],
        "LinkedAgencies": [],
        "AutoTagType": "Inactive",
        "AccountMode": "Expert",
    }
    return json_reply(state, {"Account": values})


def _by(ads: list[Ad], key: str) -> dict[str, Ad]:
    """The first ad of each distinct ``key`` value (campaign_id, ad_group_id), in order."""
    first: dict[str, Ad] = {}
    for ad in ads:
        first.setdefault(getattr(ad, key), ad)
    return first


async def _campaigns(request: Request, state: SandboxState) -> Response:
    body = await _body(request)
    if str(body.get("AccountId")) != request.headers["customeraccountid"]:
        raise _not_authorized()
    if not body.get("CampaignType"):
        raise _invalid(1049, "CampaignServiceCampaignTypeNotSet", "CampaignType is required.")
    campaigns = [
        {
            "BiddingScheme": {"Type": "EnhancedCpc"},
            "BudgetType": "DailyBudgetStandard",
            "DailyBudget": ad.campaign.budget,
            "Id": int(ad.campaign_id),
            "Name": ad.campaign.name,
            "Status": "Active",
            "TimeZone": ZONES[ad.account.timezone][0],
            "CampaignType": "Search" if ad.campaign.objective == "search" else "Shopping",
            "Languages": ["All"],
        }
        for ad in _by(_ads_of(request, state), "campaign_id").values()
    ]
    return json_reply(state, {"Campaigns": campaigns})


async def _ad_groups(request: Request, state: SandboxState) -> Response:
    campaign = str((await _body(request)).get("CampaignId"))
    ads = [a for a in _ads_of(request, state) if a.campaign_id == campaign]
    if not ads:
        raise _invalid(1100, "CampaignServiceInvalidCampaignId", "The campaign ID is invalid.")
    groups = [
        {
            "Id": int(ad.ad_group_id),
            "Name": ad.ad_group_name,
            "Status": "Active",
            "Network": "OwnedAndOperatedAndSyndicatedSearch",
            "CpcBid": {"Amount": round(ad.campaign.cpm / 1000 / ad.campaign.ctr, 2)},
            "Language": None,
        }
        for ad in _by(ads, "ad_group_id").values()
    ]
    return json_reply(state, {"AdGroups": groups})


async def _ads(request: Request, state: SandboxState) -> Response:
    body = await _body(request)
    group, types = str(body.get("AdGroupId")), body.get("AdTypes")
    ads = [a for a in _ads_of(request, state) if a.ad_group_id == group]
    if not ads:
        raise _invalid(1201, "CampaignServiceInvalidAdGroupId", "The ad group ID is invalid.")
    if not isinstance(types, list) or not types:
        raise _invalid(1326, "CampaignServiceAdTypesNotSet", "AdTypes is required.")
    today = state.now().date()
    shaped = [_ad(ad, today) for ad in ads]
    return json_reply(state, {"Ads": [a for a in shaped if a["Type"] in types]})


def _ad(ad: Ad, today: date) -> dict[str, Any]:
    kind = _AD_TYPES.get(ad.campaign.objective, _PRODUCT)[0]
    shaped: dict[str, Any] = {
        "Type": kind,
        "Id": int(ad.ad_id),
        "Status": "Active",
        "EditorialStatus": "Active",
        "DevicePreference": 0,
        "ForwardCompatibilityMap": [],
        "TrackingUrlTemplate": None,
    }
    if kind == "Product":  # its image and link come from the Merchant Center feed
        return shaped | {"PromotionalText": ad.body, "FinalUrls": None}

    def assets(text: str) -> list[dict[str, Any]]:
        asset = {"Id": None, "Name": None, "Type": "TextAsset", "Text": text}
        return [{"Asset": asset, "EditorialStatus": "Active", "PinnedField": None}]

    headline, body = ad.copy_on(today)
    path1, path2 = (*ad.display_paths, None, None)[:2]
    shaped |= {"Headlines": assets(headline), "Descriptions": assets(body)}
    shaped |= {"Path1": path1, "Path2": path2, "Domain": None}
    return shaped | {"FinalUrls": [ad.landing_url]}


async def _goals(request: Request, state: SandboxState) -> Response:
    body = await _body(request)
    if not body.get("ConversionGoalTypes"):
        raise _invalid(5508, "ConversionGoalTypesNotPassed", "ConversionGoalTypes is required.")
    account = request.headers["customeraccountid"]
    client, _ = state.world.account(NAME, account)
    category = "GoalCategory" in str(body.get("ReturnAdditionalFields") or "")
    goals = []
    for action, primary in ((client.primary_action, True), (client.secondary_action, False)):
        name, goal_category = GOALS[action]
        goal = {
            "ConversionWindowInMinutes": 43200,
            "CountType": "All" if action == "purchase" else "Unique",
            "ExcludeFromBidding": not primary,
            "Id": int(_digits(f"{account}/{action}", 9)),
            "Name": name,
            "Revenue": {"Type": "VariableValue" if action == "purchase" else "NoValue"},
            "Scope": "Account",
            "Status": "Active",
            "TagId": int(_digits(account, 8)),
            "TrackingStatus": "Recording",
            "Type": "Event",
            "ActionExpression": action,
            "ActionOperator": "Equals",
        }
        goals.append(goal | ({"GoalCategory": goal_category} if category else {}))
    return json_reply(state, {"ConversionGoals": goals, "PartialErrors": []})


def _digits(key: str, n: int) -> str:
    value = int(hashlib.sha256(key.encode()).hexdigest(), 16) % (9 * 10 ** (n - 1))
    return str(10 ** (n - 1) + value)


# -- reports -------------------------------------------------------------------------------------


def _jobs(state: SandboxState) -> dict[str, _Job]:
    return state.scratch(NAME).setdefault("jobs", {})


async def _submit(request: Request, state: SandboxState) -> Response:
    spec = (await _body(request)).get("ReportRequest")
    if not isinstance(spec, dict) or spec.get("Type") != "AdPerformanceReportRequest":
        # what REST answers when the discriminator is missing (the sandbox serves one type)
        raise _invalid(100, "NullRequest", "The request message is null.")
    account = request.headers["customeraccountid"]
    if [str(a) for a in (spec.get("Scope") or {}).get("AccountIds") or []] != [account]:
        message = "Scope.AccountIds must hold the CustomerAccountId."
        raise _invalid(2004, "InvalidAccountIds", message)
    columns = _columns(spec)
    since, until, zone = _time(spec.get("Time"))
    if (spec.get("Aggregation"), spec.get("Format", "Csv")) != ("Daily", "Csv"):
        message = "The sandbox builds Daily Csv reports."
        raise _invalid(2010, "ReportingServiceInvalidAggregation", message)
    jobs = _jobs(state)
    counter = state.scratch(NAME).setdefault("ids", itertools.count(305_118_000_201, 7_919))
    name = str(spec.get("ReportName") or "")
    job = _Job(str(next(counter)), account, since, until, columns, zone, name)
    jobs[job.id] = job
    return json_reply(state, {"ReportRequestId": job.id})


def _columns(spec: dict[str, Any]) -> list[str]:
    columns = spec.get("Columns")
    if not isinstance(columns, list) or "TimePeriod" not in columns:
        message = "TimePeriod is required."
        raise _invalid(2014, "ReportingServiceRequiredColumnsNotSelected", message)
    unknown = [c for c in columns if c not in COLUMNS]
    if "Goal" in columns and set(columns) & set(_METRICS):
        unknown.append("with Goal, the sandbox serves goal metrics only")  # modelled
    if unknown:
        message = f"Invalid column: {unknown[0]}."
        raise _invalid(2015, "ReportingServiceInvalidReportColumns", message)
    return columns


def _time(time: Any) -> tuple[date, date, str]:
    try:
        start, end = (time[k] for k in ("CustomDateRangeStart", "CustomDateRangeEnd"))
        since, until = (date(d["Year"], d["Month"], d["Day"]) for d in (start, end))
    except (TypeError, KeyError, ValueError):
        message = "CustomDateRangeStart and CustomDateRangeEnd must be dates."
        raise _invalid(2019, "ReportingServiceInvalidCustomDateRange", message) from None
    if until < since:
        message = "The end date is before the start date."
        raise _invalid(2020, "ReportingServiceInvalidCustomDateRangeEnd", message)
    zone = time.get("ReportTimeZone") or "PacificTimeUSCanadaTijuana"  # Microsoft's default
    if zone not in REPORT_TIME_ZONES:
        raise _invalid(2021, "ReportingServiceInvalidTimeZone", f"Invalid ReportTimeZone {zone}.")
    return since, until, zone


async def _poll(request: Request, state: SandboxState) -> Response:
    job = _jobs(state).get(str((await _body(request)).get("ReportRequestId")))
    if job is None or job.account != request.headers["customeraccountid"]:
        raise _invalid(2100, "ReportingServiceInvalidReportId", "The report request ID is invalid.")
    job.polls += 1
    status, url = "Pending", None
    if job.polls >= POLLS_TO_FINISH:
        status = "Error" if (job.until - job.since).days + 1 > MAX_REPORT_DAYS else "Success"
    if status == "Success":
        if job.archive is None:
            job.archive, job.rows = _build(state, job)
        if job.rows:
            root = (
                f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"
            )
            url = f"{root}/ReportDownloads/{job.id}.zip?{_signed(job.id)}"
    return json_reply(state, {"ReportRequestStatus": {"ReportDownloadUrl": url, "Status": status}})


def _signed(job_id: str) -> str:
    sig = hashlib.sha256(f"{CREDENTIALS['client_secret']}/{job_id}".encode()).hexdigest()[:43]
    return f"sv=2023-11-03&se=2026-12-31T00%3A00%3A00Z&sr=b&sp=r&sig={sig}"


async def _download(request: Request, state: SandboxState) -> Response:
    job = _jobs(state).get(request.path_params["job"])
    if job is None or job.archive is None or request.url.query != _signed(job.id):
        raise _blob_error(403, "AuthenticationFailed", "Signature did not match.")
    payload = state.faults.truncate(job.archive)
    return Response(payload, media_type="application/x-zip-compressed")


def _build(state: SandboxState, job: _Job) -> tuple[bytes, int]:
    """The job's ZIP (one CSV with Microsoft's preamble and footer) and its row count."""
    records = state.rows(NAME, job.account, job.since, job.until)
    today = state.now().date()
    ads = state.world.ad
    rows = [v for r in records for v in _values(r, ads(r["ad_id"]), job.columns, today)]
    label = next((label for name, label in ZONES.values() if name == job.zone), job.zone)
    stamp = _stamp(state.now())
    preamble = [
        f"Report Name: {job.name}",
        f"Report Time: {_us(job.since)},{_us(job.until)}",
        f"Time Zone: {label}",
        f"Last Completed Available Day: {stamp} (GMT)",
        f"Last Completed Available Hour: {stamp} (GMT)",
        "Report Aggregation: Daily",
        "Report Filter: ",
        "Potential Incomplete Data: true",
        f"Rows: {len(rows)}",
    ]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerows([[line] for line in preamble])
    out.write("\r\n")
    writer.writerows([job.columns, *([row[c] for c in job.columns] for row in rows)])
    out.write("\r\n")
    writer.writerow([f"©{state.now().year} Microsoft Corporation. All rights reserved. "])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{job.id}.csv", "\ufeff" + out.getvalue())
    return buffer.getvalue(), len(rows)


def _values(record: dict, ad: Ad, columns: list[str], today: date) -> list[dict[str, str]]:
    """The CSV rows of one day x ad: one, or one per goal with conversions for Goal reports.
    The ad's attributes are as they read ``today``, whatever day the row is about."""
    kind = _AD_TYPES.get(ad.campaign.objective, _PRODUCT)
    headline, body = ad.copy_on(today)
    row = {
        "TimePeriod": record["date"].isoformat(),
        "AccountId": ad.account.account_id,
        "AccountName": ad.account.name,
        "AccountNumber": f"F1{int(ad.account.account_id) % 10**6:06d}",
        "CampaignId": ad.campaign_id,
        "CampaignName": ad.campaign.name,
        "CampaignType": "Search & content" if kind != _PRODUCT else "Shopping",
        "AdGroupId": ad.ad_group_id,
        "AdGroupName": ad.ad_group_name,
        "AdId": ad.ad_id,
        "AdTitle": headline,
        "AdDescription": body,
        "AdType": kind[1],
        "FinalUrl": ad.landing_url if kind != _PRODUCT else "",
        "CurrencyCode": ad.account.currency,
        "Impressions": str(record["impressions"]),
        "Clicks": str(record["clicks"]),
        "Spend": _major(record["spend_micros"]),
        "Conversions": "0",
        "ConversionsQualified": f"{record['conversions']}.00",
        "Revenue": _major(record["value_micros"]),
    }
    if "Goal" not in columns:
        return [row]
    goals = (
        (ad.client.primary_action, record["conversions"], record["value_micros"]),
        (ad.client.secondary_action, record["secondary_actions"], 0),
    )
    return [
        row
        | {"Goal": GOALS[action][0], "GoalType": "Event"}
        | {"AllConversionsQualified": f"{count}.00", "AllRevenue": _major(value)}
        for action, count, value in goals
        if count
    ]


def _major(micros: int) -> str:
    return f"{Decimal(micros // 10_000) / 100:.2f}"


def _us(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def _stamp(moment: datetime) -> str:
    """Microsoft's preamble time: 11/24/2026 9:15:00 AM."""
    hour = moment.hour % 12 or 12
    return f"{_us(moment.date())} {hour}:{moment:%M:%S} {'AM' if moment.hour < 12 else 'PM'}"
