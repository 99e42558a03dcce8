"""Pinterest Ads API v5 as the sandbox speaks it: OAuth, entities, analytics, async reports.

Served under ``/pinterest`` in place of api.pinterest.com:

- ``POST /v5/oauth/token``: the refresh-token grant with the client as HTTP Basic. Refresh
  tokens are continuous: each refresh answers a new one (signed, so that a restarted sandbox
  still knows it) and earlier ones stay valid, as they do for their 60 days (verify);
- ``GET /v5/ad_accounts/{id}``: the ad account (no time zone: reporting days are UTC, and the
  world's days are served as UTC days);
- ``GET /v5/ad_accounts/{id}/campaigns|ad_groups|ads``: ``{"items", "bookmark"}`` pages of
  ``page_size`` (25 by default, at most 250) filtered by ``entity_statuses`` (ACTIVE and
  PAUSED by default; about a quarter of the ads are ARCHIVED, with their history);
- ``GET /v5/ad_accounts/{id}/ads/analytics``: a JSON list of day x ad rows with the requested
  ``columns`` (zero values left out) for at most 100 ``ad_ids``, a range of at most 90 days
  starting no more than 90 days before the sandbox's today;
- ``POST /v5/ad_accounts/{id}/reports`` (JSON body): ``{"report_status": "IN_PROGRESS",
  "token"}``; ``GET .../reports?token=`` is IN_PROGRESS at the first poll and FINISHED from
  the second, with a pre-signed ``url`` under ``/downloads`` (JSON: ad id -> rows) that
  refuses an Authorization header as S3 does; an unknown token is DOES_NOT_EXIST;
- ``GET /v5/pins/{id}``: the promoted pin (title, description, link, media.images).

Numbers: ``_1`` paid = the world's impressions and clicks, ``_2`` earned = a sixth of the
impressions and an eighth of the clicks. The client's primary event (CHECKOUT for purchase)
counts the world's click conversions as click (4/5) and engagement (1/5) conversions and its
view conversions as view conversions, the value split over them in whole cents; the secondary
event (ADD_TO_CART) is all click-through; ``TOTAL_CONVERSIONS`` adds both.

Errors are ``{"code", "message"}``: 401 code 2 for a missing, unknown or expired access token;
429 code 8 when a client makes more than ``faults.rate_limit`` calls within a second (every
answer carries ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` in seconds); 400 code 1
for bad parameters and for a start beyond the 90 days; 403 code 29 for an account or pin not
in the world; 410 for the retired v3 and v4 (verify); faults give 5xx with code 12.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import secrets
from collections import deque
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.sandbox.assets import asset_url, size_of
from generator.sandbox.common import Refused, bearer, handler, json_reply, read_form
from generator.sandbox.state import SandboxState
from generator.sandbox.world import Ad

__all__ = ["CREDENTIALS", "ENVIRONMENT", "RETIRED_VERSIONS", "VERSION", "routes"]

CREDENTIALS = {
    "client_id": "1484937",
    "client_secret": "sbx-pin-secret-UGludGVyZXN0U2FuZGJveA",
    "refresh_token": "pinr.sbx-refresh-Q29udGludW91c1JlZnJlc2g",
}
ENVIRONMENT = {f"PINTEREST_{name.upper()}": value for name, value in CREDENTIALS.items()}
VERSION, RETIRED_VERSIONS = "v5", ("v3", "v4")
HISTORY_DAYS = MAX_RANGE_DAYS = 90
REPORT_MAX_DAYS, MAX_AD_IDS = 186, 100
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 25, 250
POLLS_TO_FINISH = 2
WINDOW_SECONDS = 1.0  # Pinterest's universal limit is per second per user and app
REFRESH_LIFETIME = 60 * 86400
WINDOW_DAYS = {0, 1, 7, 14, 30, 60}
SCOPE = "ads:read,pins:read,boards:read,user_accounts:read"

#: canonical action -> Pinterest conversion event; events with a value column
EVENTS = {"purchase": "CHECKOUT", "signup": "SIGNUP", "lead": "LEAD", "add_to_cart": "ADD_TO_CART"}
VALUED = ("CHECKOUT", "SIGNUP", "CUSTOM")
_IDS = ("AD_ID", "PIN_PROMOTION_ID", "CAMPAIGN_ID", "AD_GROUP_ID", "AD_ACCOUNT_ID", "PIN_ID")
_DELIVERY = ("IMPRESSION_1", "IMPRESSION_2", "TOTAL_IMPRESSION", "CLICKTHROUGH_1")
_DELIVERY += ("CLICKTHROUGH_2", "TOTAL_CLICKTHROUGH", "SPEND_IN_MICRO_DOLLAR", "SPEND_IN_DOLLAR")


def _event_columns(event: str) -> list[str]:
    """An event's columns; add to cart has neither a total nor an engagement column."""
    kinds = (
        ("CLICK_", "VIEW_") if event == "ADD_TO_CART" else ("", "CLICK_", "ENGAGEMENT_", "VIEW_")
    )
    suffixes = ("", "_VALUE_IN_MICRO_DOLLAR") if event in VALUED else ("",)
    return [f"TOTAL_{kind}{event}{suffix}" for kind in kinds for suffix in suffixes]


_EVENT_COLUMNS = [c for e in (*EVENTS.values(), "PAGE_VISIT", "CUSTOM") for c in _event_columns(e)]
COLUMNS = frozenset((*_IDS, "CAMPAIGN_NAME", *_DELIVERY, "TOTAL_CONVERSIONS", *_EVENT_COLUMNS))
_OBJECTIVES = {"shopping": "CATALOG_SALES", "awareness": "AWARENESS"}


def routes() -> list[Route]:
    account = "/{version}/ad_accounts/{account_id}"
    return [
        Route("/{version}/oauth/token", handler("pinterest", _token), methods=["POST"]),
        Route(account, _api(_account), methods=["GET"]),
        Route(account + "/ads/analytics", _api(_analytics), methods=["GET"]),
        Route(account + "/reports", _api(_reports), methods=["GET", "POST"]),
        Route(account + "/{kind}", _api(_entities), methods=["GET"]),
        Route("/{version}/pins/{pin_id}", _api(_pin), methods=["GET"]),
        Route("/downloads/{token}.json", _download, methods=["GET"], name="pinterest_download"),
    ]


def _api(serve):
    return handler("pinterest", serve, gate=_gate)


def _refused(status: int, code: int, message: str, headers: dict | None = None) -> Refused:
    return Refused(JSONResponse({"code": code, "message": message}, status, headers=headers))


async def _gate(request: Request, state: SandboxState) -> None:
    """Faults, version, access token, then the per-second limit of the token's client."""
    if failed := await state.faults.before("pinterest"):
        raise _refused(failed, 12, "Something went wrong on our end. Sorry about that.")
    version = request.path_params["version"]
    if version in RETIRED_VERSIONS:
        raise _refused(410, 1, f"API {version} has been sunset. Please migrate to {VERSION}.")
    if version != VERSION:
        raise _refused(404, 3, "Requested resource not found.")
    client = state.tokens.check("pinterest", bearer(request))
    if client is None:
        raise _refused(401, 2, "Authentication failed.", {"WWW-Authenticate": "Bearer"})
    request.state.limits, over = _spend_call(state, client)
    if over:
        message = "You have exceeded your rate limit. Try again later."
        raise _refused(429, 8, message, request.state.limits)
    account = request.path_params.get("account_id")
    if account is not None and state.world.account("pinterest", account) is None:
        raise _refused(403, 29, "You are not permitted to access that resource.")


def _spend_call(state: SandboxState, client: str) -> tuple[dict[str, str], bool]:
    """Count a call in the client's one-second window: the usage headers, and whether the
    call is over the limit (then it is not counted)."""
    limit = max(1, int(state.faults.rate_limit * WINDOW_SECONDS))
    calls = state.scratch("pinterest").setdefault("calls", {}).setdefault(client, deque())
    now = state.clock()
    while calls and calls[0] <= now - WINDOW_SECONDS:
        calls.popleft()
    over = len(calls) >= limit
    if not over:
        calls.append(now)
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(limit - len(calls)),
        "X-RateLimit-Reset": str(math.ceil(calls[0] + WINDOW_SECONDS - now)),
    }
    return headers, over


def _reply(request: Request, state: SandboxState, body: Any) -> Response:
    return json_reply(state, body, headers=request.state.limits)


def _bad(message: str) -> Refused:
    return _refused(400, 1, message)


# -- OAuth -----------------------------------------------------------------------------------


async def _token(request: Request, state: SandboxState) -> Response:
    if failed := await state.faults.before("pinterest"):
        return JSONResponse({"code": 12, "message": "Something went wrong."}, failed)
    client = _basic_client(request)
    if client != CREDENTIALS["client_id"]:
        return JSONResponse({"code": 2, "message": "Authentication failed."}, 401)
    form = await read_form(request)
    if form.get("grant_type") != "refresh_token" or not _valid_refresh(form.get("refresh_token")):
        return JSONResponse({"code": 1, "message": "Invalid refresh token."}, 400)
    ttl = max(1, int(state.faults.token_ttl))
    body = {
        "access_token": state.tokens.issue("pinterest", client, state.faults.token_ttl),
        "response_type": "refresh_token",
        "token_type": "bearer",
        "expires_in": ttl,
        "scope": SCOPE,
        "refresh_token": _new_refresh(),
        "refresh_token_expires_in": REFRESH_LIFETIME,
    }
    return JSONResponse(body)


def _basic_client(request: Request) -> str | None:
    """The client id of a valid ``Authorization: Basic`` header, else None."""
    header = request.headers.get("authorization", "")
    try:
        pair = base64.b64decode(header[6:]).decode() if header[:6].lower() == "basic " else ""
    except ValueError:
        return None
    client, _, secret = pair.partition(":")
    return client if secret == CREDENTIALS["client_secret"] else None


def _signature(nonce: str) -> str:
    return hashlib.sha256(f"{CREDENTIALS['client_secret']}/{nonce}".encode()).hexdigest()[:24]


def _new_refresh() -> str:
    nonce = secrets.token_hex(8)
    return f"pinr.{nonce}.{_signature(nonce)}"


def _valid_refresh(token: str | None) -> bool:
    """The authorised refresh token, or one this sandbox issued (its signature checks out)."""
    if token == CREDENTIALS["refresh_token"]:
        return True
    parts = (token or "").split(".")
    return (
        len(parts) == 3
        and parts[0] == "pinr"
        and secrets.compare_digest(parts[2], _signature(parts[1]))
    )


# -- account, entities, pins ------------------------------------------------------------------


async def _account(request: Request, state: SandboxState) -> Response:
    account_id = request.path_params["account_id"]
    _, spec = state.world.account("pinterest", account_id)
    body = {
        "id": account_id,
        "name": spec.name,
        "owner": {"id": "549755885175", "username": spec.name.lower().replace(" ", "")},
        "country": "US",
        "currency": spec.currency,
        "permissions": ["OWNER"],
        "created_time": 1_719_792_000,
        "updated_time": 1_763_596_800,
    }
    return _reply(request, state, body)


def _status(ad: Ad) -> str:
    return (
        "ARCHIVED" if int(hashlib.sha256(ad.ad_id.encode()).hexdigest(), 16) % 4 == 0 else "ACTIVE"
    )


def _item(kind: str, ad: Ad) -> dict[str, Any]:
    """A campaign, ad group or ad in Pinterest's shape (the fields a report needs)."""
    common = {"ad_account_id": ad.account.account_id, "status": "ACTIVE"}
    if kind == "campaigns":
        objective = _OBJECTIVES.get(ad.campaign.objective, "AWARENESS")
        return {
            "id": ad.campaign_id,
            "name": ad.campaign.name,
            "objective_type": objective,
        } | common
    common["campaign_id"] = ad.campaign_id
    if kind == "ad_groups":
        return {"id": ad.ad_group_id, "name": ad.ad_group_name} | common
    return common | {
        "id": ad.ad_id,
        "ad_group_id": ad.ad_group_id,
        "pin_id": ad.creative_id,
        "name": ad.name,
        "status": _status(ad),
        "creative_type": "REGULAR",
        "destination_url": ad.landing_url,
    }


async def _entities(request: Request, state: SandboxState) -> Response:
    kind = request.path_params["kind"]
    if kind not in ("campaigns", "ad_groups", "ads"):
        raise _refused(404, 3, "Requested resource not found.")
    q = request.query_params
    statuses = {s for v in q.getlist("entity_statuses") for s in v.split(",")} or {
        "ACTIVE",
        "PAUSED",
    }
    try:
        size, offset = int(q.get("page_size") or DEFAULT_PAGE_SIZE), _offset(q.get("bookmark"))
    except ValueError:
        raise _bad("Invalid bookmark or page_size") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise _bad(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    ads = state.world.ads_of("pinterest", request.path_params["account_id"])
    unique = {_item(kind, ad)["id"]: _item(kind, ad) for ad in ads}.values()
    items = [i for i in unique if i["status"] in statuses]
    more = offset + size < len(items)
    bookmark = base64.urlsafe_b64encode(str(offset + size).encode()).decode() if more else None
    return _reply(request, state, {"items": items[offset : offset + size], "bookmark": bookmark})


def _offset(bookmark: str | None) -> int:
    return int(base64.urlsafe_b64decode(bookmark.encode())) if bookmark else 0


async def _pin(request: Request, state: SandboxState) -> Response:
    ad = state.world.ad_by_creative(request.path_params["pin_id"])
    owner = request.query_params.get("ad_account_id")
    if ad is None or ad.account.source != "pinterest" or owner not in (None, ad.account.account_id):
        raise _refused(404, 50, "Pin not found.")
    url, (width, height) = asset_url(request, ad), size_of(ad)
    sizes = {
        "originals": (width, height, url),
        "600x": (600, 600 * height // width, f"{url}?w=600"),
    }
    images = {k: dict(zip(("width", "height", "url"), v, strict=True)) for k, v in sizes.items()}
    pin = {
        "id": ad.creative_id,
        "created_at": "2025-07-01T00:00:00",
        "link": ad.landing_url,
        "title": ad.headline,
        "description": ad.body,
        "alt_text": None,
        "board_id": str(10**17 + int(ad.account.account_id)),
        "board_owner": {"username": ad.client.slug},
        "media": {"media_type": "image", "images": images if url else {}},
        "is_owner": True,
    }
    return _reply(request, state, pin)


# -- analytics and reports ---------------------------------------------------------------------


def _metrics(record: dict[str, Any], ad: Ad) -> dict[str, Any]:
    """Every column's value for one day x ad of the world."""
    imp, clicks, spend = record["impressions"], record["clicks"], record["spend_micros"]
    values = {
        "DATE": record["date"].isoformat(),
        **dict.fromkeys(("AD_ID", "PIN_PROMOTION_ID"), ad.ad_id),
        "CAMPAIGN_ID": ad.campaign_id,
        "AD_GROUP_ID": ad.ad_group_id,
        "AD_ACCOUNT_ID": ad.account.account_id,
        "PIN_ID": ad.creative_id,
        "CAMPAIGN_NAME": ad.campaign.name,
        "IMPRESSION_1": imp,
        "IMPRESSION_2": imp // 6,
        "TOTAL_IMPRESSION": imp + imp // 6,
        "CLICKTHROUGH_1": clicks,
        "CLICKTHROUGH_2": clicks // 8,
        "TOTAL_CLICKTHROUGH": clicks + clicks // 8,
        "SPEND_IN_MICRO_DOLLAR": spend,
        "SPEND_IN_DOLLAR": spend / 1e6,
        "TOTAL_CONVERSIONS": record["conversions"] + record["secondary_actions"],
    }
    click, view = record["click_conversions"], record["view_conversions"]
    primary = EVENTS.get(ad.client.primary_action, "CUSTOM")
    values |= _event(primary, (click - click // 5, click // 5, view), record["value_micros"])
    secondary = EVENTS.get(ad.client.secondary_action, "CUSTOM")
    return values | _event(secondary, (record["secondary_actions"], 0, 0), 0)


def _event(event: str, counts: tuple[int, int, int], value_micros: int) -> dict[str, int]:
    """Counts by click, engagement and view, the value split over them in whole cents."""
    total, cents = sum(counts), value_micros // 10_000
    shares = [cents * n // total if total else 0 for n in counts[:2]]
    shares.append(cents - sum(shares))
    out = {f"TOTAL_{event}": total}
    for kind, count, share in zip(("CLICK_", "ENGAGEMENT_", "VIEW_"), counts, shares, strict=True):
        out[f"TOTAL_{kind}{event}"] = count
        if event in VALUED:
            out[f"TOTAL_{kind}{event}_VALUE_IN_MICRO_DOLLAR"] = share * 10_000
    if event in VALUED:
        out[f"TOTAL_{event}_VALUE_IN_MICRO_DOLLAR"] = cents * 10_000
    return out


def _shaped(state: SandboxState, account: str, query: dict[str, Any], ad_ids=None):
    """(ad id, row) of a query: its columns only, zero values left out (as Pinterest)."""
    wanted = {"DATE", *query["columns"]}
    rows = state.rows("pinterest", account, query["since"], query["until"], ad_ids=ad_ids)
    out = []
    for record in rows:
        values = _metrics(record, state.world.ad(record["ad_id"]))
        row = {k: v for k, v in values.items() if k in wanted and v not in (0, 0.0, None)}
        out.append((record["ad_id"], row))
    return out


def _query(params: dict[str, Any], max_days: int) -> dict[str, Any]:
    """Validated common parameters of analytics and reports, as Pinterest checks them."""
    try:
        since = date.fromisoformat(str(params.get("start_date")))
        until = date.fromisoformat(str(params.get("end_date")))
    except ValueError:
        raise _bad("start_date and end_date must be dates (YYYY-MM-DD)") from None
    if until < since or (until - since).days > max_days:
        raise _bad(f"end_date must be within {max_days} days after start_date")
    columns = params.get("columns") or []
    columns = columns.split(",") if isinstance(columns, str) else columns
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown or not columns:
        raise _bad(f"Invalid column: {unknown[0] if unknown else 'columns is required'}")
    if params.get("granularity") != "DAY":
        raise _bad("The sandbox serves granularity DAY")
    for name in ("click_window_days", "engagement_window_days", "view_window_days"):
        if name in params and int(params[name]) not in WINDOW_DAYS:
            raise _bad(f"{name} must be one of {sorted(WINDOW_DAYS)}")
    return {"since": since, "until": until, "columns": columns}


async def _analytics(request: Request, state: SandboxState) -> Response:
    params = dict(request.query_params)
    query = _query(params, MAX_RANGE_DAYS)
    if query["since"] < state.now().date() - timedelta(days=HISTORY_DAYS):
        raise _bad("You can only get data from the last 90 days.")
    ad_ids = [a for a in params.get("ad_ids", "").split(",") if a]
    if not ad_ids or len(ad_ids) > MAX_AD_IDS:
        raise _bad(f"ad_ids: between 1 and {MAX_AD_IDS} ad ids are required")
    rows = _shaped(state, request.path_params["account_id"], query, ad_ids)
    return _reply(request, state, [row for _, row in rows])


async def _reports(request: Request, state: SandboxState) -> Response:
    jobs = state.scratch("pinterest").setdefault("reports", {})
    account = request.path_params["account_id"]
    if request.method == "POST":
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise _bad("The request body is not JSON") from None
        query = _query(body if isinstance(body, dict) else {}, REPORT_MAX_DAYS)
        if body.get("level") != "PIN_PROMOTION" or body.get("report_format", "JSON") != "JSON":
            raise _bad("The sandbox serves level PIN_PROMOTION as report_format JSON")
        token = f"{next(_TOKENS)}-{secrets.token_hex(6)}"
        jobs[token] = {"account": account, "query": query, "polls": 0, "file": None}
        return _reply(
            request, state, {"report_status": "IN_PROGRESS", "token": token, "message": None}
        )
    job = jobs.get(request.query_params.get("token", ""))
    if job is None or job["account"] != account:
        return _reply(
            request, state, {"report_status": "DOES_NOT_EXIST", "url": None, "size": None}
        )
    job["polls"] += 1
    if job["polls"] < POLLS_TO_FINISH:
        return _reply(request, state, {"report_status": "IN_PROGRESS", "url": None, "size": None})
    if job["file"] is None:
        by_ad: dict[str, list] = {}
        for ad_id, row in _shaped(state, account, job["query"]):
            by_ad.setdefault(ad_id, []).append(row)
        job["file"] = json.dumps(by_ad).encode()
    token = request.query_params["token"]
    signature = hashlib.sha256(token.encode()).hexdigest()
    url = str(request.url_for("pinterest_download", token=token))
    url += f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature={signature}"
    status = {"report_status": "FINISHED", "url": url, "size": len(job["file"])}
    return _reply(request, state, status)


_TOKENS = itertools.count(25_000_000)


async def _download(request: Request) -> Response:
    """The report file on the (emulated) S3 host: pre-signed, so no Authorization header."""
    state: SandboxState = request.app.state.sandbox
    state.requests["pinterest"] += 1
    if failed := await state.faults.before("pinterest"):
        return _s3_error(failed, "InternalError", "We encountered an internal error.")
    if "authorization" in request.headers:
        message = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter..."
        return _s3_error(400, "InvalidArgument", message)
    job = state.scratch("pinterest").get("reports", {}).get(request.path_params["token"])
    if job is None or job["file"] is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    return Response(state.faults.truncate(job["file"]), media_type="application/json")


def _s3_error(status: int, code: str, message: str) -> Response:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}"
    return Response(body + "</Message></Error>", status, media_type="application/xml")
