"""Pinterest Ads API v5: daily ad analytics (sync, 90 days deep), async reports for older days.

Days are UTC (the analytics docs say so; an ad account carries no time zone), stored with
``account_timezone`` "UTC". ``GET /v5/ad_accounts/{id}/ads/analytics`` answers a JSON list of
``{"AD_ID", "DATE", <COLUMN>: number}`` for at most ``MAX_AD_IDS`` ads and ``MAX_RANGE_DAYS``,
starting at most ``HISTORY_DAYS`` back; older ranges come from an async report (``POST
.../reports`` -> ``token``, ``GET .../reports?token=`` until FINISHED, then the file at the
pre-signed ``url``, read without credentials, mapping each ad id to its rows). One read per
window feeds both ``ad_performance`` and ``actions``. ``*_MICRO_DOLLAR`` columns are micros of
the account currency; a column without value is left out. Names and the ad -> pin link come
from the bookmark-paged entity lists (archived entities included); the promoted pin (``GET
/v5/pins/{id}``) is the creative. Rows carry their campaign, ad group and ad ids: an entity the
lists miss degrades to its id (recorded as unresolved) and keeps its numbers.

``_1`` columns are paid, ``_2`` earned (organic activity on a promoted pin): only paid ones
are ad performance. Conversions are tag events credited to a click (``CLICK_DAYS``), an
engagement such as a save (``ENGAGEMENT_DAYS``) or a view (``VIEW_DAYS``): ``actions`` keeps
each window under its own name ("30d_click", ...) and their sum, Ads Manager's total, as
"default"; ``ad_performance.conversions`` is the default checkouts plus leads, and
``value_micros`` the default checkout value.

Errors are ``{"code", "message"}``: 401 a dead access token, 429 code 8 a rate limit (wait
``X-RateLimit-Reset`` seconds), code 2726 the reporting cost limit and any "Retry after N
seconds" (wait N), code 12 a transient fault, 400 code 1 "only ... the last 90 days" (the
range goes to a report instead), 410 a retired version. Below ``SLOW_AT`` of
``X-RateLimit-Limit`` left, calls are spread over the time until ``X-RateLimit-Reset``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import httpx
import pyarrow as pa

from generator.connectors.auth import OAuth2Refresh
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.jobs import JobStatus
from generator.connectors.labels import Directory, Entity
from generator.connectors.normalize import Col, asset_key, normalize, utc_now
from generator.connectors.paging import CursorPaginator, PageRequest, dig, paginate
from generator.connectors.redact import redact
from generator.connectors.verdicts import Fail, RateLimit, Refresh, Retry, SlowDown, Verdict
from generator.errors import ApiVersionRetired, AuthFailed, ConnectorError, ResponseInvalid
from generator.schema import ACTIONS, AD_PERFORMANCE, CREATIVES

__all__ = ["API_VERSION", "COLUMNS", "EVENTS", "SUNSET", "Pinterest"]

log = logging.getLogger("generator.connectors")

#: The pinned Pinterest API version. v5 has no announced end (v3 and v4 were switched off in
#: 2023 after months of notice); watch the changelog at developers.pinterest.com/docs/api/v5/.
API_VERSION = "v5"
SUNSET = "none announced (v5 is current; v4 was retired 2023-06-30)"

HISTORY_DAYS = MAX_RANGE_DAYS = 90  # how far back ads/analytics reaches, and its longest range
REPORT_MAX_DAYS = 186  # the longest async report (Airbyte reads 185-day slices; verify)
MAX_AD_IDS = 100  # ad_ids per analytics call (verify)
PAGE_SIZE = 250  # the largest page_size of the entity lists (verify)
# by default ARCHIVED ads are left out; DRAFT and DELETED_DRAFT never delivered
ENTITY_STATUSES = ["ACTIVE", "PAUSED", "ARCHIVED"]
CLICK_DAYS, ENGAGEMENT_DAYS, VIEW_DAYS = 30, 30, 1  # Pinterest's defaults, sent explicitly
#: canonical window -> the kind of action a conversion is credited to (its column infix)
WINDOWS = {f"{CLICK_DAYS}d_click": "CLICK", f"{ENGAGEMENT_DAYS}d_engagement": "ENGAGEMENT"}
WINDOWS[f"{VIEW_DAYS}d_view"] = "VIEW"
#: canonical action -> (Pinterest event, whether it has value columns)
EVENTS = {
    "purchase": ("CHECKOUT", True),
    "signup": ("SIGNUP", True),
    "lead": ("LEAD", False),
    "add_to_cart": ("ADD_TO_CART", False),  # no TOTAL_ENGAGEMENT_ADD_TO_CART column (verify)
}
PRIMARY = ("purchase", "lead")


def _columns(action: str) -> dict[str, tuple[str, str | None]]:
    """window -> (count column, value column) of an action, e.g. TOTAL_CLICK_CHECKOUT."""
    event, valued = EVENTS[action]
    out = {}
    for window, kind in WINDOWS.items():
        if kind != "ENGAGEMENT" or event != "ADD_TO_CART":
            name = f"TOTAL_{kind}_{event}"
            out[window] = (name, f"{name}_VALUE_IN_MICRO_DOLLAR" if valued else None)
    return out


_DELIVERY = ["IMPRESSION_1", "IMPRESSION_2", "CLICKTHROUGH_1", "CLICKTHROUGH_2"]
_DELIVERY += ["TOTAL_CLICKTHROUGH", "SPEND_IN_MICRO_DOLLAR", "TOTAL_CONVERSIONS"]
COLUMNS = ["AD_ID", "CAMPAIGN_ID", "AD_GROUP_ID", *_DELIVERY] + [
    column for action in EVENTS for pair in _columns(action).values() for column in pair if column
]
RATE_LIMIT_CODES, TRANSIENT_CODES = frozenset({8, 2726}), frozenset({12})
SLOW_AT, MAX_PAUSE = 0.1, 30.0  # share of the window's calls left where pausing starts
_RETRY_AFTER = re.compile(r"retry after (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)
_FAILED = ("FAILED", "CANCELLED", "EXPIRED", "DOES_NOT_EXIST")

_IDS = {
    "date": Col("DATE", "date", required=True),
    "ad_id": Col("AD_ID", "id", required=True),  # first: a row without it cannot be labelled
    "campaign_id": Col("_names.campaign_id", "id", required=True),
    "ad_group_id": Col("_names.ad_group_id", "id"),
}
PERFORMANCE = {
    **_IDS,
    "campaign_name": Col("_names.campaign_name"),
    "ad_group_name": Col("_names.ad_group_name"),
    "ad_name": Col("_names.ad_name"),
    "creative_id": Col("_pin", "id"),
    "impressions": Col("IMPRESSION_1", "count", default=0),
    "clicks": Col("CLICKTHROUGH_1", "count", default=0),
    "spend_micros": Col("SPEND_IN_MICRO_DOLLAR", "micros", default=0),
    "conversions": Col("_conversions", "number", default=0.0),
    "value_micros": Col("_value", "micros", default=0),
}
ACTION_FIELDS = {
    **_IDS,
    "action_type": Col("_action.type", required=True),
    "attribution_window": Col("_action.window", required=True),
    "count": Col("_action.count", "number", default=0.0),
    "value_micros": Col("_action.value", "micros", default=0),
}
CREATIVE_FIELDS = {
    "creative_id": Col("id", "id", required=True),
    "ad_id": Col("_ad.id", "id"),
    "name": Col("_ad.name"),
    "headline": Col("title"),
    "body": Col("description"),
    "landing_url": Col("link"),
    "format": Col("_copy.format", required=True),
    "asset_url": Col("_copy.image.url"),
    "width": Col("_copy.image.width", "count"),
    "height": Col("_copy.image.height", "count"),
    "version": Col("_copy.version", required=True),
}


class _OutOfHistory(ConnectorError):
    """ads/analytics refused a start beyond its history: the range needs a report."""


class Pinterest(Connector):
    platform = "pinterest"
    api_version = API_VERSION
    sunset = SUNSET
    hosts: ClassVar[dict[str, str]] = {"api": "https://api.pinterest.com"}
    rate = 10.0  # well under 100/s per user, and 300/min for ads_analytics
    lookback_days = 30  # the click window: conversions are credited up to 30 days late
    credential_names = ("client_id", "client_secret", "refresh_token")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._accounts: dict[str, AccountInfo] = {}
        self._lists: dict[tuple[str, str], dict[str, dict]] = {}

    def make_auth(self) -> OAuth2Refresh:
        # continuous refresh (the only kind since 2025-05-14): each refresh also answers a new
        # 60-day refresh token, which on_rotate keeps for the next run
        return OAuth2Refresh(
            self.platform,
            self.url("api", f"/{API_VERSION}/oauth/token"),
            client_id=self.credentials["client_id"],
            client_secret=self.credentials["client_secret"],
            refresh_token=self.credentials["refresh_token"],
            basic_auth=True,
            on_rotate=self.on_rotate,
        )

    def classify(self, response: httpx.Response, request: str) -> Verdict | None:
        status = response.status_code
        if status < 300:
            pause = _usage_pause(response.headers)
            return SlowDown(pause) if pause else None
        error = _error_body(response)
        code, message = error.get("code"), redact(str(error.get("message", "")).strip())
        if status == 401:
            return Refresh()
        if status == 410:  # how v3 and v4 calls were refused after their sunset (verify)
            text = f"API {API_VERSION} is retired ({message}): bump API_VERSION in "
            text += "generator/connectors/pinterest.py and re-record tests/fixtures/pinterest"
            return Fail(ApiVersionRetired(text, platform=self.platform, request=request))
        hint = _RETRY_AFTER.search(message)
        if status == 429 or code in RATE_LIMIT_CODES or hint:
            wait = float(hint.group(1)) if hint else _number(response.headers, "x-ratelimit-reset")
            return RateLimit(f"code {code}: {message}", wait)
        if code in TRANSIENT_CODES or status >= 500:
            return Retry(f"HTTP {status} code {code}: {message}")
        cls = AuthFailed if status == 403 else ConnectorError
        cls = _OutOfHistory if code == 1 and "last 90 days" in message else cls
        text = f"HTTP {status} code {code}: {message or redact(response.text[:200])}"
        return Fail(cls(text, platform=self.platform, request=request))

    async def account_info(self, account_id: str) -> AccountInfo:
        """Name and currency of an ad account (read once); its reporting days are UTC."""
        if account_id not in self._accounts:
            body = await self._get(f"/ad_accounts/{account_id}")
            if not body.get("currency"):
                message = f"ad account {account_id} answered without currency ({API_VERSION})"
                raise ResponseInvalid(message, platform=self.platform)
            info = AccountInfo(account_id, str(body.get("name", "")), body["currency"], "UTC")
            self._accounts[account_id] = info
        return self._accounts[account_id]

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily paid delivery per ad; conversions and value as the module docstring says."""
        info, rows = await self._window(account_id, start, end, "ad_performance")
        records = [{**r, **_conversions(r)} for r in rows]
        return self._normalize(records, PERFORMANCE, AD_PERFORMANCE, _constants(info, True))

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily conversion events by canonical type, in every window Pinterest reports."""
        info, rows = await self._window(account_id, start, end, "actions")
        records = [action for row in rows for action in _actions(row)]
        return self._normalize(records, ACTION_FIELDS, ACTIONS, _constants(info))

    async def fetch_creatives(self, account_id: str) -> pa.Table:
        """One row per promoted pin, linked to the first ad that promotes it."""
        first_ad: dict[str, dict] = {}
        for ad_id, ad in sorted((await self._list(account_id, "ads")).items()):
            if ad.get("pin_id"):
                first_ad.setdefault(str(ad["pin_id"]), {"id": ad_id, "name": ad.get("name")})
        calls = [self._get(f"/pins/{pin}", ad_account_id=account_id) for pin in first_ad]
        pins = await asyncio.gather(*calls)
        rows = [
            {**p, "_ad": ad, "_copy": _pin_copy(p)}
            for p, ad in zip(pins, first_ad.values(), strict=True)
        ]
        constants = {"platform": "pinterest", "account_id": account_id}
        return self._normalize(rows, CREATIVE_FIELDS, CREATIVES, constants)

    # -- the pieces -----------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return self.url("api", f"/{API_VERSION}{path}")

    async def _get(self, path: str, **params: Any) -> dict[str, Any]:
        return await self.api.call("GET", self._api(path), params=params or None, parse=_object)

    async def _list(self, account_id: str, kind: str) -> dict[str, dict]:
        """Every campaign, ad group or ad of the account by id (read once per connector)."""
        if (account_id, kind) not in self._lists:
            params = {"page_size": PAGE_SIZE, "entity_statuses": ENTITY_STATUSES}
            first = PageRequest(self._api(f"/ad_accounts/{account_id}/{kind}"), params)
            paging = CursorPaginator(cursor_path="bookmark", param="bookmark", more_path=None)
            pages = paginate(self.api, "GET", first, paging, parse=_items)
            items = [item async for page in pages for item in page["items"]]
            self._lists[(account_id, kind)] = {str(i["id"]): i for i in items}
        return self._lists[(account_id, kind)]

    async def _directory(self, account_id: str) -> Directory:
        """The account's campaigns, ad groups and ads as listed (archived ones included)."""
        campaigns, groups, ads = [await self._list(account_id, k) for k in _KINDS]
        return Directory(
            campaigns=[_entity(i, id_) for id_, i in campaigns.items()],
            ad_groups=[_entity(i, id_, "campaign_id") for id_, i in groups.items()],
            ads=[_entity(i, id_, "ad_group_id") for id_, i in ads.items()],
        )

    async def _window(self, account_id: str, start: date, end: date, dataset: str):
        """The window's rows, labelled and read once for performance and actions together."""
        info = await self.account_info(account_id)

        async def read() -> list[dict]:
            rows = await self._read(account_id, start, end)
            directory, ads = await self._directory(account_id), await self._list(account_id, "ads")
            return [
                {
                    **r,
                    "_names": self.label(
                        account_id,
                        directory,
                        campaign=r.get("CAMPAIGN_ID"),
                        ad_group=r.get("AD_GROUP_ID"),
                        ad=r.get("AD_ID"),
                    ),
                    "_pin": ads.get(str(r.get("AD_ID")), {}).get("pin_id"),
                }
                for r in rows
            ]

        return info, await self.shared(dataset, (account_id, start, end), read)

    async def _read(self, account_id: str, start: date, end: date) -> list[dict]:
        """Analytics while the range is inside its history, else async reports."""
        oldest = utc_now().date() - timedelta(days=HISTORY_DAYS - 1)
        if start >= oldest and (end - start).days < MAX_RANGE_DAYS:
            try:
                return await self._analytics(account_id, start, end)
            except _OutOfHistory as exc:  # Pinterest's clock disagrees: read a report
                log.info("%s: %s; reading %s..%s from a report", self.platform, exc, start, end)
        rows = []
        for lo, hi in _pieces(start, end, REPORT_MAX_DAYS):
            rows += await self._report(account_id, lo, hi)
        return rows

    async def _analytics(self, account_id: str, start: date, end: date) -> list[dict]:
        ads = sorted(await self._list(account_id, "ads"))
        url, params = self._api(f"/ad_accounts/{account_id}/ads/analytics"), _query(start, end)
        chunks = [ads[i : i + MAX_AD_IDS] for i in range(0, len(ads), MAX_AD_IDS)]
        calls = [
            self.api.call("GET", url, params={**params, "ad_ids": ",".join(c)}, parse=_rows)
            for c in chunks
        ]
        return [row for rows in await asyncio.gather(*calls) for row in rows]

    async def _report(self, account_id: str, start: date, end: date) -> list[dict]:
        """One async report: submitted, polled, and its file downloaded without credentials."""
        url = self._api(f"/ad_accounts/{account_id}/reports")

        async def submit() -> str:
            body = await self.api.call("POST", url, json=_report_body(start, end), parse=_object)
            if not body.get("token"):
                message = f"no report token in the {API_VERSION} answer ({body.get('message')})"
                raise ResponseInvalid(message, platform=self.platform)
            return str(body["token"])

        async def poll(token: str) -> JobStatus:
            return _job_status(await self._get(f"/ad_accounts/{account_id}/reports", token=token))

        async def fetch(token: str, status: JobStatus) -> dict[str, list]:
            if not status.result:  # a report without rows comes without a file
                return {}
            return await self.api.call("GET", status.result, authenticate=False, parse=_file)

        by_ad = await self.run_report(account_id, f"ads:{start}:{end}", submit, poll, fetch)
        return [{"AD_ID": ad_id, **row} for ad_id, rows in by_ad.items() for row in rows]

    def _normalize(self, records, fields, schema, constants: dict[str, Any]) -> pa.Table:
        lineage = {"source": self.platform, "fetched_at": utc_now(), "api_version": API_VERSION}
        lineage |= {"first_seen": utc_now().date()} if schema is CREATIVES else {}
        return normalize(
            records,
            fields,
            schema,
            constants=lineage | constants,
            platform=self.platform,
            api_version=API_VERSION,
        )


_KINDS = ("campaigns", "ad_groups", "ads")


def _entity(item: dict, entity_id: str, parent: str | None = None) -> Entity:
    up = item.get(parent) if parent else None
    return Entity(entity_id, item.get("name"), str(up) if up not in (None, "") else None)


def _constants(info: AccountInfo, named: bool = False) -> dict[str, str]:
    constants = {"platform": "pinterest", "account_id": info.account_id, "currency": info.currency}
    constants["account_timezone"] = info.timezone
    return constants | ({"account_name": info.name} if named else {})


def _query(start: date, end: date) -> dict[str, Any]:
    return {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "columns": ",".join(COLUMNS),
        "granularity": "DAY",
        "click_window_days": CLICK_DAYS,
        "engagement_window_days": ENGAGEMENT_DAYS,
        "view_window_days": VIEW_DAYS,
        "conversion_report_time": "TIME_OF_AD_ACTION",
    }


def _report_body(start: date, end: date) -> dict[str, Any]:
    """The analytics query as a report request; an ad is a PIN_PROMOTION there."""
    return {**_query(start, end), "columns": COLUMNS, "level": "PIN_PROMOTION"} | {
        "report_format": "JSON"
    }


def _pieces(start: date, end: date, days: int) -> list[tuple[date, date]]:
    out = []
    while start <= end:
        out.append((start, min(end, start + timedelta(days=days - 1))))
        start = out[-1][1] + timedelta(days=1)
    return out


def _job_status(body: dict[str, Any]) -> JobStatus:
    status = str(body.get("report_status", ""))
    if status in _FAILED:
        return JobStatus(failed=True, detail=f"{status}: {body.get('message') or 'no reason'}")
    return JobStatus(done=status == "FINISHED", detail=status, result=body.get("url"))


def _total(values: list[Any]) -> Any:
    """The sum of numbers, or the first value that is not one (normalize then names it)."""
    total = Decimal(0)
    for value in values:
        try:
            total += Decimal(str(value)) if value not in (None, "") else 0
        except InvalidOperation:
            return value
    return str(total)


def _default(row: dict, action: str) -> tuple[Any, Any]:
    """Count and value of an action over all its windows (Ads Manager's total)."""
    pairs = _columns(action).values()
    return _total([row.get(c) for c, _ in pairs]), _total([row.get(v) for _, v in pairs if v])


def _conversions(row: dict) -> dict[str, Any]:
    counts = [_default(row, action)[0] for action in PRIMARY]
    return {"_conversions": _total(counts), "_value": _default(row, "purchase")[1]}


def _actions(row: dict) -> list[dict]:
    """One record per canonical action and window with a count or a value."""
    out = []
    for action in EVENTS:
        found = {w: (row.get(c), v and row.get(v)) for w, (c, v) in _columns(action).items()}
        for window, (count, value) in {"default": _default(row, action), **found}.items():
            if _nonzero(count) or _nonzero(value):
                detail = {"type": action, "window": window, "count": count, "value": value}
                out.append({**row, "_action": detail})
    return out


def _nonzero(value: Any) -> bool:
    try:
        return value is not None and Decimal(str(value)) != 0
    except InvalidOperation:
        return True  # not a number: kept, so that normalize names it


def _pin_copy(pin: dict[str, Any]) -> dict[str, Any]:
    """Format, the original image (a video's cover) and a version hashed from the content."""
    media = pin.get("media") or {}
    video = media.get("media_type") == "video"
    image = dig(media, "images.originals") or {}
    if video:
        image = {k: media.get(k) for k in ("width", "height")} | {
            "url": media.get("cover_image_url")
        }
    kind = "video" if video else "image" if image.get("url") else "text"
    # the image by its path: the CDN's host and a signed query change while the image does not
    image_key = asset_key(image.get("url"))
    content = (pin.get("title"), pin.get("description"), pin.get("link"), kind, image_key)
    version = hashlib.sha256("\x1f".join(map(str, content)).encode()).hexdigest()[:16]
    return {"format": kind, "image": image, "version": version}


def _parser(check, expected: str):
    """A ``parse`` for ``ApiClient.call``: JSON that passes ``check``, else ValueError (retried)."""

    def parse(response: httpx.Response) -> Any:
        body = json.loads(response.content)
        if not check(body):
            raise ValueError(f"expected {expected}")
        return body

    return parse


_object = _parser(lambda b: isinstance(b, dict), "a JSON object")
_items = _parser(
    lambda b: (
        isinstance(b, dict)
        and isinstance(b.get("items"), list)
        and all(isinstance(i, dict) and i.get("id") for i in b["items"])
    ),
    "a page of items with ids",
)
_rows = _parser(lambda b: isinstance(b, list) and all(isinstance(r, dict) for r in b), "rows")
_file = _parser(
    lambda b: isinstance(b, dict) and all(isinstance(v, list) for v in b.values()),
    "a report file mapping ad ids to rows",
)


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _number(headers: httpx.Headers, name: str) -> float | None:
    try:
        return max(0.0, float(headers.get(name, "")))
    except ValueError:
        return None


def _usage_pause(headers: httpx.Headers) -> float:
    """Seconds to wait so that the calls left in the window last until it resets."""
    limit, left = _number(headers, "x-ratelimit-limit"), _number(headers, "x-ratelimit-remaining")
    reset = _number(headers, "x-ratelimit-reset")
    if not limit or left is None or reset is None or left >= limit * SLOW_AT:
        return 0.0
    return min(MAX_PAUSE, reset / (left + 1))
