"""Google Analytics 4 as the sandbox speaks it: OAuth, the Admin property, Data API runReport.

Served under ``/ga4``: ``POST /token`` (refresh-token grant), ``GET /{version}/properties/{id}``
(the Admin API's Property) and ``POST /{version}/properties/{id}:runReport``, for the catalog's
``ga4`` accounts, answered from ``world.journeys`` in the client's time zone and currency.

Events are the journeys' ``site_events``: a session that reached k funnel steps fires
``FUNNELS[profile][0..k-1]`` one after the other from its start, each at its own minute and
page, except the funnel's last step, the key event, which is fired from the conversions table
at the conversion's time inside the user's latest session: never counted twice, and absent when
the world ended first. A session's steps stay on its local day, so daily reports count them on
the day the session started. ``keyEvents`` counts key events; ``totalRevenue``/
``purchaseRevenue`` sum purchase values. ``deviceCategory`` and ``country`` are the visitor's,
the same in each of their sessions.

runReport serves session facts (``sessions``) and event facts (``eventCount``, ``keyEvents``,
``totalRevenue``, ``purchaseRevenue``) over ``SESSION_DIMENSIONS``/``EVENT_DIMENSIONS`` (the GA
client id is the user-scoped custom dimension ``customUser:client_id``), at most
``MAX_DIMENSIONS`` of them, one date range, ``dimensionFilter`` and ``limit``/``offset``, rows
sorted by their dimensions so pages are stable; anything else is Google's ``INVALID_ARGUMENT``.
Quotas are token buckets on the sandbox clock (a request costs ``5 + rows // 1000``) shown in
``propertyQuota``; an empty bucket, or requests faster than ``state.throttle`` allows, answer
429 ``RESOURCE_EXHAUSTED``. Versions outside ``CURRENT_VERSIONS`` get Google's HTML 404 page
naming the URL.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import reduce
from hashlib import sha256
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from generator.sandbox.catalog import AccountSpec, ClientSpec
from generator.sandbox.common import bearer, read_form
from generator.sandbox.journeys import Journeys, site_events
from generator.sandbox.state import SandboxState
from generator.sandbox.world import World

__all__ = [
    "CREDENTIALS",
    "CURRENT_VERSIONS",
    "ENVIRONMENT",
    "QUOTA_LIMITS",
    "property_quota",
    "routes",
]

CREDENTIALS = {
    "client_id": "sandbox-ga4.apps.googleusercontent.com",
    "client_secret": "sbx-ga4-secret-QW5hbHl0aWNzU2FuZGJveA",
    "refresh_token": "1//sbx-ga4-refresh-U2l0ZUpvdXJuZXlz",
}
ENVIRONMENT = {
    "GA4_CLIENT_ID": CREDENTIALS["client_id"],
    "GA4_CLIENT_SECRET": CREDENTIALS["client_secret"],
    "GA4_REFRESH_TOKEN": CREDENTIALS["refresh_token"],
}
CURRENT_VERSIONS = {"v1beta"}  # v1alpha exists upstream but is not emulated
CLIENT_ID = "customUser:client_id"
_SESSION_SCOPE = ("sessionSource", "sessionMedium", "sessionCampaignId", "sessionCampaignName")
_VISITOR = ("deviceCategory", "country")
SESSION_DIMENSIONS = ("date", "dateHourMinute", CLIENT_ID, *_SESSION_SCOPE, *_VISITOR)
EVENT_DIMENSIONS = (*SESSION_DIMENSIONS, "eventName", "transactionId", "pagePath")
#: metric -> GA4's MetricType
SESSION_METRICS = {"sessions": "TYPE_INTEGER"}
EVENT_METRICS = {"eventCount": "TYPE_INTEGER", "keyEvents": "TYPE_FLOAT"} | dict.fromkeys(
    ("totalRevenue", "purchaseRevenue"), "TYPE_CURRENCY"
)
RENAMED = {"conversions": "keyEvents", "totalConversions": "keyEvents"}
DEFAULT_LIMIT, MAX_LIMIT = 10_000, 250_000
MAX_DIMENSIONS = 9  # "Requests are allowed up to 9 dimensions" (the Dimension reference)
#: A standard property's quotas (the Data API's "limits and quotas" page).
QUOTA_LIMITS = {"tokensPerDay": 200_000, "tokensPerHour": 40_000, "concurrentRequests": 10} | {
    "serverErrorsPerProjectPerHour": 10,
    "potentiallyThresholdedRequestsPerHour": 120,
    "tokensPerProjectPerHour": 14_000,
}
TOKEN_QUOTAS = ("tokensPerDay", "tokensPerHour", "tokensPerProjectPerHour")
_RETURN = "These quota tokens will return in under"
_EXHAUSTED = {  # Google's message when that quota runs out (the hourly wordings: verify)
    "tokensPerDay": f"Exhausted property tokens per day. {_RETURN} 24 hours.",
    "tokensPerHour": f"Exhausted property tokens per hour. {_RETURN} an hour.",
    "tokensPerProjectPerHour": f"Exhausted property tokens for a project per hour. {_RETURN} "
    "an hour.",
    "concurrentRequests": "Exhausted concurrent requests quota.",
}
_SCHEMA_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
_EXPLORER = "https://ga-dev-tools.google/ga4/dimensions-metrics-explorer/"
_BODY_KEYS = {"property", "dateRanges", "dimensions", "metrics", "dimensionFilter", "limit"}
_BODY_KEYS |= {"offset", "returnPropertyQuota", "keepEmptyRows"}
_NOT_EMULATED = ("metricFilter", "metricAggregations", "cohortSpec", "comparisons", "orderBys")
_NOT_EMULATED += ("currencyCode",)
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}
_STATUS |= {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE"}
_INDUSTRY = {"ecommerce": "SHOPPING", "b2b": "BUSINESS_AND_INDUSTRIAL_MARKETS"}
_INDUSTRY |= {"local": "HEALTHCARE"}
_EVENT_ONLY = {"eventName", "transactionId", "pagePath", *EVENT_METRICS}
#: stringFilter matchType -> (pyarrow test, pattern from the value); EXACT is an equality
_MATCHES = {
    "BEGINS_WITH": (pc.starts_with, str),
    "ENDS_WITH": (pc.ends_with, str),
    "CONTAINS": (pc.match_substring, str),
    "PARTIAL_REGEXP": (pc.match_substring_regex, str),
    "FULL_REGEXP": (pc.match_substring_regex, lambda value: f"^(?:{value})$"),
}


class _Invalid(ValueError):
    """A request Google would refuse with 400 INVALID_ARGUMENT (the message is Google's)."""


def routes() -> list[Route]:
    return [
        Route("/token", _token, methods=["POST"]),
        Route("/{version}/properties/{property_id}:runReport", _run_report, methods=["POST"]),
        Route("/{version}/properties/{property_id}", _property, methods=["GET"]),
    ]


# -- OAuth and the Admin API ------------------------------------------------------------------


async def _token(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    form = await read_form(request)
    if form.get("grant_type") != "refresh_token":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    client = (form.get("client_id"), form.get("client_secret"))
    if client != (CREDENTIALS["client_id"], CREDENTIALS["client_secret"]):
        return JSONResponse(
            {"error": "invalid_client", "error_description": "Unauthorized"}, status_code=401
        )
    if form.get("refresh_token") != CREDENTIALS["refresh_token"]:
        return JSONResponse(
            {"error": "invalid_grant", "error_description": "Bad Request"}, status_code=400
        )
    ttl = state.faults.token_ttl
    return JSONResponse(
        {
            "access_token": state.tokens.issue("ga4", str(form["client_id"]), ttl),
            "expires_in": int(max(ttl, 1)),
            "scope": "https://www.googleapis.com/auth/analytics.readonly",
            "token_type": "Bearer",
        }
    )


async def _property(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    state.requests["ga4"] += 1
    if failed := await state.faults.before("ga4"):
        return _error(failed, "The service is currently unavailable.")
    found = _access(request, state, "The caller does not have permission")
    if isinstance(found, Response):
        return found
    client, account = found
    created = f"{state.world.start.isoformat()}T09:30:00.000Z"
    parent = f"accounts/{int(sha256(client.slug.encode()).hexdigest()[:8], 16) % 10**9}"
    return JSONResponse(
        {
            "name": f"properties/{account.account_id}",
            "propertyType": "PROPERTY_TYPE_ORDINARY",
            "createTime": created,
            "updateTime": created,
            "parent": parent,
            "displayName": account.name,
            "industryCategory": _INDUSTRY[client.profile],
            "timeZone": account.timezone,
            "currencyCode": account.currency,
            "serviceLevel": "GOOGLE_ANALYTICS_STANDARD",
            "account": parent,
        }
    )


def _access(
    request: Request, state: SandboxState, denied: str
) -> Response | tuple[ClientSpec, AccountSpec]:
    """The property's client and account, or the answer refusing the request."""
    version = request.path_params["version"]
    if version not in CURRENT_VERSIONS:
        path = request.url.path
        return HTMLResponse(_NOT_FOUND_PAGE.format(path=path[path.find(f"/{version}/") :]), 404)
    if state.tokens.check("ga4", bearer(request)) is None:
        return _error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        )
    found = state.world.account("ga4", request.path_params["property_id"])
    return found if found is not None else _error(403, denied)


# -- runReport --------------------------------------------------------------------------------


async def _run_report(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    state.requests["ga4"] += 1
    quota = property_quota(request.app, request.path_params["property_id"])
    if failed := await state.faults.before("ga4"):
        quota.server_errors[_hour(state.now())] += 1
        return _error(failed, "The service is currently unavailable.")
    found = _access(request, state, _NO_PERMISSION)
    if isinstance(found, Response):
        return found
    client, account = found
    if state.throttle.take("ga4", account.account_id) is not None:
        return _error(429, _EXHAUSTED["concurrentRequests"])
    try:
        query = _Query.parse(await request.json())
    except ValueError as exc:  # _Invalid, or a body that is not JSON
        message = str(exc) if isinstance(exc, _Invalid) else "Invalid JSON payload received."
        return _error(400, message)
    quota.in_flight += 1
    try:
        page, total = await asyncio.to_thread(_answer_for, state.world, client, account, query)
    except _Invalid as exc:
        return _error(400, str(exc))
    finally:
        quota.in_flight -= 1
    cost = 5 + page.num_rows // 1000
    if exhausted := quota.exhausted(cost, state.now()):
        return _error(429, _EXHAUSTED[exhausted])
    quota.charge(cost, state.now())
    meta = {"currencyCode": account.currency, "timeZone": account.timezone}
    status = quota.status(cost, state.now()) if query.return_quota else None
    body = _render(page, total, query, meta, status)
    return Response(state.faults.truncate(body), media_type="application/json")


@dataclass(frozen=True)
class _Query:
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    first: date
    last: date
    where: dict[str, Any] | None
    limit: int
    offset: int
    return_quota: bool

    @classmethod
    def parse(cls, body: Any) -> _Query:
        """Validate a RunReportRequest as Google does (its messages) and read it."""
        if not isinstance(body, dict):
            raise _Invalid("Invalid JSON payload received. Expected an object.")
        for key in body:
            if key not in _BODY_KEYS and key not in _NOT_EMULATED:
                raise _Invalid(
                    f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.'
                )
            if key in _NOT_EMULATED and body[key]:
                raise _Invalid(f"{key} is not emulated by the sandbox")
        dimensions = _names(body.get("dimensions"), "dimension", EVENT_DIMENSIONS)
        if len(dimensions) > MAX_DIMENSIONS:
            raise _Invalid(
                f"Requests are limited to {MAX_DIMENSIONS} dimensions within a nested request. "
                f"This request is for {len(dimensions)} dimensions."
            )
        metrics = _names(body.get("metrics"), "metric", {**SESSION_METRICS, **EVENT_METRICS})
        if not metrics:
            raise _Invalid("The sandbox needs at least one metric in a report.")
        session = [m for m in metrics if m in SESSION_METRICS]
        event_only = [n for n in (*dimensions, *metrics) if n in _EVENT_ONLY]
        if session and event_only:
            raise _Invalid(
                f"Please remove {event_only[0]} to make the request compatible. The request's "
                f"dimensions & metrics are incompatible. To learn more, see {_EXPLORER}"
            )
        first, last = _date_range(body.get("dateRanges"))
        limit, offset = _int(body, "limit", DEFAULT_LIMIT), _int(body, "offset", 0)
        if limit < 0 or offset < 0:
            raise _Invalid("limit and offset must be non-negative.")
        return cls(
            dimensions,
            metrics,
            first,
            last,
            body.get("dimensionFilter"),
            min(limit or DEFAULT_LIMIT, MAX_LIMIT),
            offset,
            bool(body.get("returnPropertyQuota")),
        )


def _names(items: Any, kind: str, known) -> tuple[str, ...]:
    names = []
    for item in items or []:
        name = item.get("name") if isinstance(item, dict) else None
        if name not in known:
            raise _unknown(name, kind)
        names.append(name)
    return tuple(names)


def _unknown(name: Any, kind: str) -> _Invalid:
    hint = f"Did you mean {RENAMED[name]}? " if name in RENAMED else ""
    return _Invalid(
        f"{hint}Field {name} is not a valid {kind}. For a list of valid dimensions and metrics, "
        f"see {_SCHEMA_URL} "
    )


def _date_range(ranges: Any) -> tuple[date, date]:
    if not isinstance(ranges, list) or not ranges or not isinstance(ranges[0], dict):
        raise _Invalid("A dateRange is required unless a cohortSpec is given.")
    if len(ranges) > 1:
        raise _Invalid("Several date ranges are not emulated by the sandbox.")
    try:
        first, last = (date.fromisoformat(str(ranges[0].get(k))) for k in ("startDate", "endDate"))
    except ValueError:  # NdaysAgo, yesterday and today are real but not emulated
        raise _Invalid(f"Invalid date range {ranges[0]}: the sandbox reads YYYY-MM-DD.") from None
    if first > last:
        raise _Invalid(f"Invalid date range: startDate {first} is after endDate {last}.")
    return first, last


def _int(body: dict, key: str, default: int) -> int:
    try:
        return int(body.get(key, default))  # int64 fields may arrive as JSON strings
    except (TypeError, ValueError):
        raise _Invalid(f"Invalid value at '{key}', expected an integer.") from None


def _answer_for(world: World, client: ClientSpec, account: AccountSpec, query: _Query):
    """``_answer`` from the property's site, built first if no report has needed it yet."""
    return _answer(_site(world, client, account), query)


def _answer(site: _Site, query: _Query) -> tuple[pa.Table, int]:
    """The page of grouped rows the query asks for, and how many rows there are in all."""
    event_level = not set(query.metrics) & set(SESSION_METRICS)
    first, last = query.first, query.last
    facts = site.events(first, last) if event_level else _between(site.sessions, first, last)
    if query.where:
        facts = facts.filter(_mask(facts, query.where))
    grouped = facts.group_by(list(query.dimensions)).aggregate([(m, "sum") for m in query.metrics])
    grouped = grouped.rename_columns([c.removesuffix("_sum") for c in grouped.column_names])
    if query.dimensions:
        grouped = grouped.sort_by([(d, "ascending") for d in query.dimensions])
    return grouped.slice(query.offset, query.limit), grouped.num_rows


def _mask(facts: pa.Table, expression: Any) -> pa.ChunkedArray:
    """Rows a FilterExpression keeps."""
    if not isinstance(expression, dict) or len(expression) != 1:
        raise _Invalid(
            "A FilterExpression must set exactly one of andGroup, orGroup, notExpression, filter."
        )
    ((kind, value),) = expression.items()
    if kind in ("andGroup", "orGroup"):
        parts = [_mask(facts, e) for e in (value or {}).get("expressions", [])]
        both = pc.and_ if kind == "andGroup" else pc.or_
        return reduce(both, parts) if parts else pa.chunked_array([pa.repeat(True, facts.num_rows)])
    if kind == "notExpression":
        return pc.invert(_mask(facts, value))
    if kind == "filter" and isinstance(value, dict):
        return _field_mask(facts, value)
    raise _Invalid(f"Unknown FilterExpression kind {kind!r}.")


def _field_mask(facts: pa.Table, spec: dict[str, Any]) -> pa.ChunkedArray:
    name = spec.get("fieldName")
    if name not in EVENT_DIMENSIONS:
        raise _unknown(name, "dimension")
    if name not in facts.column_names:
        raise _Invalid(
            f"Please remove {name} to make the request compatible. To learn more, see {_EXPLORER}"
        )
    column = facts[name]
    if "inListFilter" in spec:
        listed = spec["inListFilter"] or {}
        values = [str(v) for v in listed.get("values", [])]
        if not listed.get("caseSensitive"):
            column, values = pc.utf8_lower(column), [v.lower() for v in values]
        return pc.is_in(column, value_set=pa.array(values, pa.string()))
    if "stringFilter" in spec:
        string = spec["stringFilter"] or {}
        value, fold = str(string.get("value", "")), not string.get("caseSensitive")
        match = string.get("matchType", "EXACT")
        if match == "EXACT":
            return (
                pc.equal(pc.utf8_lower(column), value.lower()) if fold else pc.equal(column, value)
            )
        if match not in _MATCHES:
            raise _Invalid(f"Invalid matchType {match!r}.")
        test, pattern = _MATCHES[match]
        return test(column, pattern(value), ignore_case=fold)
    raise _Invalid("The sandbox emulates stringFilter and inListFilter filters.")


def _render(page: pa.Table, total: int, query: _Query, meta: dict, quota: dict | None) -> bytes:
    """The RunReportResponse as JSON, its rows assembled column-wise (no loop over rows)."""
    metrics = {**SESSION_METRICS, **EVENT_METRICS}
    head = {
        "dimensionHeaders": [{"name": d} for d in query.dimensions],
        "metricHeaders": [{"name": m, "type": metrics[m]} for m in query.metrics],
    }
    parts = [json.dumps(head, ensure_ascii=False)[:-1]]
    if page.num_rows:
        dims = [_cells(page[d]) for d in query.dimensions]
        values = [_cells(page[m], metrics[m] == "TYPE_CURRENCY") for m in query.metrics]
        opening = ['{"dimensionValues":[', *_joined(dims), "],"] if dims else ["{"]
        rows = pc.binary_join_element_wise(*opening, '"metricValues":[', *_joined(values), "]}", "")
        rows = pa.concat_arrays(rows.chunks) if isinstance(rows, pa.ChunkedArray) else rows
        listed = pa.ListArray.from_arrays(pa.array([0, len(rows)], pa.int32()), rows)
        parts.append(',"rows":[' + pc.binary_join(listed, ",")[0].as_py() + "]")
    if total:  # proto3 JSON leaves out zeros and empty lists
        parts.append(f',"rowCount":{total}')
    parts.append(',"metadata":' + json.dumps(meta))
    if quota is not None:
        parts.append(',"propertyQuota":' + json.dumps(quota))
    parts.append(',"kind":"analyticsData#runReport"}')
    return "".join(parts).encode()


def _cells(column: pa.ChunkedArray, money: bool = False) -> pa.Array:
    """``{"value":"..."}`` for each value, rendering each distinct value once, vectorised."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    values = encoded.dictionary
    if money:
        text = pa.array([_money(v) for v in values.to_pylist()], pa.string())
    elif pa.types.is_integer(values.type):
        text = values.cast(pa.string())
    elif pc.any(pc.match_substring_regex(values, r"[\x00-\x1f]")).as_py():
        text = pa.array([json.dumps(v, ensure_ascii=False)[1:-1] for v in values.to_pylist()])
    else:  # JSON-escape backslashes and quotes; no control characters to worry about
        text = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    return pc.binary_join_element_wise('{"value":"', text, '"}', "").take(encoded.indices)


def _joined(cells: list[pa.Array]) -> list:
    out: list = []
    for index, array in enumerate(cells):
        out.extend([",", array] if index else [array])
    return out


def _money(micros: int) -> str:
    """Major units, exactly, as GA4 writes a currency metric ("84.23", "100")."""
    whole, fraction = divmod(int(micros), 1_000_000)
    return f"{whole}.{fraction:06d}".rstrip("0").rstrip(".")


# -- the site's facts, derived once per world and client ---------------------------------------


@dataclass
class _Site:
    """One property's sessions and events as GA4 columns, days in its time zone.

    ``timeline`` holds each event's time, session row, conversion row (key events only), name
    and page; ``events`` joins a range of it to the session's dimensions and the conversion's
    metrics (``orders``), so only the rows a report reads are ever built.
    """

    sessions: pa.Table  # local_date, SESSION_DIMENSIONS, sessions
    timeline: pa.Table  # local_date, date, dateHourMinute, session, conversion, eventName, ...
    orders: pa.Table  # per conversion: transactionId, keyEvents, totalRevenue, purchaseRevenue

    def events(self, first: date, last: date) -> pa.Table:
        """Every event of the range, funnel steps and key events: EVENT_DIMENSIONS, metrics."""
        timeline = _between(self.timeline, first, last)
        scope = self.sessions.select([CLIENT_ID, *_SESSION_SCOPE, *_VISITOR])
        scope = scope.take(timeline["session"])
        orders = self.orders.take(timeline["conversion"])  # null for a funnel step
        columns = {name: pc.fill_null(scope[name], "(not set)") for name in scope.column_names}
        columns |= {
            name: pc.fill_null(orders[name], "(not set)" if name == "transactionId" else 0)
            for name in orders.column_names
        }
        columns["eventCount"] = pa.repeat(1, timeline.num_rows).cast(pa.int64())
        dated = timeline.select(["local_date", "date", "dateHourMinute", "eventName", "pagePath"])
        return _with(dated, columns)


_SITES: weakref.WeakKeyDictionary[World, dict[str, _Site]] = weakref.WeakKeyDictionary()
_BUILDING = threading.Lock()  # reports run in threads: one builds a site, the others wait
#: GA4 session-scoped dimension -> the journeys column it comes from
_FROM_JOURNEYS = {CLIENT_ID: "user_id", "sessionSource": "source", "sessionMedium": "medium"}
_FROM_JOURNEYS |= {"sessionCampaignId": "campaign_id", "sessionCampaignName": "campaign_name"}
_FROM_JOURNEYS |= {"deviceCategory": "device_category", "country": "country"}
#: ``_Site.timeline`` column -> the ``site_events`` column it comes from
_FROM_EVENTS = {"session": "session", "conversion": "conversion"}
_FROM_EVENTS |= {"eventName": "event_name", "pagePath": "page_path"}


def _site(world: World, client: ClientSpec, account: AccountSpec) -> _Site:
    with _BUILDING:
        sites = _SITES.setdefault(world, {})
        if client.slug not in sites:
            sites[client.slug] = _build_site(world.journeys, client, account.timezone)
        return sites[client.slug]


def _build_site(journeys: Journeys, client: ClientSpec, zone: str) -> _Site:
    sessions = journeys.sessions.filter(pc.equal(journeys.sessions["client"], client.slug))
    won = journeys.conversions.filter(pc.equal(journeys.conversions["client"], client.slug))
    scope = {name: pc.fill_null(sessions[c], "(not set)") for name, c in _FROM_JOURNEYS.items()}
    facts = _with(_local(sessions["timestamp"], zone), scope | {"sessions": 1})
    events = site_events(sessions, won, client.profile, zone)
    timeline = _local(events["timestamp"], zone)
    for name, column in _FROM_EVENTS.items():
        timeline = timeline.append_column(name, events[column])
    return _Site(facts, timeline, _orders(won))


def _orders(conversions: pa.Table) -> pa.Table:
    """Each conversion's key-event metrics and, for a purchase, its order number."""
    bought = pc.equal(conversions["event_name"], "purchase").to_numpy(zero_copy_only=False)
    value = conversions["value_micros"].to_numpy()
    orders = [  # an order number, not the client id that conversion_id carries
        "T-" + sha256(cid.encode()).hexdigest()[:12].upper() if purchase else "(not set)"
        for cid, purchase in zip(conversions["conversion_id"].to_pylist(), bought, strict=True)
    ]
    return pa.table(
        {
            "transactionId": pa.array(orders, pa.string()),
            "keyEvents": pa.repeat(1, len(orders)).cast(pa.int64()),
            "totalRevenue": pa.array(value, pa.int64()),
            "purchaseRevenue": pa.array(np.where(bought, value, 0), pa.int64()),
        }
    )


def _with(table: pa.Table, columns: dict[str, Any]) -> pa.Table:
    """``table`` and ``columns`` (values or constants): metrics int64, dimensions strings."""
    for name, values in columns.items():
        kind = pa.int64() if name in EVENT_METRICS or name in SESSION_METRICS else pa.string()
        if np.isscalar(values):
            values = pa.repeat(values, table.num_rows)
        if not isinstance(values, pa.Array | pa.ChunkedArray):
            values = pa.array(values, kind, from_pandas=True)
        table = table.append_column(name, values.cast(kind))
    return table


def _local(stamps: pa.Array | pa.ChunkedArray, zone: str) -> pa.Table:
    """``local_date``, ``date`` and ``dateHourMinute`` of UTC instants in ``zone``."""
    local = pc.local_timestamp(stamps.cast(pa.timestamp("us", tz=zone)))
    # YYYYMMDD and YYYYMMDDHHMM by arithmetic: strftime formats value by value, far slower
    day = _joined_digits(_joined_digits(pc.year(local), pc.month(local)), pc.day(local))
    minute = _joined_digits(_joined_digits(day, pc.hour(local)), pc.minute(local))
    return pa.table(
        {
            "local_date": local.cast(pa.date32()),
            "date": day.cast(pa.string()),
            "dateHourMinute": minute.cast(pa.string()),
        }
    )


def _joined_digits(high: pa.ChunkedArray, low: pa.ChunkedArray) -> pa.ChunkedArray:
    """``high`` followed by the two digits of ``low`` (2026, 10 -> 202610)."""
    return pc.add(pc.multiply(high, 100), low)


def _between(table: pa.Table, first: date, last: date) -> pa.Table:
    day = table["local_date"]
    return table.filter(pc.and_(pc.greater_equal(day, first), pc.less_equal(day, last)))


# -- property quotas ---------------------------------------------------------------------------


@dataclass
class PropertyQuota:
    """One property's quota use on the sandbox clock (hourly buckets; days in Pacific time)."""

    used: Counter = field(default_factory=Counter)  # (quota, bucket) -> tokens
    server_errors: Counter = field(default_factory=Counter)  # hour -> 5xx answers
    in_flight: int = 0

    def remaining(self, name: str, now: datetime) -> int:
        return QUOTA_LIMITS[name] - self.used[(name, _bucket(name, now))]

    def exhausted(self, cost: int, now: datetime) -> str | None:
        """The first token quota that cannot pay ``cost``, or None."""
        return next((n for n in TOKEN_QUOTAS if self.remaining(n, now) < cost), None)

    def charge(self, cost: int, now: datetime) -> None:
        for name in TOKEN_QUOTAS:
            self.used[(name, _bucket(name, now))] += cost

    def status(self, cost: int, now: datetime) -> dict[str, dict[str, int]]:
        """``propertyQuota``: what this request consumed and what remains after it."""
        left = {n: self.remaining(n, now) for n in TOKEN_QUOTAS}
        left["concurrentRequests"] = QUOTA_LIMITS["concurrentRequests"] - self.in_flight
        errors = self.server_errors[_hour(now)]  # counted, not enforced
        left["serverErrorsPerProjectPerHour"] = (
            QUOTA_LIMITS["serverErrorsPerProjectPerHour"] - errors
        )
        return {
            name: {
                "consumed": cost * (name in TOKEN_QUOTAS),
                "remaining": max(left.get(name, limit), 0),
            }
            for name, limit in QUOTA_LIMITS.items()
        }


_QUOTAS: weakref.WeakKeyDictionary[Any, dict[str, PropertyQuota]] = weakref.WeakKeyDictionary()


def property_quota(app: Any, property_id: str) -> PropertyQuota:
    """The quota state of a property in one sandbox app (tests drain it to see limits)."""
    return _QUOTAS.setdefault(app, {}).setdefault(property_id, PropertyQuota())


def _hour(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _bucket(name: str, now: datetime) -> str:
    if name == "tokensPerDay":  # daily quotas refresh at midnight Pacific time
        return now.astimezone(ZoneInfo("America/Los_Angeles")).date().isoformat()
    return _hour(now)


# -- errors ------------------------------------------------------------------------------------

_NO_PERMISSION = (
    "User does not have sufficient permissions for this property. To learn more about "
    "Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/"
    "property-id."
)
_NOT_FOUND_PAGE = (
    "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
    "  <title>Error 404 (Not Found)!!1</title>\n"
    "  <p><b>404.</b> <ins>That\u2019s an error.</ins>\n"
    "  <p>The requested URL <code>{path}</code> was not found on this server.  "
    "<ins>That\u2019s all we know.</ins>\n"
)


def _error(status: int, message: str) -> JSONResponse:
    error = {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}
    return JSONResponse({"error": error}, status_code=status)
