"""The vectorised core of ``funnels``: events read once, attempts matched on packed keys.

Columns are read through Arrow (zero-copy for the Arrow-backed strings pandas holds from the
lake): event names are looked up once, filters run only on the rows of their event, and user
ids are dictionary-encoded only on the rows that match a step or an exclusion.

Every such row becomes one int64 key, ``user << bits | second``, where ``user`` is a dense
user code and ``second`` the row's whole second counted from the earliest one. ``bits`` leaves
room for the latest second plus the window, so ``start + window`` never reaches the next user's
keys: one comparison ``key <= horizon`` checks both "same user" and "within the window".

Each step's keys are sorted once and end with ``_END`` (larger than any key), so that
``keys[np.searchsorted(keys, q)]``, the first key at or after ``q``, needs no bounds check.
All attempts (one per step-1 event) then advance one step at a time together; nothing here
loops over users or events. The semantics are those of ``funnels``' docstring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from generator.analytics.funnels import Filter, Step

__all__ = ["Keys", "Reach", "Unreadable", "arrow", "encoded", "match", "pack", "reach"]

_END = np.iinfo(np.int64).max
_NAT = np.iinfo(np.int64).min
#: keys stay below 2**62 so that ``start + window`` cannot overflow
_KEY_BITS = 62


@dataclass(frozen=True)
class Keys:
    """Sorted keys of a funnel's events.

    ``starts``/``entry_rows``: step-1 events in key order (ties in row order) and their rows;
    ``steps[j]``: keys of step ``j + 2``; ``blockers[j]`` (strict only): keys of events that
    match a step of the funnel but neither step ``j + 1`` nor step ``j + 2``;
    ``exclusions``: keys of exclusion events. All but ``starts`` end with ``_END``.
    """

    bits: int
    starts: np.ndarray
    entry_rows: np.ndarray
    steps: tuple[np.ndarray, ...]
    blockers: tuple[np.ndarray, ...] | None
    exclusions: np.ndarray


@dataclass(frozen=True)
class Reach:
    """One row per user who did step 1: the attempt that counts for them.

    ``seconds[j]`` is the second (from the packing's origin) at which step ``j + 1`` matched,
    -1 where the user did not reach it; ``seconds[0]`` is the attempt's start.
    """

    level: np.ndarray
    entry_rows: np.ndarray
    seconds: tuple[np.ndarray, ...]


def match(
    events: pd.DataFrame,
    steps: Sequence[Step],
    exclusions: Sequence[Step],
    *,
    window: int,
    order: str,
) -> tuple[Reach, int]:
    """The counted attempt of every user, and the Unix second that ``Reach`` seconds count from.

    ``window`` is in whole seconds; ``order`` one of ``ordered``, ``strict``, ``any``.
    """
    step_masks, excluded = _masks(events, steps, exclusions)
    relevant = np.logical_or.reduce(step_masks) | excluded
    users = _users(events["user_id"], relevant)
    seconds = _seconds(events["timestamp"], relevant)
    rows = np.flatnonzero(relevant)
    known = (users >= 0) & (seconds != _NAT)
    rows, users, seconds = rows[known], users[known], seconds[known]
    origin = int(seconds.min(initial=0))
    keys = pack(
        users, seconds - origin, rows, [m[rows] for m in step_masks], excluded[rows],
        window=window, strict=order == "strict",
    )  # fmt: skip
    return reach(keys, window=window, any_order=order == "any"), origin


class Unreadable(ValueError):
    """A column whose values Arrow cannot hold as one column (mixed types)."""


def arrow(column: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The column as Arrow: no copy when pandas already holds it so.

    Raises:
        Unreadable: the column mixes values Arrow cannot put in one column.
    """
    try:
        values = pa.array(column)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise Unreadable(f"column {column.name!r} cannot be read: {exc}") from None
    # a column of nothing but missing values has no type; text is what it would have held
    return values.cast(pa.large_string()) if pa.types.is_null(values.type) else values


def _masks(
    events: pd.DataFrame, steps: Sequence[Step], exclusions: Sequence[Step]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Rows matching each step, and rows matching any exclusion.

    Event names are looked up once for all steps; filters run on their event's rows only.
    """
    names = list(dict.fromkeys(step.event for step in [*steps, *exclusions]))
    found = pc.index_in(arrow(events["event_name"]), value_set=pa.array(names, pa.string()))
    codes = _numpy(pc.fill_null(found, -1)).astype(np.int8 if len(names) < 127 else np.int32)

    def rows_of(step: Step) -> np.ndarray:
        mask = codes == names.index(step.event)
        for condition in step.filters:
            values = arrow(events[condition.column]).filter(pa.array(mask))
            mask[mask] = _holds(condition, values)
        return mask

    excluded = np.zeros(len(events), dtype=bool)
    for exclusion in exclusions:
        excluded |= rows_of(exclusion)
    return [rows_of(step) for step in steps], excluded


def encoded(column: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, list]:
    """Codes of the column's values at ``rows`` (distinct positions, any order; -1 where
    missing) and the values they stand for.
    """
    picked = np.zeros(len(column), dtype=bool)
    picked[rows] = True
    codes = pc.dictionary_encode(_filtered(arrow(column), picked))
    dictionary = codes.dictionary if isinstance(codes, pa.Array) else _dictionary(codes)
    out = np.empty(len(rows), dtype=np.int64)
    out[np.argsort(rows)] = _indices(codes)
    return out, dictionary.to_pylist()


def _holds(condition: Filter, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Where the values (compared as text; a missing one matches only the ``not_`` ops) pass."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.large_string())
    op = condition.op.removeprefix("not_")
    if op == "equals":
        result = pc.equal(values, condition.value)
    elif op == "contains":
        result = pc.match_substring(values, condition.value)
    elif op == "starts_with":
        result = pc.starts_with(values, condition.value)
    else:
        result = pc.is_in(values, value_set=pa.array(condition.value, values.type))
    mask = _numpy(pc.fill_null(result, False))
    return ~mask if condition.op.startswith("not_") else mask


def _users(ids: pd.Series, rows: np.ndarray) -> np.ndarray:
    """Dense codes of the users of ``rows`` (a boolean mask), -1 for a missing id.

    Categorical ids use their codes; others are dictionary-encoded by Arrow.
    """
    if isinstance(ids.dtype, pd.CategoricalDtype):
        return ids.cat.codes.to_numpy()[rows].astype(np.int64)
    codes = _indices(pc.dictionary_encode(_filtered(arrow(ids), rows)))
    # the strings and the hash table were Arrow's: give their memory back before the sorting
    pa.default_memory_pool().release_unused()
    return codes


def _seconds(timestamps: pd.Series, rows: np.ndarray) -> np.ndarray:
    """Whole Unix seconds of ``rows`` (a boolean mask; ``_NAT`` where missing)."""
    utc = timestamps[rows].dt.tz_convert(None).to_numpy()
    return utc.astype("datetime64[s]").view(np.int64)


def _filtered(values: pa.Array | pa.ChunkedArray, rows: np.ndarray) -> pa.Array | pa.ChunkedArray:
    # chunk by chunk; ``take`` would first join the chunks into one copy of the column
    return values.filter(pa.array(rows))


def _indices(codes: pa.DictionaryArray | pa.ChunkedArray) -> np.ndarray:
    """A dictionary array's indices as int64, -1 where missing (chunks share one dictionary)."""
    if isinstance(codes, pa.ChunkedArray):
        indices = pa.chunked_array([c.indices for c in codes.chunks], codes.type.index_type)
    else:
        indices = codes.indices
    return _numpy(pc.fill_null(indices, -1)).astype(np.int64)


def _dictionary(codes: pa.ChunkedArray) -> pa.Array:
    return codes.chunk(0).dictionary if codes.num_chunks else pa.array([], codes.type.value_type)


def _numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.to_numpy(zero_copy_only=False)


def pack(
    users: np.ndarray,
    seconds: np.ndarray,
    rows: np.ndarray,
    steps: list[np.ndarray],
    exclusion: np.ndarray,
    *,
    window: int,
    strict: bool,
) -> Keys:
    """Keys of the events ``rows`` (dense ``users`` codes, ``seconds`` from 0).

    ``steps`` and ``exclusion`` are boolean masks over those events.

    Raises:
        OverflowError: users x seconds do not fit in 62 bits.
    """
    bits = int(seconds.max(initial=0) + window + 1).bit_length()
    if int(users.max(initial=0)).bit_length() + bits > _KEY_BITS:
        raise OverflowError(f"{users.max() + 1} users over {seconds.max()} s")
    keys = (users.astype(np.int64) << bits) | seconds
    first = np.flatnonzero(steps[0])
    order = np.argsort(keys[first], kind="stable")
    blockers = None
    if strict:
        anywhere = np.logical_or.reduce(steps)
        blockers = tuple(
            _sorted(keys[anywhere & ~before & ~after]) for before, after in pairwise(steps)
        )
    return Keys(
        bits=bits,
        starts=keys[first][order],
        entry_rows=rows[first][order],
        steps=tuple(_sorted(keys[mask]) for mask in steps[1:]),
        blockers=blockers,
        exclusions=_sorted(keys[exclusion]),
    )


def reach(keys: Keys, *, window: int, any_order: bool) -> Reach:
    """Match every attempt, then keep the one that counts for each user."""
    horizon = keys.starts + window
    # the first exclusion strictly after the start ends the attempt there (keys past the
    # user's own range are past ``start + window`` too, so they change nothing)
    after = keys.exclusions[np.searchsorted(keys.exclusions, keys.starts, side="right")]
    np.minimum(horizon, after, out=horizon)
    match = _any_order if any_order else _in_order
    level, matched = match(keys, horizon)
    best = _counted(keys.starts >> keys.bits, level)
    span = (1 << keys.bits) - 1
    seconds = tuple(np.where(m[best] >= 0, m[best] & span, -1) for m in matched)
    return Reach(level=level[best], entry_rows=keys.entry_rows[best], seconds=seconds)


def _in_order(keys: Keys, horizon: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """``ordered`` and ``strict``: each step the earliest event at or after the previous one."""
    level = np.ones(len(keys.starts), dtype=np.int64)
    matched = [keys.starts]
    alive = np.arange(len(keys.starts))
    current = keys.starts
    for j, step in enumerate(keys.steps):
        found = step[np.searchsorted(step, current)]
        ok = found <= horizon[alive]
        if keys.blockers is not None:
            blockers = keys.blockers[j]
            ok &= blockers[np.searchsorted(blockers, current, side="right")] >= found
        alive, current = alive[ok], found[ok]
        level[alive] = j + 2
        column = np.full(len(level), -1, dtype=np.int64)
        column[alive] = current
        matched.append(column)
    return level, matched


def _any_order(keys: Keys, horizon: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """``any``: each step's earliest event at or after the start; level = unbroken prefix."""
    level = np.ones(len(keys.starts), dtype=np.int64)
    matched = [keys.starts]
    alive = np.arange(len(keys.starts))
    for step in keys.steps:
        found = step[np.searchsorted(step, keys.starts[alive])]
        ok = found <= horizon[alive]
        alive = alive[ok]
        level[alive] += 1
        column = np.full(len(level), -1, dtype=np.int64)
        column[alive] = found[ok]
        matched.append(column)
    return level, matched


def _counted(users: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Per user (attempts sorted by user, then start): the earliest attempt of top level."""
    if len(users) == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    top = np.maximum.reduceat(level, first)
    best = np.flatnonzero(level == np.repeat(top, np.diff(np.r_[first, len(users)])))
    return best[np.r_[True, users[best][1:] != users[best][:-1]]]


def _sorted(keys: np.ndarray) -> np.ndarray:
    out = np.empty(len(keys) + 1, dtype=np.int64)
    out[:-1] = keys
    out[:-1].sort()
    out[-1] = _END
    return out
