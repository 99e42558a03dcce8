"""Conversion funnels counted per user: who reached each step, how fast, and where they left.

``compute(events, steps)`` gives one row per step (per segment x step with ``by``);
``reached(events, steps)`` gives one row per user who did step 1 (how far they got, when).

Events are rows with ``user_id``, ``timestamp`` (timezone-aware) and ``event_name``; a step is
an event name, optionally narrowed by filters on the event's other columns (``Step``,
``Filter``). Rows without a user or a time take no part.

Semantics (``n`` steps, window ``W``):

- **Matching.** An event matches a step when its ``event_name`` is the step's event and every
  filter holds. A missing property never equals, contains, starts with or is in anything, so
  ``not_equals`` and ``not_contains`` hold for it. Each step is tested on every event on its
  own: one event may match several steps, and may then serve as several steps of the same
  attempt (its time is at or after itself). So with ``page_view`` then ``page_view`` where
  ``page_path`` contains ``/checkout``, a visit that lands on the checkout page reaches step 2
  with one event; two identical steps in a row are reached by one event.
- **Time.** Times are compared at whole seconds (floored; GA4's own grain is a minute), and
  ``reached`` reports them at that grain. Equal times count as in order.
- **Attempts.** Every step-1 event starts an attempt at its time ``s``. The attempt's horizon is
  ``s + W`` (inclusive), or the first exclusion event strictly after ``s`` if that is earlier.
- **ordered** (default). Step ``k`` is matched by the earliest event of step ``k`` at or after
  the time of step ``k - 1``'s match (ties: the first row). The attempt reaches step ``k`` if
  that match is at or before the horizon; it stops at the first step that fails. For this
  order the earliest match is optimal: the attempt reaches step ``k`` exactly when some events
  of steps 1..k at non-decreasing times lie between ``s`` and the horizon.
- **strict.** As ``ordered``, and the attempt stops before step ``k`` if an *intervening* event
  lies strictly between the matches of steps ``k - 1`` and ``k``: one that matches some step of
  the funnel but neither ``k - 1`` nor ``k``. Repeats of step ``k - 1`` do not break the
  attempt; an event of any other step does, step 1 included (A, B, A, C stops at B; the second
  A starts its own attempt). Events of no step never intervene. Unlike ClickHouse's
  ``strict_order`` this judges the earliest match for each step, it does not search for a later
  one that avoids the intervention: in A, B, C, B, C, D the attempt stops at C.
- **any.** Step 1 starts the attempt; step ``k >= 2`` is matched by its earliest event at or
  after ``s`` and at or before the horizon, whatever the order among steps 2..n. The attempt
  reaches the largest ``k`` such that steps 2..k are all matched.
- **Exclusions** (same forms as steps; any event matching one of them) end the attempt at the
  first one strictly after its step-1 event: a step matched after it does not count, a step
  matched at that very second does. So an exclusion strictly between two consecutive matches
  leaves the attempt at the step before it. A later step-1 event starts a fresh attempt.
- **Users.** A user counts once, at the furthest step any of their attempts reaches
  (ClickHouse ``windowFunnel``). When several attempts reach it, the earliest (by start, then
  row) is the one that counts: its step-1 event gives the user's segment and its matches the
  user's times. Counts never increase down the funnel.
- **Times.** A user reaches step ``k`` at ``c_k``, the latest of the matches of steps 1..k (in
  ``ordered`` and ``strict`` that is step k's match; in ``any`` the moment all of 1..k were
  done). ``*_from_previous`` is ``c_k - c_(k-1)``, ``*_from_start`` is ``c_k - c_1``, over the
  users at step ``k``; medians and 90th percentiles interpolate linearly between users.

Everything is vectorised (``_funnel_match``): 10 million events in a few seconds
(``bench/funnels.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from generator.analytics import _funnel_match
from generator.errors import ReportError

__all__ = ["OPS", "ORDERS", "Filter", "FunnelSpecError", "Step", "compute", "reached"]

OPS = ("equals", "not_equals", "contains", "not_contains", "starts_with", "in")
ORDERS = ("ordered", "strict", "any")
NOT_SET = "(not set)"
REQUIRED = ("user_id", "timestamp", "event_name")
_QUANTILES = (0.5, 0.9)


class FunnelSpecError(ReportError, ValueError):
    """A funnel that cannot be computed as asked (a bad step, filter, window, order or column).

    A ``ValueError`` too, so callers that validate arguments the usual way catch it.
    """


@dataclass(frozen=True)
class Filter:
    """A condition on a property of the step's event: ``page_path contains /checkout``.

    ``value`` is a string, or for ``in`` a tuple of strings (a list is accepted and kept as a
    tuple). Values are compared as text.
    """

    column: str
    op: str
    value: str | tuple[str, ...]

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise FunnelSpecError(f"unknown filter op {self.op!r}; use one of {', '.join(OPS)}")
        many = isinstance(self.value, list | tuple)
        if (self.op == "in") != many:
            raise FunnelSpecError(
                f"filter on {self.column!r}: 'in' takes a list of values, every other op one"
            )
        value = tuple(str(v) for v in self.value) if many else str(self.value)
        object.__setattr__(self, "value", value)

    @classmethod
    def of(cls, spec: Filter | Mapping[str, Any]) -> Filter:
        """A filter from itself or a dict with ``column``, ``op`` and ``value``."""
        if isinstance(spec, Filter):
            return spec
        _known_keys(spec, ("column", "op", "value"), "filter")
        try:
            return cls(spec["column"], spec["op"], spec["value"])
        except KeyError as missing:
            raise FunnelSpecError(f"a filter needs {missing.args[0]!r}: {dict(spec)!r}") from None

    def describe(self) -> str:
        value = f"[{', '.join(self.value)}]" if self.op == "in" else self.value
        return f"{self.column} {self.op.replace('_', ' ')} {value}"


@dataclass(frozen=True)
class Step:
    """One funnel step: an event name, optionally narrowed by filters, with an optional label."""

    event: str
    filters: tuple[Filter, ...] = field(default=())
    label: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.event, str) or not self.event:
            raise FunnelSpecError(f"a step needs an event name, got {self.event!r}")
        object.__setattr__(self, "filters", tuple(Filter.of(f) for f in self.filters))

    @classmethod
    def of(cls, spec: Step | str | Mapping[str, Any]) -> Step:
        """A step from itself, an event name, or a dict with ``event``, ``filters``, ``label``."""
        if isinstance(spec, Step):
            return spec
        if isinstance(spec, str):
            return cls(spec)
        if not isinstance(spec, Mapping):
            raise FunnelSpecError(f"a step is an event name or a dict, got {spec!r}")
        _known_keys(spec, ("event", "filters", "label"), "step")
        if "event" not in spec:
            raise FunnelSpecError(f"a step needs 'event': {dict(spec)!r}")
        return cls(spec["event"], tuple(spec.get("filters") or ()), spec.get("label"))

    @property
    def name(self) -> str:
        """What a report shows: the label, else the event (and its filters, if any)."""
        if self.label:
            return self.label
        if not self.filters:
            return self.event
        return f"{self.event} ({' and '.join(f.describe() for f in self.filters)})"


def reached(
    events: pd.DataFrame,
    steps: Iterable[Step | str | Mapping[str, Any]],
    *,
    window: timedelta = timedelta(days=7),
    order: str = "ordered",
    exclusions: Iterable[Step | str | Mapping[str, Any]] = (),
) -> pd.DataFrame:
    """How far each user got: one row per user with a step-1 event.

    Args:
        events: ``user_id``, ``timestamp`` (timezone-aware), ``event_name`` and any columns
            the filters name. Not modified.
        steps: two or more steps: event names, ``Step``s or dicts (``Step.of``).
        window: the longest time from step 1 to the last step (inclusive).
        order: ``"ordered"``, ``"strict"`` or ``"any"`` (see the module docstring).
        exclusions: steps whose events end an attempt (see the module docstring).

    Returns:
        A new frame, users in the order they first appear among the funnel's events:
        ``user_id``; ``level`` (1..n, the furthest step reached); ``start`` (the counted
        attempt's step-1 time); ``t1``..``tn`` (when each step was matched, whole seconds, UTC;
        NaT beyond ``level``); ``entry_row`` (the position in ``events`` of the counted
        attempt's step-1 event: ``events.iloc[entry_row]`` has its properties).

    Raises:
        FunnelSpecError: (a ``ValueError``) for fewer than two steps, an unknown filter op or
            order, a non-positive window, or a missing or unusable column.
    """
    funnel = _Funnel.of(events, steps, window, order, exclusions, by=None)
    reach, origin = funnel.reach(events)
    times = [_timestamps(seconds, origin) for seconds in reach.seconds]
    return pd.DataFrame(
        {
            "user_id": events["user_id"].take(reach.entry_rows).reset_index(drop=True),
            "level": reach.level,
            "start": times[0],
            **{f"t{k}": t for k, t in enumerate(times, start=1)},
            "entry_row": reach.entry_rows,
        }
    )


def compute(
    events: pd.DataFrame,
    steps: Iterable[Step | str | Mapping[str, Any]],
    *,
    window: timedelta = timedelta(days=7),
    order: str = "ordered",
    by: str | None = None,
    exclusions: Iterable[Step | str | Mapping[str, Any]] = (),
) -> pd.DataFrame:
    """The funnel: users, conversion, drop-off and times at each step.

    Args:
        events, steps, window, order, exclusions: as for ``reached``.
        by: a column of ``events``; each user is counted in the segment given by its value on
            the step-1 event of the attempt that counts for them (missing: ``"(not set)"``).

    Returns:
        A new frame, one row per step (per segment and step with ``by``; segments by users at
        step 1, largest first): [``segment``,] ``step`` (display name), ``position`` (1..n),
        ``users``, ``rate_from_previous``, ``rate_from_start``, ``dropped`` (users at the
        previous step minus users here), ``drop_off_rate`` (dropped / previous users),
        ``median_from_previous``, ``p90_from_previous``, ``median_from_start``,
        ``p90_from_start`` (Timedelta; NaT where no user reached the step; zero at step 1).
        Rates are NaN where their denominator is 0 (all of them when nobody did step 1); at
        step 1 ``rate_from_previous`` is 1, ``dropped`` and ``drop_off_rate`` 0.

    Raises:
        FunnelSpecError: as ``reached``, and for ``by`` not a column of ``events``.
    """
    funnel = _Funnel.of(events, steps, window, order, exclusions, by=by)
    reach, _ = funnel.reach(events)
    names = [step.name for step in funnel.steps]
    if by is None:
        return _table(reach, np.zeros(len(reach.level), dtype=np.int64), 1, names)
    segments, labels = _segments(events[by], reach.entry_rows)
    table = _table(reach, segments, len(labels), names)
    table.insert(0, "segment", labels[np.repeat(np.arange(len(labels)), len(names))])
    return table


@dataclass(frozen=True)
class _Funnel:
    steps: tuple[Step, ...]
    exclusions: tuple[Step, ...]
    window: int  # whole seconds
    order: str

    @classmethod
    def of(
        cls,
        events: pd.DataFrame,
        steps: Any,
        window: Any,
        order: str,
        exclusions: Any,
        *,
        by: str | None,
    ) -> _Funnel:
        """Validated and normalised: specs as ``Step``s, the window in whole seconds."""
        steps = tuple(Step.of(s) for s in _listed(steps, "steps"))
        exclusions = tuple(Step.of(s) for s in _listed(exclusions, "exclusions"))
        if len(steps) < 2:
            raise FunnelSpecError(f"a funnel needs at least 2 steps, got {len(steps)}")
        if not isinstance(window, timedelta) or window <= timedelta(0):
            raise FunnelSpecError(f"the window must be a positive timedelta, got {window!r}")
        if order not in ORDERS:
            raise FunnelSpecError(f"unknown order {order!r}; use one of {', '.join(ORDERS)}")
        _check_columns(events, steps + exclusions, by)
        return cls(steps, exclusions, window // timedelta(seconds=1), order)

    def reach(self, events: pd.DataFrame) -> tuple[_funnel_match.Reach, int]:
        try:
            return _funnel_match.match(
                events, self.steps, self.exclusions, window=self.window, order=self.order
            )
        except OverflowError as exc:
            raise FunnelSpecError(
                f"too many users over too long a time for one funnel ({exc}); "
                "compute it over a shorter period"
            ) from None
        except _funnel_match.Unreadable as exc:
            raise FunnelSpecError(f"events: {exc}") from None


def _segments(column: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment codes of ``rows``, numbered by users (largest first, then by name), and labels."""
    try:
        codes, values = _funnel_match.encoded(column, rows)
    except _funnel_match.Unreadable as exc:
        raise FunnelSpecError(f"events: {exc}") from None
    names = [NOT_SET if v is None else str(v) for v in values]
    # code -1 (missing) picks the NOT_SET appended last; a missing value and a literal
    # "(not set)" are one segment, as are 1 and "1"
    merged, labels = pd.factorize(np.asarray([*names, NOT_SET], dtype=object), sort=True)
    codes = merged[codes]
    users = np.bincount(codes, minlength=len(labels))
    order = np.lexsort((np.arange(len(labels)), -users))
    order = order[users[order] > 0]
    rank = np.full(len(labels), -1)
    rank[order] = np.arange(len(order))
    return rank[codes], np.asarray(labels, dtype=object)[order]


def _table(
    reach: _funnel_match.Reach, segments: np.ndarray, n_segments: int, names: list[str]
) -> pd.DataFrame:
    """Rows segment-major, then by step: counts, rates and times."""
    n = len(names)
    exactly = np.bincount(segments * (n + 1) + reach.level, minlength=n_segments * (n + 1))
    users = exactly.reshape(n_segments, n + 1)[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]
    previous = np.column_stack([users[:, :1], users[:, :-1]])
    dropped = previous - users
    columns = {
        "step": np.tile(np.asarray(names, dtype=object), n_segments),
        "position": np.tile(np.arange(1, n + 1), n_segments),
        "users": users.ravel(),
        "rate_from_previous": _ratio(users, previous).ravel(),
        "rate_from_start": _ratio(users, users[:, :1]).ravel(),
        "dropped": dropped.ravel(),
        "drop_off_rate": _ratio(dropped, previous).ravel(),
    }
    for column, seconds in _durations(reach, segments, n_segments).items():
        nanoseconds = np.where(np.isnan(seconds), _NAT, np.round(seconds * 1e9)).astype(np.int64)
        columns[column] = nanoseconds.ravel().view("timedelta64[ns]")
    return pd.DataFrame(columns)


def _durations(
    reach: _funnel_match.Reach, segments: np.ndarray, n_segments: int
) -> dict[str, np.ndarray]:
    """Median and p90 seconds from the previous step and from the start: (segments, steps)."""
    done = np.maximum.accumulate(np.vstack(reach.seconds), axis=0)
    n = len(reach.seconds)
    started = np.bincount(segments, minlength=n_segments) > 0
    out = {}
    for since, name in ((None, "previous"), (0, "start")):
        table = np.full((n_segments, n, len(_QUANTILES)), np.nan)
        table[started, 0, :] = 0.0
        for k in range(1, n):
            at = reach.level > k
            elapsed = done[k, at] - done[k - 1 if since is None else since, at]
            table[:, k, :] = _quantiles(segments[at], elapsed, n_segments)
        out[f"median_from_{name}"] = table[:, :, 0]
        out[f"p90_from_{name}"] = table[:, :, 1]
    return out


_SHIFT = 40  # durations (seconds) stay below 2**40 (34,000 years)


def _quantiles(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, ``_QUANTILES`` of ``values`` (linear interpolation); NaN for empty groups."""
    packed = np.sort((groups.astype(np.int64) << _SHIFT) | values)
    bounds = np.searchsorted(packed, np.arange(n_groups + 1, dtype=np.int64) << _SHIFT)
    first, size = bounds[:-1], np.diff(bounds)
    ordered = packed & ((1 << _SHIFT) - 1)
    out = np.full((n_groups, len(_QUANTILES)), np.nan)
    has = size > 0
    for i, q in enumerate(_QUANTILES):
        at = first[has] + q * (size[has] - 1)
        low, high = np.floor(at).astype(np.int64), np.ceil(at).astype(np.int64)
        out[has, i] = ordered[low] + (ordered[high] - ordered[low]) * (at - low)
    return out


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast_shapes(numerator.shape, denominator.shape), np.nan)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


_NAT = np.iinfo(np.int64).min


def _timestamps(seconds: np.ndarray, origin: int) -> pd.Series:
    unix = np.where(seconds >= 0, seconds + origin, _NAT).astype("datetime64[s]")
    return pd.Series(unix).dt.tz_localize("UTC")


def _check_columns(events: pd.DataFrame, specs: tuple[Step, ...], by: str | None) -> None:
    missing = [c for c in REQUIRED if c not in events.columns]
    if missing:
        raise FunnelSpecError(
            f"events lack {', '.join(missing)}; a funnel needs columns {', '.join(REQUIRED)}"
        )
    stamps = events["timestamp"]
    if not pd.api.types.is_datetime64_any_dtype(stamps) or stamps.dt.tz is None:
        raise FunnelSpecError(
            f"events.timestamp must be timezone-aware datetimes (UTC), not {stamps.dtype}"
        )
    for step in specs:
        for condition in step.filters:
            if condition.column not in events.columns:
                raise FunnelSpecError(
                    f"step {step.name!r} filters on {condition.column!r}, a column the events "
                    f"lack (they have {', '.join(map(str, events.columns))})"
                )
    if by is not None and by not in events.columns:
        raise FunnelSpecError(f"cannot break the funnel down by {by!r}: no such column")


def _listed(specs: Any, what: str) -> list[Any]:
    if isinstance(specs, str | Mapping | Step) or not isinstance(specs, Iterable):
        raise FunnelSpecError(f"{what} must be a list of steps, got {specs!r}")
    return list(specs)


def _known_keys(spec: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(spec) - set(allowed))
    if unknown:
        raise FunnelSpecError(
            f"unknown key {', '.join(map(repr, unknown))} in {what} {dict(spec)!r}; "
            f"a {what} has {', '.join(allowed)}"
        )
