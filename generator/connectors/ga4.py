"""Google Analytics 4: the Data API's ``runReport`` for site funnel, site events, touchpoints and
conversions.

``POST /v1beta/properties/{id}:runReport`` with ``dateRanges``, ``dimensions`` and ``metrics``
answers a table of strings: headers name the columns, rows hold positional ``{"value": ...}``
cells, ``rowCount`` counts all rows for ``limit``/``offset`` paging. ``date`` (``YYYYMMDD``) and
``dateHourMinute`` (``YYYYMMDDHHMM``) are in the property's time zone, revenue in major units of
its currency (``metadata`` names both). Quotas are token buckets per property; with
``returnPropertyQuota`` each answer says what is left, so we slow down before the 429.

User-level rows need the GA client id as a dimension, which GA4 only offers as a custom
dimension: here the user-scoped ``customUser:client_id``, a common setup (gtag or GTM sends the
``_ga`` cookie's client id as a user property). Ids are hashed, salted per property, at once.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from hashlib import sha256
from typing import Any, ClassVar

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.connectors.auth import OAuth2Refresh
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.http import retry_after
from generator.connectors.normalize import Col, major_to_micros, normalize, utc_now
from generator.connectors.paging import OffsetPaginator, PageRequest, paginate
from generator.connectors.verdicts import Fail, RateLimit, Refresh, SlowDown, Verdict
from generator.errors import ApiVersionRetired, AuthFailed, ConnectorError, ResponseInvalid
from generator.schema import (
    CONVERSIONS,
    PLATFORMS,
    SITE_EVENTS,
    SITE_FUNNEL,
    TOUCHPOINTS,
    validate,
)

__all__ = ["API_VERSION", "GA4", "SUNSET", "channel_of"]

log = logging.getLogger("generator.connectors")

#: The pinned Data API (and Admin API) version. v1beta is the stable channel, v1alpha the
#: preview; Google has announced no sunset. See
#: developers.google.com/analytics/devguides/reporting/data/v1/changelog when bumping.
API_VERSION = "v1beta"
SUNSET = "none announced (v1beta is the stable channel; checked 2026-11)"
#: GA4's most rows per request (default 10,000): the fewest requests, round trips and tokens;
#: the sync's month-long windows keep one page to a few megabytes.
PAGE_SIZE = 250_000
CLIENT_ID = "customUser:client_id"
NOT_SET = frozenset({"(not set)", "(other)", ""})
_DAY = timedelta(days=1)

#: report -> (dimensions, metrics). ``keyEvents`` is the 2024-05-06 rename of ``conversions``.
FUNNEL_QUERY = (
    ("date", "sessionSource", "sessionMedium", "sessionCampaignName", "eventName"),
    ("eventCount", "keyEvents", "totalRevenue"),
)
_SESSION = ("sessionSource", "sessionMedium", "sessionCampaignId", "sessionCampaignName")
TOUCH_QUERY = (("dateHourMinute", CLIENT_ID, *_SESSION), ("sessions",))
CONVERSION_QUERY = (
    ("dateHourMinute", CLIENT_ID, "eventName", "transactionId"),
    ("keyEvents", "purchaseRevenue"),
)
#: Nine dimensions: as many as GA4 allows in one request.
EVENT_QUERY = (
    (
        "dateHourMinute",
        CLIENT_ID,
        "eventName",
        "sessionSource",
        "sessionMedium",
        "sessionCampaignName",
        "deviceCategory",
        "country",
        "pagePath",
    ),
    ("eventCount",),
)
#: site_events column -> the GA4 dimension it copies
EVENT_FIELDS = {
    "event_name": "eventName",
    "session_source": "sessionSource",
    "session_medium": "sessionMedium",
    "session_campaign": "sessionCampaignName",
    "device_category": "deviceCategory",
    "country": "country",
    "page_path": "pagePath",
}
FUNNEL_FIELDS = {
    "date": Col("date", "date", required=True),
    "session_source": Col("sessionSource", required=True),
    "session_medium": Col("sessionMedium", required=True),
    "session_campaign": Col("sessionCampaignName", required=True),
    "event_name": Col("eventName", required=True),
    "event_count": Col("eventCount", "count", default=0),
    "key_events": Col("keyEvents", "number", default=0.0),
    "revenue_micros": Col("totalRevenue", "major", default=0),
}
#: GA4 key events -> canonical action types; the conversions report asks for exactly these.
KEY_EVENTS = {"purchase": "purchase", "sign_up": "signup"} | dict.fromkeys(
    ("generate_lead", "book_appointment", "qualify_lead"), "lead"
)
#: Sources that arrive with medium ``paid_social`` -> the ad platform.
SOCIAL = {s: s for s in ("facebook", "instagram", "linkedin", "tiktok", "pinterest")} | {
    "snapchat": "snapchat",
    "reddit": "reddit",
    "x.com": "x",
}
#: (sessionSource, sessionMedium, channel), first match wins; "*" matches anything.
CHANNEL_RULES: tuple[tuple[str, str, str], ...] = (
    ("google", "cpc", "google_ads"),
    ("bing", "cpc", "microsoft_ads"),
    *((source, "paid_social", platform) for source, platform in SOCIAL.items()),
    ("*", "organic", "organic_search"),
    ("(direct)", "(none)", "direct"),
    ("*", "email", "email"),
    ("*", "referral", "referral"),
)
#: Token quota -> (limit of a standard property, longest pause). Analytics 360 has ten times
#: more. Once less than QUOTA_RESERVE of a limit is left we pause, longer as it nears empty.
TOKEN_QUOTAS = {
    "tokensPerDay": (200_000, 300.0),
    "tokensPerHour": (40_000, 60.0),
    "tokensPerProjectPerHour": (14_000, 60.0),
}
QUOTA_RESERVE = 0.1
#: Words of a RESOURCE_EXHAUSTED message -> seconds until the quota refills (else back off).
#: Hourly and daily quotas outlast a run's rate-limit budget: the sync is marked stale.
REFILLS = {"per day": 86_400.0, "per hour": 3_600.0, "server errors": 3_600.0}
_VERSION = re.compile(rf"(?<!\w){re.escape(API_VERSION)}(?!\w)")
#: A report cell, ``{"value": "..."}``, capturing the string as JSON writes it (escapes kept).
#: Nothing else in an answer has this shape, and inside a string its quotes would be escaped.
_CELL = re.compile(rb'\{\s*"value"\s*:\s*"([^"\\]*(?:\\.[^"\\]*)*)"\s*\}')
_ROWS_OPEN = re.compile(rb'"rows"\s*:\s*\[\s*\{\s*"(dimension|metric)Values"\s*:\s*\[\s*\Z')
_ROWS_CLOSE = re.compile(rb"\s*\]\s*\}\s*\]")
_SPACE = re.compile(rb"\s+")
_VALUES = "_values"  # where ``_report_page`` puts the cells' values
_NOT_FOUND = re.compile(r"The requested URL \S+ was not found on this server")


class GA4(Connector):
    """Site analytics of GA4 properties; ``account_id`` is the numeric property id."""

    platform = "ga4"
    api_version = API_VERSION
    sunset = SUNSET
    hosts: ClassVar[dict[str, str]] = {
        "data": "https://analyticsdata.googleapis.com",
        "admin": "https://analyticsadmin.googleapis.com",
        "oauth": "https://oauth2.googleapis.com",
    }
    rate = 5.0
    lookback_days = 3  # GA4 finishes processing a day within about 48 hours
    credential_names = ("client_id", "client_secret", "refresh_token")
    datasets = ("site_funnel", "site_events", "touchpoints", "conversions")
    has_creatives = False
    page_size: int = PAGE_SIZE

    def make_auth(self) -> OAuth2Refresh:
        c = self.credentials
        return OAuth2Refresh(
            self.platform,
            self.url("oauth", "/token"),
            client_id=c["client_id"],
            client_secret=c["client_secret"],
            refresh_token=c["refresh_token"],
            on_rotate=self.on_rotate,
        )

    def classify(self, response: httpx.Response, request: str) -> Verdict | None:
        status = response.status_code
        if status < 300:
            return _slow_down(_property_quota(response.content))
        code, message = _google_error(response)
        if status in (400, 404) and _VERSION.search(message):
            return self._fail(
                ApiVersionRetired,
                f"GA4 API {API_VERSION} is not served ({message}); bump API_VERSION in "
                "generator/connectors/ga4.py to a current version and re-record its fixtures",
                request,
            )
        if status == 429 or code == "RESOURCE_EXHAUSTED":
            hint = (s for words, s in REFILLS.items() if words in message.lower())
            return RateLimit(f"{code or status}: {message}", next(hint, retry_after(response)))
        if status == 401:
            return Refresh()
        if status == 403:
            return self._fail(
                AuthFailed,
                f"access denied ({message}); check that the authorised user can read the "
                "property and that the Analytics Data and Admin APIs are enabled",
                request,
            )
        if status < 500:
            return self._fail(ConnectorError, f"HTTP {status} {code}: {message}", request)
        return None

    def _fail(self, error: type[ConnectorError], message: str, request: str) -> Fail:
        return Fail(error(message, platform=self.platform, request=request))

    async def account_info(self, account_id: str) -> AccountInfo:
        """Name, currency and time zone from the Admin API's property resource."""
        prop = _property_id(account_id)
        url = self.url("admin", f"/{API_VERSION}/properties/{prop}")
        body = _require(await self.api.call("GET", url, parse=_json_object), "")
        return AccountInfo(
            account_id, body.get("displayName", ""), body["currencyCode"], body["timeZone"]
        )

    async def fetch_site_funnel(self, account_id: str, start: date, end: date) -> pa.Table:
        """Events per property-local day, session source/medium/campaign and event name."""
        prop = _property_id(account_id)
        report, meta = await self.run_report(prop, FUNNEL_QUERY, start, end)
        rows = report.to_pylist()
        constants = {"property_id": prop, "account_timezone": meta["timeZone"]}
        constants |= {"currency": meta["currencyCode"], **self._lineage()}
        return normalize(
            rows,
            FUNNEL_FIELDS,
            SITE_FUNNEL,
            constants=constants,
            platform="ga4",
            api_version=API_VERSION,
        )

    async def fetch_touchpoints(self, account_id: str, start: date, end: date) -> pa.Table:
        """One row per session whose start's UTC day is in [start, end], users hashed.

        GA4's date ranges are property-local days and the lake keeps touchpoints by UTC day,
        so one more local day is asked for on each side and rows outside the UTC range dropped.
        """
        prop = _property_id(account_id)
        report, meta = await self.run_report(prop, TOUCH_QUERY, start - _DAY, end + _DAY)
        frame = _user_frame(report, meta["timeZone"], start, end)
        frame = frame.loc[frame.index.repeat(_units(frame["sessions"], _whole, "sessions"))]
        channel = _channels(frame)
        campaign = frame["sessionCampaignId"]
        return self._table(
            TOUCHPOINTS,
            timestamp=pa.array(frame["timestamp"]),
            user_id=_digests(prop, frame[CLIENT_ID]),
            channel=channel,
            interaction=pa.repeat("session", len(frame)),
            platform=np.where(np.isin(channel, PLATFORMS), channel, None),
            campaign_id=campaign.where(~campaign.isin(NOT_SET)),
        )

    async def fetch_site_events(self, account_id: str, start: date, end: date) -> pa.Table:
        """Events per minute and user whose UTC day is in [start, end] (see ``fetch_touchpoints``),
        with the session's source, medium and campaign, device, country and page; users hashed
        as in touchpoints. ``event_count`` counts the identical events GA4 merged in a row."""
        prop = _property_id(account_id)
        report, meta = await self.run_report(prop, EVENT_QUERY, start - _DAY, end + _DAY)
        frame = _user_frame(report, meta["timeZone"], start, end)
        return self._table(
            SITE_EVENTS,
            timestamp=pa.array(frame["timestamp"]),
            user_id=_digests(prop, frame[CLIENT_ID]),
            **{column: frame[name] for column, name in EVENT_FIELDS.items()},
            channel=_channels(frame),
            event_count=_units(frame["eventCount"], _whole, "eventCount"),
            property_id=pa.repeat(prop, len(frame)),
        )

    async def fetch_conversions(self, account_id: str, start: date, end: date) -> pa.Table:
        """One row per key event whose UTC day is in [start, end] (see ``fetch_touchpoints``).

        A row counting n key events becomes n conversions sharing its revenue; the id is the
        transaction id when there is one, else a hash of where the event sits.
        """
        prop = _property_id(account_id)
        query = CONVERSION_QUERY
        report, meta = await self.run_report(prop, query, start - _DAY, end + _DAY, KEY_EVENTS)
        frame = _user_frame(report, meta["timeZone"], start, end)
        frame = frame[frame["eventName"].isin(KEY_EVENTS)].assign(
            n=lambda f: _units(f["keyEvents"], _whole, "keyEvents"),
            value=lambda f: _units(f["purchaseRevenue"], major_to_micros, "purchaseRevenue"),
        )
        frame = frame.loc[frame.index.repeat(frame["n"])]
        nth = frame.groupby(level=0).cumcount().to_numpy()
        value = frame["value"] // frame["n"] + (nth == 0) * (frame["value"] % frame["n"])
        coordinates = zip(*(frame[c] for c in query[0]), nth, strict=True)
        derived = pd.Series(["/".join(map(str, c)) for c in coordinates], index=frame.index)
        single = ~frame["transactionId"].isin(NOT_SET) & (frame["n"] == 1)
        return self._table(
            CONVERSIONS,
            timestamp=pa.array(frame["timestamp"]),
            user_id=_digests(prop, frame[CLIENT_ID]),
            conversion_id=frame["transactionId"].where(single, _digests(prop, derived)),
            action_type=frame["eventName"].map(KEY_EVENTS),
            value_micros=value.to_numpy(dtype=np.int64),
            currency=pa.repeat(meta["currencyCode"], len(frame)),
        )

    async def run_report(
        self, property_id: str, query, start: date, end: date, events=None
    ) -> tuple[pa.Table, dict[str, Any]]:
        """Every row of one report, as strings in columns named by GA4 field, and its metadata.

        ``query`` is (dimensions, metrics); ``events`` restricts ``eventName`` to its keys.
        """
        names = (*query[0], *query[1])
        body: dict[str, Any] = {
            "dateRanges": [{"startDate": start.isoformat(), "endDate": end.isoformat()}],
            "dimensions": [{"name": name} for name in query[0]],
            "metrics": [{"name": name} for name in query[1]],
            "limit": self.page_size,
            "offset": 0,
            "returnPropertyQuota": True,
        }
        if events:
            in_list = {"values": list(events), "caseSensitive": True}
            body["dimensionFilter"] = {
                "filter": {"fieldName": "eventName", "inListFilter": in_list}
            }
        url = self.url("data", f"/{API_VERSION}/properties/{property_id}:runReport")
        pages = OffsetPaginator(
            self.page_size, total_path="rowCount", items_path="rows", where="json"
        )
        read: list[pa.Table] = []  # each page in Arrow at once: its Python strings can go
        meta: dict[str, Any] = {}
        request = PageRequest(url, json=body)
        async for page in paginate(self.api, "POST", request, pages, parse=_report_page):
            columns = _columns(page, names)
            read.append(pa.table({n: pa.array(columns.get(n, []), pa.string()) for n in names}))
            meta = meta or _require(page.get("metadata") or {}, "metadata.")
        if meta.get("dataLossFromOtherRow") or meta.get("subjectToThresholding"):
            log.warning("ga4 property %s: report thresholded or rolled into (other)", property_id)
        return pa.concat_tables(read).combine_chunks(), meta

    def _lineage(self) -> dict[str, Any]:
        return {"source": self.platform, "fetched_at": utc_now(), "api_version": API_VERSION}

    def _table(self, schema: pa.Schema, **columns: Any) -> pa.Table:
        rows = len(columns["timestamp"])
        lineage = {k: pa.repeat(v, rows) for k, v in self._lineage().items()}
        arrays = {k: pa.array(v, from_pandas=True) for k, v in columns.items()}
        return validate(pa.table({**arrays, **lineage}), schema)


@cache
def channel_of(source: str, medium: str) -> str:
    """The canonical channel of a session's source and medium (``CHANNEL_RULES``)."""
    source, medium = source.lower(), medium.lower()
    for rule_source, rule_medium, channel in CHANNEL_RULES:
        if rule_source in ("*", source) and rule_medium in ("*", medium):
            return channel
    return "other"


def _channels(frame: pd.DataFrame) -> np.ndarray:
    """``channel_of`` each row's session source and medium, once per distinct pair."""
    codes, pairs = pd.factorize(frame["sessionSource"] + "\n" + frame["sessionMedium"])
    return np.array([channel_of(*p.split("\n", 1)) for p in pairs], dtype=object)[codes]


def _digests(prop: str, values: pd.Series) -> np.ndarray:
    """Hashes of client ids salted per property (never the ids themselves), once per id."""
    salt = f"campaign-reporter/ga4/{prop}/".encode()
    codes, ids = pd.factorize(values)
    digests = [sha256(salt + v.encode()).hexdigest()[:32] for v in ids]
    return np.array(digests, dtype=object)[codes]


def _property_id(account_id: str) -> str:
    prop = account_id.removeprefix("properties/")
    if not prop.isdigit():
        raise ConnectorError(
            f"a GA4 property id is a number (got {account_id!r}); see Admin > Property details",
            platform="ga4",
        )
    return prop


def _require(body: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``body`` if it names the currency and time zone, else the error naming the field."""
    for name in ("currencyCode", "timeZone"):
        if not body.get(name):
            raise _missing(prefix + name)
    return body


def _missing(field: str) -> ResponseInvalid:
    return ResponseInvalid(
        f"required field {field!r} missing from the {API_VERSION} response", platform="ga4"
    )


def _columns(page: dict[str, Any], expected: tuple[str, ...]) -> dict[str, list[str]]:
    """A page's cells as columns named by the headers (GA4 cells are positional)."""
    rows = page.get("rows") or []
    headers = [*page.get("dimensionHeaders", ()), *page.get("metricHeaders", ())]
    names = [h.get("name") for h in headers]
    missing = [name for name in expected if name not in names]
    if rows and missing:
        raise _missing(missing[0])
    values = page.get(_VALUES)
    if values is None:  # the page was read cell by cell (see ``_report_page``)
        cells = [[*r.get("dimensionValues", ()), *r.get("metricValues", ())] for r in rows]
        if any(len(row) != len(names) for row in cells):
            raise ResponseInvalid(f"rows do not match the headers ({API_VERSION})", platform="ga4")
        values = [cell.get("value", "") for row in cells for cell in row]
    return {name: values[i :: len(names)] for i, name in enumerate(names)}


def _report_page(response: httpx.Response) -> dict[str, Any]:
    """A runReport answer, its cells' values taken straight off the bytes when they can be.

    A report of events per user and minute has hundreds of thousands of cells, and a JSON
    parser builds a dict for each: several times slower than splitting the body at its cells
    (one regular-expression pass) and checking that what lies between them is exactly the rows'
    punctuation. The rest of the body (headers, rowCount, metadata) is parsed as JSON, so a
    truncated or garbled answer fails as any would; an answer of any other shape is parsed
    whole. The values, row by row, go under ``_VALUES``.
    """
    content = response.content
    parts = _CELL.split(content)  # [before, cell, between, cell, ..., cell, after]
    opened = _ROWS_OPEN.search(parts[0]) if len(parts) > 1 else None
    closed = _ROWS_CLOSE.match(parts[-1]) if opened else None
    if not closed:
        return _json_object(content)
    body = _json_object(parts[0][: opened.start()] + b'"rows":[]' + parts[-1][closed.end() :])
    raw = parts[1::2]
    dims, metrics = (len(body.get(h) or ()) for h in ("dimensionHeaders", "metricHeaders"))
    width = dims + metrics
    first = b"dimension" if dims else b"metric"
    if not width or len(raw) % width or opened.group(1) != first:
        return _json_object(content)
    punctuation = [b","] * width  # what must follow each column's cell
    if dims and metrics:
        punctuation[dims - 1] = b'],"metricValues":['
    punctuation[-1] = b']},{"' + first + b'Values":['
    for column, expected in enumerate(punctuation):  # parts[2k + 2] follows the k-th cell
        after = set(parts[2 * column + 2 : -1 : 2 * width])
        if any(_SPACE.sub(b"", seen) != expected for seen in after):
            return _json_object(content)
    del parts
    joined = b"\0".join(raw)  # NUL cannot appear unescaped in a JSON string...
    values = joined.decode("utf-8").split("\0")
    if len(values) != len(raw):  # ...unless the answer is not JSON: let the parser say so
        return _json_object(content)
    if b"\\" in joined:  # JSON escapes (rare): undone value by value
        values = [json.loads(f'"{value}"') if "\\" in value else value for value in values]
    return body | {"rows": [None] * (len(raw) // width), _VALUES: values}


def _user_frame(table: pa.Table, zone: str, start: date, end: date) -> pd.DataFrame:
    """User-level rows with a UTC ``timestamp``, kept when its UTC day is in [start, end].

    In the hour repeated when clocks go back a local minute is ambiguous and GA4 does not say
    which; we take the first (summer-time) one. Rows without a client id are dropped. Arrow
    reads the minutes: its ``strptime`` is many times faster than pandas' on a large report.
    """
    unknown = pc.is_in(table[CLIENT_ID], value_set=pa.array(sorted(NOT_SET)))
    if skipped := pc.sum(unknown).as_py():
        log.info("ga4: %d rows without a client id skipped", skipped)
        table = table.filter(pc.invert(unknown))
    minutes = table["dateHourMinute"]
    parsed = pc.strptime(minutes, format="%Y%m%d%H%M", unit="us", error_is_null=True)
    if parsed.null_count:
        raise _unreadable("dateHourMinute", minutes.filter(pc.is_null(parsed))[0].as_py())
    local = pd.Series(parsed.to_numpy(), dtype="datetime64[us]")
    stamp = local.dt.tz_localize(
        zone, ambiguous=np.ones(len(local), dtype=bool), nonexistent="shift_forward"
    ).dt.tz_convert("UTC")
    inside = (stamp >= pd.Timestamp(start, tz="UTC")) & (stamp < pd.Timestamp(end + _DAY, tz="UTC"))
    frame = table.to_pandas().assign(timestamp=stamp)
    return frame[inside.to_numpy()].reset_index(drop=True)


def _whole(value: str) -> int:
    number = Decimal(value)
    if number != number.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _units(values: pd.Series, convert, field: str) -> np.ndarray:
    """``convert`` applied once per distinct value (reports repeat few values); "" is 0."""
    table = {}
    for value in values.unique():
        try:
            table[value] = convert(value) if value not in NOT_SET else 0
        except (ValueError, ArithmeticError):
            raise _unreadable(field, value) from None
    return values.map(table).to_numpy(dtype=np.int64)


def _unreadable(field: str, value: str) -> ResponseInvalid:
    return ResponseInvalid(
        f"field {field!r} has value {value[:40]!r} that cannot be read ({API_VERSION})",
        platform="ga4",
    )


def _json_object(response: httpx.Response | bytes) -> dict[str, Any]:
    body = json.loads(response if isinstance(response, bytes) else response.content)
    if not isinstance(body, dict):
        raise ValueError("the answer is not a JSON object")
    return body


def _property_quota(content: bytes) -> dict[str, Any]:
    """``propertyQuota`` decoded from the end of a body (it comes last) without re-parsing rows."""
    at = content.rfind(b'"propertyQuota"')
    if at < 1 or content[at - 1 : at] == b"\\":
        return {}
    tail = content[content.find(b":", at) + 1 :].decode("utf-8", "replace").lstrip()
    try:
        quota, _ = json.JSONDecoder().raw_decode(tail)
    except ValueError:
        return {}
    return quota if isinstance(quota, dict) else {}


def _slow_down(quota: dict[str, Any]) -> SlowDown | None:
    """A pause growing as any token quota drains below its reserve, else None."""
    pauses = []
    for name, (limit, longest) in TOKEN_QUOTAS.items():
        remaining = (quota.get(name) or {}).get("remaining")
        reserve = QUOTA_RESERVE * limit
        if isinstance(remaining, int | float) and remaining < reserve:
            pauses.append(longest * (1 - max(remaining, 0) / reserve))
    return SlowDown(round(max(pauses), 3)) if pauses else None


def _google_error(response: httpx.Response) -> tuple[str, str]:
    """Google's status name and message, or the gist of an HTML error page (unknown URLs)."""
    try:
        error = response.json().get("error") or {}
        return str(error.get("status", "")), str(error["message"]).strip()
    except (ValueError, AttributeError, KeyError):
        text = re.sub(r"<[^>]+>", "", response.text)
        found = _NOT_FOUND.search(text)
        return "", (found.group(0) if found else " ".join(text.split()))[:300]
