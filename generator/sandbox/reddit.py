"""Reddit Ads API as the sandbox speaks it: token grant, v3 entities, synchronous reports.

Served under ``/reddit`` in place of www.reddit.com and ads-api.reddit.com:

- ``POST /api/v1/access_token``: the refresh-token grant with the client credentials as HTTP
  Basic; answers ``{access_token, token_type, expires_in, scope}`` (``faults.token_ttl``);
- ``GET /api/v3/ad_accounts/{id}`` (``{"data": {...}}``), ``.../campaigns``, ``/ad_groups``,
  ``/ads`` and ``GET /api/v3/profiles/{profile_id}/posts``: ``{"data": [...], "pagination":
  {"next_url"}}`` paged by ``page.size`` (at most ``MAX_PAGE``) and an opaque ``page.token``;
- ``POST /api/v3/ad_accounts/{id}/reports`` with ``{"data": {starts_at, ends_at, fields,
  breakdowns, time_zone_id}}``: ``breakdowns`` AD_ID and DATE (either case), ``starts_at`` and
  ``ends_at`` on whole hours; one row per ad and day with the asked fields in lower case
  (``spend`` in micros, ``*_total_value`` in cents), ``REPORT_PAGE`` rows a page, the next page
  by POSTing the same body to ``pagination.next_url``. Days are the account's own, whatever
  ``time_zone_id`` says (the world knows no other);
- anything under ``/api/v2.0/`` or ``/api/v2/`` answers 410 Gone (v2 was sunset 2025-09-30).

Conversions: the client's primary action under its pixel event (``conversion_lead_clicks`` =
click-through, ``_views`` = view-through conversions, purchase value in
``conversion_purchase_total_value``), the secondary action all click-through.

Every call needs a descriptive ``User-Agent`` (a library default is refused with 403) and, on
the API, a live bearer token (401 ``{"message": "Unauthorized", "error": 401}`` otherwise).
Answers carry ``x-ratelimit-used/-remaining/-reset`` (a window of ``WINDOW_SECONDS`` per
client with ``faults.rate_limit`` calls a second; reset in seconds); over it, 429. Errors are
``{"error": {"code", "message"}}``; faults give 500/502/503.
"""

from __future__ import annotations

import base64
import binascii
import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.sandbox.assets import asset_url
from generator.sandbox.common import Refused, bearer, handler, json_reply, read_form
from generator.sandbox.state import SandboxState
from generator.sandbox.world import Ad

__all__ = ["CREDENTIALS", "ENVIRONMENT", "routes"]

CREDENTIALS = {
    "client_id": "sbxRdtClientQ2xp",
    "client_secret": "sbx-reddit-secret-Tm90QVJlYWxTZWNyZXQ",
    "refresh_token": "sbx-reddit-refresh-UmVkZGl0U2FuZGJveA",
}
ENVIRONMENT = {f"REDDIT_{name.upper()}": value for name, value in CREDENTIALS.items()}
DEFAULT_PAGE, MAX_PAGE, REPORT_PAGE = 25, 1000, 1000
WINDOW_SECONDS = 1.0  # the sandbox's stand-in for Reddit's per-minute windows
GENERIC_AGENTS = ("python-httpx", "python-requests", "curl", "go-http-client", "okhttp")
#: canonical action -> Reddit pixel event
EVENT_OF = {"purchase": "purchase", "lead": "lead", "signup": "sign_up"}
EVENT_OF |= {"add_to_cart": "add_to_cart"}
_EVENTS = ("purchase", "lead", "sign_up", "add_to_cart", "page_visit", "view_content", "search")
FIELDS = frozenset(
    {"impressions", "clicks", "spend", "ctr", "cpc", "ecpm", "reach", "key_conversion_total_count"}
    | {f"conversion_{e}_{k}" for e in _EVENTS for k in ("clicks", "views")}
    | {"conversion_purchase_total_value", "conversion_lead_total_value"}
)
BREAKDOWNS = ["ad_id", "date"]


def routes() -> list[Route]:
    return [
        Route("/api/v1/access_token", handler("reddit", _token), methods=["POST"]),
        Route("/api/v2.0/{path:path}", handler("reddit", _retired), methods=["GET", "POST"]),
        Route("/api/v2/{path:path}", handler("reddit", _retired), methods=["GET", "POST"]),
        Route("/api/v3/ad_accounts/{account_id}", handler("reddit", _account, gate=_gate)),
        Route(
            "/api/v3/ad_accounts/{account_id}/reports",
            handler("reddit", _report, gate=_gate),
            methods=["POST"],
        ),
        Route("/api/v3/ad_accounts/{account_id}/{edge}", handler("reddit", _edge, gate=_gate)),
        Route("/api/v3/profiles/{profile_id}/posts", handler("reddit", _posts, gate=_gate)),
    ]


def _error(status: int, message: str, headers: dict | None = None) -> Refused:
    return Refused(JSONResponse({"error": {"code": status, "message": message}}, status, headers))


async def _checked_agent(request: Request, state: SandboxState) -> None:
    if failed := await state.faults.before("reddit"):
        raise _error(failed, "Internal Server Error" if failed == 500 else "Service Unavailable")
    agent = request.headers.get("user-agent", "").lower()
    if not agent or agent.startswith(GENERIC_AGENTS):
        message = "Blocked: send a unique and descriptive User-Agent (platform:app:version)"
        body = {"success": False, "error": {"reason": "FORBIDDEN", "explanation": message}}
        raise Refused(JSONResponse(body, 403))


async def _token(request: Request, state: SandboxState) -> Response:
    await _checked_agent(request, state)
    try:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        scheme, client_id, secret = "", "", ""
    if scheme.lower() != "basic" or (client_id, secret) != (
        CREDENTIALS["client_id"],
        CREDENTIALS["client_secret"],
    ):
        return JSONResponse({"message": "Unauthorized", "error": 401}, 401)
    form = await read_form(request)
    if form.get("grant_type") != "refresh_token":
        return JSONResponse({"error": "unsupported_grant_type"}, 400)
    if form.get("refresh_token") != CREDENTIALS["refresh_token"]:
        return JSONResponse({"error": "invalid_grant"}, 400)
    ttl = state.faults.token_ttl
    token = state.tokens.issue("reddit", client_id, ttl)
    body = {"access_token": token, "token_type": "bearer", "expires_in": int(max(1, ttl))}
    return JSONResponse(body | {"scope": "adsread"})


async def _retired(request: Request, state: SandboxState) -> Response:
    message = "Reddit Ads API v2 was sunset on 2025-09-30; use /api/v3"
    return JSONResponse({"error": {"code": 410, "message": message}}, 410)


async def _gate(request: Request, state: SandboxState) -> None:
    """Faults, User-Agent, bearer token, rate-limit window (headers kept for the reply)."""
    await _checked_agent(request, state)
    client = state.tokens.check("reddit", bearer(request))
    if client is None:
        raise Refused(JSONResponse({"message": "Unauthorized", "error": 401}, 401))
    headers = _window(state, client)
    if headers["x-ratelimit-remaining"] == "-1":
        raise _error(429, "Too Many Requests", headers | {"x-ratelimit-remaining": "0"})
    request.state.headers = headers


def _window(state: SandboxState, client: str) -> dict[str, str]:
    limit, now = max(1, round(state.faults.rate_limit * WINDOW_SECONDS)), state.clock()
    windows = state.scratch("reddit").setdefault("windows", {})
    started, used = windows.get(client, (now, 0))
    if now >= started + WINDOW_SECONDS:
        started, used = now, 0
    windows[client] = (started, used + 1)
    return {
        "x-ratelimit-used": str(used + 1),
        "x-ratelimit-remaining": str(max(-1, limit - used - 1)),
        "x-ratelimit-reset": str(math.ceil(started + WINDOW_SECONDS - now)),
    }


def _reply(request: Request, state: SandboxState, body: Any) -> Response:
    return json_reply(state, body, headers=request.state.headers)


def _ads(state: SandboxState, account_id: str) -> list[Ad]:
    if state.world.account("reddit", account_id) is None:
        raise _error(404, "The specified resource was not found")
    return state.world.ads_of("reddit", account_id)


# -- entities --------------------------------------------------------------------------------


async def _account(request: Request, state: SandboxState) -> Response:
    account_id = request.path_params["account_id"]
    _ads(state, account_id)
    spec = state.world.account("reddit", account_id)[1]
    data = {
        "id": account_id,
        "name": spec.name,
        "currency": spec.currency,
        "time_zone_id": spec.timezone,
        "business_id": "b" + account_id[3:],
        "type": "SELF_SERVE",
        "admin_approval": "APPROVED",
        "attribution_type": "ALL_CONVERSION",
        "click_attribution_window": "MONTH",
        "view_attribution_window": "DAY",
        "created_at": "2025-06-02T15:04:05+00:00",
        "modified_at": "2025-06-02T15:04:05+00:00",
    }
    return _reply(request, state, {"data": data})


async def _edge(request: Request, state: SandboxState) -> Response:
    account_id, edge = request.path_params["account_id"], request.path_params["edge"]
    ads = _ads(state, account_id)
    if edge == "campaigns":
        items = [_campaign(ad) for ad in {ad.campaign_id: ad for ad in reversed(ads)}.values()]
    elif edge == "ad_groups":
        items = [_group(ad) for ad in {ad.ad_group_id: ad for ad in reversed(ads)}.values()]
    elif edge == "ads":
        items = [_ad(request, ad) for ad in ads]
    else:
        raise _error(404, "The specified resource was not found")
    return _reply(request, state, _page(request, sorted(items, key=lambda i: i["id"])))


def _campaign(ad: Ad) -> dict[str, Any]:
    return {
        "id": ad.campaign_id,
        "ad_account_id": ad.account.account_id,
        "name": ad.campaign.name,
        "objective": "CLICKS" if ad.campaign.objective == "traffic" else "CONVERSIONS",
        "configured_status": "ACTIVE",
        "effective_status": "ACTIVE",
        "funding_instrument_id": "fi_" + ad.account.account_id[3:],
    }


def _group(ad: Ad) -> dict[str, Any]:
    return {
        "id": ad.ad_group_id,
        "ad_account_id": ad.account.account_id,
        "campaign_id": ad.campaign_id,
        "name": ad.ad_group_name,
        "configured_status": "ACTIVE",
        "effective_status": "ACTIVE",
        "bid_strategy": "MAXIMIZE_VOLUME",
        "optimization_goal": "LEAD" if ad.client.primary_action == "lead" else "PURCHASE",
    }


def _post_id(ad: Ad) -> str:
    return "t3_" + _base36(int(ad.creative_id))


def _profile_id(account_id: str) -> str:
    return "t2_" + account_id[3:][::-1]


def _ad(request: Request, ad: Ad) -> dict[str, Any]:
    post = _post_id(ad)
    return {
        "id": ad.ad_id,
        "ad_account_id": ad.account.account_id,
        "ad_group_id": ad.ad_group_id,
        "campaign_id": ad.campaign_id,
        "name": ad.name,
        "type": "IMAGE" if asset_url(request, ad) else "TEXT",
        "configured_status": "ACTIVE",
        "effective_status": "ACTIVE",
        "post_id": post,
        "post_url": f"https://www.reddit.com/user/brightline/comments/{post[3:]}/",
        "click_url": ad.landing_url,
        "preview_url": f"https://www.reddit.com/ads/preview/{post[3:]}",
        "profile_id": _profile_id(ad.account.account_id),
    }


async def _posts(request: Request, state: SandboxState) -> Response:
    profile = request.path_params["profile_id"]
    accounts = [a for _, a in state.world.accounts if a.source == "reddit"]
    owner = next((a for a in accounts if _profile_id(a.account_id) == profile), None)
    if owner is None:
        raise _error(404, "The specified resource was not found")
    posts = [_post(request, ad) for ad in state.world.ads_of("reddit", owner.account_id)]
    return _reply(request, state, _page(request, sorted(posts, key=lambda p: p["id"])))


def _post(request: Request, ad: Ad) -> dict[str, Any]:
    image = asset_url(request, ad)
    content = {"destination_url": ad.landing_url, "call_to_action": "Learn More"}
    return {
        "id": _post_id(ad),
        "profile_id": _profile_id(ad.account.account_id),
        "type": "IMAGE" if image else "TEXT",
        "headline": ad.headline,
        "body": ad.body,
        "allow_comments": True,
        "content": [content | {"media_url": image}] if image else [content],
        "thumbnail_url": image,
        "post_url": f"https://www.reddit.com/user/brightline/comments/{_post_id(ad)[3:]}/",
    }


def _page(
    request: Request, items: list[dict], default: int = DEFAULT_PAGE, size_limit: int = MAX_PAGE
) -> dict[str, Any]:
    """One page and a ``next_url`` carrying ``page.token`` (an opaque offset)."""
    q = request.query_params
    try:
        size = int(q.get("page.size") or default)
        token = q.get("page.token", "")
        offset = int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) if token else 0
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise _error(400, "invalid page.token or page.size") from None
    if not 1 <= size <= size_limit:
        raise _error(400, f"page.size must be between 1 and {size_limit}")
    following = offset + size
    next_url = None
    if following < len(items):
        token = base64.urlsafe_b64encode(str(following).encode()).decode().rstrip("=")
        next_url = str(request.url.include_query_params(**{"page.token": token}))
    return {"data": items[offset:following], "pagination": {"next_url": next_url}}


# -- reports ---------------------------------------------------------------------------------


async def _report(request: Request, state: SandboxState) -> Response:
    account_id = request.path_params["account_id"]
    ads = {ad.ad_id: ad for ad in _ads(state, account_id)}
    try:
        spec = (await request.json())["data"]
        fields = [str(f).lower() for f in spec["fields"]]
    except (ValueError, KeyError, TypeError):
        raise _error(400, 'the body must be {"data": {"fields": [...], ...}}') from None
    if unknown := [f for f in fields if f not in FIELDS]:
        raise _error(400, f"invalid field: {unknown[0]}")
    if sorted(str(b).lower() for b in spec.get("breakdowns") or []) != BREAKDOWNS:
        raise _error(400, "the sandbox serves breakdowns AD_ID and DATE")
    since, until = _days(spec)
    rows = state.rows("reddit", account_id, since, until)
    metrics = [_row(r, ads[r["ad_id"]], fields) for r in rows]
    page = _page(request, metrics, REPORT_PAGE, REPORT_PAGE)
    body = {"data": {"metrics": page["data"]}, "pagination": page["pagination"]}
    return _reply(request, state, body)


def _days(spec: dict[str, Any]):
    """The report's first and last local day, from hour-aligned ``starts_at``/``ends_at``."""
    try:
        zone = ZoneInfo(str(spec.get("time_zone_id") or "GMT"))
        start, end = (datetime.fromisoformat(str(spec[k])) for k in ("starts_at", "ends_at"))
    except (KeyError, ValueError, ZoneInfoNotFoundError):
        raise _error(400, "starts_at, ends_at (ISO 8601) and time_zone_id are required") from None
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise _error(400, "starts_at must be before ends_at, both with a UTC offset")
    if any(t.minute or t.second or t.microsecond for t in (start, end)):
        raise _error(400, "starts_at and ends_at must be on the hour")
    first = start.astimezone(zone).date()
    return first, (end - timedelta(microseconds=1)).astimezone(zone).date()


def _row(record: dict[str, Any], ad: Ad, fields: list[str]) -> dict[str, Any]:
    values = {
        "impressions": record["impressions"],
        "clicks": record["clicks"],
        "spend": record["spend_micros"],
        "conversion_purchase_total_value": record["value_micros"] // 10_000,
    }
    if primary := EVENT_OF.get(ad.client.primary_action):
        values[f"conversion_{primary}_clicks"] = record["click_conversions"]
        values[f"conversion_{primary}_views"] = record["view_conversions"]
    if secondary := EVENT_OF.get(ad.client.secondary_action):
        values[f"conversion_{secondary}_clicks"] = record["secondary_actions"]
    if ad.client.primary_action != "purchase":
        values["conversion_purchase_total_value"] = 0
    row = {"ad_id": ad.ad_id, "date": record["date"].isoformat()}
    return row | {f: values.get(f, 0) for f in fields}


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"
