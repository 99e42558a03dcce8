"""Reddit Ads API v3: OAuth2 refresh token with Basic client credentials, synchronous reports.

Auth: the refresh-token grant at www.reddit.com/api/v1/access_token with the client id and
secret as HTTP Basic. Reddit throttles or refuses callers without a unique, descriptive
``User-Agent``, so every request, the grant included, carries ``USER_AGENT``.

Entities: ``GET /api/v3/ad_accounts/{id}`` (name, currency, ``time_zone_id``, attribution
windows) and its ``campaigns``, ``ad_groups`` and ``ads`` (with ``post_id``, ``post_url``,
``click_url``, ``preview_url``, ``profile_id``), ``{"data": [...], "pagination": {"next_url"}}``
paged by ``page.size``. Reports carry ad ids only; names come from these lists, read once, and
an entity they miss degrades to its id (recorded as unresolved) with its numbers kept.

Performance: ``POST /api/v3/ad_accounts/{id}/reports`` with ``{"data": {"starts_at",
"ends_at", "fields", "breakdowns": ["AD_ID", "DATE"], "time_zone_id"}}`` answers ``{"data":
{"metrics": [{"ad_id", "date", "impressions", "clicks", "spend", ...}]}, "pagination":
{"next_url"}}``; a further page is the same POST to ``next_url``. The window runs from local
midnight to local midnight in the account's zone, sent as whole UTC hours (Reddit wants
hour-aligned times; 'verify' whether it reads them as instants or as local dates: both give
the same days). One report serves ``ad_performance`` and ``actions``. ``spend`` is in micros
of the account currency; ``*_total_value`` fields are in cents ('verify': readers of the API
divide them by 100, Reddit does not document the unit).

Conversions: ``conversion_{event}_clicks`` and ``_views`` per pixel event (purchase, lead,
sign_up, add_to_cart, page_visit). ``conversions`` counts purchases and leads, clicks plus
views; ``value_micros`` is the purchases' total value. ``actions`` carry each event in
``default`` (clicks + views, with the value) and in the account's click and view windows,
named from ``click_attribution_window`` / ``view_attribution_window`` (DAY, WEEK, MONTH ->
1d, 7d, 28d: "28d_click", "1d_view"), counts only: Reddit does not split the value by window.

Errors: ``{"error": {"code", "message"}}`` or ``{"success": false, "error": {"reason",
"explanation"}}``. 401 refreshes the token once; 429 waits ``x-ratelimit-reset`` seconds;
under 5% of the window left (``x-ratelimit-remaining``) calls pause until the reset first;
410 Gone is a retired version (v2 since 2025-09-30).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
import pyarrow as pa

from generator.connectors.auth import OAuth2Refresh
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.http import retry_after
from generator.connectors.jobs import gather_all
from generator.connectors.labels import Directory, Entity
from generator.connectors.normalize import Col, asset_key, content_version
from generator.connectors.paging import NextLinkPaginator, PageRequest, paginate
from generator.connectors.payloads import json_object
from generator.connectors.redact import redact
from generator.connectors.verdicts import Fail, RateLimit, Refresh, SlowDown, Verdict
from generator.errors import ApiVersionRetired, AuthFailed, ConnectorError, ResponseInvalid
from generator.schema import ACTIONS, AD_PERFORMANCE, CREATIVES

__all__ = ["API_VERSION", "EVENTS", "SUNSET", "USER_AGENT", "Reddit"]

#: The pinned Ads API version (the path's ``/api/v3``). Reddit announces versions at
#: ads-api.reddit.com/docs; v2 answered 410 Gone from 2025-09-30.
API_VERSION = "v3"
SUNSET = "none announced (v3 is the current version; v2 was retired on 2025-09-30)"
USER_AGENT = "python:campaign-reporter:v0.1 (ads reporting; +https://brightline.dev)"
PAGE_SIZE = 1000  # page.size of entity lists ('verify' the maximum)
#: Reddit pixel event -> canonical action type
EVENTS = {
    "purchase": "purchase",
    "lead": "lead",
    "sign_up": "signup",
    "add_to_cart": "add_to_cart",
    "page_visit": "page_view",
}
PRIMARY = ("purchase", "lead")
FIELDS = (
    "IMPRESSIONS",
    "CLICKS",
    "SPEND",
    "CONVERSION_PURCHASE_TOTAL_VALUE",
    *(f"CONVERSION_{event.upper()}_{kind}" for event in EVENTS for kind in ("CLICKS", "VIEWS")),
)
WINDOW_DAYS = {"DAY": "1d", "WEEK": "7d", "MONTH": "28d"}  # 'verify' MONTH = 28 days
SLOW_SHARE = 0.05
FORMATS = {"IMAGE": "image", "VIDEO": "video", "TEXT": "text", "CAROUSEL": "carousel"}
_BUMP = (
    f"Reddit Ads API {API_VERSION} is retired: bump API_VERSION in generator/connectors/reddit.py "
    "to the current version (ads-api.reddit.com/docs) and re-record tests/fixtures/reddit"
)

_IDENTITY = {
    "date": Col("date", "date", required=True),
    "ad_id": Col("ad_id", "id", required=True),  # first: a row without it cannot be labelled
    "campaign_id": Col("_names.campaign_id", "id", required=True),
    "ad_group_id": Col("_names.ad_group_id", "id"),
}
PERFORMANCE = {
    **_IDENTITY,
    "campaign_name": Col("_names.campaign_name"),
    "ad_group_name": Col("_names.ad_group_name"),
    "ad_name": Col("_names.ad_name"),
    "creative_id": Col("_post_id"),
    "impressions": Col("impressions", "count", default=0),
    "clicks": Col("clicks", "count", default=0),
    "spend_micros": Col("spend", "micros", default=0),
    "conversions": Col("_conversions", "number", default=0.0),
    "value_micros": Col("_value", "micros", default=0),
}
ACTION_FIELDS = {
    **_IDENTITY,
    "action_type": Col("_action.type", required=True),
    "attribution_window": Col("_action.window", required=True),
    "count": Col("_action.count", "number", default=0.0),
    "value_micros": Col("_action.value", "micros", default=0),
}
CREATIVE_FIELDS = {
    "creative_id": Col("post_id", required=True),
    "ad_id": Col("ad_id", "id"),
    **{k: Col(k) for k in ("name", "headline", "body", "call_to_action", "landing_url")},
    "asset_url": Col("asset_url"),
    "format": Col("format", required=True),
    "version": Col("version", required=True),
}


@dataclass
class _Links(NextLinkPaginator):
    """``pagination.next_url``, rebased onto the API root (and refused elsewhere)."""

    link_path: str = "pagination.next_url"
    rebase: Callable[[str], str] = str

    def next_page(self, body: Any, request: PageRequest) -> PageRequest | None:
        page = super().next_page(body, request)
        return PageRequest(self.rebase(page.url), json=page.json) if page else None


class Reddit(Connector):
    """Reddit Ads (credentials: ``client_id``, ``client_secret``, ``refresh_token``)."""

    platform = "reddit"
    api_version = API_VERSION
    sunset = SUNSET
    hosts: ClassVar[dict[str, str]] = {
        "api": "https://ads-api.reddit.com",
        "oauth": "https://www.reddit.com",
    }
    #: a burst cap: Reddit allows 60 report and 400 read calls a minute per user (Airbyte's
    #: manifest), which the x-ratelimit headers track and ``classify`` pauses for
    rate = 5.0
    lookback_days = 28  # the default click-through attribution window
    credential_names = ("client_id", "client_secret", "refresh_token")

    def __init__(self, credentials: Mapping[str, str], **options: Any) -> None:
        super().__init__(credentials, **options)
        self._http.headers["User-Agent"] = USER_AGENT  # the token grant needs it too
        self._accounts: dict[str, tuple[AccountInfo, dict[str, str]]] = {}
        self._catalogs: dict[str, _Catalog] = {}

    def make_auth(self) -> OAuth2Refresh:
        c = self.credentials
        return OAuth2Refresh(
            self.platform,
            self.url("oauth", "/api/v1/access_token"),
            client_id=c["client_id"],
            client_secret=c["client_secret"],
            refresh_token=c["refresh_token"],
            basic_auth=True,
            on_rotate=self.on_rotate,
        )

    def default_headers(self) -> dict[str, str]:
        return {"User-Agent": USER_AGENT}

    def classify(self, response: httpx.Response, request: str) -> Verdict | None:
        status, headers = response.status_code, response.headers
        if status < 300:
            pause = _usage_pause(headers)
            return SlowDown(pause) if pause else None
        if status == 401:
            return Refresh()
        message = _message(response)
        if status == 429:
            wait = _number(headers.get("x-ratelimit-reset"))
            return RateLimit(
                f"HTTP 429 {message}", wait if wait is not None else retry_after(response)
            )
        if status == 410:
            return Fail(
                ApiVersionRetired(f"{_BUMP} ({message})", platform="reddit", request=request)
            )
        if status == 403:
            advice = (
                "re-authorise the refresh token with the adsread scope for a user of the account"
            )
            text = f"Reddit denied access ({message}); {advice}"
            return Fail(AuthFailed(text, platform=self.platform, request=request))
        if status >= 500:
            return None
        return Fail(ConnectorError(f"HTTP {status}: {message}", platform="reddit", request=request))

    async def account_info(self, account_id: str) -> AccountInfo:
        """Name, currency and time zone of the ad account (read once per connector)."""
        if account_id not in self._accounts:
            url = self._api(f"ad_accounts/{account_id}")
            data = (await self.api.call("GET", url, parse=json_object)).get("data") or {}
            for field in ("currency", "time_zone_id"):
                if not data.get(field):
                    message = f"ad account {account_id} answered without {field!r} ({API_VERSION})"
                    raise ResponseInvalid(message, platform=self.platform)
            info = AccountInfo(
                account_id, str(data.get("name", "")), data["currency"], data["time_zone_id"]
            )
            windows = {kind: _window(data, kind) for kind in ("click", "view")}
            self._accounts[account_id] = (info, windows)
        return self._accounts[account_id][0]

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily rows per ad; conversions and value as the module docstring says."""
        info, rows = await self._report(account_id, start, end, "ad_performance")
        records = [{**r, **_conversions(r)} for r in rows]
        constants = {**_constants(info), "account_name": info.name}
        return self.normalize(records, PERFORMANCE, AD_PERFORMANCE, **constants)

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily conversions by canonical type: default, click and view windows."""
        info, rows = await self._report(account_id, start, end, "actions")
        windows = self._accounts[account_id][1]
        records = [action for row in rows for action in _actions(row, windows)]
        return self.normalize(records, ACTION_FIELDS, ACTIONS, **_constants(info))

    async def fetch_creatives(self, account_id: str) -> pa.Table:
        """One row per promoted post: copy and media from the post, the link from the ad."""
        ads = (await self._catalog(account_id)).ads
        posts: dict[str, dict] = {}
        for profile in sorted({str(a["profile_id"]) for a in ads if a.get("profile_id")}):
            for post in await self._list(f"profiles/{profile}/posts"):
                posts[str(post.get("id"))] = post
        rows = {}
        for ad in sorted(ads, key=lambda a: str(a.get("id"))):
            post_id = str(ad.get("post_id") or "")
            rows.setdefault(post_id, _creative(ad, posts.get(post_id, {})))
        return self.normalize(
            list(rows.values()), CREATIVE_FIELDS, CREATIVES, account_id=account_id
        )

    # -- the pieces -----------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return self.url("api", f"/api/{API_VERSION}/{path}")

    def _rebase(self, link: str) -> str:
        """A ``next_url`` on Reddit's API host (onto ``base_url``) or the sandbox; else refused."""
        target = httpx.URL(link)
        if target.host == httpx.URL(self.hosts["api"]).host:
            return self.url("api", target.raw_path.decode())
        if self.base_url and link.startswith(self.base_url + "/"):
            return link
        raise ResponseInvalid(
            f"a next page on an unexpected host ({target.host})", platform="reddit"
        )

    async def _list(self, path: str) -> list[dict]:
        first = PageRequest(self._api(path), {"page.size": PAGE_SIZE})
        pages = paginate(self.api, "GET", first, _Links(rebase=self._rebase), parse=_page)
        return [item async for page in pages for item in page["data"]]

    async def _catalog(self, account_id: str) -> _Catalog:
        """The account's campaigns, ad groups and ads as listed (read once per account)."""
        if account_id not in self._catalogs:
            campaigns, groups, ads = await gather_all(
                self._list(f"ad_accounts/{account_id}/{e}")
                for e in ("campaigns", "ad_groups", "ads")
            )
            directory = Directory(
                campaigns=[_entity(c) for c in campaigns if c.get("id")],
                ad_groups=[_entity(g, "campaign_id") for g in groups if g.get("id")],
                ads=[_entity(a, "ad_group_id") for a in ads if a.get("id")],
            )
            self._catalogs[account_id] = _Catalog(directory, ads)
        return self._catalogs[account_id]

    async def _report(self, account_id: str, start: date, end: date, dataset: str):
        """The window's report rows, labelled; one report serves both datasets."""
        info = await self.account_info(account_id)

        async def read() -> list[dict]:
            catalog = await self._catalog(account_id)
            ads = {str(a["id"]): a for a in catalog.ads if a.get("id")}
            body = {
                "data": {
                    "starts_at": _utc_hour(start, info.timezone),
                    "ends_at": _utc_hour(end + timedelta(days=1), info.timezone),
                    "fields": list(FIELDS),
                    "breakdowns": ["AD_ID", "DATE"],
                    "time_zone_id": info.timezone,
                }
            }
            first = PageRequest(self._api(f"ad_accounts/{account_id}/reports"), json=body)
            pages = paginate(self.api, "POST", first, _Links(rebase=self._rebase), parse=_metrics)
            rows = [r async for page in pages for r in page["data"]["metrics"]]
            return [self._labelled(account_id, catalog.directory, r, ads) for r in rows]

        return info, await self.shared(dataset, (account_id, start, end), read)

    def _labelled(self, account_id: str, directory: Directory, row: dict, ads: dict) -> dict:
        """A report row with its names and post; an ad lists its campaign too, which names
        the campaign even when the ad's group is gone."""
        ad = ads.get(str(row.get("ad_id")), {})
        names = self.label(
            account_id, directory, campaign=ad.get("campaign_id"), ad=row.get("ad_id")
        )
        return {**row, "_names": names, "_post_id": ad.get("post_id")}


@dataclass(frozen=True)
class _Catalog:
    """An account's directory (campaign > ad group > ad) and its ads as listed."""

    directory: Directory
    ads: list[dict]


def _entity(item: dict, parent: str | None = None) -> Entity:
    up = item.get(parent) if parent else None
    return Entity(str(item["id"]), item.get("name"), str(up) if up not in (None, "") else None)


def _constants(info: AccountInfo) -> dict[str, str]:
    return {
        "account_id": info.account_id,
        "account_timezone": info.timezone,
        "currency": info.currency,
    }


def _window(account: dict[str, Any], kind: str) -> str:
    """The name of the account's click or view window ("28d_click"; "click" if unknown)."""
    days = WINDOW_DAYS.get(str(account.get(f"{kind}_attribution_window")))
    return f"{days}_{kind}" if days else kind


def _utc_hour(day: date, zone: str) -> str:
    """Local midnight of ``day`` as a whole UTC hour (``2026-10-01T05:00:00Z``)."""
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _total(*values: Any) -> Any:
    """The sum of count fields as text, or the first value that is not a number."""
    total = Decimal(0)
    for value in values:
        try:
            total += Decimal(str(value)) if value not in (None, "") else 0
        except InvalidOperation:
            return value
    return str(total)


def _cents(value: Any) -> Any:
    """Micros from a value in cents (the ``*_total_value`` fields); normalize names a bad one."""
    try:
        return str(Decimal(str(value)) * 10_000) if value not in (None, "") else None
    except InvalidOperation:
        return value


def _conversions(row: dict) -> dict[str, Any]:
    counts = [row.get(f"conversion_{e}_{k}") for e in PRIMARY for k in ("clicks", "views")]
    return {
        "_conversions": _total(*counts),
        "_value": _cents(row.get("conversion_purchase_total_value")),
    }


def _actions(row: dict, windows: dict[str, str]) -> list[dict[str, Any]]:
    """One record per pixel event present in the row, in each attribution window."""
    out = []
    for event, action_type in EVENTS.items():
        clicks, views = row.get(f"conversion_{event}_clicks"), row.get(f"conversion_{event}_views")
        value = _cents(row.get(f"conversion_{event}_total_value"))
        if not any(v not in (None, "", 0, "0") for v in (clicks, views, value)):
            continue
        counts = {
            "default": _total(clicks, views),
            windows["click"]: clicks,
            windows["view"]: views,
        }
        for window, count in counts.items():
            action = {"type": action_type, "window": window, "count": count}
            out.append({**row, "_action": action | {"value": value if window == "default" else 0}})
    return out


def _creative(ad: dict[str, Any], post: dict[str, Any]) -> dict[str, Any]:
    """Copy, link and media of a promoted post, and a version hashed from them."""
    content = (post.get("content") or [{}])[0] or {}
    media = content.get("media_url") or post.get("thumbnail_url")
    row = {
        "post_id": ad.get("post_id") or post.get("id"),
        "ad_id": ad.get("id"),
        "name": ad.get("name"),
        "headline": post.get("headline"),
        "body": post.get("body"),
        "call_to_action": content.get("call_to_action"),
        "landing_url": ad.get("click_url") or content.get("destination_url"),
        "asset_url": media,
        "format": FORMATS.get(str(post.get("type")), "image" if media else "text"),
    }
    # the media by its path: the CDN's host and a signed query change while the image does not
    content = {k: v for k, v in row.items() if k != "ad_id"} | {"asset_url": asset_key(media)}
    row["version"] = content_version(*content.values())
    return row


def _page(response: httpx.Response) -> dict[str, Any]:
    body = json_object(response)
    if not isinstance(body.get("data"), list):
        raise ValueError("a page without a data list")
    return body


def _metrics(response: httpx.Response) -> dict[str, Any]:
    body = json_object(response)
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), list):
        raise ValueError("a report page without data.metrics")
    return body


def _message(response: httpx.Response) -> str:
    """The error's message or explanation (redacted), in either of Reddit's error shapes."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        text = error.get("message") or error.get("explanation") or error.get("reason")
    else:
        text = body.get("message") if isinstance(body, dict) else None
    return redact(str(text or response.text[:200]).replace("\n", " "))


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _usage_pause(headers: httpx.Headers) -> float:
    """Seconds to pause when under ``SLOW_SHARE`` of the rate-limit window is left, else 0."""
    used, left, reset = (
        _number(headers.get(f"x-ratelimit-{k}")) for k in ("used", "remaining", "reset")
    )
    if left is None or reset is None:
        return 0.0
    return reset if left < max(1.0, ((used or 0) + left) * SLOW_SHARE) else 0.0
