"""Declarative field maps: platform records in, canonical Arrow tables out.

A connector declares ``{canonical column: Col(path, unit)}``; ``normalize`` walks each record,
converts units once (micros, major-unit strings or numbers, counts sent as strings, dates in
several spellings) and validates the result against the canonical schema. Absent values,
empty strings and ``"-"`` take the column's ``default`` (proto3 omits zeros, TikTok sends
``"-"``); a missing required field is an error naming platform, API version and field.
Unknown fields in the records are ignored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from generator.errors import ResponseInvalid
from generator.schema import from_columns

__all__ = ["Col", "asset_key", "content_version", "major_to_micros", "normalize", "utc_now"]

_MISSING = (None, "", "-", "--")


@dataclass(frozen=True)
class Col:
    """Where a canonical column comes from.

    Attributes:
        path: dotted path into a record (``metrics.costMicros``); list indices as digits.
        unit: text | id | date | count | number | micros | major.
        required: a missing value is an error (identity fields).
        default: the value when the platform omits it (0 for metrics).
    """

    path: str
    unit: str = "text"
    required: bool = False
    default: Any = None


def major_to_micros(value: Any) -> int:
    """Exact micros from a major-unit amount given as a string or a number ("5339.5")."""
    amount = Decimal(value if isinstance(value, str) else repr(value))
    return int((amount * 1_000_000).to_integral_value(rounding=ROUND_HALF_EVEN))


def _to_date(value: Any) -> date:
    text = str(value)
    if len(text) == 8 and text.isdigit():  # GA4's 20260115
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return date.fromisoformat(text[:10])


def _count(value: Any) -> int:
    if type(value) is int:  # the common cases first: JSON integers and digit strings
        return value
    if type(value) is str and value.isdigit():
        return int(value)
    number = Decimal(str(value))
    if number != number.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _text(value: Any) -> str:
    return value if type(value) is str else str(value)


_UNITS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "id": lambda v: str(int(v)) if isinstance(v, int) else str(v),
    "date": _to_date,
    "count": _count,
    "number": lambda v: float(Decimal(str(v))),
    "micros": _count,
    "major": major_to_micros,
}


def normalize(
    records: Iterable[Mapping[str, Any]],
    field_map: Mapping[str, Col],
    schema: pa.Schema,
    *,
    constants: Mapping[str, Any],
    platform: str,
    api_version: str,
) -> pa.Table:
    """Map platform ``records`` to a validated canonical table.

    ``constants`` fills columns that are the same on every row (source, fetched_at,
    api_version, ...); a column in both takes the record's value when present.

    Raises:
        ResponseInvalid: a required field is missing or a value cannot be converted.
        SchemaError: the mapped rows break the canonical schema (e.g. a negative count).
    """
    records = records if isinstance(records, list) else list(records)
    columns = {}
    for column, col in field_map.items():  # column by column: one tight loop each
        if col.default is None and column in constants:
            fallback, required = constants[column], False
        else:
            fallback, required = col.default, col.required and column not in constants
        values = _pluck(records, col.path.split("."))
        try:
            columns[column] = _convert(values, _UNITS[col.unit], fallback, required)
        except _Unreadable as bad:
            if bad.raw is None:
                message = (
                    f"required field {col.path!r} missing from record {bad.index} of the "
                    f"{api_version} response"
                )
            else:
                message = (
                    f"field {col.path!r} has value {str(bad.raw)[:40]!r} that is not a "
                    f"{col.unit} (record {bad.index}, {api_version})"
                )
            raise ResponseInvalid(message, platform=platform) from None
    return from_columns(columns, schema, len(records), constants)


class _Unreadable(Exception):
    """A value of record ``index`` that is required but missing (``raw`` None) or unreadable."""

    def __init__(self, index: int, raw: Any) -> None:
        self.index, self.raw = index, raw


def _convert(values: list[Any], convert: Callable, fallback: Any, required: bool) -> list:
    """``values`` converted; a missing one becomes ``fallback`` unless ``required``."""
    out: list[Any] = []
    append = out.append
    for index, raw in enumerate(values):
        if raw is None or (type(raw) is str and raw in _MISSING):
            if required:
                raise _Unreadable(index, None)
            append(fallback)
            continue
        try:
            append(convert(raw))
        except (ValueError, TypeError, InvalidOperation, ArithmeticError):
            raise _Unreadable(index, raw) from None
    return out


def _pluck(records: list[Any], parts: list[str]) -> list[Any]:
    """The value at ``parts`` of every record (None where absent)."""
    if len(parts) == 1:
        key = parts[0]
        return [r.get(key) if type(r) is dict else _dig(r, parts) for r in records]
    return [_dig(r, parts) for r in records]


def _dig(record: Any, parts: list[str]) -> Any:
    for part in parts:
        if type(record) is dict or isinstance(record, Mapping):
            record = record.get(part)
        elif isinstance(record, list) and part.isdigit() and int(part) < len(record):
            record = record[int(part)]
        else:
            return None
    return record


def utc_now() -> datetime:
    """The ``fetched_at`` stamp for rows fetched now."""
    return datetime.now(UTC)


def content_version(*parts: Any) -> str:
    """A creative's version: a short hash of what the reader sees (copy, image, landing page),
    so an edited ad gets a new version and an unchanged one keeps its own."""
    content = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def asset_key(url: str | None) -> str | None:
    """What of an asset's URL names the asset, for ``content_version``: an http(s) URL's path,
    without scheme, host, port, query or fragment; anything else (a URN, an id) unchanged.

    The same image comes back from another CDN host, another port or with a freshly signed
    query on every fetch; hashing those would give an unchanged creative a new version on
    every sync. Where a platform sends its own id or hash of the image, version that instead.
    """
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed URL (a broken IPv6 host): nothing to take apart
        return url
    return parts.path if parts.scheme.lower() in ("http", "https") else url
