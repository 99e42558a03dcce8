"""Journeys: the one representation every attribution model reads.

Both input forms (distinct paths with counts, or user-level touchpoint and conversion events)
become flat arrays: the touches of all journeys one after another (``codes`` of players, a
player being a channel or a channel x campaign pair), ``starts`` offsets into them, and per
journey its conversions, value and non-converting count. Models then work with numpy only.

Journeys from events follow the conventions: a conversion's journey is the user's touches in
the ``lookback_days`` before it (inclusive) and after the user's previous conversion; a touch
at the very instant of a conversion belongs to it. The touches after a user's last conversion
(all touches, for a user who never converts) form one non-converting journey. Touches older
than the lookback of the conversion that follows them belong to no journey. A conversion with
no touch in its window cannot be attributed by any model; its count and value are reported
separately (``unattributed_*``) so that every total still adds up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.errors import ReportError

__all__ = ["DENSE_KEYS", "NO_CAMPAIGN", "Journeys", "from_events", "from_paths", "unique_ints"]

#: Campaign label of touches that carry no campaign id (campaign grain).
NO_CAMPAIGN = "(none)"
_NS_PER_DAY = 86_400 * 10**9
#: Key spaces up to this size are de-duplicated with a bitmap (one byte per possible key).
DENSE_KEYS = 1 << 27


@dataclass(frozen=True)
class Journeys:
    """Flat journeys. A player code names a channel (and a campaign at the campaign grain).

    ``cached_property`` values are derived arrays (they write to the instance ``__dict__``,
    which a frozen dataclass allows).
    """

    channels: np.ndarray  # player code -> channel name
    codes: np.ndarray  # per touch: player code
    starts: np.ndarray  # journey j's touches are codes[starts[j]:starts[j + 1]]
    conversions: np.ndarray  # per journey
    value: np.ndarray  # per journey, major units
    nulls: np.ndarray  # per journey: journeys on this path that did not convert
    campaigns: np.ndarray | None = None  # player code -> campaign id (campaign grain)
    age_days: np.ndarray | None = None  # per touch: days from the touch to its conversion
    interaction: np.ndarray | None = None  # per touch: the touchpoint's interaction
    unattributed_conversions: float = 0.0
    unattributed_value: float = 0.0

    @property
    def n_players(self) -> int:
        return len(self.channels)

    @cached_property
    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    @cached_property
    def journey(self) -> np.ndarray:
        """Per touch: the index of its journey."""
        return np.repeat(np.arange(len(self.lengths)), self.lengths)

    @cached_property
    def position(self) -> np.ndarray:
        """Per touch: its 0-based position in its journey."""
        return np.arange(len(self.codes)) - self.starts[:-1][self.journey]

    @property
    def first(self) -> np.ndarray:
        """Touch index of each journey's first touch."""
        return self.starts[:-1]

    @property
    def last(self) -> np.ndarray:
        """Touch index of each journey's last touch."""
        return self.starts[1:] - 1


def from_paths(paths: pd.DataFrame) -> Journeys:
    """Journeys from the paths form (``path``, ``conversions``, optional ``value``, ``nulls``).

    Raises:
        ReportError: for a missing column, a path that is not text or has an empty channel
            name, a count or value that is negative or not a finite number, or value on a
            path without conversions.
    """
    _require(paths, ("path", "conversions"), "paths")
    conversions = _amounts(paths, "conversions", "paths")
    value = _amounts(paths, "value", "paths")
    nulls = _amounts(paths, "nulls", "paths")
    orphan = (value > 0) & (conversions == 0)
    if orphan.any():  # value comes from conversions: with none there is nothing to credit it to
        row = int(np.argmax(orphan))
        raise ReportError(
            f"paths: path {paths['path'].iloc[row]!r} (row {row}) has value {value[row]:g} "
            "but no conversions; a path's value is its conversions' value"
        )
    lists = pc.split_pattern(_path_text(paths["path"]), ">")
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    encoded = pc.list_flatten(lists).dictionary_encode()
    raw = encoded.indices.to_numpy(zero_copy_only=False)
    # trimming and checking the few distinct names is far cheaper than every touch
    channels, remap, blank = _clean_names(encoded.dictionary.to_pylist())
    if blank.any():
        row = int(np.repeat(np.arange(len(lengths)), lengths)[np.argmax(blank[raw])])
        raise ReportError(
            f"paths: path {paths['path'].iloc[row]!r} (row {row}) has an empty channel name; "
            "channels are separated by '>' and none may be blank"
        )
    codes = remap[raw]
    starts = np.concatenate([[0], np.cumsum(lengths)])
    return Journeys(channels, codes, starts, conversions, value, nulls)


def from_events(
    touchpoints: pd.DataFrame,
    conversions: pd.DataFrame,
    *,
    lookback_days: float = 30,
    grain: str = "channel",
) -> Journeys:
    """Journeys from touchpoint and conversion events (see the module docstring).

    ``conversions`` carry ``value`` in major units, or ``value_micros``; with neither, every
    conversion is worth 0. ``grain="campaign"`` makes each channel x campaign pair a player.

    Raises:
        ReportError: for a missing column, a missing user, time or channel, an empty channel
            name, a negative or non-finite value, mixed currencies, or a bad lookback or grain.
    """
    _require(touchpoints, ("user_id", "timestamp", "channel"), "touchpoints")
    _require(conversions, ("user_id", "timestamp"), "conversions")
    if grain not in ("channel", "campaign"):
        raise ReportError(f"grain must be 'channel' or 'campaign', not {grain!r}")
    if grain == "campaign":
        _require(touchpoints, ("campaign_id",), "touchpoints")
    if not (isinstance(lookback_days, int | float) and lookback_days > 0):
        raise ReportError(f"lookback_days must be a positive number of days, not {lookback_days!r}")
    value = _conversion_value(conversions)
    n_t = len(touchpoints)
    users = _codes(
        pd.concat([touchpoints["user_id"], conversions["user_id"]], ignore_index=True), "user_id"
    )
    times = np.concatenate(
        [
            _instants(touchpoints["timestamp"], "touchpoints"),
            _instants(conversions["timestamp"], "conversions"),
        ]
    )
    touch, key = _assign(users, times, n_t, round(lookback_days * _NS_PER_DAY))
    channels, campaigns, codes = _players(touchpoints, touch, grain)
    return _assemble(touch, key, codes, times, value, channels, campaigns, touchpoints, n_t)


def _assign(
    users: np.ndarray, times: np.ndarray, n_t: int, lookback: int
) -> tuple[np.ndarray, np.ndarray]:
    """Kept touch indices (journey order) and each one's journey key.

    Key ``c`` (< number of conversions) is conversion c's journey; ``n_c + user`` is that
    user's non-converting journey.
    """
    n_c = len(times) - n_t
    is_conversion = np.arange(len(times)) >= n_t
    order = _order(users, times, is_conversion)
    is_conv = is_conversion[order]
    position = np.arange(len(order))
    nxt = np.where(is_conv, position, len(order))
    nxt = np.minimum.accumulate(nxt[::-1])[::-1]  # each event's next conversion in the order
    touch_at = np.flatnonzero(~is_conv)
    nxt = nxt[touch_at]
    has_next = nxt < len(order)
    nxt = order[np.where(has_next, nxt, 0)]
    touch = order[touch_at]
    same_user = has_next & (users[nxt] == users[touch])
    converting = same_user & (times[nxt] - times[touch] <= lookback)
    keep = converting | ~same_user
    key = np.where(converting, nxt - n_t, n_c + users[touch])
    return touch[keep], key[keep]


def _order(users: np.ndarray, times: np.ndarray, is_conversion: np.ndarray) -> np.ndarray:
    """Events ordered by user, time, touches before conversions of the same instant, index.

    DuckDB's parallel sort does this several times faster than ``np.lexsort``.
    """
    table = pa.table(
        {
            "u": users,
            "t": times,
            "c": is_conversion,
            "i": np.arange(len(users), dtype=np.int64),
        }
    )
    with duckdb.connect() as con:
        con.register("events", table)
        return con.sql("SELECT i FROM events ORDER BY u, t, c, i").fetchnumpy()["i"]


def _players(
    touchpoints: pd.DataFrame, touch: np.ndarray, grain: str
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Player names and per-touch codes, in name order (channel, then campaign; touches
    without a campaign id come last in their channel, as ``NO_CAMPAIGN``)."""
    channels, codes = _channel_codes(touchpoints["channel"])
    codes = codes[touch]
    if grain == "channel":
        return channels, None, codes
    campaign_codes, names = pd.factorize(touchpoints["campaign_id"], sort=True)
    names = np.append(np.asarray(names, dtype=object).astype(str), NO_CAMPAIGN)
    campaign_codes = np.where(campaign_codes < 0, len(names) - 1, campaign_codes)[touch]
    pair = codes.astype(np.int64) * len(names) + campaign_codes
    unique = unique_ints(pair, len(channels) * len(names))
    return (
        channels[unique // len(names)],
        names[unique % len(names)],
        np.searchsorted(unique, pair).astype(np.int32),
    )


def unique_ints(keys: np.ndarray, size: int) -> np.ndarray:
    """Sorted distinct values of non-negative integer ``keys`` below ``size``.

    A bitmap when ``size`` is moderate (linear time), else ``np.unique`` (a sort).
    """
    if size <= DENSE_KEYS:
        seen = np.zeros(size, bool)
        seen[keys] = True
        return np.flatnonzero(seen)
    return np.unique(keys)


def _channel_codes(channel: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sorted channel names (surrounding spaces ignored) and per-touch codes."""
    raw_codes, raw_names = pd.factorize(channel, use_na_sentinel=True)
    if (raw_codes < 0).any():
        raise ReportError("touchpoints: a touch has no channel; every touch needs one")
    names, remap, blank = _clean_names(list(raw_names))
    if blank.any():
        raise ReportError("touchpoints: a touch has an empty channel name")
    return names, remap[raw_codes]


def _assemble(touch, key, codes, times, value, channels, campaigns, touchpoints, n_t) -> Journeys:
    n_c = len(value)
    breaks = np.flatnonzero(np.diff(key)) + 1
    ends = [len(key)] if len(key) else []  # no touch kept: no journey at all
    starts = np.concatenate([[0], breaks, ends]).astype(np.int64)
    first_key = key[starts[:-1]]
    converting = first_key < n_c
    # index n_c is a dummy conversion (time 0, value 0) for the non-converting journeys
    conv_index = np.where(converting, first_key, n_c)
    attributed = np.zeros(n_c, bool)
    attributed[first_key[converting]] = True
    conv_time = np.append(times[n_t:], 0)[conv_index]
    journey = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    age = (conv_time[journey] - times[touch]) / _NS_PER_DAY
    interaction = (
        touchpoints["interaction"].to_numpy(dtype=object)[touch]
        if "interaction" in touchpoints.columns
        else None
    )
    return Journeys(
        channels=channels,
        codes=codes,
        starts=starts,
        conversions=converting.astype(np.float64),
        value=np.append(value, 0.0)[conv_index],
        nulls=(~converting).astype(np.float64),
        campaigns=campaigns,
        age_days=np.where(converting[journey], age, 0.0),
        interaction=interaction,
        unattributed_conversions=float((~attributed).sum()),
        unattributed_value=float(value[~attributed].sum()),
    )


# -- input checks and conversions ----------------------------------------------------------


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ReportError(f"{name} must be a pandas DataFrame, not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReportError(
            f"{name} lacks column(s) {', '.join(map(repr, missing))}; it needs {', '.join(columns)}"
        )


def _amounts(frame: pd.DataFrame, column: str, name: str, scale: float = 1.0) -> np.ndarray:
    """A non-negative finite float column (zeros when absent)."""
    if column not in frame.columns:
        return np.zeros(len(frame))
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = int(np.argmax(bad))
        raise ReportError(
            f"{name}: {column} must be a non-negative number; row {row} has "
            f"{_shown(frame[column].iloc[row])}"
        )
    return values / scale


def _shown(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _conversion_value(conversions: pd.DataFrame) -> np.ndarray:
    if "currency" in conversions.columns and conversions["currency"].nunique() > 1:
        found = ", ".join(sorted(map(str, conversions["currency"].dropna().unique())))
        raise ReportError(
            f"conversions mix currencies ({found}); convert them to the reporting currency first"
        )
    if "value" in conversions.columns:
        return _amounts(conversions, "value", "conversions")
    return _amounts(conversions, "value_micros", "conversions", scale=1_000_000)


def _codes(values: pd.Series, column: str) -> np.ndarray:
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    if (codes < 0).any():
        raise ReportError(f"a touchpoint or conversion has no {column}; every row needs one")
    return codes.astype(np.int64)


def _instants(values: pd.Series, name: str) -> np.ndarray:
    """UTC instants as int64 nanoseconds (naive times are taken as UTC)."""
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(values, utc=True, format="ISO8601")).as_unit("ns")
    except (ValueError, TypeError):
        raise ReportError(f"{name}: 'timestamp' must hold dates and times") from None
    if stamps.isna().any():
        row = int(np.argmax(stamps.isna()))
        raise ReportError(f"{name}: row {row} has no timestamp")
    return stamps.asi8


def _path_text(column: pd.Series) -> pa.Array:
    """The path column as Arrow text (zero-copy for pandas' Arrow-backed strings)."""
    if len(column) == 0:  # an empty column has no text type to check
        return pa.array([], type=pa.string())
    if column.isna().any():
        row = int(np.argmax(column.isna().to_numpy()))
        raise ReportError(f"paths: row {row} has no path; every row needs 'a > b > c'")
    try:
        text = pa.array(column, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        text = None
    if isinstance(text, pa.ChunkedArray):  # Arrow-backed columns read from Parquet
        text = text.combine_chunks()
    if text is None or not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        raise ReportError("paths: the 'path' column must hold text like 'a > b > c'")
    return text


def _clean_names(raw: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted distinct names with surrounding spaces removed; map raw index -> name index;
    mask of raw names that are blank."""
    stripped = np.asarray([str(name).strip() for name in raw], dtype=object)
    blank = stripped == ""
    names, remap = np.unique(stripped.astype(str), return_inverse=True)
    return names.astype(object), remap.astype(np.int32), blank
