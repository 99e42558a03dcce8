"""Amazon Ads as the sandbox speaks it: LWA tokens, profiles, Reporting v3 jobs, S3 downloads.

Served under ``/amazon_ads`` in place of every Amazon host:

- ``POST /auth/o2/token`` (api.amazon.com): the Login with Amazon refresh grant, client
  credentials as form fields or HTTP Basic; errors ``{"error", "error_description"}``;
- ``GET /v2/profiles``: the advertising profiles of the catalog's amazon_ads accounts;
- ``POST /reporting/reports`` (``application/vnd.createasyncreportrequest.v3+json``): an
  ``spAdvertisedProduct`` DAILY GZIP_JSON report of at most 31 days. An identical request while
  the first is unfinished answers ``425 "The Request is a duplicate of : <id>"``; an older
  media-type version answers 410, an unknown one 415;
- ``GET /reporting/reports/{id}``: PENDING at the first poll (PROCESSING while the
  ``pending_polls`` knob holds it), then COMPLETED with a ``url`` pre-signed for an hour on
  ``S3_HOST`` (FAILED instead while the ``fail_reports`` knob is set);
- ``GET /s3/{key}`` (the S3 host, rebased): the gzip JSON array, checked as S3 checks a
  pre-signed URL: an ``Authorization`` header as well is 400 InvalidArgument, a tampered URL 403
  SignatureDoesNotMatch, an expired one 403 AccessDenied, each as S3's XML ``<Error>``;
- ``POST /sp/productAds/list`` (``maxResults``/``nextToken`` in the body) and
  ``POST /product/metadata`` (title and image of up to 300 ASINs).

API calls need ``Amazon-Advertising-API-ClientId`` (400 without), a live LWA token (401
"HTTP 401 Unauthorized") and, where profile-scoped, an ``Amazon-Advertising-API-Scope`` the
login may use (401 "Not authorized to access scope"). Throttled calls answer 429 ``{"message":
"Too Many Requests"}`` with ``Retry-After``, except report creation, which gives none
(amzn/ads-advanced-tools-docs#344). Faults: 500/502/503 ``{"code", "details"}``; the token
endpoint is spared. Knobs live in ``state.scratch("amazon_ads")``.

Numbers: cost and sales are major-unit numbers, ids integers. ``purchases7d``/``sales7d`` are
the world's conversions and value (a seller's default window); 1d = 3/4, 14d = 11/10 of 7d and
30d = 21/20 of 14d, rounded down (1d <= 7d <= 14d <= 30d), sales scaled in whole cents. The
world's secondary action has no Sponsored Products metric and is not reported. Each ad
advertises its own ASIN, derived from its creative id.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import itertools
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.sandbox.assets import asset_url
from generator.sandbox.common import Refused, bearer, handler, json_reply, read_form
from generator.sandbox.state import SandboxState
from generator.sandbox.world import Ad

__all__ = ["CREDENTIALS", "ENVIRONMENT", "MAX_DAYS", "S3_HOST", "asin_of", "routes"]

PLATFORM = "amazon_ads"
CREDENTIALS = {
    "client_id": "amzn1.application-oa2-client.5a4db0c1e2f34d5e6sandbox",
    "client_secret": "amzn1.oa2-cs.v1.c2FuZGJveC1hbWF6b24tc2VjcmV0LWtleQ",
    "refresh_token": "Atzr|IwEBISandboxRefreshTokenTm90UmVhbGx5VmFsaWQ",
}
ENVIRONMENT = {f"AMAZON_ADS_{name.upper()}": value for name, value in CREDENTIALS.items()}
S3_HOST = "https://offline-report-storage-us-east-1-prod.s3.amazonaws.com"
REPORT_MEDIA = re.compile(r"application/vnd\.createasyncreportrequest\.v(\d+)\+json")
CURRENT_REPORTING = 3
PRODUCT_ADS_MEDIA = "application/vnd.spproductad.v3+json"  # media types are case-insensitive
METADATA_MEDIA = "application/vnd.productmetadatarequest.v1+json"
MAX_DAYS, MAX_RESULTS, MAX_ASINS, URL_TTL = 31, 5000, 300, 3600
PENDING_POLLS = 1  # polls a report answers PENDING before it is COMPLETED
WINDOWS = ("1d", "7d", "14d", "30d")
COLUMNS = frozenset(
    (
        *("date", "campaignId", "campaignName", "adGroupId", "adGroupName", "adId"),
        *("advertisedAsin", "advertisedSku", "campaignBudgetCurrencyCode", "campaignStatus"),
        *("impressions", "clicks", "cost", "spend", "costPerClick", "clickThroughRate"),
        *(f"{m}{w}" for w in WINDOWS for m in ("purchases", "sales", "unitsSoldClicks")),
    )
)
CONFIGURATION = {
    "adProduct": "SPONSORED_PRODUCTS",
    "reportTypeId": "spAdvertisedProduct",
    "groupBy": ["advertiser"],
    "timeUnit": "DAILY",
    "format": "GZIP_JSON",
}
_MARKETS = {"USD": ("US", "ATVPDKIKX0DER"), "EUR": ("DE", "A1PA6795UKMFR9")}
_SIGNING_KEY = b"sandbox-offline-report-storage"
_FAULTS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class _Report:
    id: str
    profile: str
    since: date
    until: date
    request: dict[str, Any]
    created: datetime
    polls: int = 0
    status: str = "PENDING"
    body: bytes | None = field(default=None, repr=False)


def routes() -> list[Route]:
    return [
        Route("/auth/o2/token", handler(PLATFORM, _token), methods=["POST"]),
        Route("/v2/profiles", handler(PLATFORM, _profiles, gate=_gate), methods=["GET"]),
        Route("/reporting/reports", handler(PLATFORM, _create, gate=_gate), methods=["POST"]),
        Route("/reporting/reports/{report_id}", handler(PLATFORM, _poll, gate=_gate)),
        Route("/s3/{key:path}", handler(PLATFORM, _download), methods=["GET"]),
        Route("/sp/productAds/list", handler(PLATFORM, _product_ads, gate=_gate), methods=["POST"]),
        Route("/product/metadata", handler(PLATFORM, _metadata, gate=_gate), methods=["POST"]),
    ]


def asin_of(ad: Ad) -> str:
    """The ASIN the sandbox gives an ad's product (10 characters, B0 and base 36)."""
    number = int(hashlib.sha256(ad.creative_id.encode()).hexdigest()[:12], 16)
    digits = "".join("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[number // 36**i % 36] for i in range(8))
    return f"B0{digits}"


def _sku(ad: Ad) -> str:
    return f"{ad.client.slug[:2].upper()}-{ad.ad_id[-6:]}"


def _error(status: int, message: str, *, code: str = "", key: str = "details") -> Refused:
    """Amazon's error shape: ``{"code", "details"}`` (``"detail"`` from the reporting API)."""
    return Refused(JSONResponse({"code": code or str(status), key: message}, status_code=status))


async def _gate(request: Request, state: SandboxState) -> None:
    if failed := await state.faults.before(PLATFORM):
        raise _error(failed, _FAULTS[failed])
    client = request.headers.get("amazon-advertising-api-clientid", "")
    if client != CREDENTIALS["client_id"]:
        raise _error(400, "Missing or invalid Amazon-Advertising-API-ClientId header")  # verify
    if state.tokens.check(PLATFORM, bearer(request).removeprefix("Atza|")) is None:
        raise _error(401, "HTTP 401 Unauthorized", code="UNAUTHORIZED")
    if (wait := state.throttle.take(PLATFORM, client)) is not None:
        creating = request.method == "POST" and request.url.path.endswith("/reporting/reports")
        headers = {} if creating else {"Retry-After": str(max(1, math.ceil(wait)))}
        raise Refused(JSONResponse({"message": "Too Many Requests"}, 429, headers=headers))


def _scope(request: Request, state: SandboxState) -> str:
    profile = request.headers.get("amazon-advertising-api-scope", "")
    if state.world.account(PLATFORM, profile) is None:
        raise _error(401, f"Not authorized to access scope {profile}", code="UNAUTHORIZED")
    return profile


async def _token(request: Request, state: SandboxState) -> Response:
    form = await read_form(request)
    client = _client(form, request.headers.get("authorization", ""))
    refusal = None
    if form.get("grant_type") != "refresh_token":
        refusal = (400, "unsupported_grant_type", "The authorization grant type is not supported")
    elif client != (CREDENTIALS["client_id"], CREDENTIALS["client_secret"]):
        refusal = (401, "invalid_client", "Client authentication failed")
    elif form.get("refresh_token") != CREDENTIALS["refresh_token"]:
        refusal = (
            400,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        )
    if refusal:
        status, error, description = refusal
        return JSONResponse({"error_description": description, "error": error}, status)
    ttl = state.faults.token_ttl
    token = "Atza|" + state.tokens.issue(PLATFORM, client[0], ttl)  # LWA's access token prefix
    body = {"access_token": token, "refresh_token": form["refresh_token"], "token_type": "bearer"}
    return JSONResponse(body | {"expires_in": int(max(ttl, 1))})


def _client(form: dict[str, str], header: str) -> tuple[str | None, str | None]:
    """The client id and secret, from HTTP Basic or else the form."""
    if header[:6].lower() != "basic ":
        return form.get("client_id"), form.get("client_secret")
    try:
        client_id, _, secret = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, None
    return client_id, secret


async def _profiles(request: Request, state: SandboxState) -> Response:
    accounts = [a for _, a in state.world.accounts if a.source == PLATFORM]
    profiles = []
    for account in accounts:
        country, marketplace = _MARKETS.get(account.currency, ("US", "ATVPDKIKX0DER"))
        info = {"marketplaceStringId": marketplace, "id": f"A{account.account_id[:13]}"}
        info |= {"type": "seller", "name": account.name, "validPaymentMethod": True}
        profiles.append(
            {
                "profileId": int(account.account_id),
                "countryCode": country,
                "currencyCode": account.currency,
                "dailyBudget": 999999999.0,
                "timezone": account.timezone,
                "accountInfo": info,
            }
        )
    return json_reply(state, profiles)


# -- reports ---------------------------------------------------------------------------------


def _store(state: SandboxState) -> dict[str, Any]:
    store = state.scratch(PLATFORM)
    store.setdefault("reports", {})
    store.setdefault("open", {})  # request signature -> id of an unfinished report
    store.setdefault("ids", itertools.count(1))
    return store


def _check_media(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    match = REPORT_MEDIA.fullmatch(media)
    if match and int(match.group(1)) < CURRENT_REPORTING:  # the retirement answer is 'verify'
        message = f"Reporting version {match.group(1)} is no longer supported; use version 3"
        raise _error(410, message, key="detail")
    if not match or int(match.group(1)) != CURRENT_REPORTING:
        raise _error(415, f"Unsupported Media Type: {media or 'none'}", key="detail")


def _validate(body: Any) -> tuple[date, date]:
    """The report's dates; raises the platform's 400 for anything the sandbox cannot build."""
    if not isinstance(body, dict) or not isinstance(body.get("configuration"), dict):
        raise _error(400, "configuration is required", key="detail")
    try:
        since, until = date.fromisoformat(body["startDate"]), date.fromisoformat(body["endDate"])
    except (KeyError, TypeError, ValueError):
        raise _error(
            400, "startDate and endDate must be dates (YYYY-MM-DD)", key="detail"
        ) from None
    if until < since or (until - since).days + 1 > MAX_DAYS:
        message = f"Invalid date range {since}..{until}: at most {MAX_DAYS} days, end after start"
        raise _error(400, message, key="detail")
    config = body["configuration"]
    for key, value in CONFIGURATION.items():
        if config.get(key) != value:
            raise _error(400, f"configuration {key} must be {value} in the sandbox", key="detail")
    columns = config.get("columns")
    bad = [c for c in columns if c not in COLUMNS] if isinstance(columns, list) else [columns]
    if bad or not columns:
        allowed = ", ".join(sorted(COLUMNS))
        message = (
            f"configuration columns includes invalid values: ({bad}). Allowed values: ({allowed})"
        )
        raise _error(400, message, key="detail")
    return since, until


async def _create(request: Request, state: SandboxState) -> Response:
    profile = _scope(request, state)
    _check_media(request)
    try:
        body = await request.json()
    except ValueError:
        raise _error(400, "The request body is not valid JSON", key="detail") from None
    since, until = _validate(body)
    store = _store(state)
    signature = json.dumps(
        [profile, {k: v for k, v in body.items() if k != "name"}], sort_keys=True
    )
    existing = store["open"].get(signature)
    if existing and store["reports"][existing].status not in ("COMPLETED", "FAILED"):
        raise _error(425, f"The Request is a duplicate of : {existing}", key="detail")
    number = next(store["ids"])
    report_id = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{signature}/{number}"))
    report = _Report(report_id, profile, since, until, body, state.now())
    store["reports"][report_id], store["open"][signature] = report, report_id
    return json_reply(state, _describe(report))


async def _poll(request: Request, state: SandboxState) -> Response:
    profile, store = _scope(request, state), _store(state)
    report = store["reports"].get(request.path_params["report_id"])
    if report is None or report.profile != profile:
        raise _error(404, "Report not found", key="detail")
    report.polls += 1
    if report.status not in ("COMPLETED", "FAILED"):
        held = int(store.get("pending_polls", PENDING_POLLS))
        if store.get("fail_reports"):
            report.status = "FAILED"
        elif report.polls <= held:
            report.status = "PENDING" if report.polls == 1 else "PROCESSING"
        else:
            report.status = "COMPLETED"
            report.body = gzip.compress(json.dumps(_rows(state, report)).encode(), 5)
    return json_reply(state, _describe(report, state.now()))


def _describe(report: _Report, now: datetime | None = None) -> dict[str, Any]:
    stamp = report.created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    body = {
        "configuration": {**report.request["configuration"], "filters": None},
        "createdAt": stamp,
        "endDate": report.until.isoformat(),
        "failureReason": None,
        "fileSize": None,
        "generatedAt": None,
        "name": report.request.get("name"),
        "reportId": report.id,
        "startDate": report.since.isoformat(),
        "status": report.status,
        "updatedAt": (now or report.created).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "url": None,
        "urlExpiresAt": None,
    }
    if report.status == "FAILED":
        body["failureReason"] = "Report generation failed due to an internal error. Please retry."
    if report.status == "COMPLETED" and now is not None:
        expires = now + timedelta(seconds=URL_TTL)
        body |= {"fileSize": len(report.body or b""), "generatedAt": stamp}
        body |= {"url": _presign(f"{report.id}.json.gz", now), "urlExpiresAt": expires.isoformat()}
    return body


def _rows(state: SandboxState, report: _Report) -> list[dict[str, Any]]:
    """The report's records: one per day and ad, with exactly the requested columns."""
    ads = {ad.ad_id: ad for ad in state.world.ads_of(PLATFORM, report.profile)}
    columns = report.request["configuration"]["columns"]
    rows = state.rows(PLATFORM, report.profile, report.since, report.until)
    return [_record(r, ads[r["ad_id"]], columns) for r in rows]


def _record(row: dict[str, Any], ad: Ad, columns: list[str]) -> dict[str, Any]:
    cost = row["spend_micros"] // 10_000
    values = {
        "date": row["date"].isoformat(),
        "campaignId": int(ad.campaign_id),
        "campaignName": ad.campaign.name,
        "adGroupId": int(ad.ad_group_id),
        "adGroupName": ad.ad_group_name,
        "adId": int(ad.ad_id),
        "advertisedAsin": asin_of(ad),
        "advertisedSku": _sku(ad),
        "campaignBudgetCurrencyCode": ad.account.currency,
        "campaignStatus": "ENABLED",
        "impressions": row["impressions"],
        "clicks": row["clicks"],
        "cost": cost / 100,
        "spend": cost / 100,
        "costPerClick": round(cost / 100 / row["clicks"], 2) if row["clicks"] else 0.0,
        "clickThroughRate": round(row["clicks"] / row["impressions"], 4),
    }
    values |= _windows(row["conversions"], row["value_micros"] // 10_000)
    return {c: values[c] for c in columns}


def _windows(purchases: int, cents: int) -> dict[str, Any]:
    counts = {"1d": purchases - purchases // 4, "7d": purchases, "14d": purchases + purchases // 10}
    counts["30d"] = counts["14d"] + counts["14d"] // 20
    out: dict[str, Any] = {}
    for window, count in counts.items():
        worth = cents * count // purchases if purchases and window != "7d" else cents
        out |= {f"purchases{window}": count, f"sales{window}": worth / 100}
        out[f"unitsSoldClicks{window}"] = count + count // 3  # some orders hold two units
    return out


# -- S3 --------------------------------------------------------------------------------------


def _signature(key: str, stamp: str) -> str:
    message = f"{key}\n{stamp}\n{URL_TTL}".encode()
    return hmac.new(_SIGNING_KEY, message, hashlib.sha256).hexdigest()


def _presign(key: str, now: datetime) -> str:
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    credential = f"ASIASANDBOXOFFLINE/{stamp[:8]}/us-east-1/s3/aws4_request".replace("/", "%2F")
    query = f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={stamp}&X-Amz-SignedHeaders=host"
    query += f"&X-Amz-Expires={URL_TTL}&X-Amz-Credential={credential}"
    return f"{S3_HOST}/{key}?{query}&X-Amz-Signature={_signature(key, stamp)}"


def _s3_error(status: int, code: str, message: str) -> Response:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    )
    return Response(xml, status_code=status, media_type="application/xml")


async def _download(request: Request, state: SandboxState) -> Response:
    if failed := await state.faults.before(PLATFORM):
        return _s3_error(failed, "InternalError", "We encountered an internal error.")
    if "authorization" in request.headers:
        message = (
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be specified"
        )
        return _s3_error(400, "InvalidArgument", message)
    key, query = request.path_params["key"], request.query_params
    report = _store(state)["reports"].get(key.removesuffix(".json.gz"))
    if report is None or report.body is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    stamp = query.get("X-Amz-Date", "")
    if not hmac.compare_digest(query.get("X-Amz-Signature", ""), _signature(key, stamp)):
        message = "The request signature we calculated does not match the signature you provided."
        return _s3_error(403, "SignatureDoesNotMatch", message)
    signed = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=state.now().tzinfo)
    if state.now() > signed + timedelta(seconds=URL_TTL):
        return _s3_error(403, "AccessDenied", "Request has expired")
    body = state.faults.truncate(report.body)
    return Response(body, media_type="binary/octet-stream")


# -- entities --------------------------------------------------------------------------------


def _check(request: Request, media: str) -> None:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != media:
        raise _error(415, f"Content-Type must be {media}", code="UNSUPPORTED_MEDIA_TYPE")


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _error(400, "The request body is not a JSON object", code="INVALID_ARGUMENT")
    return body


async def _product_ads(request: Request, state: SandboxState) -> Response:
    """``/sp/productAds/list``: the profile's product ads, paged by an opaque ``nextToken``."""
    profile = _scope(request, state)
    _check(request, PRODUCT_ADS_MEDIA)
    body = await _json_body(request)
    try:
        size = int(body.get("maxResults", MAX_RESULTS))
        token = str(body.get("nextToken") or "")
        offset = int(base64.b64decode(token, b"-_", validate=True).decode()) if token else 0
    except (TypeError, ValueError, UnicodeDecodeError):
        raise _error(400, "maxResults or nextToken is not valid", code="INVALID_ARGUMENT") from None
    if not 1 <= size <= MAX_RESULTS:
        raise _error(400, f"maxResults must be 1 to {MAX_RESULTS}", code="INVALID_ARGUMENT")
    ads = state.world.ads_of(PLATFORM, profile)
    page = [_product_ad(ad) for ad in ads[offset : offset + size]]
    answer: dict[str, Any] = {"productAds": page, "totalResults": len(ads)}
    if offset + size < len(ads):
        answer["nextToken"] = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
    return json_reply(state, answer)


def _product_ad(ad: Ad) -> dict[str, Any]:
    return {
        "adId": ad.ad_id,
        "adGroupId": ad.ad_group_id,
        "campaignId": ad.campaign_id,
        "asin": asin_of(ad),
        "sku": _sku(ad),
        "state": "ENABLED",
        "extendedData": {"servingStatus": "AD_ELIGIBLE"},
    }


async def _metadata(request: Request, state: SandboxState) -> Response:
    """``/product/metadata``: title, image and price of the profile's products by ASIN."""
    profile = _scope(request, state)
    _check(request, METADATA_MEDIA)
    body = await _json_body(request)
    asins = body.get("asins")
    if not isinstance(asins, list) or not 1 <= len(asins) <= MAX_ASINS:
        raise _error(400, f"asins must list 1 to {MAX_ASINS} ASINs", code="INVALID_ARGUMENT")
    known = {asin_of(ad): ad for ad in state.world.ads_of(PLATFORM, profile)}
    size, index = int(body.get("pageSize") or MAX_ASINS), int(body.get("pageIndex") or 0)
    found = [known[a] for a in asins if a in known][index * size : (index + 1) * size]
    return json_reply(state, {"ProductMetadataList": [_product(request, ad) for ad in found]})


def _product(request: Request, ad: Ad) -> dict[str, Any]:
    return {
        "asin": asin_of(ad),
        "sku": _sku(ad),
        "title": ad.headline,
        "imageUrl": asset_url(request, ad),
        "brand": ad.client.name,
        "availability": "IN_STOCK",
        "eligibilityStatus": "ELIGIBLE",
        "priceToPay": {"amount": float(ad.campaign.aov), "currency": ad.account.currency},
    }
