"""LinkedIn Marketing API (ads reporting): Rest.li 2.0 finders, monthly versions, OAuth2.

Reporting is synchronous and unpaged: ``GET /rest/adAnalytics`` (finder ``analytics`` for one
pivot, ``statistics`` for up to three) answers one element per pivot value and day, with at
most 20 fields per request and 15,000 elements per answer (LinkedIn drops the rest silently).
So metrics go out in field chunks joined on (day, pivot values), and the date range in pieces
that stay under the cap. Query values use Rest.li 2.0 syntax (``(key:value)``, ``List(...)``,
URL-encoded URNs) that httpx would escape, so ``restli_query`` builds every query string.
Days are UTC whatever the account's time zone (rows say ``account_timezone="UTC"``); costs are
major-unit strings with float noise ("107.5300000000000011369"). Campaign group > campaign >
creative become campaign > ad group > ad; entity finders page by ``pageToken``
(``metadata.nextPageToken``), conversion rules by ``start``/``count``. Reports carry creative
URNs only, named from those finders: a creative the finders do not return makes them be read
once more per run, then, like a campaign or group they miss, it degrades to its id (recorded
as unresolved) and its numbers are kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote

import httpx
import pyarrow as pa

from generator.connectors.auth import Authenticator, OAuth2Refresh, StaticToken
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.http import retry_after
from generator.connectors.labels import Directory, Entity
from generator.connectors.normalize import Col, asset_key, major_to_micros, normalize, utc_now
from generator.connectors.paging import (
    OffsetPaginator,
    PageRequest,
    PageTokenPaginator,
    Paginator,
    paginate,
)
from generator.connectors.verdicts import Fail, RateLimit, Refresh, Verdict
from generator.errors import ApiVersionRetired, AuthFailed, ConnectorError, ResponseInvalid
from generator.schema import ACTIONS, AD_PERFORMANCE, CREATIVES

__all__ = ["API_VERSION", "SUNSET", "LinkedIn", "restli", "restli_query"]

#: The pinned ``LinkedIn-Version``. Each monthly version is served at least a year; see
#: learn.microsoft.com/linkedin/marketing/versioning (and .../integrations/migrations).
API_VERSION = "202609"
SUNSET = "2027-09 (estimated: 202609 is the newest version found; 202604 sunsets 2027-04-15)"

MAX_FIELDS = 20  # per adAnalytics request, dateRange and pivotValues included
MAX_ELEMENTS = 15_000  # per adAnalytics answer; more are silently dropped
PAGE_SIZE = 100  # creatives finder: large pages have been seen to fail with 500s
BATCH_SIZE = 50  # ids per BATCH_GET of posts and images (verify the documented maximum)
# Searches name every status, REMOVED included, so that a deleted campaign or group still has
# its name: without a filter LinkedIn leaves some out (verify which).
GROUP_STATUSES = (
    "ACTIVE",
    "PAUSED",
    "ARCHIVED",
    "CANCELED",
    "DRAFT",
    "PENDING_DELETION",
    "REMOVED",
)
CAMPAIGN_STATUSES = (*GROUP_STATUSES, "COMPLETED")

_PERFORMANCE = (
    "impressions",
    "clicks",
    "costInLocalCurrency",
    "externalWebsiteConversions",
    "oneClickLeads",
    "conversionValueInLocalCurrency",
)
_CONVERSIONS = (
    "externalWebsitePostClickConversions",
    "externalWebsitePostViewConversions",
    "conversionValueInLocalCurrency",
)
_ENTITY = {
    "date": Col("day", "date", required=True),
    "campaign_id": Col("entity.campaign_id", "id", required=True),
    "ad_group_id": Col("entity.ad_group_id", "id"),
    "ad_id": Col("entity.ad_id", "id", required=True),
}
PERFORMANCE = {
    **_ENTITY,
    "campaign_name": Col("entity.campaign_name"),
    "ad_group_name": Col("entity.ad_group_name"),
    "ad_name": Col("entity.ad_name"),
    "creative_id": Col("entity.ad_id", "id"),
    "impressions": Col("metrics.impressions", "count", default=0),
    "clicks": Col("metrics.clicks", "count", default=0),
    "spend_micros": Col("metrics.costInLocalCurrency", "major", default=0),
    # LinkedIn's headline: website conversions plus Lead Gen Form leads (oneClickLeads)
    "conversions": Col("conversions", "number", default=0.0),
    "value_micros": Col("metrics.conversionValueInLocalCurrency", "major", default=0),
}
ACTION_FIELDS = {
    **_ENTITY,
    "action_type": Col("action_type", required=True),
    "attribution_window": Col("window", required=True),
    "count": Col("count", "number", default=0.0),
    "value_micros": Col("value_micros", "micros", default=0),
}
CREATIVE_FIELDS = {
    "creative_id": Col("id", "id", required=True),
    "ad_id": Col("id", "id", required=True),
    "name": Col("name"),
    "format": Col("format", required=True),
    "headline": Col("headline"),
    "body": Col("body"),
    "call_to_action": Col("call_to_action"),
    "landing_url": Col("landing_url"),
    "asset_url": Col("asset_url"),
    "version": Col("version", required=True),
}
#: LinkedIn conversion rule ``type`` -> canonical action type (others are "other").
CONVERSION_TYPES = {
    "LEAD": "lead",
    "QUALIFIED_LEAD": "lead",
    "MARKETING_QUALIFIED_LEAD": "lead",
    "SALES_QUALIFIED_LEAD": "lead",
    "BOOK_APPOINTMENT": "lead",
    "REQUEST_QUOTE": "lead",
    "PURCHASE": "purchase",
    "ADD_TO_CART": "add_to_cart",
    "START_CHECKOUT": "begin_checkout",
    "SIGN_UP": "signup",
    "COMPLETE_SIGNUP": "signup",
    "START_TRIAL": "signup",
    "VIEW_CONTENT": "view_content",
    "KEY_PAGE_VIEW": "page_view",
    "CONTACT": "contact",
    "PHONE_CALL": "contact",
    "SUBSCRIBE": "subscribe",
    "INSTALL": "app_install",
}


def restli(value: Any) -> str:
    """A query value in Rest.li 2.0 URL syntax: mappings become ``(k:v,...)``, lists and
    tuples ``List(...)``; primitives are percent-encoded, so URNs read ``urn%3Ali%3A...``."""
    if isinstance(value, Mapping):
        return "(" + ",".join(f"{restli(k)}:{restli(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "List(" + ",".join(restli(v) for v in value) + ")"
    if isinstance(value, bool):
        return str(value).lower()
    return quote(str(value), safe="")


def restli_query(params: Mapping[str, Any]) -> str:
    """A whole query string; ``fields`` is LinkedIn's plain comma-separated field list."""
    return "&".join(
        f"{name}={','.join(value) if name == 'fields' else restli(value)}"
        for name, value in params.items()
    )


@dataclass
class _InQuery(Paginator):
    """A framework paginator whose page parameters are appended to a prebuilt Rest.li query
    (``paginate`` would hand them to httpx, which replaces and re-escapes the whole query)."""

    inner: Paginator
    base: str

    def next_page(self, body: Any, request: PageRequest) -> PageRequest | None:
        current = dict(parse_qsl(request.url[len(self.base) :].lstrip("&")))
        following = self.inner.next_page(body, PageRequest(self.base, current))
        if following is None:
            return None
        extra = "".join(f"&{k}={restli(v)}" for k, v in following.params.items())
        return PageRequest(self.base + extra)


@dataclass(frozen=True)
class _Structure:
    """An account's listings: its creatives by numeric id (whole, for ``fetch_creatives``) and
    the directory that names report rows (campaign group > campaign > creative)."""

    creatives: dict[str, dict]
    directory: Directory


class LinkedIn(Connector):
    """LinkedIn ad accounts: daily numbers per creative, their actions, and their creatives.

    Credentials: ``refresh_token`` with ``client_id`` and ``client_secret`` (refreshed at
    www.linkedin.com/oauth/v2/accessToken; a rotated refresh token goes to ``on_rotate``), or a
    plain ``access_token``. Rows are in the account currency, on UTC days.
    """

    platform = "linkedin"
    api_version = API_VERSION
    sunset = SUNSET
    hosts: ClassVar[dict[str, str]] = {
        "api": "https://api.linkedin.com",
        "oauth": "https://www.linkedin.com",
    }
    rate = 5.0  # LinkedIn's limits are daily quotas per app and member; stay gentle
    lookback_days = 30  # the default post-click window; conversions keep arriving that long
    max_fields: ClassVar[int] = MAX_FIELDS
    max_elements: ClassVar[int] = MAX_ELEMENTS

    def __init__(self, credentials: Mapping[str, str], **options: Any) -> None:
        super().__init__(credentials, **options)
        self._structures: dict[str, _Structure] = {}
        self._reread: set[str] = set()  # accounts whose structure was read again this run

    def make_auth(self) -> Authenticator:
        c = self.credentials
        if c.get("refresh_token"):
            return OAuth2Refresh(
                self.platform,
                self.url("oauth", "/oauth/v2/accessToken"),
                client_id=c.get("client_id", ""),
                client_secret=c.get("client_secret", ""),
                refresh_token=c["refresh_token"],
                on_rotate=self.on_rotate,
            )
        if c.get("access_token"):
            return StaticToken(self.platform, c["access_token"])
        raise AuthFailed(
            "credentials need refresh_token (with client_id and client_secret) or "
            "access_token (set them in client.yml)",
            platform=self.platform,
        )

    def default_headers(self) -> dict[str, str]:
        return {"LinkedIn-Version": API_VERSION, "X-Restli-Protocol-Version": "2.0.0"}

    def classify(self, response: httpx.Response, request: str) -> Verdict | None:
        status = response.status_code
        if status < 300 or status >= 500:
            return None
        error = _error_body(response)
        code, message = str(error.get("code") or ""), str(error.get("message") or "").strip()
        if status == 426 or code == "NONEXISTENT_VERSION":
            return self._fail(
                ApiVersionRetired,
                f"LinkedIn-Version {API_VERSION} is not served any more ({message}); bump "
                "API_VERSION in generator/connectors/linkedin.py to a current version and "
                "re-record its fixtures",
                request,
            )
        if status == 429 or code == "TOO_MANY_REQUESTS":
            return RateLimit(f"HTTP 429 {message}".strip(), _rate_limit_wait(response, message))
        if status == 401 and self.credentials.get("refresh_token"):
            return Refresh()
        if status == 401:
            return self._fail(
                AuthFailed,
                f"access token rejected ({message or status}); issue a new one, or configure "
                "refresh_token with client_id and client_secret",
                request,
            )
        if status == 403:
            return self._fail(
                AuthFailed,
                f"access refused ({message}); the member who authorised the app needs a "
                "role on the ad account and the r_ads and r_ads_reporting scopes",
                request,
            )
        return self._fail(ConnectorError, f"HTTP {status} {code}: {message}".strip(), request)

    def _fail(self, kind: type[ConnectorError], message: str, request: str) -> Fail:
        return Fail(kind(message, platform=self.platform, request=request))

    # -- what the connector offers -----------------------------------------------------------

    async def account_info(self, account_id: str) -> AccountInfo:
        """Name and currency of the ad account; its reporting day is always UTC's."""
        body = await self._get(f"adAccounts/{account_id}")
        name, currency = str(body.get("name", "")), str(body.get("currency", ""))
        return AccountInfo(account_id, name, currency, "UTC")

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        """Per creative and UTC day; conversions are website conversions plus form leads."""
        info = await self.account_info(account_id)
        elements = await self._analytics(account_id, start, end, ("CREATIVE",), _PERFORMANCE)
        structure = await self._structure(account_id, _creatives_in(elements))
        records = [
            {
                "day": _day(element, index),
                "entity": self._entity(account_id, structure, _pivot(element, index, 0)),
                "metrics": element,
                "conversions": float(
                    _number(element, "externalWebsiteConversions")
                    + _number(element, "oneClickLeads")
                ),
            }
            for index, element in enumerate(elements)
        ]
        return self._normalize(records, PERFORMANCE, AD_PERFORMANCE, info, account_name=info.name)

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        """Lead Gen Form leads (post_click) and website conversions typed by their conversion
        rule, split into post_click and post_view; LinkedIn reports one value for both
        windows, so a rule's value rides on its post_click row."""
        info = await self.account_info(account_id)
        rules = await self._conversion_rules(account_id)
        leads = await self._analytics(account_id, start, end, ("CREATIVE",), ("oneClickLeads",))
        # a creative's conversions per rule need the statistics finder (verify CONVERSION there)
        website = await self._analytics(
            account_id, start, end, ("CREATIVE", "CONVERSION"), _CONVERSIONS, len(rules)
        )
        rows: dict[tuple, dict] = {}
        for index, element in enumerate(leads):
            _tally(rows, element, index, ("lead", "post_click"), _number(element, "oneClickLeads"))
        for index, element in enumerate(website):
            rule = rules.get(_urn_id(_pivot(element, index, 1)), {})
            kind = CONVERSION_TYPES.get(str(rule.get("type")), "other")
            value = _micros(element, "conversionValueInLocalCurrency")
            clicks = _number(element, "externalWebsitePostClickConversions")
            _tally(rows, element, index, (kind, "post_click"), clicks, value)
            views = _number(element, "externalWebsitePostViewConversions")
            _tally(rows, element, index, (kind, "post_view"), views)
        structure = await self._structure(account_id, [r["creative"] for r in rows.values()])
        records = [
            {
                **row,
                "entity": self._entity(account_id, structure, row["creative"]),
                "count": float(row["count"]),
            }
            for row in rows.values()
        ]
        return self._normalize(records, ACTION_FIELDS, ACTIONS, info)

    async def fetch_creatives(self, account_id: str) -> pa.Table:
        """Creatives with the copy and image of the post each one sponsors."""
        creatives = list((await self._structure(account_id, fresh=True)).creatives.values())
        posts = await self._batch(
            "posts", sorted({r for c in creatives if _is_post(r := _reference(c))})
        )
        images = await self._batch(
            "images", sorted({i for p in posts.values() if (i := _image(p))})
        )
        return normalize(
            [_creative(c, posts, images) for c in creatives],
            CREATIVE_FIELDS,
            CREATIVES,
            constants={**self._constants(account_id), "first_seen": utc_now().date()},
            platform=self.platform,
            api_version=API_VERSION,
        )

    # -- requests ----------------------------------------------------------------------------

    async def _get(self, path: str, query: Mapping[str, Any] | None = None, **headers) -> dict:
        suffix = f"?{restli_query(query)}" if query else ""
        url = self.url("api", f"/rest/{path}{suffix}")
        return await self.api.call("GET", url, parse=_json_object, headers=headers)

    async def _find(self, path: str, query: Mapping[str, Any], paging: Paginator, **headers):
        """Every element of a finder, page after page."""
        base = self.url("api", f"/rest/{path}?{restli_query(query)}")
        pages = paginate(
            self.api, "GET", PageRequest(base), _InQuery(paging, base), parse=_page, headers=headers
        )
        return [element async for page in pages for element in page["elements"]]

    async def _structure(self, account_id: str, need=(), *, fresh: bool = False) -> _Structure:
        """The account's entities, read once per run; a creative in ``need`` that they lack
        (made since the read) has them read once more, after which misses degrade to ids."""
        known = self._structures.get(account_id)
        if fresh or known is None:
            known = self._structures[account_id] = await self._read_structure(account_id)
        elif account_id not in self._reread and any(
            _urn_id(u) not in known.creatives for u in need
        ):
            self._reread.add(account_id)
            known = self._structures[account_id] = await self._read_structure(account_id)
        return known

    async def _read_structure(self, account_id: str) -> _Structure:
        tokens = PageTokenPaginator(token_path="metadata.nextPageToken")
        path = f"adAccounts/{account_id}"
        creatives = await self._find(
            f"{path}/creatives",
            {"q": "criteria", "sortOrder": "ASCENDING", "pageSize": PAGE_SIZE},
            tokens,
            **{"X-RestLi-Method": "FINDER"},
        )
        campaigns = await self._find(f"{path}/adCampaigns", _search(CAMPAIGN_STATUSES), tokens)
        groups = await self._find(f"{path}/adCampaignGroups", _search(GROUP_STATUSES), tokens)
        directory = Directory(
            campaigns=[_listed(g) for g in groups],
            ad_groups=[_listed(c, "campaignGroup") for c in campaigns],
            ads=[_listed(c, "campaign") for c in creatives],
        )
        return _Structure({_urn_id(c.get("id")): c for c in creatives}, directory)

    def _entity(self, account_id: str, structure: _Structure, creative_urn: str) -> dict:
        """Ids and names of a reported creative, its campaign and its group (ids stand in
        for what the finders did not return)."""
        return self.label(account_id, structure.directory, ad=_urn_id(creative_urn))

    async def _conversion_rules(self, account_id: str) -> dict[str, dict]:
        """The account's conversion rules by id; this finder pages by start/count (verify)."""
        paging = OffsetPaginator(
            limit=100, offset_param="start", total_path="paging.total", items_path="elements"
        )
        account = f"urn:li:sponsoredAccount:{account_id}"
        rules = await self._find(
            "conversions", {"q": "account", "account": account, "count": 100}, paging
        )
        return {_urn_id(r.get("id")): r for r in rules}

    async def _analytics(self, account_id, start, end, pivots, metrics, fan_out=1) -> list[dict]:
        """Elements per (day, pivot values): fields chunked under the 20-field limit and the
        range cut so that creatives x days x ``fan_out`` stays under the element cap."""
        per_day = len((await self._structure(account_id)).creatives) * max(fan_out, 1)
        width = self.max_fields - 2  # dateRange and pivotValues count too
        chunks = [metrics[i : i + width] for i in range(0, len(metrics), width)]
        merged: dict[tuple, dict] = {}
        for lo, hi in _pieces(start, end, max(1, self.max_elements // max(per_day, 1))):
            for fields in chunks:
                for element in await self._report(account_id, lo, hi, pivots, fields):
                    merged.setdefault(_key(element), {}).update(element)
        return list(merged.values())

    async def _report(self, account_id, lo, hi, pivots, fields) -> list[dict]:
        """One adAnalytics answer; a full one may have been cut short, so halve its range."""
        finder = (
            {"q": "analytics", "pivot": {"value": pivots[0]}}
            if len(pivots) == 1
            else {"q": "statistics", "pivots": pivots}
        )
        query = {
            **finder,
            "timeGranularity": {"value": "DAILY"},
            "dateRange": {"start": _ymd(lo), "end": _ymd(hi)},
            "accounts": [f"urn:li:sponsoredAccount:{account_id}"],
            "fields": (*fields, "dateRange", "pivotValues"),
        }
        elements = (
            await self.api.call(
                "GET", self.url("api", f"/rest/adAnalytics?{restli_query(query)}"), parse=_page
            )
        )["elements"]
        if len(elements) < self.max_elements:
            return elements
        if lo == hi:
            raise ResponseInvalid(
                f"adAnalytics hit its {self.max_elements}-element cap for the single day {lo}",
                platform=self.platform,
            )
        middle = lo + timedelta(days=(hi - lo).days // 2)
        first = await self._report(account_id, lo, middle, pivots, fields)
        return first + await self._report(account_id, middle + timedelta(1), hi, pivots, fields)

    async def _batch(self, resource: str, ids: list[str]) -> dict[str, dict]:
        """Entities by URN through BATCH_GET (ids LinkedIn cannot resolve are left out)."""
        found: dict[str, dict] = {}
        for i in range(0, len(ids), BATCH_SIZE):
            body = await self._get(
                resource, {"ids": ids[i : i + BATCH_SIZE]}, **{"X-RestLi-Method": "BATCH_GET"}
            )
            results = body.get("results")
            found |= {k: v for k, v in (results or {}).items() if isinstance(v, dict)}
        return found

    def _normalize(self, records, field_map, schema, info: AccountInfo, **extra) -> pa.Table:
        constants = {**self._constants(info.account_id), "currency": info.currency, **extra}
        return normalize(
            records,
            field_map,
            schema,
            constants={**constants, "account_timezone": "UTC"},
            platform=self.platform,
            api_version=API_VERSION,
        )

    def _constants(self, account_id: str) -> dict[str, Any]:
        return {
            "platform": "linkedin",
            "source": self.platform,
            "account_id": account_id,
            "fetched_at": utc_now(),
            "api_version": API_VERSION,
        }


# -- response helpers -------------------------------------------------------------------------


def _json_object(response: httpx.Response) -> dict:
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("LinkedIn did not answer a JSON object")
    return body


def _page(response: httpx.Response) -> dict:
    body = _json_object(response)
    if not isinstance(body.get("elements"), list):
        raise ValueError("an answer without an elements list")
    return body


def _error_body(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _rate_limit_wait(response: httpx.Response, message: str) -> float | None:
    """LinkedIn sends no Retry-After; a daily quota ('... DAY limit ...', wording to verify)
    resets at midnight UTC, any other throttle gets the framework's backoff."""
    hinted = retry_after(response)
    if hinted is not None or " DAY " not in f" {message.upper()} ":
        return hinted
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return (midnight - now).total_seconds()


def _urn_id(urn: Any) -> str:
    return str(urn).rsplit(":", 1)[-1] if urn is not None else ""


def _ymd(day: date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}


def _pieces(start: date, end: date, days: int) -> Iterator[tuple[date, date]]:
    while start <= end:
        stop = min(end, start + timedelta(days=days - 1))
        yield start, stop
        start = stop + timedelta(days=1)


def _key(element: dict) -> tuple:
    when = json.dumps(element.get("dateRange"), sort_keys=True)
    return when, tuple(element.get("pivotValues") or ())


def _missing(name: str, index: int) -> ResponseInvalid:
    return ResponseInvalid(
        f"required field {name!r} missing from adAnalytics element {index} of the "
        f"{API_VERSION} response",
        platform="linkedin",
    )


def _day(element: dict, index: int) -> str:
    start = (element.get("dateRange") or {}).get("start") or {}
    try:
        return date(int(start["year"]), int(start["month"]), int(start["day"])).isoformat()
    except (KeyError, TypeError, ValueError):
        raise _missing("dateRange", index) from None


def _pivot(element: dict, index: int, position: int) -> str:
    values = element.get("pivotValues")
    if not isinstance(values, list) or len(values) <= position:
        raise _missing("pivotValues", index)
    return str(values[position])


def _creatives_in(elements: list[dict]) -> list[str]:
    return [_pivot(element, index, 0) for index, element in enumerate(elements)]


def _listed(element: dict, parent: str | None = None) -> Entity:
    """A finder element as a directory entry; ``parent`` names the field with its parent's URN."""
    up = _urn_id(element.get(parent)) if parent else ""
    return Entity(_urn_id(element.get("id")), element.get("name"), up or None)


def _search(statuses: tuple[str, ...]) -> dict[str, Any]:
    return {"q": "search", "search": {"status": {"values": statuses}}, "pageSize": 500}


def _number(element: dict, name: str) -> Decimal:
    raw = element.get(name)
    try:
        return Decimal(str(raw)) if raw not in (None, "") else Decimal(0)
    except InvalidOperation:
        raise ResponseInvalid(
            f"field {name!r} has value {str(raw)[:40]!r} that is not a number ({API_VERSION})",
            platform="linkedin",
        ) from None


def _micros(element: dict, name: str) -> int:
    return major_to_micros(str(_number(element, name)))


def _tally(rows: dict, element: dict, index: int, kind: tuple[str, str], count, value=0):
    """Add an action to its (day, creative, type, window) row; zeros make no row."""
    if not count and not value:
        return
    day, creative = _day(element, index), _pivot(element, index, 0)
    row = rows.setdefault(
        (day, creative, *kind),
        {
            "day": day,
            "creative": creative,
            "action_type": kind[0],
            "window": kind[1],
            "count": Decimal(0),
            "value_micros": 0,
        },
    )
    row["count"] += count
    row["value_micros"] += value


# -- creatives --------------------------------------------------------------------------------


def _reference(creative: dict) -> str:
    return str((creative.get("content") or {}).get("reference") or "")


def _is_post(urn: str) -> bool:
    return urn.startswith(("urn:li:share:", "urn:li:ugcPost:"))


def _image(post: dict) -> str | None:
    content = post.get("content") or {}
    media = (content.get("media") or {}).get("id") or ""
    thumbnail = (content.get("article") or {}).get("thumbnail")
    return media if media.startswith("urn:li:image:") else thumbnail


def _creative(creative: dict, posts: dict[str, dict], images: dict[str, dict]) -> dict:
    """Canonical copy of a creative: a text ad's own fields, or the sponsored post's (its
    commentary; media title or article title as headline; landing page and CTA label of a
    direct sponsored post -- verify these Posts API fields against a recorded answer)."""
    content = creative.get("content") or {}
    text_ad = content.get("textAd") or {}
    post = posts.get(_reference(creative), {})
    media = (post.get("content") or {}).get("media") or {}
    article = (post.get("content") or {}).get("article") or {}
    image = _image(post)
    landing = post.get("contentLandingPage") or article.get("source")
    label = post.get("contentCallToActionLabel")
    copy = {
        "headline": text_ad.get("headline") or media.get("title") or article.get("title"),
        "body": text_ad.get("description") or post.get("commentary"),
        "landing_url": text_ad.get("landingPage") or landing,
        "call_to_action": label or (creative.get("leadgenCallToAction") or {}).get("label"),
    }
    # the version hashes the image URN, not its download URL (a signed URL that expires), and
    # an article's thumbnail by its path (its host and query change while the image does not)
    signature = json.dumps([creative.get("name"), content, copy, asset_key(image)], sort_keys=True)
    return {
        "id": _urn_id(creative.get("id")) if creative.get("id") else None,
        "name": creative.get("name"),
        "format": _format(content, image),
        "asset_url": (images.get(image) or {}).get("downloadUrl") if image else None,
        "version": hashlib.sha256(signature.encode()).hexdigest()[:16],
        **copy,
    }


def _format(content: dict, image: str | None) -> str:
    if "textAd" in content:
        return "text"
    if str(content.get("reference", "")).startswith("urn:li:adInMailContent:"):
        return "message"
    return "image" if image else "post"
