"""Google Ads API as the sandbox speaks it: OAuth token endpoint and ``googleAds:searchStream``.

Served under ``/google_ads``: ``POST /token`` (refresh-token grant, like oauth2.googleapis.com)
and ``POST /{version}/customers/{customer_id}/googleAds:searchStream`` with a GAQL query. The
answer is Google's REST shape: a JSON array of batches ``{results, fieldMask, requestId}``,
int64 values as strings, proto3 zero values omitted, errors as ``{"error": {code, message,
status, details: [GoogleAdsFailure]}}``. The GAQL subset understood: SELECT of the fields in
``FIELDS`` FROM ad_group_ad, WHERE on ``segments.date`` (BETWEEN, =, >=, <=) and filters on
status or impressions (accepted, not applied); anything else is a QUERY_ERROR like Google's.

Ads are read as they are on the sandbox's day (``SandboxState.now``): copy that the world
rewrites over time (``Ad.copy_on``) comes back as it reads that day. Responsive search ads
carry ``path1``/``path2``, the display URL's paths after the final URL's domain
(developers.google.com/google-ads/api/reference/rpc/latest/ResponsiveSearchAdInfo).
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pyarrow.compute as pc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.sandbox import gaql
from generator.sandbox.assets import asset_kind, size_of
from generator.sandbox.common import bearer, read_form
from generator.sandbox.gaql import QueryError
from generator.sandbox.state import SandboxState
from generator.sandbox.world import Ad

__all__ = [
    "CREDENTIALS",
    "CURRENT_VERSIONS",
    "ENVIRONMENT",
    "GOOGLE_MANAGER_ID",
    "RETIRED_VERSIONS",
    "routes",
]

GOOGLE_MANAGER_ID = "9990001111"
CREDENTIALS = {
    "developer_token": "sbx-dev-Q2xlYXJseVNhbmRib3g",
    "client_id": "sandbox-client.apps.googleusercontent.com",
    "client_secret": "sbx-secret-R29vZ2xlU2FuZGJveA",
    "refresh_token": "1//sbx-refresh-TmV2ZXJSZWFsbHlWYWxpZA",
    "login_customer_id": GOOGLE_MANAGER_ID,
}
ENVIRONMENT = {
    "GOOGLE_ADS_DEVELOPER_TOKEN": CREDENTIALS["developer_token"],
    "GOOGLE_ADS_CLIENT_ID": CREDENTIALS["client_id"],
    "GOOGLE_ADS_CLIENT_SECRET": CREDENTIALS["client_secret"],
    "GOOGLE_ADS_REFRESH_TOKEN": CREDENTIALS["refresh_token"],
}

CURRENT_VERSIONS = {"v24", "v25", "v26"}
RETIRED_VERSIONS = {f"v{n}" for n in range(14, 24)}
BATCH_ROWS = 10_000
_FAILURE_TYPE_PREFIX = "type.googleapis.com/google.ads.googleads"
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
}


def _ad_type(ad: Ad) -> str:
    return "RESPONSIVE_SEARCH_AD" if ad.campaign.objective == "search" else "RESPONSIVE_DISPLAY_AD"


def _texts(kind: str, part: int) -> Any:
    """The getter of a responsive ad's headlines (part 0) or descriptions (1) on a day."""

    def get(ad: Ad, day: date) -> list[dict[str, str]] | None:
        if (_ad_type(ad) == "RESPONSIVE_SEARCH_AD") != (kind == "search"):
            return None
        return [{"text": ad.copy_on(day)[part]}]

    return get


def _path(index: int) -> Any:
    """The getter of a responsive search ad's path1 (index 0) or path2 (1)."""

    def get(ad: Ad) -> str | None:
        paths = ad.display_paths
        return paths[index] if index < len(paths) else None

    return get


#: GAQL field -> (kind, how to get it). Kinds: attr (from the ad), copy (from the ad on the
#: sandbox's day), metric (truth column).
FIELDS: dict[str, tuple[str, Any]] = {
    "segments.date": ("segment", None),
    "customer.id": ("attr", lambda ad: ad.account.account_id),
    "customer.descriptive_name": ("attr", lambda ad: ad.account.name),
    "customer.currency_code": ("attr", lambda ad: ad.account.currency),
    "customer.time_zone": ("attr", lambda ad: ad.account.timezone),
    "campaign.id": ("attr", lambda ad: ad.campaign_id),
    "campaign.name": ("attr", lambda ad: ad.campaign.name),
    "campaign.status": ("attr", lambda ad: "ENABLED"),
    "ad_group.id": ("attr", lambda ad: ad.ad_group_id),
    "ad_group.name": ("attr", lambda ad: ad.ad_group_name),
    "ad_group_ad.status": ("attr", lambda ad: "ENABLED"),
    "ad_group_ad.ad.id": ("attr", lambda ad: ad.ad_id),
    "ad_group_ad.ad.name": ("attr", lambda ad: ad.name),
    "ad_group_ad.ad.type": ("attr", _ad_type),
    "ad_group_ad.ad.final_urls": ("attr", lambda ad: [ad.landing_url]),
    "ad_group_ad.ad.responsive_search_ad.headlines": ("copy", _texts("search", 0)),
    "ad_group_ad.ad.responsive_search_ad.descriptions": ("copy", _texts("search", 1)),
    "ad_group_ad.ad.responsive_search_ad.path1": ("attr", _path(0)),
    "ad_group_ad.ad.responsive_search_ad.path2": ("attr", _path(1)),
    "ad_group_ad.ad.responsive_display_ad.headlines": ("copy", _texts("display", 0)),
    "ad_group_ad.ad.responsive_display_ad.descriptions": ("copy", _texts("display", 1)),
    "ad_group_ad.ad.responsive_display_ad.marketing_images": (
        "attr",
        lambda ad: (
            [{"asset": f"customers/{ad.account.account_id}/assets/{ad.creative_id}"}]
            if asset_kind(ad) != "none"
            else None
        ),
    ),
    "metrics.impressions": ("metric", ("impressions", "int64")),
    "metrics.clicks": ("metric", ("clicks", "int64")),
    "metrics.cost_micros": ("metric", ("spend_micros", "int64")),
    "metrics.conversions": ("metric", ("conversions", "double")),
    "metrics.conversions_value": ("metric", ("value_micros", "money")),
    "segments.conversion_action_category": ("segment", None),
    "metrics.all_conversions": ("metric", ("all_conversions", "double")),
    "metrics.all_conversions_value": ("metric", ("all_value_micros", "money")),
}
_CATEGORIES = {
    "purchase": "PURCHASE",
    "add_to_cart": "ADD_TO_CART",
    "lead": "SUBMIT_LEAD_FORM",
    "signup": "SIGNUP",
    "contact": "CONTACT",
}
_ASSET_FIELDS = (
    "asset.resource_name",
    "asset.id",
    "asset.type",
    "asset.image_asset.full_size.url",
    "asset.image_asset.full_size.width_pixels",
    "asset.image_asset.full_size.height_pixels",
)
_CUSTOMER_FIELDS = (
    "customer.id",
    "customer.descriptive_name",
    "customer.currency_code",
    "customer.time_zone",
)


def routes() -> list[Route]:
    return [
        Route("/token", _token, methods=["POST"]),
        Route(
            "/{version}/customers/{customer_id}/googleAds:searchStream",
            _search_stream,
            methods=["POST"],
        ),
    ]


async def _token(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    form = await read_form(request)
    expected = CREDENTIALS
    if form.get("grant_type") != "refresh_token":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    if (form.get("client_id"), form.get("client_secret")) != (
        expected["client_id"],
        expected["client_secret"],
    ):
        return JSONResponse(
            {"error": "invalid_client", "error_description": "Unauthorized"}, status_code=401
        )
    if form.get("refresh_token") != expected["refresh_token"]:
        return JSONResponse(
            {"error": "invalid_grant", "error_description": "Bad Request"}, status_code=400
        )
    ttl = state.faults.token_ttl
    token = state.tokens.issue("google_ads", str(form["client_id"]), ttl)
    return JSONResponse(
        {
            "access_token": token,
            "expires_in": int(max(ttl, 1)),
            "scope": "https://www.googleapis.com/auth/adwords",
            "token_type": "Bearer",
        }
    )


async def _search_stream(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    state.requests["google_ads"] += 1
    version = request.path_params["version"]
    if failed := await state.faults.before("google_ads"):
        return _error(failed, "The service is currently unavailable.", version)
    if problem := _check_access(request, state, version):
        return problem
    try:
        body = await request.json()
        origin = f"{request.url.scheme}://{request.url.netloc}"
        rows = _run(state, request.path_params["customer_id"], str(body["query"]), origin)
    except (QueryError, KeyError, TypeError, ValueError) as exc:
        return _error(400, f"Error in query: {exc}", version, {"queryError": "BAD_VALUE"})
    field_mask = ",".join(gaql.fields(str(body["query"])))
    batches = [
        {"results": rows[i : i + BATCH_ROWS], "fieldMask": field_mask, "requestId": _rid()}
        for i in range(0, len(rows), BATCH_ROWS)
    ] or [{"fieldMask": field_mask, "requestId": _rid()}]
    payload = state.faults.truncate(json.dumps(batches).encode())
    return Response(payload, media_type="application/json")


def _check_access(request: Request, state: SandboxState, version: str) -> Response | None:
    if version in RETIRED_VERSIONS:
        return _error(
            400,
            f" Version {version} is deprecated. Requests to this version will be blocked.",
            version,
            {"requestError": "UNSUPPORTED_VERSION"},
        )
    if version not in CURRENT_VERSIONS:
        return _error(404, f"The requested URL /{version}/ was not found on this server.", version)
    if state.tokens.check("google_ads", bearer(request)) is None:
        return _error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 "
            "access token, login cookie or other valid authentication credential.",
            version,
        )
    dev_token = request.headers.get("developer-token")
    if dev_token != CREDENTIALS["developer_token"]:
        return _error(
            401,
            "The developer token is not valid.",
            version,
            {"authenticationError": "DEVELOPER_TOKEN_INVALID"},
        )
    wait = state.throttle.take("google_ads", dev_token)
    if wait is not None:
        return _error(
            429,
            "Too many requests. Retry in a moment.",
            version,
            {"quotaError": "RESOURCE_EXHAUSTED"},
            {
                "quotaErrorDetails": {
                    "rateScope": "DEVELOPER",
                    "rateName": "Requests per developer token",
                    "retryDelay": f"{max(wait, 0.05):.3f}s",
                }
            },
        )
    customer = request.path_params["customer_id"]
    if state.world.account("google_ads", customer) is None:
        return _error(
            400,
            "The customer id is not valid or not found.",
            version,
            {"requestError": "INVALID_CUSTOMER_ID"},
        )
    if request.headers.get("login-customer-id") != GOOGLE_MANAGER_ID:
        return _error(
            403,
            "User doesn't have permission to access customer. Note: If you're "
            "accessing a client customer, the manager's customer id must be set in "
            "the 'login-customer-id' header.",
            version,
            {"authorizationError": "USER_PERMISSION_DENIED"},
        )
    return None


def _run(state: SandboxState, customer: str, query: str, origin: str) -> list[dict]:
    fields = gaql.fields(query)
    resource = gaql.resource(query)
    if resource == "customer":
        return _customer(state, customer, fields)
    if resource == "asset":
        return _image_assets(state, customer, fields, origin)
    if resource != "ad_group_ad":
        raise QueryError(f"resource {resource!r} is not served by the sandbox")
    unknown = [f for f in fields if f not in FIELDS]
    if unknown:
        raise QueryError(f"Unrecognized field in the query: '{unknown[0]}'.")
    lo, hi = gaql.date_range(gaql.where(query))
    ads = {ad.ad_id: ad for ad in state.world.ads_of("google_ads", customer)}
    today = state.now().date()
    metric_fields = [f for f in fields if FIELDS[f][0] == "metric"]
    if not metric_fields and "segments.date" not in fields:
        return [_row(fields, ad, None, today) for ad in ads.values()]
    if (lo is None or hi is None) and metric_fields:
        raise QueryError("metrics need a finite segments.date range in the WHERE clause")
    truth = state.performance()
    mask = pc.and_(pc.equal(truth["source"], "google_ads"), pc.equal(truth["account_id"], customer))
    mask = pc.and_(
        mask, pc.and_(pc.greater_equal(truth["date"], lo), pc.less_equal(truth["date"], hi))
    )
    records = truth.filter(mask).to_pylist()
    if "segments.date" not in fields:
        records = _sum_by_ad(records)
    if "segments.conversion_action_category" in fields:
        records = [r for r in _by_category(records, ads) if r["all_conversions"]]
    return [_row(fields, ads[r["ad_id"]], r, today) for r in records]


def _customer(state: SandboxState, customer: str, fields: list[str]) -> list[dict]:
    unknown = [f for f in fields if f not in _CUSTOMER_FIELDS]
    if unknown:
        raise QueryError(f"Unrecognized field in the query: '{unknown[0]}'.")
    ads = state.world.ads_of("google_ads", customer)
    return [_row(fields, ads[0], None, state.now().date())] if ads else []


def _image_assets(state: SandboxState, customer: str, fields: list[str], origin: str) -> list[dict]:
    """Image assets of the account's display ads (one per creative), in Google's shape."""
    unknown = [f for f in fields if f not in _ASSET_FIELDS]
    if unknown:
        raise QueryError(f"Unrecognized field in the query: '{unknown[0]}'.")
    rows = []
    for ad in state.world.ads_of("google_ads", customer):
        if asset_kind(ad) == "none":
            continue
        width, height = size_of(ad)
        values = {
            "asset.resource_name": f"customers/{customer}/assets/{ad.creative_id}",
            "asset.id": ad.creative_id,
            "asset.type": "IMAGE",
            "asset.image_asset.full_size.url": f"{origin}/cdn/{ad.creative_id}.png",
            "asset.image_asset.full_size.width_pixels": str(width),
            "asset.image_asset.full_size.height_pixels": str(height),
        }
        row: dict[str, Any] = {}
        for name in fields:
            _put(row, name, values[name])
        rows.append(row)
    return rows


def _by_category(records: list[dict], ads: dict[str, Ad]) -> list[dict]:
    """Each row twice: the client's primary action and its secondary action."""
    out = []
    for r in records:
        client = ads[r["ad_id"]].client
        out.append(
            {
                **r,
                "category": _CATEGORIES[client.primary_action],
                "all_conversions": r["conversions"],
                "all_value_micros": r["value_micros"],
            }
        )
        out.append(
            {
                **r,
                "category": _CATEGORIES[client.secondary_action],
                "all_conversions": r["secondary_actions"],
                "all_value_micros": 0,
            }
        )
    return out


def _sum_by_ad(records: list[dict]) -> list[dict]:
    sums: dict[str, dict] = {}
    for r in records:
        acc = sums.setdefault(r["ad_id"], {**r, **dict.fromkeys(_METRIC_COLUMNS, 0)})
        for k in _METRIC_COLUMNS:
            acc[k] += r[k]
    return list(sums.values())


_METRIC_COLUMNS = (
    "impressions",
    "clicks",
    "spend_micros",
    "conversions",
    "value_micros",
    "secondary_actions",
)


def _row(fields: list[str], ad: Ad, record: dict | None, today: date) -> dict:
    row: dict[str, Any] = {}
    for name in fields:
        kind, how = FIELDS[name]
        if name == "segments.date":
            value = record["date"].isoformat()
        elif kind == "segment":
            value = record["category"]
        elif kind == "attr":
            value = how(ad)
        elif kind == "copy":
            value = how(ad, today)
        else:
            column, unit = how
            value = _metric(record[column], unit)
        if value in (None, "", 0, 0.0, []):
            continue  # proto3 JSON omits default values
        _put(row, name, value)
    for resource, name in (
        ("campaign", f"campaigns/{ad.campaign_id}"),
        ("adGroup", f"adGroups/{ad.ad_group_id}"),
        ("adGroupAd", f"adGroupAds/{ad.ad_group_id}~{ad.ad_id}"),
        ("customer", ""),
    ):
        if resource in row:
            row[resource]["resourceName"] = f"customers/{ad.account.account_id}" + (
                f"/{name}" if name else ""
            )
    return row


def _metric(value: int, unit: str) -> Any:
    if unit == "int64":
        return str(value) if value else None
    if unit == "money":
        return value / 1_000_000
    return float(value)


def _put(row: dict, field: str, value: Any) -> None:
    keys = [_camel(part) for part in field.split(".")]
    for key in keys[:-1]:
        row = row.setdefault(key, {})
    row[keys[-1]] = value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _rid() -> str:
    return uuid.uuid4().hex[:22]


def _error(
    status: int, message: str, version: str, code: dict | None = None, details: dict | None = None
) -> JSONResponse:
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": _STATUS_NAMES.get(status, "UNKNOWN"),
    }
    if code:
        failure = {
            "errorCode": code,
            "message": message,
            **({"details": details} if details else {}),
        }
        error["details"] = [
            {
                "@type": f"{_FAILURE_TYPE_PREFIX}.{version}.errors.GoogleAdsFailure",
                "errors": [failure],
                "requestId": _rid(),
            }
        ]
    return JSONResponse({"error": error}, status_code=status)
