"""TikTok Ads: Marketing API v1.3, long-lived ``Access-Token``, synchronous paged reports.

Every answer is an envelope ``{"code", "message", "request_id", "data"}`` and most errors
arrive as HTTP 200 with ``code != 0``: 40100 is the QPS limit, 40102/40104/40105 a dead,
empty or revoked token (nothing to refresh: a long-lived token is renewed by hand), 5xxxx
server trouble. Performance comes from ``GET report/integrated/get/`` (``AUCTION_AD`` level by
``ad_id`` x ``stat_time_day``, at most ``MAX_DAYS`` per request, numbered pages of up to
``PAGE_SIZE`` rows); every metric is a string, money in major units of the advertiser's
currency, ``"-"`` for missing. Days are the advertiser's (``display_timezone``); the currency
comes from ``advertiser/info/`` because report rows carry none.

Conversions: ``ad_performance.conversions`` is ``conversion`` (the ad group's optimization
event, the client's primary action) and ``value_micros`` is ``total_complete_payment_rate``
(the purchase *value*, despite its name). ``actions`` maps TikTok's per-event metrics
(``ACTION_METRICS``) to canonical types in the one window TikTok reports them, the ad group's
attribution setting ("default"). A v1.3 ad is its own creative (text, CTA, landing page,
``image_ids``/``video_id``); image URLs come from ``file/image/ad/info/``. A video ad's
picture is its poster: ``video_cover_url`` from ``file/video/ad/info/`` (up to
``VIDEO_BATCH`` ``video_ids`` a call; ``poster_url`` taken if a shape gives that instead),
with the video's ``width``, ``height`` and ``duration`` (seconds, a float); without an answer
for the video its cover image (``image_ids``) stands in. Images and videos are immutable
uploads, so the version hashes their ids: a new picture is a new id and a new version, a
re-signed URL of the same one is not.

Deleted ads: the report leaves them out unless filtered by ``ad_status`` ``STATUS_ALL``
(``FILTERING``), so their numbers are read too. Names come from the report's attributes
(``campaign_name``, ``adgroup_name``, ``ad_name`` requested as metrics); a row whose attributes
are absent or ``"-"`` keeps its numbers: its parents and names come from another row of the same
ad, else its ids stand in (an unknown campaign is ``labels.UNKNOWN_ID``) and the entity is
recorded as unresolved (``Connector.unresolved_in``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import httpx
import pyarrow as pa

from generator.connectors.auth import StaticToken
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.labels import Directory, Entity
from generator.connectors.normalize import Col, content_version, normalize, utc_now
from generator.connectors.paging import PageNumberPaginator, PageRequest, paginate
from generator.connectors.redact import redact
from generator.connectors.verdicts import Fail, RateLimit, Retry, Verdict
from generator.errors import ApiVersionRetired, AuthFailed, ConnectorError, ResponseInvalid
from generator.schema import ACTIONS, AD_PERFORMANCE, CREATIVES

__all__ = ["ACTION_METRICS", "API_VERSION", "SUNSET", "TikTok"]

#: The pinned Marketing API version. v1.3 is current since 2022-08-15 (v1.2 was switched off
#: 2023-08-15, a year after); no successor or end date is announced. Check the versioning
#: timeline at business-api.tiktok.com/portal/docs?id=1740578661644289 when bumping.
API_VERSION = "v1.3"
SUNSET = "none announced (v1.3 current since 2022-08-15; TikTok gives a year's notice)"

MAX_DAYS = 30  # days per daily report request (Airbyte slices by 30; 'verify' the exact cap)
PAGE_SIZE = 1000  # the largest page report/integrated/get and ad/get allow
IMAGE_BATCH = 100  # image_ids per file/image/ad/info call ('verify')
VIDEO_BATCH = 60  # video_ids per file/video/ad/info call
RATE_LIMIT_CODES = frozenset({40100})  # "Too many requests" (QPS); 'verify' 40133
TOKEN_CODES = frozenset({40102, 40104, 40105})  # expired, empty, incorrect or revoked
PERMISSION_CODES = frozenset({40001})  # no permission on this advertiser ('verify')
#: the report's default leaves deleted ads out; STATUS_ALL keeps their numbers (the shape, a
#: JSON list inside a JSON string, is what Airbyte's manifest sends: 'verify')
FILTERING = [{"field_name": "ad_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}]
_RENEW = (
    "TikTok access tokens are long-lived and cannot be refreshed here: re-authorise the app "
    "for this advertiser and update access_token (${TIKTOK_ACCESS_TOKEN} in the demo)"
)
_BUMP = (
    f"Marketing API {API_VERSION} is retired: bump API_VERSION in "
    "generator/connectors/tiktok.py and re-record tests/fixtures/tiktok"
)

#: canonical action type -> (TikTok count metric, value metric); web pixel events. The
#: purchase and add-to-cart names are confirmed in public connectors, the rest 'verify'.
ACTION_METRICS: dict[str, tuple[str, str]] = {
    "purchase": ("complete_payment", "total_complete_payment_rate"),
    "add_to_cart": ("web_event_add_to_cart", "total_web_event_add_to_cart_value"),
    "begin_checkout": ("initiate_checkout", "total_initiate_checkout_value"),
    "view_content": ("product_details_page_browse", "total_product_details_page_browse_value"),
    "signup": ("user_registration", "total_user_registration_value"),
    "lead": ("form", "total_form_value"),
    "subscribe": ("on_web_subscribe", "total_on_web_subscribe_value"),
}
_ATTRIBUTES = ("campaign_id", "campaign_name", "adgroup_id", "adgroup_name", "ad_name")
METRICS = (
    *_ATTRIBUTES,
    *("spend", "impressions", "clicks", "conversion"),
    *(m for pair in ACTION_METRICS.values() for m in pair),
)
AD_FIELDS = (
    *("ad_id", "ad_name", "adgroup_id", "campaign_id", "ad_format", "ad_text"),
    *("call_to_action", "landing_page_url", "image_ids", "video_id"),
)

_IDENTITY = {
    "date": Col("dimensions.stat_time_day", "date", required=True),
    "ad_id": Col("dimensions.ad_id", "id", required=True),
    "campaign_id": Col("_labels.campaign_id", "id", required=True),  # always set by ``label``
    "ad_group_id": Col("_labels.ad_group_id", "id"),
}
PERFORMANCE = {
    **_IDENTITY,
    "campaign_name": Col("_labels.campaign_name"),
    "ad_group_name": Col("_labels.ad_group_name"),
    "ad_name": Col("_labels.ad_name"),
    "creative_id": Col("dimensions.ad_id", "id"),
    "impressions": Col("metrics.impressions", "count", default=0),
    "clicks": Col("metrics.clicks", "count", default=0),
    "spend_micros": Col("metrics.spend", "major", default=0),
    "conversions": Col("metrics.conversion", "number", default=0.0),
    "value_micros": Col("metrics.total_complete_payment_rate", "major", default=0),
}
ACTION_FIELDS = {
    **_IDENTITY,
    "action_type": Col("_action.type", required=True),
    "count": Col("_action.count", "number", default=0.0),
    "value_micros": Col("_action.value", "major", default=0),
}
CREATIVE_FIELDS = {
    "creative_id": Col("ad_id", "id", required=True),
    "ad_id": Col("ad_id", "id", required=True),
    "name": Col("ad_name"),
    "headline": Col("ad_text"),
    "call_to_action": Col("call_to_action"),
    "landing_url": Col("landing_page_url"),
    "asset_url": Col("_asset.url"),
    "width": Col("_asset.width", "count"),
    "height": Col("_asset.height", "count"),
    "duration_ms": Col("_duration_ms", "count"),
    "format": Col("_format", required=True),
    "version": Col("_version", required=True),
}


class TikTok(Connector):
    """TikTok ads through the Marketing API (credential: ``access_token``)."""

    platform = "tiktok"
    api_version = API_VERSION
    sunset = SUNSET
    hosts: ClassVar[dict[str, str]] = {"api": "https://business-api.tiktok.com"}
    rate = 10.0  # the default tier allows 10 QPS per app and advertiser ('verify')
    lookback_days = 28  # click-through attribution windows reach 28 days
    credential_names = ("access_token",)

    def __init__(self, credentials: Mapping[str, str], **options: Any) -> None:
        super().__init__(credentials, **options)
        self._accounts: dict[str, AccountInfo] = {}
        #: report rows of a window, kept until the other dataset of the window has read them
        self._shared: dict[tuple[str, date, date], tuple[list[dict], frozenset[str]]] = {}

    def make_auth(self) -> StaticToken:
        token = self.credentials.get("access_token", "")
        return StaticToken(self.platform, token, header="Access-Token", prefix="")

    def classify(self, response: httpx.Response, request: str) -> Verdict | None:
        body = _json_object(response)
        code = body.get("code") if isinstance(body.get("code"), int) else None
        message = redact(str(body.get("message", "")).strip())[:300]
        if response.status_code == 404 and _mentions_version(message):
            return self._fail(ApiVersionRetired, f"{message}; {_BUMP}", request)
        if code in (None, 0):
            return None  # judge by status code (a cut body fails in ``parse``)
        reason = f"code {code}: {message} (request_id {body.get('request_id', '?')})"
        if code in RATE_LIMIT_CODES:
            return RateLimit(reason)  # TikTok gives no wait: back off
        if code in TOKEN_CODES:
            return self._fail(AuthFailed, f"{reason}; {_RENEW}", request)
        if code in PERMISSION_CODES:
            advice = "authorise the app for this advertiser in Business Center"
            return self._fail(AuthFailed, f"{reason}; {advice}", request)
        if code >= 50000:
            return Retry(reason)
        if _mentions_version(message):
            return self._fail(ApiVersionRetired, f"{reason}; {_BUMP}", request)
        return self._fail(ConnectorError, reason, request)

    def _fail(self, cls: type[ConnectorError], message: str, request: str) -> Fail:
        return Fail(cls(message, platform=self.platform, request=request))

    async def account_info(self, account_id: str) -> AccountInfo:
        """Name, currency and time zone of an advertiser (read once per connector)."""
        if account_id not in self._accounts:
            params = {
                "advertiser_ids": json.dumps([account_id]),
                "fields": json.dumps(["name", "currency", "timezone", "display_timezone"]),
            }
            data = await self._get("advertiser/info/", params)
            found = [a for a in data.get("list") or [] if str(a.get("advertiser_id")) == account_id]
            info = found[0] if found else {}
            zone = info.get("display_timezone") or info.get("timezone")
            if not info.get("currency") or not zone:
                raise ResponseInvalid(
                    f"advertiser/info/ answered without currency or time zone for {account_id} "
                    f"({API_VERSION})",
                    platform=self.platform,
                )
            self._accounts[account_id] = AccountInfo(
                account_id, str(info.get("name", "")), info["currency"], zone
            )
        return self._accounts[account_id]

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily rows per ad; conversions and value as the module docstring says."""
        info, rows = await self._report(account_id, start, end, "ad_performance")
        constants = {**self._constants(info), "account_name": info.name}
        return self._normalize(self._labelled(info, rows), PERFORMANCE, AD_PERFORMANCE, constants)

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily conversion events by canonical type, in TikTok's default window."""
        info, rows = await self._report(account_id, start, end, "actions")
        records = [action for row in self._labelled(info, rows) for action in _actions(row)]
        constants = {**self._constants(info), "attribution_window": "default"}
        return self._normalize(records, ACTION_FIELDS, ACTIONS, constants)

    async def fetch_creatives(self, account_id: str) -> pa.Table:
        """The advertiser's ads as creatives, with their image (a video's poster)."""
        params = {"advertiser_id": account_id, "fields": json.dumps(list(AD_FIELDS))}
        ads = await self._pages("ad/get/", params)
        image_ids = sorted({str(i) for ad in ads for i in ad.get("image_ids") or []})
        images = await self._files("image", account_id, image_ids)
        video_ids = sorted({str(ad["video_id"]) for ad in ads if ad.get("video_id")})
        videos = await self._files("video", account_id, video_ids)
        rows = [_creative(ad, images, videos) for ad in ads]
        constants = {
            "platform": self.platform,
            "source": self.platform,
            "account_id": account_id,
            "first_seen": utc_now().date(),
        }
        return self._normalize(rows, CREATIVE_FIELDS, CREATIVES, constants)

    # -- the pieces -----------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return self.url("api", f"/open_api/{API_VERSION}/{path}")

    async def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        return await self.api.call("GET", self._api(path), params=params, parse=_data)

    async def _pages(self, path: str, params: dict[str, Any]) -> list[dict]:
        """Every ``data.list`` item of a page-numbered endpoint."""
        first = PageRequest(self._api(path), {**params, "page": 1, "page_size": PAGE_SIZE})
        pages = paginate(self.api, "GET", first, PageNumberPaginator(), parse=_listing)
        return [item async for page in pages for item in page["data"]["list"]]

    async def _report(
        self, account_id: str, start: date, end: date, dataset: str
    ) -> tuple[AccountInfo, list[dict]]:
        """The window's report rows: one read serves performance and actions once each."""
        info = await self.account_info(account_id)
        key = (account_id, start, end)
        rows, unread = self._shared.pop(key, ([], frozenset()))
        if dataset not in unread:
            requests = [_report_params(account_id, lo, hi) for lo, hi in _chunks(start, end)]
            chunks = await asyncio.gather(
                *(self._pages("report/integrated/get/", params) for params in requests)
            )
            rows, unread = [r for chunk in chunks for r in chunk], frozenset(self.datasets)
        if unread - {dataset}:
            self._shared[key] = (rows, unread - {dataset})
        return info, rows

    async def _files(self, kind: str, account_id: str, ids: list[str]) -> dict[str, dict]:
        """image or video id -> its info from ``file/{kind}/ad/info/`` (ids it cannot use are
        left out of the answer, and so of this)."""
        size = IMAGE_BATCH if kind == "image" else VIDEO_BATCH
        found: dict[str, dict] = {}
        for i in range(0, len(ids), size):
            params = {"advertiser_id": account_id, f"{kind}_ids": json.dumps(ids[i : i + size])}
            data = await self._get(f"file/{kind}/ad/info/", params)
            items = [f for f in data.get("list") or [] if isinstance(f, dict)]
            found |= {str(f.get(f"{kind}_id")): f for f in items}
        return found

    def _labelled(self, info: AccountInfo, rows: list[dict]) -> list[dict]:
        """The rows with ``_labels``: ids and names from the report's own attributes, any row
        lacking them labelled from another row of its ad or else by its ids (never dropped)."""
        directory, labelled = _directory(rows), []
        for row in rows:
            metrics = row.get("metrics") or {}
            labels = self.label(
                info.account_id,
                directory,
                campaign=_attribute(metrics, "campaign_id"),
                ad_group=_attribute(metrics, "adgroup_id"),
                ad=_ad_id(row),
            )
            labelled.append({**row, "_labels": labels})
        return labelled

    def _constants(self, info: AccountInfo) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "account_id": info.account_id,
            "account_timezone": info.timezone,
            "currency": info.currency,
        }

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


def _chunks(start: date, end: date) -> list[tuple[date, date]]:
    """``start``..``end`` in pieces of at most ``MAX_DAYS`` days."""
    pieces = []
    while start <= end:
        last = min(end, start + timedelta(days=MAX_DAYS - 1))
        pieces.append((start, last))
        start = last + timedelta(days=1)
    return pieces


def _report_params(account_id: str, start: date, end: date) -> dict[str, str]:
    return {
        "advertiser_id": account_id,
        "service_type": "AUCTION",
        "report_type": "BASIC",
        "data_level": "AUCTION_AD",
        "dimensions": json.dumps(["ad_id", "stat_time_day"]),
        "metrics": json.dumps(list(METRICS)),
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "filtering": json.dumps(FILTERING),
    }


def _attribute(values: dict, name: str) -> str | None:
    """A value the report gave, or None for an absent, empty or ``"-"`` one."""
    value = values.get(name)
    return None if value in (None, "", "-") else str(value)


def _ad_id(row: dict) -> str | None:
    return _attribute(row.get("dimensions") or {}, "ad_id")


def _directory(rows: list[dict]) -> Directory:
    """The campaigns, ad groups and ads the report's attributes name. Unnamed ones are left
    out, so that their ids stand in and they are recorded as unresolved."""
    campaigns: dict[str, Entity] = {}
    groups: dict[str, Entity] = {}
    ads: dict[str, Entity] = {}
    for row in rows:
        metrics = row.get("metrics") or {}
        campaign, group = _attribute(metrics, "campaign_id"), _attribute(metrics, "adgroup_id")
        for found, entity_id, key, parent in (
            (campaigns, campaign, "campaign_name", None),
            (groups, group, "adgroup_name", campaign),
            (ads, _ad_id(row), "ad_name", group),
        ):
            name = _attribute(metrics, key)
            if entity_id and name and entity_id not in found:
                found[entity_id] = Entity(entity_id, name, parent)
    return Directory(campaigns.values(), groups.values(), ads.values())


def _actions(row: dict) -> list[dict]:
    """One record per canonical event the row reports (zero or missing ones left out)."""
    metrics = row.get("metrics") or {}
    out = []
    for canonical, names in ACTION_METRICS.items():
        count, value = (metrics.get(name) for name in names)
        if all(_is_zero(metrics.get(name), name) for name in names):
            continue
        out.append({**row, "_action": {"type": canonical, "count": count, "value": value}})
    return out


def _is_zero(value: Any, name: str) -> bool:
    if value in (None, "", "-"):
        return True
    try:
        return Decimal(str(value)) == 0
    except InvalidOperation:
        message = f"metric {name!r} has value {str(value)[:40]!r}, not a number ({API_VERSION})"
        raise ResponseInvalid(message, platform="tiktok") from None


def _creative(ad: dict, images: dict[str, dict], videos: dict[str, dict]) -> dict:
    """An ad/get item with its picture (a video's poster), the video's length, format and a
    version hashed from the content (the files by their ids)."""
    image_ids = ad.get("image_ids") or []
    image = images.get(str(image_ids[0]), {}) if image_ids else {}
    video_id = ad.get("video_id")
    video = videos.get(str(video_id), {}) if video_id else {}
    poster = video.get("video_cover_url") or video.get("poster_url")
    if poster:
        asset = {"url": poster, "width": video.get("width"), "height": video.get("height")}
    else:
        asset = {"url": image.get("image_url"), **{k: image.get(k) for k in ("width", "height")}}
    duration = _millis(video.get("duration"))
    content = [ad.get(k) for k in ("ad_text", "call_to_action", "landing_page_url")]
    content += [video_id, image_ids[0] if image_ids else None]
    # str() of each part, None included, as before: stored versions stay as they were
    version = content_version(*map(str, content))
    kind = "video" if video_id else "image" if image_ids else "text"
    return {**ad, "_asset": asset, "_duration_ms": duration, "_format": kind, "_version": version}


def _millis(seconds: Any) -> int | None:
    """A duration in seconds (a number, or a numeric string) as whole milliseconds."""
    if seconds in (None, "", "-"):
        return None
    try:
        return round(Decimal(str(seconds)) * 1000)
    except (InvalidOperation, ValueError, OverflowError):  # not a number, NaN, infinite
        message = f"video duration {str(seconds)[:40]!r} is not a number ({API_VERSION})"
        raise ResponseInvalid(message, platform="tiktok") from None


def _mentions_version(message: str) -> bool:
    text = message.lower()
    return "deprecat" in text or "retired" in text or "api version" in text


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _data(response: httpx.Response) -> dict[str, Any]:
    """The ``data`` object of a successful envelope (ValueError: a cut or garbled body)."""
    body = response.json()
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise ValueError("expected an envelope with a data object")
    return body["data"]


def _listing(response: httpx.Response) -> dict[str, Any]:
    data = _data(response)
    if not isinstance(data.get("list"), list):
        raise ValueError("a page without data.list")
    return {"data": data}
