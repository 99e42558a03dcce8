"""Funnel health: what a funnel's counts mean, for the report's summary and charts.

Reads the frames of ``generator.analytics.funnels`` and never recounts events: ``compute()``
(one row per step, or per segment x step with ``by=``) and ``reached()`` (one row per user who
did step 1). Only ``step``, ``position`` and ``users`` (and ``segment``) are read; every rate
here is derived from those users, so all the numbers of one report agree with each other.

    health(current, previous, segments=by_device, breakdown="device_category")  # JSON-able
    compare(current, previous)              # this period against the last, per step
    weekly_cohorts(reached_frame, steps)    # conversion by entry week (long form)
    segment_ranking(by_device)              # segments, worst conversion first
    dropped_by_segment(by_device, 3)        # who dropped before step 3

Two-proportion z-test (pooled, two-sided), the test ``abtest`` uses too: with x1 of n1 in the
previous period and x2 of n2 in the current one, p = (x1 + x2) / (n1 + n2) and

    z = (x2/n2 - x1/n1) / sqrt(p (1 - p) (1/n1 + 1/n2)),    p_value = 2 (1 - Phi(|z|))

so z > 0 when the current rate is higher; significant means p_value < 0.05. The test is
undefined when a period has no entrants or when p is 0 or 1 (nobody or everybody converted in
both periods): then z and p_value are None (NaN in frames) and significant is False.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from generator.errors import ReportError

__all__ = ["compare", "dropped_by_segment", "health", "segment_ranking", "weekly_cohorts", "z_test"]

#: Segments with fewer users at a step are neither rated nor used as a benchmark there.
MIN_USERS = 30
ALPHA = 0.05
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def health(
    current: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    *,
    segments: pd.DataFrame | None = None,
    breakdown: str | None = None,
    top: int = 3,
    min_users: int = MIN_USERS,
) -> dict:
    """The funnel's headline numbers as plain JSON data (no NaN, no numpy scalars).

    Args:
        current: ``funnels.compute()`` output for the period, without ``by``.
        previous: the same funnel for the previous period (optional).
        segments: ``compute(by=...)`` output for the same period (optional).
        breakdown: name of the breakdown column of ``segments``, used in the wording only.
        top: most opportunities returned.
        min_users: fewest users at step k for a segment to be rated (or be the benchmark) at
            the transition k -> k+1.

    Returns:
        ``entered`` (users at step 1), ``completed`` (at the last step), ``overall_conversion``
        (completed / entered; None without entrants); ``biggest_drop_users`` and
        ``biggest_drop_rate``, ``{from_step, to_step, position, dropped, rate}`` of the
        transition losing most users (ties: higher rate) and of the one with the highest
        drop-off rate (ties: more users), the earlier step on a full tie, None when nobody
        dropped; ``change``, None unless ``previous`` has entrants, else ``{previous_conversion,
        difference (points, as a fraction), relative, z, p_value, significant}`` of the overall
        conversion by the module's z-test; ``opportunities`` ([] without ``segments``).

    Opportunities: for each segment and transition k -> k+1 where the segment has at least
    ``min_users`` at step k, the benchmark is the best rate at that transition among the
    *other* segments with at least ``min_users`` at step k (ties: more users, then name). When
    the benchmark is higher, ``extra_completions`` = users at k x (benchmark rate - segment
    rate) x the segment's own conversion from step k+1 to the last step (1 when k+1 is the
    last step; the overall funnel's when the segment has nobody at k+1): the completions it
    would gain at the benchmark's rate, if the extra users then converted as its users do.
    Only positive gains are kept, largest first (rounded to 0.1 in the output), at most
    ``top``. Each is ``{segment, from_step, to_step, segment_rate, benchmark_rate,
    benchmark_segment, extra_completions, text}``.

    Raises:
        ReportError: for a missing column, positions that are not 1..n, negative or missing
            user counts, funnels whose steps differ, or a bad ``top``/``min_users``.
    """
    _check_count(top, "top")
    _check_count(min_users, "min_users")
    steps, users = _funnel(current, "current")
    change = None
    if previous is not None:
        change = _change(steps, users, *_funnel(previous, "previous"))
    opportunities = []
    if segments is not None:
        opportunities = _opportunities(steps, users, segments, breakdown, top, min_users)
    return {
        "entered": int(users[0]),
        "completed": int(users[-1]),
        "overall_conversion": _ratio(users[-1], users[0]),
        "biggest_drop_users": _biggest_drop(steps, users, by_rate=False),
        "biggest_drop_rate": _biggest_drop(steps, users, by_rate=True),
        "change": change,
        "opportunities": opportunities,
    }


def compare(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """This period against the previous one, per step.

    Returns:
        ``step``, ``position``, ``users_current``, ``users_previous``, ``rate_current``,
        ``rate_previous`` (rate from start: users / entered; NaN without entrants), ``change``
        (their difference) and the module's z-test of users / entered: ``z``, ``p_value``,
        ``significant`` (NaN, NaN, False where undefined, as at step 1: 100% in both periods).

    Raises:
        ReportError: as ``health``, or when the two funnels' steps differ.
    """
    steps, now = _funnel(current, "current")
    before_steps, before = _funnel(previous, "previous")
    _same_steps(steps, before_steps, "previous")
    tests = [z_test(before[k], before[0], now[k], now[0]) for k in range(len(steps))]
    frame = pd.DataFrame(
        {
            "step": steps,
            "position": np.arange(1, len(steps) + 1),
            "users_current": now,
            "users_previous": before,
            "rate_current": _rates(now, now[0]),
            "rate_previous": _rates(before, before[0]),
            "z": [np.nan if z is None else z for z, _ in tests],
            "p_value": [np.nan if p is None else p for _, p in tests],
        }
    )
    frame.insert(6, "change", frame["rate_current"] - frame["rate_previous"])
    frame["significant"] = frame["p_value"].lt(ALPHA)
    return frame


def weekly_cohorts(
    reached: pd.DataFrame, steps: Sequence, *, week_start: str = "monday"
) -> pd.DataFrame:
    """Entry cohorts: of the users who entered in a week, how many reached each step.

    A user's cohort is the UTC week (starting on ``week_start``, ISO: Monday) of ``start``,
    the counted attempt's step-1 event, from ``reached`` (``funnels.reached()`` output); the
    user reached step k when ``level >= k``. Recent cohorts have had less time to convert.
    ``steps`` names the steps in order: display names (``compute(...)["step"]``) or step specs
    (named by their ``label``, else their ``event``).

    Returns:
        Long form, one row per week x step, step 1's users being the entrants: ``week`` (date
        of the week's first day), ``position``, ``step``, ``users``, ``rate_from_start`` (users
        / entrants of that week). Weeks without entrants do not appear. By week, position.

    Raises:
        ReportError: for a missing column or start, a level outside 1..n, a bad week_start.
    """
    names = _step_names(steps)
    _require(reached, ("level", "start"), "reached")
    if week_start not in _WEEKDAYS:
        raise ReportError(f"week_start must be a weekday name such as 'monday', not {week_start!r}")
    level = _whole(reached["level"], "reached", "level")
    if ((level < 1) | (level > len(names))).any():
        raise ReportError(f"reached: 'level' must lie in 1..{len(names)} (the number of steps)")
    start = pd.to_datetime(reached["start"], utc=True)
    if start.isna().any():
        raise ReportError("reached: every row needs a 'start' timestamp")
    day = start.dt.floor("D")
    shift = (day.dt.day_of_week - _WEEKDAYS.index(week_start)) % 7
    week = (day - pd.to_timedelta(shift, unit="D")).dt.date.to_numpy()
    weeks, cohort = np.unique(week, return_inverse=True)
    counts = np.zeros((len(weeks), len(names)), np.int64)
    np.add.at(counts, (cohort.reshape(-1), level - 1), 1)
    at_least = counts[:, ::-1].cumsum(axis=1)[:, ::-1]  # users whose level is >= k
    return pd.DataFrame(
        {
            "week": np.repeat(weeks, len(names)),
            "position": np.tile(np.arange(1, len(names) + 1), len(weeks)),
            "step": np.tile(np.asarray(names, dtype=object), len(weeks)),
            "users": at_least.reshape(-1),
            "rate_from_start": (at_least / at_least[:, :1]).reshape(-1),
        }
    )


def segment_ranking(segments: pd.DataFrame, *, min_users: int = MIN_USERS) -> pd.DataFrame:
    """Segments ranked by overall conversion, worst first.

    Returns:
        One row per segment: ``segment``, ``entered``, ``completed``, ``conversion``
        (completed / entered, NaN without entrants), ``worst_step`` (the step users most often
        failed to reach from the one before it: highest drop-off rate, ties by users, then
        the earlier step; missing when nobody dropped), ``worst_drop_rate`` (0 when nobody
        dropped) and ``enough_users`` (entered >= ``min_users``). Segments without enough
        users come last; ties by more entrants, then name.

    Raises:
        ReportError: for a missing column or segments whose steps differ.
    """
    _check_count(min_users, "min_users")
    steps, names, users = _segment_matrix(segments)
    worst = [_biggest_drop(steps, row, by_rate=True) for row in users]
    frame = pd.DataFrame(
        {
            "segment": names,
            "entered": users[:, 0],
            "completed": users[:, -1],
            "conversion": _rates(users[:, -1], users[:, 0]),
            "worst_step": [None if w is None else w["to_step"] for w in worst],
            "worst_drop_rate": [np.nan if w is None else w["rate"] for w in worst],
            "enough_users": users[:, 0] >= min_users,
        }
    )
    frame.loc[frame["worst_step"].isna() & (frame["entered"] > 0), "worst_drop_rate"] = 0.0
    order = frame.assign(_few=~frame["enough_users"]).sort_values(
        ["_few", "conversion", "entered", "segment"],
        ascending=[True, True, False, True],
        na_position="last",
        kind="stable",
    )
    return frame.loc[order.index].reset_index(drop=True)


def dropped_by_segment(segments: pd.DataFrame, position: int) -> pd.DataFrame:
    """Who dropped between step ``position - 1`` and step ``position``, by segment.

    Returns:
        ``segment``, ``dropped`` (users at the step before minus users at this one),
        ``share_of_dropped`` (of all segments' dropped users; NaN when nobody dropped) and
        ``drop_off_rate`` (dropped / users at the step before; NaN when that is 0), sorted by
        dropped descending, then segment.

    Raises:
        ReportError: for a missing column, or a position that is not a step after the first.
    """
    steps, names, users = _segment_matrix(segments)
    whole = not isinstance(position, bool) and isinstance(position, int | np.integer)
    if not (whole and 2 <= position <= len(steps)):
        raise ReportError(f"position must be a whole number in 2..{len(steps)}, not {position!r}")
    before, here = users[:, position - 2], users[:, position - 1]
    dropped = before - here
    total = dropped.sum()
    frame = pd.DataFrame(
        {
            "segment": names,
            "dropped": dropped,
            "share_of_dropped": dropped / total if total > 0 else np.full(len(names), np.nan),
            "drop_off_rate": _rates(dropped, before),
        }
    )
    order = frame.sort_values(["dropped", "segment"], ascending=[False, True], kind="stable")
    return order.reset_index(drop=True)


def z_test(x1, n1, x2, n2) -> tuple[float | None, float | None]:
    """Pooled two-proportion z-test of x2/n2 against x1/n1: (z, two-sided p), or (None, None)."""
    if n1 <= 0 or n2 <= 0:
        return None, None
    pooled = (x1 + x2) / (n1 + n2)
    if pooled <= 0 or pooled >= 1:
        return None, None
    z = (x2 / n2 - x1 / n1) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float(z), float(2 * stats.norm.sf(abs(z)))


# -- pieces of health ------------------------------------------------------------------------


def _change(steps, users, previous_steps, previous_users) -> dict | None:
    _same_steps(steps, previous_steps, "previous")
    n1, x1 = previous_users[0], previous_users[-1]
    if n1 == 0:
        return None
    before, now = float(x1 / n1), _ratio(users[-1], users[0])
    z, p_value = z_test(x1, n1, users[-1], users[0])
    return {
        "previous_conversion": before,
        "difference": None if now is None else now - before,
        "relative": None if now is None or before == 0 else (now - before) / before,
        "z": z,
        "p_value": p_value,
        "significant": p_value is not None and p_value < ALPHA,
    }


def _biggest_drop(steps, users, *, by_rate: bool) -> dict | None:
    before, after = users[:-1], users[1:]
    dropped = before - after
    rate = _rates(dropped, before)
    lost = np.flatnonzero(dropped > 0)  # dropped > 0 implies users before, so rate is defined
    if not len(lost):
        return None
    key = (rate, dropped) if by_rate else (dropped, rate)
    best = max(lost, key=lambda i: (key[0][i], key[1][i], -i))
    return {
        "from_step": steps[best],
        "to_step": steps[best + 1],
        "position": int(best + 2),
        "dropped": int(dropped[best]),
        "rate": float(rate[best]),
    }


def _opportunities(steps, overall, segments, breakdown, top, min_users) -> list[dict]:
    segment_steps, names, users = _segment_matrix(segments)
    _same_steps(steps, segment_steps, "segments")
    found = []
    for k in range(len(steps) - 1):
        at_k = users[:, k]
        rated = (at_k >= min_users) & (at_k > 0)
        rate = _rates(users[:, k + 1], at_k)
        for s in np.flatnonzero(rated):
            others = [b for b in np.flatnonzero(rated) if b != s]
            if not others:
                continue
            bench = max(others, key=lambda b: (rate[b], at_k[b], -b))
            gap = rate[bench] - rate[s]
            extra = at_k[s] * gap * _downstream(users[s], overall, k + 1) if gap > 0 else 0.0
            if extra > 0:
                found.append((float(extra), k, s, bench))
    found.sort(key=lambda f: (-f[0], names[f[2]], f[1]))
    return [
        _opportunity(steps, names, users, extra, k, s, bench, breakdown)
        for extra, k, s, bench in found[:top]
    ]


def _downstream(segment_users, overall, j: int) -> float:
    """Conversion from step index ``j`` to the last step: the segment's, else the overall."""
    if j == len(overall) - 1:
        return 1.0
    for users in (segment_users, overall):
        if users[j] > 0:
            return users[-1] / users[j]
    return 0.0


def _opportunity(steps, names, users, extra, k, s, bench, breakdown) -> dict:
    own = users[s, k + 1] / users[s, k]
    best = users[bench, k + 1] / users[bench, k]
    who = names[s] if breakdown is None else f"{names[s]} ({str(breakdown).replace('_', ' ')})"
    about = f"{round(extra):,}" if extra >= 10 else f"{extra:.1f}"
    text = (
        f"If {who} users moved from {steps[k]} to {steps[k + 1]} at the {names[bench]} rate "
        f"({best:.1%} instead of {own:.1%}), about {about} more would reach {steps[-1]}."
    )
    return {
        "segment": names[s],
        "from_step": steps[k],
        "to_step": steps[k + 1],
        "segment_rate": float(own),
        "benchmark_rate": float(best),
        "benchmark_segment": names[bench],
        "extra_completions": round(extra, 1),
        "text": text,
    }


# -- reading the funnel frames ---------------------------------------------------------------


def _funnel(frame: pd.DataFrame, name: str) -> tuple[list[str], np.ndarray]:
    """Step names and users in position order, positions checked to run 1..n."""
    _require(frame, ("step", "position", "users"), name)
    ordered = frame.sort_values("position", kind="stable")
    positions = _whole(ordered["position"], name, "position")
    if len(ordered) < 1 or not np.array_equal(positions, np.arange(1, len(ordered) + 1)):
        raise ReportError(f"{name}: 'position' must run 1..n once each (one row per step)")
    return [str(s) for s in ordered["step"]], _whole(ordered["users"], name, "users")


def _segment_matrix(segments: pd.DataFrame) -> tuple[list[str], list[str], np.ndarray]:
    """Step names, segment names (sorted) and users as a segments x steps matrix."""
    _require(segments, ("segment", "step", "position", "users"), "segments")
    funnels = {str(k): _funnel(g, f"segments[{k!r}]") for k, g in segments.groupby("segment")}
    if not funnels:
        raise ReportError("segments: the frame has no rows; pass compute(by=...) output")
    steps = next(iter(funnels.values()))[0]
    for name, (own_steps, _) in funnels.items():
        _same_steps(steps, own_steps, f"segments[{name!r}]")
    return steps, list(funnels), np.vstack([users for _, users in funnels.values()])


def _same_steps(steps: list[str], other: list[str], name: str) -> None:
    if steps != other:
        raise ReportError(
            f"{name}: its steps {other} differ from the current funnel's {steps}; "
            "compare funnels with the same steps"
        )


def _step_names(steps: Sequence) -> list[str]:
    """Display names: a name as it is, a step spec's ``label`` or else its ``event``."""
    if isinstance(steps, str) or not isinstance(steps, Sequence) or not steps:
        raise ReportError("steps must be a non-empty list of the funnel's steps")
    names = [
        (step.get("label") or step.get("event")) if isinstance(step, Mapping) else step
        for step in steps
    ]
    if not all(isinstance(name, str) and name for name in names):
        raise ReportError(f"steps must be names or specs with an 'event', not {list(steps)!r}")
    return names


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ReportError(f"{name} must be a pandas DataFrame, not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReportError(f"{name} lacks column(s) {', '.join(map(repr, missing))}")


def _whole(column: pd.Series, name: str, label: str) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not (np.isfinite(values).all() and (values >= 0).all() and (values % 1 == 0).all()):
        raise ReportError(f"{name}: '{label}' must hold whole numbers >= 0 in every row")
    return values.astype(np.int64)


def _check_count(value, label: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ReportError(f"{label} must be a whole number >= 0, not {value!r}")


def _ratio(numerator, denominator) -> float | None:
    return float(numerator / denominator) if denominator > 0 else None


def _rates(numerator, denominator) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0."""
    top, bottom = np.broadcast_arrays(np.asarray(numerator, float), np.asarray(denominator, float))
    return np.divide(top, bottom, out=np.full(top.shape, np.nan), where=bottom > 0)
