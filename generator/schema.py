"""Canonical Arrow schemas: the contract between connectors and everything downstream.

Money is exact: ``int64`` micros of the account currency plus an ISO-4217 ``currency`` column.
A ``date`` is the platform's reporting day in the account's time zone (``account_timezone``);
instants are UTC timestamps. IDs are strings. Every row carries ``fetched_at`` and
``api_version``. Each schema carries its table name and version in its metadata; changing a
column means a new version and a migration, never an edit in place.

``validate(table, schema)`` is the gate every table passes before it is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from generator.errors import SchemaError

__all__ = [
    "ACTIONS",
    "ACTION_TYPES",
    "AD_PERFORMANCE",
    "CARD",
    "CONVERSIONS",
    "CREATIVES",
    "PLATFORMS",
    "SITE_EVENTS",
    "SITE_FUNNEL",
    "SOURCES",
    "TABLES",
    "TOUCHPOINTS",
    "UNKNOWN_ID",
    "empty",
    "from_columns",
    "from_rows",
    "table_name",
    "validate",
]

#: The id of a campaign or ad group that no platform listing and no report row names (its ad
#: is gone, and with it the link to its parents): its rows still count, under this id.
UNKNOWN_ID = "unknown"

#: Networks as a marketer names them (the ``platform`` column).
PLATFORMS = (
    "google_ads",
    "facebook",
    "instagram",
    "linkedin",
    "x",
    "tiktok",
    "microsoft_ads",
    "pinterest",
    "snapchat",
    "amazon_ads",
    "reddit",
)

#: Connectors as configured in client.yml (the ``source`` column); ``meta`` delivers both
#: facebook and instagram rows, ``ga4`` site analytics, ``file`` CSV/XLSX exports.
SOURCES = (
    "google_ads",
    "meta",
    "linkedin",
    "x",
    "tiktok",
    "microsoft_ads",
    "pinterest",
    "snapchat",
    "amazon_ads",
    "reddit",
    "ga4",
    "file",
)

#: Canonical action types (the ``actions.action_type`` column); platforms' own names map here.
ACTION_TYPES = (
    "purchase",
    "lead",
    "signup",
    "add_to_cart",
    "begin_checkout",
    "view_content",
    "contact",
    "subscribe",
    "app_install",
    "page_view",
    "other",
)

_UTC = pa.timestamp("us", tz="UTC")


def _field(name: str, type_: pa.DataType, *, required: bool = True, counts: bool = False):
    """A schema field; ``counts`` marks quantities that can never be negative."""
    meta = {b"nonnegative": b"1"} if counts else None
    return pa.field(name, type_, nullable=not required, metadata=meta)


def _schema(name: str, version: int, fields: list[pa.Field]) -> pa.Schema:
    return pa.schema(fields, metadata={b"table": name.encode(), b"version": str(version).encode()})


def _lineage() -> list[pa.Field]:
    return [_field("fetched_at", _UTC), _field("api_version", pa.string())]


def _entity(*, ad_required: bool = True) -> list[pa.Field]:
    return [
        _field("platform", pa.string()),
        _field("source", pa.string()),
        _field("account_id", pa.string()),
        _field("account_timezone", pa.string()),
        _field("currency", pa.string()),
        _field("campaign_id", pa.string()),
        _field("ad_group_id", pa.string(), required=False),
        _field("ad_id", pa.string(), required=ad_required),
    ]


AD_PERFORMANCE = _schema(
    "ad_performance",
    1,
    [
        _field("date", pa.date32()),
        *_entity(),
        _field("account_name", pa.string(), required=False),
        _field("campaign_name", pa.string(), required=False),
        _field("ad_group_name", pa.string(), required=False),
        _field("ad_name", pa.string(), required=False),
        _field("creative_id", pa.string(), required=False),
        _field("impressions", pa.int64(), counts=True),
        _field("clicks", pa.int64(), counts=True),
        _field("spend_micros", pa.int64(), counts=True),
        _field("conversions", pa.float64(), counts=True),
        _field("value_micros", pa.int64(), counts=True),
        _field("video_views", pa.int64(), required=False, counts=True),
        *_lineage(),
    ],
)

ACTIONS = _schema(
    "actions",
    1,
    [
        _field("date", pa.date32()),
        *_entity(),
        _field("action_type", pa.string()),
        _field("attribution_window", pa.string()),
        _field("count", pa.float64(), counts=True),
        _field("value_micros", pa.int64(), counts=True),
        *_lineage(),
    ],
)

#: a carousel's card, in the order the platform shows them
CARD = pa.struct(
    [
        pa.field("headline", pa.string()),
        pa.field("body", pa.string()),
        pa.field("landing_url", pa.string()),
        pa.field("asset_url", pa.string()),
        pa.field("asset_sha256", pa.string()),
    ]
)

#: Version 2 added (all optional, so version-1 files read with them null): ``display_url`` (the
#: URL a search ad shows), ``duration_ms`` (a video's length; ``asset_url`` is its poster
#: frame), ``cards`` (a carousel's cards), ``language`` (where the platform gives it),
#: ``phash`` (perceptual hash of the image, 16 hex digits), ``colours`` (its dominant colours,
#: "#rrggbb", most common first), ``asset_bytes`` (the stored image's size) and ``last_seen``
#: (the latest sync that saw this version; ``first_seen`` the first).
CREATIVES = _schema(
    "creatives",
    2,
    [
        _field("platform", pa.string()),
        _field("source", pa.string()),
        _field("account_id", pa.string()),
        _field("creative_id", pa.string()),
        _field("version", pa.string()),
        _field("ad_id", pa.string(), required=False),
        _field("name", pa.string(), required=False),
        _field("format", pa.string()),
        _field("headline", pa.string(), required=False),
        _field("body", pa.string(), required=False),
        _field("call_to_action", pa.string(), required=False),
        _field("landing_url", pa.string(), required=False),
        _field("asset_url", pa.string(), required=False),
        _field("asset_sha256", pa.string(), required=False),
        _field("width", pa.int32(), required=False, counts=True),
        _field("height", pa.int32(), required=False, counts=True),
        _field("first_seen", pa.date32()),
        _field("display_url", pa.string(), required=False),
        _field("duration_ms", pa.int64(), required=False, counts=True),
        _field("cards", pa.list_(CARD), required=False),
        _field("language", pa.string(), required=False),
        _field("phash", pa.string(), required=False),
        _field("colours", pa.list_(pa.string()), required=False),
        _field("asset_bytes", pa.int64(), required=False, counts=True),
        _field("last_seen", pa.date32(), required=False),
        *_lineage(),
    ],
)

TOUCHPOINTS = _schema(
    "touchpoints",
    1,
    [
        _field("timestamp", _UTC),
        _field("user_id", pa.string()),
        _field("channel", pa.string()),
        _field("interaction", pa.string()),
        _field("platform", pa.string(), required=False),
        _field("campaign_id", pa.string(), required=False),
        _field("ad_id", pa.string(), required=False),
        _field("source", pa.string()),
        *_lineage(),
    ],
)

CONVERSIONS = _schema(
    "conversions",
    1,
    [
        _field("timestamp", _UTC),
        _field("user_id", pa.string()),
        _field("conversion_id", pa.string()),
        _field("action_type", pa.string()),
        _field("value_micros", pa.int64(), counts=True),
        _field("currency", pa.string()),
        _field("source", pa.string()),
        *_lineage(),
    ],
)

SITE_FUNNEL = _schema(
    "site_funnel",
    1,
    [
        _field("date", pa.date32()),
        _field("property_id", pa.string()),
        _field("account_timezone", pa.string()),
        _field("currency", pa.string()),
        _field("session_source", pa.string()),
        _field("session_medium", pa.string()),
        _field("session_campaign", pa.string()),
        _field("event_name", pa.string()),
        _field("event_count", pa.int64(), counts=True),
        _field("key_events", pa.float64(), counts=True),
        _field("revenue_micros", pa.int64(), counts=True),
        _field("source", pa.string()),
        *_lineage(),
    ],
)

#: One row per (UTC minute, user, event, session source/medium/campaign, device, country,
#: page): analytics events for ordered funnels. Users are hashed as in ``touchpoints`` (the two
#: join on ``user_id``); ``event_count`` counts identical events within the minute.
SITE_EVENTS = _schema(
    "site_events",
    1,
    [
        _field("timestamp", _UTC),
        _field("user_id", pa.string()),
        _field("event_name", pa.string()),
        _field("session_source", pa.string()),
        _field("session_medium", pa.string()),
        _field("session_campaign", pa.string()),
        _field("channel", pa.string()),
        _field("device_category", pa.string()),
        _field("country", pa.string()),
        _field("page_path", pa.string()),
        _field("event_count", pa.int64(), counts=True),
        _field("property_id", pa.string()),
        _field("source", pa.string()),
        *_lineage(),
    ],
)

TABLES: Mapping[str, pa.Schema] = {
    table_schema.metadata[b"table"].decode(): table_schema
    for table_schema in (
        AD_PERFORMANCE,
        ACTIONS,
        CREATIVES,
        TOUCHPOINTS,
        CONVERSIONS,
        SITE_EVENTS,
        SITE_FUNNEL,
    )
}


def table_name(schema: pa.Schema) -> str:
    """The canonical table name stored in ``schema``'s metadata."""
    return (schema.metadata or {}).get(b"table", b"table").decode()


def empty(schema: pa.Schema) -> pa.Table:
    """An empty table with exactly ``schema``."""
    return schema.empty_table()


def from_rows(rows: list[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Build and validate a table from row dicts; absent optional keys become null."""
    columns = {f.name: [row.get(f.name) for row in rows] for f in schema}
    return from_columns(columns, schema, len(rows))


def from_columns(
    columns: Mapping[str, list[Any]],
    schema: pa.Schema,
    num_rows: int,
    constants: Mapping[str, Any] | None = None,
) -> pa.Table:
    """Build and validate a table from value lists (each ``num_rows`` long) and ``constants``
    (one value for every row); a column in neither becomes null."""
    constants = constants or {}
    arrays = {}
    try:
        for f in schema:
            if f.name in columns:
                arrays[f.name] = pa.array(columns[f.name], type=f.type)
            elif f.name in constants:
                arrays[f.name] = pa.array([constants[f.name]] * num_rows, type=f.type)
            else:
                arrays[f.name] = pa.nulls(num_rows, type=f.type)
        table = pa.table(arrays)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise SchemaError(f"rows do not fit the schema: {exc}", table=table_name(schema)) from exc
    return validate(table, schema)


def validate(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Check ``table`` against a canonical ``schema`` and return it in canonical form.

    Columns are reordered to the schema, lossless widenings (int32 -> int64, large_string ->
    string, all-null columns) are applied, and absent optional columns are added as nulls.

    Raises:
        SchemaError: naming table, column and first bad row, for an unknown or missing required
            column, a wrong type, a null in a required column, a NaN, or a negative count.
    """
    name = table_name(schema)
    extra = [c for c in table.column_names if schema.get_field_index(c) < 0]
    if extra:
        raise SchemaError(f"unexpected column (not in {name} schema)", table=name, column=extra[0])
    columns = []
    for field in schema:
        if field.name not in table.column_names:
            if not field.nullable:
                raise SchemaError("missing required column", table=name, column=field.name)
            columns.append(pa.nulls(table.num_rows, type=field.type))
            continue
        column = _conform(table.column(field.name), field, name)
        _check_values(column, field, name)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def _conform(column: pa.ChunkedArray, field: pa.Field, table: str) -> pa.ChunkedArray:
    have, want = column.type, field.type
    if have == want:
        return column
    if not _compatible(have, want):
        raise SchemaError(f"has type {have}, expected {want}", table=table, column=field.name)
    try:
        return column.cast(want, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SchemaError(
            f"cannot convert {have} to {want}: {exc}", table=table, column=field.name
        ) from exc


def _compatible(have: pa.DataType, want: pa.DataType) -> bool:
    """True for lossless widenings of the same kind; never for string <-> number."""
    t = pa.types
    if t.is_null(have):
        return True
    if t.is_dictionary(have):
        return _compatible(have.value_type, want)
    if t.is_string(want):
        return t.is_large_string(have) or t.is_string_view(have)
    if t.is_integer(want):
        return t.is_integer(have)
    if t.is_floating(want):
        return t.is_integer(have) or t.is_floating(have)
    if t.is_timestamp(want):
        return t.is_timestamp(have) and have.tz in ("UTC", "+00:00", "Etc/UTC")
    if t.is_date(want):
        return t.is_date(have)
    return False


def _check_values(column: pa.ChunkedArray, field: pa.Field, table: str) -> None:
    if not field.nullable and column.null_count:
        raise SchemaError(
            "null in a required column",
            table=table,
            column=field.name,
            row=_first(column.is_null()),
        )
    if pa.types.is_floating(field.type):
        nan = pc.is_nan(column)
        if pc.any(nan).as_py():
            raise SchemaError(
                "NaN is not a number", table=table, column=field.name, row=_first(nan)
            )
    if field.metadata and field.metadata.get(b"nonnegative"):
        negative = pc.less(column, 0)
        if pc.any(negative).as_py():
            raise SchemaError(
                "negative count", table=table, column=field.name, row=_first(negative)
            )


def _first(mask: pa.ChunkedArray | pa.Array) -> int:
    """Index of the first true value of a boolean mask (nulls count as false)."""
    return pc.index(pc.fill_null(mask, False), True).as_py()
