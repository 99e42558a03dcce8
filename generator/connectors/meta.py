"""Meta (Facebook + Instagram) Marketing API: Graph ``vNN.0``, async insights jobs, cursors.

Performance comes from one asynchronous insights job per account and date range: ``POST
/act_{id}/insights`` (level=ad, daily, by ``publisher_platform``) answers a ``report_run_id``;
``GET /{run}`` is polled until "Job Completed" at 100%, then ``GET /{run}/insights`` is read
by cursor (``paging.cursors.after``). A failed job is rerun on the halves of its range. One
job's rows feed both ``ad_performance`` and ``actions``. Metrics are strings, ``spend`` in
major units of the account currency. Insights carry no creative id: the ad -> creative link
comes from ``GET /act_{id}/ads?fields=id,creative{id}``, read once per account.

Archived and deleted ads: both edges leave them out unless a status filter names them, so both
requests name every effective status (``AD_STATUSES``). Insights carry the names themselves; an
empty one becomes its id and is recorded as unresolved (``Connector.fetch``); an ad the ads
listing does not return keeps its row, without a creative id.

Conversions: Meta has no single conversions metric. ``ad_performance.conversions`` is the sum
of the default-attribution counts (``value`` in ``actions[]``: the account's attribution
setting) of the primary types purchase and lead; ``value_micros`` is the default-attribution
``action_values[]`` of purchase. Meta reports one event under several spellings (the roll-ups
``omni_purchase`` and ``purchase`` repeat ``offsite_conversion.fb_pixel_purchase``, app and
offline events): ``ACTION_TYPES`` lists them per canonical type in precedence order and only
the first present counts, so nothing is counted twice. ``actions`` keeps every window
(1d_click, 7d_click, 28d_click, 1d_view, and "default" for ``value``); engagement actions
(link_click, post_engagement, video_view) are not conversions and are left out.

Creatives: ``GET /act_{id}/adcreatives`` gives each creative's ``object_story_spec``: a single
image (``link_data`` with ``image_hash``; the URL in ``image_url``), a carousel
(``link_data.child_attachments``, the cards in order, each with ``name``, ``description``,
``link`` and ``picture``, its image URL) or a video (``video_data``: ``video_id``, ``image_url``
the poster frame, which is the creative's ``asset_url``). A video's length is the Graph video
node's ``length`` (seconds, a float), read for up to ``VIDEO_BATCH`` videos at once with
Graph's multiple-ID read ``GET /?ids=a,b&fields=length`` (an object keyed by id); when one id
fails the batch (a deleted video: #100/#803) the batch is read id by id and the failing ones
go without a duration. The version hashes the copy and the images by Meta's ``image_hash``
(else the URL's path), the video id and every card, so a new upload is a new version.

Networks: ``facebook`` and ``instagram`` rows keep theirs. Other publisher platforms
(audience_network, messenger, threads, whatsapp) are Facebook placements of the same ad sets
with no network in the schema: they are folded into ``facebook``, so no spend is lost.

Errors arrive as ``{"error": {message, type, code, error_subcode, fbtrace_id}}``, mostly with
HTTP 400: codes 4, 17, 32, 613 and 80000-80014 are rate limits (insights subcodes 1504022 and
1504039 come with code 4, "Too Many API Requests"), 190 is a dead token, 2635 a retired
version; a rate limit waits ``estimated_time_to_regain_access`` (minutes, in the business use
case header) or else the ad account's ``reset_time_duration``. Usage headers carry percentages
of the limits; above ``SLOW_AT`` calls pause in proportion, so the limit is not reached.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, ClassVar

import httpx
import pyarrow as pa

from generator.connectors.auth import StaticToken
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.jobs import JobStatus, split_on_failure
from generator.connectors.normalize import Col, asset_key, content_version, normalize, utc_now
from generator.connectors.paging import CursorPaginator, PageRequest, dig, paginate
from generator.connectors.redact import redact
from generator.connectors.verdicts import Fail, RateLimit, Retry, SlowDown, Verdict
from generator.errors import ApiVersionRetired, AuthFailed, ConnectorError, ResponseInvalid
from generator.schema import ACTIONS, AD_PERFORMANCE, CARD, CREATIVES, validate

__all__ = ["ACTION_TYPES", "API_VERSION", "SUNSET", "Meta"]

#: The pinned Graph/Marketing API version (newest on 2026-11-24). Marketing API versions
#: expire about a year after release; check the table at developers.facebook.com/
#: documentation/ads-commerce/marketing-api/marketing-api-changelog/versions when bumping.
API_VERSION = "v27.0"
SUNSET = "2027-11 (estimated; v27.0 was released 2026-11-04, its expiry is not announced yet)"

#: canonical window -> key of an ``actions[]`` element ("value" is the account's default)
WINDOWS = {"default": "value", **{w: w for w in ("1d_click", "7d_click", "28d_click", "1d_view")}}
#: canonical action type -> Meta's spellings of it, first present wins (roll-ups first).
#: The lead, contact and subscribe spellings are 'verify': Meta documents them loosely.
# fmt: off
ACTION_TYPES: dict[str, tuple[str, ...]] = {
    "purchase": ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase",
                 "onsite_web_purchase", "app_custom_event.fb_mobile_purchase",
                 "offline_conversion.purchase"),
    "lead": ("lead", "onsite_conversion.lead_grouped", "offsite_conversion.fb_pixel_lead"),
    "signup": ("omni_complete_registration", "complete_registration",
               "offsite_conversion.fb_pixel_complete_registration"),
    "add_to_cart": ("omni_add_to_cart", "add_to_cart", "offsite_conversion.fb_pixel_add_to_cart"),
    "begin_checkout": ("omni_initiated_checkout", "initiate_checkout",
                       "offsite_conversion.fb_pixel_initiate_checkout"),
    "view_content": ("omni_view_content", "view_content",
                     "offsite_conversion.fb_pixel_view_content"),
    "contact": ("contact_total", "contact", "offsite_conversion.fb_pixel_contact"),
    "subscribe": ("subscribe_total", "subscribe", "offsite_conversion.fb_pixel_subscribe"),
    "app_install": ("omni_app_install", "mobile_app_install", "app_install"),
    "page_view": ("landing_page_view",),
    "other": ("offsite_conversion.fb_pixel_custom",),
}
# fmt: on
#: every effective status of an ad: the insights and ads edges leave ARCHIVED and DELETED ads
#: out unless a filter names them (a status Meta adds later must be added here)
AD_STATUSES = (
    *("ACTIVE", "PAUSED", "DELETED", "ARCHIVED", "PENDING_REVIEW", "DISAPPROVED"),
    *("PREAPPROVED", "PENDING_BILLING_INFO", "CAMPAIGN_PAUSED", "ADSET_PAUSED"),
    *("IN_PROCESS", "WITH_ISSUES"),
)
PRIMARY = ("purchase", "lead")
NETWORKS = {"facebook": "facebook", "instagram": "instagram"}  # anything else -> facebook
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
_RENEW = (
    "long-lived tokens cannot be refreshed automatically: generate a new system-user or "
    "long-lived token with ads_read and update the access_token credential "
    "(${META_ACCESS_TOKEN} in the demo)"
)
_BUMP = (
    f"Marketing API {API_VERSION} is retired: bump API_VERSION in generator/connectors/meta.py "
    "to a current version and re-record tests/fixtures/meta"
)
#: error code -> (error, how to fix it); 102/104/190: token missing, invalid or expired
_FATAL = {
    2635: (ApiVersionRetired, _BUMP),
    **dict.fromkeys((102, 104, 190), (AuthFailed, _RENEW)),
}
SLOW_AT, MAX_PAUSE = 75.0, 60.0  # usage % where pausing starts; the pause at 100%
_USAGE_KEYS = ("call_count", "total_time", "total_cputime", "acc_id_util_pct", "app_id_util_pct")
_USAGE_HEADERS = ("x-app-usage", "x-ad-account-usage", "x-fb-ads-insights-throttle")

INSIGHT_FIELDS = (
    "ad_id,ad_name,adset_id,adset_name,campaign_id,campaign_name,impressions,clicks,spend,"
    "actions,action_values,account_currency,date_start,date_stop"
)
CREATIVE_PARAMS = (
    "id,name,title,body,call_to_action_type,object_story_spec,thumbnail_url,image_url,"
    "effective_object_story_id"
)
JOB_FIELDS = "id,async_status,async_percent_completion,error_code,error_message"
PAGE_SIZE = 500  # insights rows per page (Meta's default is 25)
EDGE_PAGE_SIZE = 100
VIDEO_BATCH = 50  # ids per multiple-ID read ('verify': Graph documents 50)

_IDENTITY = {
    "date": Col("date_start", "date", required=True),
    "currency": Col("account_currency", required=True),
    "campaign_id": Col("campaign_id", "id", required=True),
    "ad_group_id": Col("adset_id", "id"),
    "ad_id": Col("ad_id", "id", required=True),
    "platform": Col("_platform", required=True),
}
PERFORMANCE = {
    **_IDENTITY,
    "campaign_name": Col("campaign_name"),
    "ad_group_name": Col("adset_name"),
    "ad_name": Col("ad_name"),
    "creative_id": Col("_creative_id", "id"),
    "impressions": Col("impressions", "count", default=0),
    "clicks": Col("clicks", "count", default=0),
    "spend_micros": Col("spend", "major", default=0),
    "conversions": Col("_conversions", "number", default=0.0),
    "value_micros": Col("_value", "major", default=0),
}
ACTION_FIELDS = {
    **_IDENTITY,
    "action_type": Col("_action.type", required=True),
    "attribution_window": Col("_action.window", required=True),
    "count": Col("_action.count", "number", default=0.0),
    "value_micros": Col("_action.value", "major", default=0),
}
CREATIVE_FIELDS = {
    "creative_id": Col("id", "id", required=True),
    "ad_id": Col("_ad_id", "id"),
    "name": Col("name"),
    **{k: Col(f"_copy.{k}") for k in ("headline", "body", "call_to_action", "landing_url")},
    "asset_url": Col("_copy.asset_url"),
    "duration_ms": Col("_copy.duration_ms", "count"),
    "format": Col("_copy.format", required=True),
    "version": Col("_copy.version", required=True),
}
_PERFORMANCE_SUMS = ("impressions", "clicks", "spend_micros", "conversions", "value_micros")


class Meta(Connector):
    """Facebook and Instagram ads through the Marketing API (credential: ``access_token``)."""

    platform = "meta"
    api_version = API_VERSION
    sunset = SUNSET
    hosts: ClassVar[dict[str, str]] = {"graph": "https://graph.facebook.com"}
    #: a burst cap only: Meta budgets calls per hour per business use case (ads_insights:
    #: 600 + 400 x active ads on the Limited tier, 190,000 + 400 x active ads on Full;
    #: 'verify'), which the usage headers track and ``classify`` pauses for. A month of one
    #: account is a dozen calls, so bursts of 8 a second stay far inside those budgets.
    rate = 8.0
    lookback_days = 28  # Meta restates conversions for 28 days, then the data "freezes"
    credential_names = ("access_token",)

    def __init__(self, credentials: Mapping[str, str], **options: Any) -> None:
        super().__init__(credentials, **options)
        self._accounts: dict[str, AccountInfo] = {}
        self._ad_creatives: dict[str, dict[str, str]] = {}

    def make_auth(self) -> StaticToken:
        # long-lived user or system-user token: nothing to refresh, only to renew by hand
        return StaticToken(self.platform, self.credentials.get("access_token", ""))

    def classify(self, response: httpx.Response, request: str) -> Verdict | None:
        if response.status_code < 300:
            pause = _usage_pause(response.headers)
            return SlowDown(pause) if pause else None
        error = _error_body(response)
        if not error and response.status_code != 401:
            return None  # no Graph error body: judge by status code
        code = error.get("code", 190 if response.status_code == 401 else None)  # bare 401: token
        message = redact(str(error.get("message", "")).strip())
        if code in RATE_LIMIT_CODES:
            # wait the time to regain access (minutes), else until the account's score resets
            reset = _number(
                _header_json(response.headers, "x-ad-account-usage").get("reset_time_duration")
            )
            wait = _usage(response.headers)[1] or reset or None
            return RateLimit(f"#{code}/{error.get('error_subcode')} {message}", wait)
        if error.get("is_transient") or code == 2:
            return Retry(f"transient error #{code} {message}")
        if code not in _FATAL and response.status_code >= 500:
            return None
        cls, advice = _FATAL.get(code, (ConnectorError, ""))
        if code == 10 or (isinstance(code, int) and 200 <= code < 300):
            cls, advice = AuthFailed, "grant the token ads_read on this ad account"
        detail = message or redact(response.text[:200])
        text = f"HTTP {response.status_code}: {detail}" + (f"; {advice}" if advice else "")
        return Fail(cls(text, platform=self.platform, request=request))

    async def account_info(self, account_id: str) -> AccountInfo:
        """Name, currency and time zone of an ad account (read once per connector)."""
        node = _node(account_id)
        if node not in self._accounts:
            body = await self._get(node, fields="name,currency,timezone_name")
            missing = [k for k in ("currency", "timezone_name") if not body.get(k)]
            if missing:
                raise ResponseInvalid(
                    f"ad account {node} answered without {', '.join(missing)} ({API_VERSION})",
                    platform=self.platform,
                )
            name, currency, zone = body.get("name", ""), body["currency"], body["timezone_name"]
            self._accounts[node] = AccountInfo(node, str(name), currency, zone)
        return replace(self._accounts[node], account_id=account_id)

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily rows per ad and network; conversions and value as the module docstring says."""
        info, rows = await self._insights(account_id, start, end, "ad_performance")
        creative_of = await self._creatives_of(account_id)
        records = [
            {**r, **_conversions(r), "_creative_id": creative_of.get(str(r.get("ad_id")))}
            for r in rows
        ]
        constants = {**_account_constants(info), "account_name": info.name}
        table = self._normalize(records, PERFORMANCE, AD_PERFORMANCE, constants)
        return _fold(table, _PERFORMANCE_SUMS, AD_PERFORMANCE)

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily conversion actions by canonical type, in every attribution window."""
        info, rows = await self._insights(account_id, start, end, "actions")
        records = [action for row in rows for action in _actions(row)]
        table = self._normalize(records, ACTION_FIELDS, ACTIONS, _account_constants(info))
        return _fold(table, ("count", "value_micros"), ACTIONS)

    async def fetch_creatives(self, account_id: str) -> pa.Table:
        """The account's ad creatives, each linked to the first ad that uses it."""
        params = {"fields": CREATIVE_PARAMS, "limit": EDGE_PAGE_SIZE}
        creatives = await self._collect(f"{_node(account_id)}/adcreatives", params)
        first_ad: dict[str, str] = {}
        for ad_id, creative_id in sorted((await self._creatives_of(account_id)).items()):
            first_ad.setdefault(creative_id, ad_id)
        lengths = await self._video_lengths(sorted({v for c in creatives if (v := _video_id(c))}))
        rows = [
            {**c, "_ad_id": first_ad.get(str(c.get("id"))), "_copy": _creative_copy(c, lengths)}
            for c in creatives
        ]
        # one creative serves both networks; it is filed under Facebook, which owns it
        constants = {"platform": "facebook", "first_seen": utc_now().date()}
        table = self._normalize(
            rows, CREATIVE_FIELDS, CREATIVES, {**constants, "account_id": account_id}
        )
        return _with_cards(table, [r["_copy"]["cards"] for r in rows])

    # -- the pieces -----------------------------------------------------------------------

    def _graph(self, path: str) -> str:
        return self.url("graph", f"/{API_VERSION}/{path}")

    async def _get(self, path: str, **params: Any) -> dict[str, Any]:
        return await self.api.call("GET", self._graph(path), params=params, parse=_object)

    async def _collect(self, path: str, params: dict[str, Any]) -> list[dict]:
        """Every item of a cursor-paged edge."""
        first = PageRequest(self._graph(path), params)
        pages = paginate(self.api, "GET", first, CursorPaginator(), parse=_page)
        return [item async for page in pages for item in page["data"]]

    async def _insights(
        self, account_id: str, start: date, end: date, dataset: str
    ) -> tuple[AccountInfo, list[dict]]:
        """The job's rows for the window: one job serves performance and actions once each."""
        info = await self.account_info(account_id)
        read = partial(split_on_failure, partial(self._report, account_id), start, end, _concat)
        return info, await self.shared(dataset, (_node(account_id), start, end), read)

    async def _report(self, account_id: str, start: date, end: date) -> list[dict]:
        """One async insights job, submitted, polled and read to its last page."""
        node = _node(account_id)

        async def submit() -> str:
            url, params = self._graph(f"{node}/insights"), _report_params(start, end)
            body = await self.api.call("POST", url, data=params, parse=_object)
            if not body.get("report_run_id"):
                message = f"no report_run_id in the {API_VERSION} answer"
                raise ResponseInvalid(message, platform=self.platform)
            return str(body["report_run_id"])

        async def poll(run_id: str) -> JobStatus:
            return _job_status(await self._get(run_id, fields=JOB_FIELDS))

        async def fetch(run_id: str, status: JobStatus) -> list[dict]:
            return await self._collect(f"{run_id}/insights", {"limit": PAGE_SIZE})

        key = f"insights:{start}:{end}"
        rows = await self.run_report(account_id, key, submit, poll, fetch)
        return [
            {**r, "_platform": NETWORKS.get(r.get("publisher_platform"), "facebook")} for r in rows
        ]

    async def _video_lengths(self, video_ids: list[str]) -> dict[str, float]:
        """video id -> length in seconds, by multiple-ID reads; a batch that fails on an id
        (deleted, or not this token's) is read id by id, without the failing ones."""
        lengths: dict[str, float] = {}
        for i in range(0, len(video_ids), VIDEO_BATCH):
            batch = video_ids[i : i + VIDEO_BATCH]
            found = await _unless_gone(self._get("", ids=",".join(batch), fields="length"))
            if found is None:
                alone = {v: await _unless_gone(self._get(v, fields="length")) for v in batch}
                found = {v: node for v, node in alone.items() if node is not None}
            lengths |= {
                str(k): float(node["length"])
                for k, node in found.items()
                if isinstance(node, dict) and isinstance(node.get("length"), int | float)
            }
        return lengths

    async def _creatives_of(self, account_id: str) -> dict[str, str]:
        """ad id -> creative id for the account (read once per connector)."""
        node = _node(account_id)
        if node not in self._ad_creatives:
            params = {"fields": "id,creative{id}", "limit": EDGE_PAGE_SIZE}
            params["effective_status"] = json.dumps(AD_STATUSES)
            ads = await self._collect(f"{node}/ads", params)
            self._ad_creatives[node] = {
                str(a["id"]): str(dig(a, "creative.id")) for a in ads if dig(a, "creative.id")
            }
        return self._ad_creatives[node]

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


async def _unless_gone(read: Awaitable[dict[str, Any]]) -> dict[str, Any] | None:
    """``await read``, or None when Graph refuses the ids themselves (#100, #803: a plain
    ``ConnectorError``); a dead token, a retired version, a rate limit or an outage is raised."""
    try:
        return await read
    except ConnectorError as exc:
        if type(exc) is not ConnectorError:
            raise
        return None


def _account_constants(info: AccountInfo) -> dict[str, str]:
    return {"account_id": info.account_id, "account_timezone": info.timezone}


def _node(account_id: str) -> str:
    """``act_<digits>`` whether or not the configured id carries the prefix."""
    return account_id if account_id.startswith("act_") else f"act_{account_id}"


def _report_params(start: date, end: date) -> dict[str, str]:
    return {
        "level": "ad",
        "time_increment": "1",
        "time_range": json.dumps({"since": start.isoformat(), "until": end.isoformat()}),
        "breakdowns": json.dumps(["publisher_platform"]),
        "action_breakdowns": json.dumps(["action_type"]),
        "action_attribution_windows": json.dumps([w for w in WINDOWS if w != "default"]),
        "fields": INSIGHT_FIELDS,
        "filtering": json.dumps(
            [{"field": "ad.effective_status", "operator": "IN", "value": AD_STATUSES}]
        ),
    }


def _job_status(body: dict[str, Any]) -> JobStatus:
    status = str(body.get("async_status", ""))
    progress = float(body.get("async_percent_completion") or 0)
    if status in ("Job Failed", "Job Skipped"):
        reason = body.get("error_message") or body.get("error_user_msg") or "no reason given"
        return JobStatus(failed=True, detail=f"{status}: {reason}")
    # the percentage can lag the status; only a completed job at 100% has all its rows
    return JobStatus(
        done=status == "Job Completed" and progress >= 100, progress=progress, detail=status
    )


def _pick(entries: Any, spellings: Iterable[str]) -> dict | None:
    """The element of ``actions[]`` with the first spelling present (None if none is)."""
    found = {e.get("action_type"): e for e in entries or [] if isinstance(e, dict)}
    return next((found[s] for s in spellings if s in found), None)


def _conversions(row: dict) -> dict[str, Any]:
    counts = [(_pick(row.get("actions"), ACTION_TYPES[t]) or {}).get("value") for t in PRIMARY]
    value = (_pick(row.get("action_values"), ACTION_TYPES["purchase"]) or {}).get("value")
    return {"_conversions": _total(counts), "_value": value}


def _total(values: list[Any]) -> Any:
    """The sum of count strings, or the first value that is not a number (normalize names it)."""
    total = Decimal(0)
    for value in values:
        try:
            total += Decimal(str(value)) if value not in (None, "") else 0
        except InvalidOperation:
            return value
    return str(total)


def _actions(row: dict) -> Iterable[dict]:
    """One record per canonical action type present in the row and attribution window."""
    for canonical, spellings in ACTION_TYPES.items():
        counts = _pick(row.get("actions"), spellings)
        values = _pick(row.get("action_values"), spellings)
        if counts is None and values is None:
            continue
        for window, key in WINDOWS.items():
            count, value = (counts or {}).get(key), (values or {}).get(key)
            yield {
                **row,
                "_action": {"type": canonical, "window": window, "count": count, "value": value},
            }


def _video_id(creative: dict[str, Any]) -> str | None:
    video = dig(creative, "object_story_spec.video_data") or {}
    found = video.get("video_id") if isinstance(video, dict) else None
    return str(found) if found else None


def _creative_copy(creative: dict[str, Any], lengths: Mapping[str, float]) -> dict[str, Any]:
    """Copy, link, picture, cards, video length and format of a creative, and a version
    hashed from that content."""
    spec = creative.get("object_story_spec") or {}
    link, video = spec.get("link_data") or {}, spec.get("video_data") or {}
    story = link or video
    children = [c for c in link.get("child_attachments") or [] if isinstance(c, dict)]
    cards = [_card(child) for child in children]
    video_id = _video_id(creative)
    if video:  # the poster frame, not the tiny thumbnail
        kind, asset = "video", video.get("image_url") or creative.get("thumbnail_url")
    elif cards:
        kind, asset = "carousel", cards[0]["asset_url"] or creative.get("thumbnail_url")
    else:
        asset = creative.get("image_url") or creative.get("thumbnail_url")
        kind = "image" if asset else "text"
    copy = {
        "headline": creative.get("title") or story.get("name") or story.get("title"),
        "body": creative.get("body") or story.get("message"),
        "call_to_action": creative.get("call_to_action_type") or dig(story, "call_to_action.type"),
        "landing_url": link.get("link") or dig(story, "call_to_action.value.link"),
        "asset_url": asset,
        "format": kind,
    }
    # CDN URLs carry expiring signatures and vary by host: hash the image hash, or the path
    image = story.get("image_hash") or asset_key(asset) or ""
    content = [creative.get("name"), *(copy[k] for k in list(copy)[:4]), kind, image]
    content += [video_id] if video_id else []
    content += [part for child in children for part in _card_content(child)]
    # str() of each part, None included, as before: image and text creatives keep their versions
    copy["version"] = content_version(*map(str, content))
    length = lengths.get(video_id) if video_id else None
    copy["duration_ms"] = round(length * 1000) if length is not None else None
    return copy | {"cards": cards}


def _card(child: dict[str, Any]) -> dict[str, Any]:
    """A carousel card in the canonical ``CARD`` shape (its picture is fetched later). A card
    given only by ``image_hash`` has no URL here ('verify': read cards carry ``picture``)."""
    return {
        "headline": child.get("name"),
        "body": child.get("description"),
        "landing_url": child.get("link"),
        "asset_url": child.get("picture"),
        "asset_sha256": None,
    }


def _card_content(child: dict[str, Any]) -> list[Any]:
    picture = child.get("image_hash") or asset_key(child.get("picture"))
    return [child.get("name"), child.get("description"), child.get("link"), picture]


def _with_cards(table: pa.Table, cards: list[list[dict]]) -> pa.Table:
    """``table`` with its ``cards`` column (null where a creative is no carousel): normalize
    maps scalar fields only."""
    column = pa.array([c or None for c in cards], type=pa.list_(CARD))
    index = table.schema.get_field_index("cards")
    return validate(table.set_column(index, CREATIVES.field("cards"), column), CREATIVES)


def _fold(table: pa.Table, sums: tuple[str, ...], schema: pa.Schema) -> pa.Table:
    """Sum rows that share every other column (placements folded into ``facebook``)."""
    keys = [c for c in table.column_names if c not in sums]
    folded = table.group_by(keys, use_threads=False).aggregate([(c, "sum") for c in sums])
    return validate(
        folded.rename_columns([c.removesuffix("_sum") for c in folded.column_names]), schema
    )


def _object(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def _page(response: httpx.Response) -> dict[str, Any]:
    body = _object(response)
    if not isinstance(body.get("data"), list):
        raise ValueError("a page without a data list")
    return body


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


def _header_json(headers: httpx.Headers, name: str) -> dict[str, Any]:
    try:
        value = json.loads(headers.get(name) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _usage(headers: httpx.Headers) -> tuple[float, float]:
    """The highest usage percentage in any usage header, and seconds until access returns."""
    entries = [_header_json(headers, name) for name in _USAGE_HEADERS]
    for per_object in _header_json(headers, "x-business-use-case-usage").values():
        entries += (
            [e for e in per_object if isinstance(e, dict)] if isinstance(per_object, list) else []
        )
    usage = max((_number(e.get(k)) for e in entries for k in _USAGE_KEYS), default=0.0)
    regain = max((_number(e.get("estimated_time_to_regain_access")) for e in entries), default=0.0)
    return usage, regain * 60  # Meta gives minutes


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _usage_pause(headers: httpx.Headers) -> float:
    usage, regain = _usage(headers)
    if regain:
        return regain
    return min(1.0, max(0.0, usage - SLOW_AT) / (100 - SLOW_AT)) * MAX_PAUSE


def _concat(parts: list[list[dict]]) -> list[dict]:
    return [row for part in parts for row in part]
