"""Snapchat Marketing API as the sandbox speaks it: wrapped lists, next links, local days.

Served under ``/snapchat`` in place of adsapi.snapchat.com and accounts.snapchat.com:

- ``POST /login/oauth2/access_token``: the refresh-token grant (client id and secret as form
  fields); access tokens live ``min(faults.token_ttl, 1800)`` seconds;
- ``GET /v1/adaccounts/{id}``: the ad account (name, currency, timezone);
- ``GET /v1/adaccounts/{id}/campaigns|adsquads|ads|creatives|media``: every answer wraps its
  items (``{"request_status", "request_id", "ads": [{"sub_request_status", "ad": {...}}]}``);
  with ``limit`` the list pages by an opaque cursor in ``paging.next_link``;
- ``GET /v1/adaccounts/{id}/stats?granularity=DAY&breakdown=ad``: ``start_time`` and
  ``end_time`` must carry an offset and fall on midnight in the account's time zone (Snap's
  400 otherwise), at most ``MAX_DAYS`` days apart; the answer is one ``timeseries_stat`` of
  the account with ``breakdown_stats.ad[]``, each ad a ``timeseries`` of local days, paged over
  ads by ``limit``. Stats are integers, spend and values in micro-currency. The client's
  primary action is its event field (``_swipe_up`` = click-through, ``_view`` = view-through
  conversions), the secondary action all swipe-ups; ``omit_empty=true`` drops idle days.

Errors are ``{"request_status": "ERROR", "request_id", "debug_message", "display_message",
"error_code"}``: 401 for a missing, unknown or expired token, 403 for an ad account the token
may not see, 404 for another API version, 429 (no ``Retry-After``) when the per-token
throttle refuses, 400 for bad parameters. Faults answer 500 with that body or a bare 502/503.
"""

from __future__ import annotations

import base64
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.sandbox.assets import asset_url
from generator.sandbox.common import Refused, bearer, handler, json_reply, read_form
from generator.sandbox.state import SandboxState
from generator.sandbox.world import Ad

__all__ = ["CREDENTIALS", "ENVIRONMENT", "MAX_DAYS", "routes"]

CREDENTIALS = {
    "client_id": "sbx-snap-client-5f2c8e1a-93b4-4d07-a6e2-1c9f0b7d3e58",
    "client_secret": "sbx-snap-secret-Tm90QVJlYWxTbmFwU2VjcmV0",
    "refresh_token": "sbx-snap-refresh-hJ8kL2mN4pQ6rS8tU0vW2xY4zA6bC8dE",
}
ENVIRONMENT = {
    "SNAPCHAT_CLIENT_ID": CREDENTIALS["client_id"],
    "SNAPCHAT_CLIENT_SECRET": CREDENTIALS["client_secret"],
    "SNAPCHAT_REFRESH_TOKEN": CREDENTIALS["refresh_token"],
}
VERSION, MAX_DAYS, MAX_LIMIT, TOKEN_LIFETIME = "v1", 31, 1000, 1800.0
#: canonical action -> Snap stats field, as the connector reads them
EVENTS = {
    "purchase": "conversion_purchases",
    "lead": "conversion_sign_ups",
    "add_to_cart": "conversion_add_cart",
    "begin_checkout": "conversion_start_checkout",
    "view_content": "conversion_view_content",
    "page_view": "conversion_page_views",
    "subscribe": "conversion_subscribe",
    "contact": "custom_event_1",
}
VALUE = "conversion_purchases_value"
FIELDS = frozenset(
    {"impressions", "swipes", "spend", VALUE}
    | {f"{f}{s}" for f in EVENTS.values() for s in ("", "_swipe_up", "_view")}
)
WINDOWS = {"swipe_up_attribution_window": "28_DAY", "view_attribution_window": "1_DAY"}
LISTS = {
    "campaigns": "campaign",
    "adsquads": "adsquad",
    "ads": "ad",
    "creatives": "creative",
    "media": "media",
}


def routes() -> list[Route]:
    return [
        Route("/login/oauth2/access_token", handler("snapchat", _token), methods=["POST"]),
        Route("/{version}/adaccounts/{account}", handler("snapchat", _account, gate=_gate)),
        Route("/{version}/adaccounts/{account}/{things}", handler("snapchat", _list, gate=_gate)),
    ]


def _error(status: int, code: str, debug: str, display: str = "") -> Refused:
    body = {
        "request_status": "ERROR",
        "request_id": uuid.uuid4().hex,
        "debug_message": debug,
        "display_message": display or "We're sorry, something went wrong.",
        "error_code": code,
    }
    return Refused(JSONResponse(body, status_code=status))


def _invalid(message: str) -> Refused:
    return _error(400, "E1001", message, "The request is invalid.")


async def _token(request: Request, state: SandboxState) -> Response:
    form = await read_form(request)
    if form.get("grant_type") != "refresh_token":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    client = (form.get("client_id"), form.get("client_secret"))
    if client != (CREDENTIALS["client_id"], CREDENTIALS["client_secret"]):
        error = {"error": "invalid_client", "error_description": "Invalid client credentials"}
        return JSONResponse(error, status_code=401)
    if form.get("refresh_token") != CREDENTIALS["refresh_token"]:
        error = {"error": "invalid_grant", "error_description": "Invalid refresh token"}
        return JSONResponse(error, status_code=400)
    ttl = min(state.faults.token_ttl, TOKEN_LIFETIME)
    body = {
        "access_token": state.tokens.issue("snapchat", CREDENTIALS["client_id"], ttl),
        "token_type": "Bearer",
        "expires_in": int(max(ttl, 1)),
        "refresh_token": CREDENTIALS["refresh_token"],
        "scope": "snapchat-marketing-api",
    }
    return JSONResponse(body)


async def _gate(request: Request, state: SandboxState) -> None:
    """Version, token, throttle, then faults (a throttled call never reaches the backend)."""
    version = request.path_params["version"]
    if version != VERSION:
        raise _error(404, "E3003", f"Unsupported API version {version}: use /{VERSION}/.")
    token = bearer(request)
    if state.tokens.check("snapchat", token) is None:
        raise _error(401, "E3002", "Unauthorized: invalid or expired access token.")
    if state.throttle.take("snapchat", token) is not None:
        raise _error(429, "E3004", "Rate limit exceeded.", "Too many requests.")
    if failed := await state.faults.before("snapchat"):
        if failed == 500:
            raise _error(500, "E2001", "Internal server error.")
        raise Refused(Response("upstream connect error", failed, media_type="text/plain"))
    account = request.path_params["account"]
    if state.world.account("snapchat", account) is None:
        raise _error(403, "E3001", f"You are not authorized to access ad account {account}.")


def _wrapped(things: str, items: list[dict], paging: dict | None = None) -> dict[str, Any]:
    thing = LISTS.get(things, things[:-1])
    body: dict[str, Any] = {"request_status": "SUCCESS", "request_id": uuid.uuid4().hex}
    body[things] = [{"sub_request_status": "SUCCESS", thing: item} for item in items]
    return body | ({"paging": paging} if paging else {})


async def _account(request: Request, state: SandboxState) -> Response:
    account = request.path_params["account"]
    spec = state.world.account("snapchat", account)[1]
    item = {
        "id": account,
        "name": spec.name,
        "type": "PARTNER",
        "status": "ACTIVE",
        "currency": spec.currency,
        "timezone": spec.timezone,
        "advertiser": spec.name,
    }
    return json_reply(state, _wrapped("adaccounts", [item]))


async def _list(request: Request, state: SandboxState) -> Response:
    account, things = request.path_params["account"], request.path_params["things"]
    ads = state.world.ads_of("snapchat", account)
    if things == "stats":
        return json_reply(state, _stats(request, state, account, ads))
    if things not in LISTS:
        raise _error(404, "E3003", f"Resource {things} can not be found.")
    items = list({i["id"]: i for ad in ads for i in _items(request, things, ad)}.values())
    chunk, paging = _page(request, items)
    return json_reply(state, _wrapped(things, chunk, paging))


def _items(request: Request, things: str, ad: Ad) -> list[dict]:
    """What one world ad contributes to a list (its campaign, squad, ad, creative, media)."""
    stamp = {"created_at": "2025-07-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"}
    media_id = str(uuid.uuid5(uuid.NAMESPACE_URL, ad.creative_id))
    entity: dict[str, Any] = {
        "campaigns": {"id": ad.campaign_id, "name": ad.campaign.name, "objective": "AWARENESS"},
        "adsquads": {"id": ad.ad_group_id, "name": ad.ad_group_name, "type": "SNAP_ADS"},
        "ads": {"id": ad.ad_id, "name": ad.name, "type": "REMOTE_WEBPAGE"},
        "creatives": {
            "id": ad.creative_id,
            "name": f"{ad.name} — creative",
            "type": "WEB_VIEW",
            "headline": ad.headline,
            "brand_name": ad.client.name[:25],
            "call_to_action": ad.call_to_action,
            "top_snap_media_id": media_id,
            "web_view_properties": {"url": ad.landing_url},
        },
        "media": {
            "id": media_id,
            "name": f"{ad.creative_id}.png",
            "type": "IMAGE",
            "media_status": "READY",
            "download_link": asset_url(request, ad),
        },
    }[things]
    links = {"adsquads": {"campaign_id": ad.campaign_id}}
    links["ads"] = {"ad_squad_id": ad.ad_group_id, "creative_id": ad.creative_id}
    item = {**entity, **links.get(things, {}), "status": "ACTIVE", **stamp}
    return [item | {"ad_account_id": ad.account.account_id}]


def _page(request: Request, items: list) -> tuple[list, dict | None]:
    """A slice of ``items`` by ``limit`` and ``cursor``, and the next link if more remain."""
    q = request.query_params
    if "limit" not in q:
        return items, None
    try:
        limit = int(q["limit"])
        cursor = q.get("cursor", "")
        offset = int(base64.urlsafe_b64decode(cursor.encode()).decode() or 0) if cursor else 0
    except ValueError:
        raise _invalid("limit or cursor is not valid.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise _invalid(f"limit must be between 1 and {MAX_LIMIT}.")
    following = offset + limit
    if following >= len(items):
        return items[offset:], None
    token = base64.urlsafe_b64encode(str(following).encode()).decode()
    return items[offset:following], {
        "next_link": str(request.url.include_query_params(cursor=token))
    }


def _stats(request: Request, state: SandboxState, account: str, ads: list[Ad]) -> dict:
    q = request.query_params
    if q.get("granularity") != "DAY" or q.get("breakdown") != "ad":
        raise _invalid("The sandbox serves granularity=DAY with breakdown=ad only.")
    fields = [f for f in q.get("fields", "impressions,swipes,spend").split(",") if f]
    if unknown := [f for f in fields if f not in FIELDS]:
        raise _invalid(f"Invalid stats field: {unknown[0]}.")
    if any(q.get(name, value) != value for name, value in WINDOWS.items()):
        raise _invalid("The sandbox serves swipe_up 28_DAY and view 1_DAY windows only.")
    zone = ZoneInfo(state.world.account("snapchat", account)[1].timezone)
    start, end = (_midnight(q, name, zone) for name in ("start_time", "end_time"))
    days = (end - start).days
    if not 1 <= days <= MAX_DAYS:
        raise _invalid(f"end_time must be 1 to {MAX_DAYS} days after start_time.")
    rows = state.rows("snapchat", account, start, end - timedelta(days=1))
    by_ad: dict[str, dict[date, dict]] = {}
    for row in rows:
        by_ad.setdefault(row["ad_id"], {})[row["date"]] = row
    omit = q.get("omit_empty", "false") == "true"
    listed = [ad for ad in ads if ad.ad_id in by_ad or not omit]
    chunk, paging = _page(request, listed)
    series = [_series(ad, by_ad.get(ad.ad_id, {}), start, days, fields, zone, omit) for ad in chunk]
    stat = {
        "id": account,
        "type": "AD_ACCOUNT",
        "granularity": "DAY",
        "start_time": _stamp(start, zone),
        "end_time": _stamp(end, zone),
        "finalized_data_end_time": _stamp(state.now().date() - timedelta(days=1), zone),
        **WINDOWS,
        "breakdown_stats": {"ad": series},
    }
    return _wrapped("timeseries_stats", [stat], paging)


def _midnight(q, name: str, zone: ZoneInfo) -> date:
    """The local day a boundary opens; Snap's 400 unless it is local midnight with an offset."""
    text = q.get(name, "")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(f"{name} is not a valid ISO 8601 timestamp: {text!r}.") from None
    local = moment.astimezone(zone) if moment.tzinfo else None
    if local is None or local.time() != datetime.min.time():
        raise _invalid(
            f"Unsupported Stats Query: Timeseries queries with DAY granularity must have a "
            f"{name} that is the start of day (00:00:00) in the ad account's timezone "
            f"{zone.key}, with its offset. This query's {name} is {text}."
        )
    return local.date()


def _series(
    ad: Ad,
    rows: dict[date, dict],
    start: date,
    days: int,
    fields: list[str],
    zone: ZoneInfo,
    omit: bool,
) -> dict[str, Any]:
    """One ad's ``timeseries`` of local days (idle days left out when ``omit``)."""
    timeseries = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        if day in rows or not omit:
            stats = _day_stats(ad, rows.get(day))
            timeseries.append(
                {
                    "start_time": _stamp(day, zone),
                    "end_time": _stamp(day + timedelta(days=1), zone),
                    "stats": {f: stats[f] for f in fields},
                }
            )
    return {
        "id": ad.ad_id,
        "type": "AD",
        "granularity": "DAY",
        "start_time": _stamp(start, zone),
        "end_time": _stamp(start + timedelta(days=days), zone),
        "timeseries": timeseries,
    }


def _day_stats(ad: Ad, row: dict | None) -> dict[str, int]:
    stats = dict.fromkeys(FIELDS, 0)
    if row is None:
        return stats
    stats |= {"impressions": row["impressions"], "swipes": row["clicks"]}
    stats["spend"] = row["spend_micros"]
    primary = EVENTS[ad.client.primary_action]
    stats |= {primary: row["conversions"], f"{primary}_swipe_up": row["click_conversions"]}
    stats[f"{primary}_view"] = row["view_conversions"]
    secondary = EVENTS[ad.client.secondary_action]
    stats[secondary] += row["secondary_actions"]
    stats[f"{secondary}_swipe_up"] += row["secondary_actions"]
    if ad.client.primary_action == "purchase":
        stats[VALUE] = row["value_micros"]
    return stats


def _stamp(day: date, zone: ZoneInfo) -> str:
    """Snap's timestamp of a local midnight: ``2026-10-01T00:00:00.000-07:00``."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).isoformat(timespec="milliseconds")
