"""Snapchat Ads: Marketing API v1, OAuth2 refresh tokens, synchronous daily stats.

Every answer wraps its items: ``{"request_status": "SUCCESS", "request_id", "<things>":
[{"sub_request_status": "SUCCESS", "<thing>": {...}}], "paging": {"next_link"}}``, and lists
page by ``paging.next_link`` (``limit`` up to ``PAGE_SIZE``). Performance comes from ``GET
/adaccounts/{id}/stats`` with ``granularity=DAY&breakdown=ad``: ``start_time`` and ``end_time``
must be local midnights in the account's time zone with the offset written out (an offset that
changes across a DST switch inside the range), at most ``MAX_DAYS`` days a request. Spend and
values are micro-currency integers. Names and the ad -> creative link come from the
``campaigns``, ``adsquads`` and ``ads`` lists, read once per account with
``read_deleted_entities=true`` so that a deleted ad keeps its names; stats rows carry ad ids
only, and an entity the lists still miss degrades to its id (recorded as unresolved) with its
numbers kept.

Errors are ``{"request_status": "ERROR", "debug_message", "display_message", "error_code"}``
with an HTTP status: 401 for an expired access token (30-minute tokens: refreshed), 429 when
throttled (no ``Retry-After``: back off), 403 for an ad account the token may not read.

Conversions: Snap reports one metric per pixel event (``EVENTS``) in the windows asked for
(swipe-up 28 days and view 1 day, Snap's defaults, so "default" rows are what Ads Manager
shows); ``<metric>_swipe_up`` and ``<metric>_view`` split them into "28d_click" and "1d_view".
Snap has no lead or contact event: sign-ups stand for leads, custom event 1 for contacts
('verify' per account). ``ad_performance.conversions`` is purchases plus leads (the primary
types, as for Meta) and ``value_micros`` the purchase value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
import pyarrow as pa

from generator.connectors.auth import OAuth2Refresh
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.http import retry_after
from generator.connectors.labels import Directory, Entity
from generator.connectors.normalize import Col, normalize, utc_now
from generator.connectors.paging import NextLinkPaginator, PageRequest, paginate
from generator.connectors.redact import redact
from generator.connectors.verdicts import Fail, RateLimit, Refresh, Verdict
from generator.errors import ApiVersionRetired, AuthFailed, ConnectorError, ResponseInvalid
from generator.schema import ACTIONS, AD_PERFORMANCE, CREATIVES

__all__ = ["API_VERSION", "EVENTS", "SUNSET", "Snapchat"]

#: The pinned Marketing API version. Snap has served only v1 since 2017 and announces
#: breaking changes in the changelog at developers.snap.com/api/marketing-api/Ads-API/changelog.
API_VERSION = "v1"
SUNSET = "none announced (v1 is the only Marketing API version)"

MAX_DAYS = 31  # days per DAY-granularity stats request ('verify' Snap's exact cap)
PAGE_SIZE = 1000  # the largest ``limit`` the list endpoints accept
WINDOWS = {"swipe_up_attribution_window": "28_DAY", "view_attribution_window": "1_DAY"}
#: entity lists include deleted entities only when asked (Snap refuses it together with ``sort``)
WITH_DELETED = {"read_deleted_entities": "true"}
#: canonical action -> Snap's stats field; each also comes as _swipe_up and _view ('verify')
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
SPLITS = {"default": "", "28d_click": "_swipe_up", "1d_view": "_view"}
VALUE = "conversion_purchases_value"
FIELDS = ",".join(
    ["impressions", "swipes", "spend", VALUE]
    + [f"{field}{suffix}" for field in EVENTS.values() for suffix in SPLITS.values()]
)
_BUMP = (
    f"Marketing API {API_VERSION} is retired: bump API_VERSION in "
    "generator/connectors/snapchat.py and re-record tests/fixtures/snapchat"
)

_IDENTITY = {
    "date": Col("start_time", "date", required=True),
    "ad_id": Col("ad_id", "id", required=True),
    "campaign_id": Col("_names.campaign_id", "id", required=True),
    "ad_group_id": Col("_names.ad_group_id", "id"),
}
PERFORMANCE = {
    **_IDENTITY,
    "campaign_name": Col("_names.campaign_name"),
    "ad_group_name": Col("_names.ad_group_name"),
    "ad_name": Col("_names.ad_name"),
    "creative_id": Col("_creative_id", "id"),
    "impressions": Col("stats.impressions", "count", default=0),
    "clicks": Col("stats.swipes", "count", default=0),
    "spend_micros": Col("stats.spend", "micros", default=0),
    "conversions": Col("_conversions", "number", default=0.0),
    "value_micros": Col(f"stats.{VALUE}", "micros", default=0),
}
ACTION_FIELDS = {
    **_IDENTITY,
    "action_type": Col("_action.type", required=True),
    "attribution_window": Col("_action.window", required=True),
    "count": Col("_action.count", "number", default=0.0),
    "value_micros": Col("_action.value", "micros", default=0),
}
CREATIVE_FIELDS = {
    "creative_id": Col("id", "id", required=True),
    "ad_id": Col("_ad_id", "id"),
    "name": Col("name"),
    "headline": Col("headline"),
    "call_to_action": Col("call_to_action"),
    "landing_url": Col("web_view_properties.url"),
    "asset_url": Col("_media.download_link"),
    "format": Col("_format", required=True),
    "version": Col("_version", required=True),
}


class Snapchat(Connector):
    """Snapchat ads through the Marketing API (client_id, client_secret, refresh_token)."""

    platform = "snapchat"
    api_version = API_VERSION
    sunset = SUNSET
    hosts: ClassVar[dict[str, str]] = {
        "api": "https://adsapi.snapchat.com",
        "accounts": "https://accounts.snapchat.com",
    }
    rate = 10.0  # Snap allows 10 requests a second per token (20 per app)
    lookback_days = 28  # swipe-up conversions are attributed for 28 days
    credential_names = ("client_id", "client_secret", "refresh_token")

    def __init__(self, credentials: Mapping[str, str], **options: Any) -> None:
        super().__init__(credentials, **options)
        self._accounts: dict[str, AccountInfo] = {}
        self._listings: dict[str, _Listing] = {}

    def make_auth(self) -> OAuth2Refresh:
        c = self.credentials
        return OAuth2Refresh(
            self.platform,
            self.url("accounts", "/login/oauth2/access_token"),
            client_id=c.get("client_id", ""),
            client_secret=c.get("client_secret", ""),
            refresh_token=c.get("refresh_token", ""),
            on_rotate=self.on_rotate,
        )

    def classify(self, response: httpx.Response, request: str) -> Verdict | None:
        status = response.status_code
        if status < 300 or status >= 500:
            return None
        body = _json_object(response)
        text = body.get("debug_message") or body.get("display_message") or body.get("msg")
        message = redact(str(text or response.text[:200]).strip())
        if status == 401:
            return Refresh()
        if status == 429:
            return RateLimit(f"HTTP 429: {message}", retry_after(response))
        cls: type[ConnectorError] = ConnectorError
        text = f"HTTP {status} {body.get('error_code', '')}: {message}".replace("  ", " ")
        if status in (404, 410) and "version" in message.lower():
            cls, text = ApiVersionRetired, f"{message}; {_BUMP}"
        elif status == 403:
            advice = "give the app's user access to this ad account in Business Manager"
            cls, text = AuthFailed, f"{text}; {advice}"
        return Fail(cls(text, platform=self.platform, request=request))

    async def account_info(self, account_id: str) -> AccountInfo:
        """Name, currency and time zone of an ad account (read once per connector)."""
        if account_id not in self._accounts:
            body = await self.api.call("GET", self._api(f"adaccounts/{account_id}"), parse=_body)
            found = _unwrap(body, "adaccounts", "adaccount")
            info = found[0] if found else {}
            if not info.get("currency") or not info.get("timezone"):
                raise ResponseInvalid(
                    f"ad account {account_id} answered without currency or timezone "
                    f"({API_VERSION})",
                    platform=self.platform,
                )
            self._accounts[account_id] = AccountInfo(
                account_id, str(info.get("name", "")), info["currency"], info["timezone"]
            )
        return self._accounts[account_id]

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily rows per ad; conversions and value as the module docstring says."""
        info, rows = await self._stats(account_id, start, end, "ad_performance")
        records = [{**row, "_conversions": _conversions(row)} for row in rows]
        constants = {**_constants(info), "account_name": info.name}
        return self._normalize(records, PERFORMANCE, AD_PERFORMANCE, constants)

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily conversions by canonical type: "default", "28d_click" and "1d_view"."""
        info, rows = await self._stats(account_id, start, end, "actions")
        records = [action for row in rows for action in _actions(row)]
        return self._normalize(records, ACTION_FIELDS, ACTIONS, _constants(info))

    async def fetch_creatives(self, account_id: str) -> pa.Table:
        """The account's creatives with their top snap media, linked to an ad using each."""
        creatives = await self._list(account_id, "creatives", "creative")
        media = {m["id"]: m for m in await self._list(account_id, "media", "media")}
        first_ad: dict[str, str] = {}
        for ad_id, creative_id in sorted((await self._listing(account_id)).creatives.items()):
            first_ad.setdefault(str(creative_id), ad_id)
        rows = [_creative(c, media, first_ad) for c in creatives]
        constants = {"platform": self.platform, "account_id": account_id}
        return self._normalize(
            rows, CREATIVE_FIELDS, CREATIVES, {**constants, "first_seen": utc_now().date()}
        )

    # -- the pieces -----------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return self.url("api", f"/{API_VERSION}/{path}")

    async def _list(self, account_id: str, things: str, thing: str, **params: str) -> list[dict]:
        """Every item of an ad account's list, following ``paging.next_link``."""
        first = PageRequest(
            self._api(f"adaccounts/{account_id}/{things}"), {"limit": PAGE_SIZE, **params}
        )
        pages = paginate(self.api, "GET", first, NextLinkPaginator(), parse=_body)
        return [item async for page in pages for item in _unwrap(page, things, thing)]

    async def _listing(self, account_id: str) -> _Listing:
        """Campaigns, ad squads and ads, deleted ones included (read once per account)."""
        if account_id not in self._listings:
            campaigns = await self._list(account_id, "campaigns", "campaign", **WITH_DELETED)
            squads = await self._list(account_id, "adsquads", "adsquad", **WITH_DELETED)
            ads = await self._list(account_id, "ads", "ad", **WITH_DELETED)
            directory = Directory(
                campaigns=[_entity(c) for c in campaigns if c.get("id")],
                ad_groups=[_entity(q, "campaign_id") for q in squads if q.get("id")],
                ads=[_entity(a, "ad_squad_id") for a in ads if a.get("id")],
            )
            creatives = {str(a["id"]): a.get("creative_id") for a in ads if a.get("id")}
            self._listings[account_id] = _Listing(directory, creatives)
        return self._listings[account_id]

    async def _stats(
        self, account_id: str, start: date, end: date, dataset: str
    ) -> tuple[AccountInfo, list[dict]]:
        """The window's daily rows per ad, labelled: one read serves both datasets."""
        info = await self.account_info(account_id)

        async def read() -> list[dict]:
            listing = await self._listing(account_id)
            rows = []
            for lo, hi in _chunks(start, end):
                params = {**_stats_params(info.timezone, lo, hi), "limit": PAGE_SIZE}
                first = PageRequest(self._api(f"adaccounts/{account_id}/stats"), params)
                pages = paginate(self.api, "GET", first, NextLinkPaginator(), parse=_body)
                rows += [r async for page in pages for r in _daily_rows(page)]
            return [
                {
                    **row,
                    "_names": self.label(account_id, listing.directory, ad=row["ad_id"]),
                    "_creative_id": listing.creatives.get(str(row["ad_id"])),
                }
                for row in rows
            ]

        return info, await self.shared(dataset, (account_id, start, end), read)

    def _normalize(self, records, fields, schema, constants: dict[str, Any]) -> pa.Table:
        lineage = {"source": self.platform, "fetched_at": utc_now(), "api_version": API_VERSION}
        return normalize(
            records,
            fields,
            schema,
            constants=lineage | constants,
            platform=self.platform,
            api_version=API_VERSION,
        )


@dataclass(frozen=True)
class _Listing:
    """An account's directory (campaign > ad squad > ad) and each ad's creative id."""

    directory: Directory
    creatives: dict[str, Any]


def _entity(item: dict, parent: str | None = None) -> Entity:
    up = item.get(parent) if parent else None
    return Entity(str(item["id"]), item.get("name"), str(up) if up else None)


def _conversions(row: dict) -> int:
    stats = row.get("stats") or {}
    return sum(stats.get(EVENTS[t]) or 0 for t in ("purchase", "lead"))


def _constants(info: AccountInfo) -> dict[str, Any]:
    return {
        "platform": "snapchat",
        "account_id": info.account_id,
        "account_timezone": info.timezone,
        "currency": info.currency,
    }


def local_midnight(day: date, zone: str) -> str:
    """``day``'s first instant in ``zone``, with that instant's offset (``-07:00``)."""
    return datetime.combine(day, time(0), ZoneInfo(zone)).isoformat(timespec="milliseconds")


def _stats_params(zone: str, start: date, end: date) -> dict[str, str]:
    return {
        "granularity": "DAY",
        "breakdown": "ad",
        "fields": FIELDS,
        "start_time": local_midnight(start, zone),
        "end_time": local_midnight(end + timedelta(days=1), zone),  # exclusive
        "omit_empty": "true",
        **WINDOWS,
    }


def _chunks(start: date, end: date) -> list[tuple[date, date]]:
    pieces = []
    while start <= end:
        last = min(end, start + timedelta(days=MAX_DAYS - 1))
        pieces.append((start, last))
        start = last + timedelta(days=1)
    return pieces


def _daily_rows(page: dict[str, Any]) -> list[dict]:
    """``{ad_id, start_time, stats}`` for each day of each ad in a stats answer."""
    rows = []
    for stat in _unwrap(page, "timeseries_stats", "timeseries_stat"):
        for ad in (stat.get("breakdown_stats") or {}).get("ad") or []:
            rows += [{**day, "ad_id": ad.get("id")} for day in ad.get("timeseries") or []]
    return rows


def _actions(row: dict) -> list[dict]:
    """One record per canonical event and window the row reports (zeros left out)."""
    stats, out = row.get("stats") or {}, []
    for canonical, field in EVENTS.items():
        for window, suffix in SPLITS.items():
            count = stats.get(field + suffix)
            value = stats.get(VALUE) if canonical == "purchase" and window == "default" else None
            if count or value:
                action = {"type": canonical, "window": window, "count": count, "value": value}
                out.append({**row, "_action": action})
    return out


def _creative(creative: dict, media: dict[str, dict], first_ad: dict[str, str]) -> dict:
    """A creative with its media, the first ad using it, format and a content version."""
    item = media.get(creative.get("top_snap_media_id"), {})
    kind = {"VIDEO": "video", "IMAGE": "image"}.get(item.get("type"), "text")
    url = (creative.get("web_view_properties") or {}).get("url")
    content = [creative.get(k) for k in ("headline", "brand_name", "call_to_action")]
    content += [url, creative.get("top_snap_media_id")]
    version = hashlib.sha256("\x1f".join(map(str, content)).encode()).hexdigest()[:16]
    return {
        **creative,
        "_media": item,
        "_ad_id": first_ad.get(str(creative.get("id"))),
        "_format": kind,
        "_version": version,
    }


def _unwrap(body: dict[str, Any], things: str, thing: str) -> list[dict]:
    """The items of a wrapped list; a failed sub-request is an error, not a missing row."""
    items = []
    for wrapper in body.get(things) or []:
        if wrapper.get("sub_request_status", "SUCCESS") != "SUCCESS":
            reason = wrapper.get("debug_message") or wrapper.get("sub_request_error_reason")
            raise ResponseInvalid(
                f"a {thing} sub-request failed: {reason or 'no reason given'} ({API_VERSION})",
                platform="snapchat",
            )
        if isinstance(wrapper.get(thing), dict):
            items.append(wrapper[thing])
    return items


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _body(response: httpx.Response) -> dict[str, Any]:
    """A successful answer (ValueError: a cut or garbled body)."""
    body = response.json()
    if not isinstance(body, dict) or body.get("request_status") != "SUCCESS":
        raise ValueError("expected an object with request_status SUCCESS")
    return body
