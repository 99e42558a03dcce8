"""Budget pacing: is a flight's spend on course to land on its budget?

For a budget of ``amount`` over a flight ``start..end`` (inclusive, ``days`` long), ``as_of`` a day:

- *Elapsed* days are the flight days up to and including ``as_of`` (0 before the flight, all of
  them after it); a day with no row in ``daily`` is a day with zero spend and conversions. Data
  outside the flight, or after ``as_of``, is ignored.
- *Expected* spend is the linear plan: ``amount * days_elapsed / days``.
- *Projected* spend is what the flight will have spent at its end: spent so far plus the days left
  times the recent run rate, the mean daily spend of the last ``recent_days`` elapsed days (of all
  elapsed days when fewer). Seven by default: a week holds each weekday once, so weekday cycles
  (weekend dips, Monday peaks) cancel out instead of tilting the rate.
- The *interval* around it treats the remaining total over ``n`` days left as
  ``Normal(rate * n, sd * sqrt(n))``, ``sd`` being the sample (ddof=1) standard deviation of the
  same recent days, and gives its central ``level`` interval; the low end is clamped at what is
  already spent (spend cannot be undone). Conversions are projected the same way. A single
  elapsed day has no spread to measure: conversions then take the Poisson ``sd = sqrt(rate)``
  (they are counts), spend a zero-width interval (daily budgets cap it, and a guessed spread would
  be a number we cannot defend).
- ``ratio`` is projected / amount (null for a zero amount, and before the flight, when there is no
  run rate to project). Status: ``not_started`` before the flight, ``ended`` once ``as_of`` reaches
  its last day (the projection is then what was spent, the interval collapses), otherwise
  ``on_pace`` within ``tolerance`` of 1 (boundaries inclusive), else ``under`` or ``over``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from typing import Literal

import pandas as pd
from scipy.stats import norm

from generator.analytics._columns import require
from generator.errors import ReportError

__all__ = ["Budget", "Pace", "PaceStatus", "pace", "pacing"]

PaceStatus = Literal["on_pace", "under", "over", "not_started", "ended"]

_MEASURES = ["spend", "conversions"]
_SPEND = ("spent", "projected", "projected_low", "projected_high")
_CONVERSIONS = ("conversions", "conversions_projected", "conversions_low", "conversions_high")
_SLACK = 1e-9  # float rounding must not push a ratio of exactly 1 +- tolerance off pace


@dataclass(frozen=True)
class Budget:
    """A budget for one scope, resolved for one month from client.yml: ``label`` as the report
    names it ("All platforms", "Google Ads", a campaign), ``amount`` in the client's reporting
    currency for the flight ``start..end`` (inclusive). Raises ``ReportError`` if end < start."""

    label: str
    amount: float
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ReportError(
                f"budget {self.label!r} ends ({self.end}) before it starts ({self.start}); "
                "fix the flight dates in client.yml"
            )


@dataclass(frozen=True)
class Pace:
    """Where one budget stands ``as_of`` a date (definitions in the module docstring)."""

    label: str
    amount: float
    start: date
    end: date
    as_of: date
    days: int
    days_elapsed: int
    days_left: int
    spent: float
    expected: float
    projected: float
    projected_low: float
    projected_high: float
    conversions: float
    conversions_projected: float
    conversions_low: float
    conversions_high: float
    ratio: float | None
    status: PaceStatus

    def as_dict(self) -> dict[str, object]:
        """The fields as JSON-able values (dates as ISO strings)."""
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(self).items()}


def pace(
    daily: pd.DataFrame,
    budget: Budget,
    as_of: date,
    *,
    tolerance: float = 0.1,
    recent_days: int = 7,
    level: float = 0.8,
) -> Pace:
    """Pace of ``budget`` as of ``as_of`` (inclusive), from ``daily``: one row per ``date`` with
    ``spend`` and ``conversions``, of the budget's scope. ``tolerance``, ``recent_days`` and
    ``level`` (in (0, 1)) are as in the module docstring. Raises ``ReportError`` for missing
    columns, unreadable dates, non-numeric or negative values, or a parameter out of range."""
    if not (tolerance >= 0 and recent_days >= 1 and 0 < level < 1):
        raise ReportError(f"out of range: {tolerance=} (>= 0), {recent_days=} (>= 1), {level=}")
    days = (budget.end - budget.start).days + 1
    elapsed = min(max((as_of - budget.start).days + 1, 0), days)
    flight = _flight_days(daily, budget.start, elapsed)
    z = float(norm.ppf(0.5 + level / 2))
    left = days - elapsed
    spend = _project(flight["spend"], left, recent_days, z, counts=False)
    conversions = _project(flight["conversions"], left, recent_days, z, counts=True)
    ratio = spend[1] / budget.amount if elapsed and budget.amount > 0 else None
    return Pace(
        **asdict(budget),
        as_of=as_of,
        days=days,
        days_elapsed=elapsed,
        days_left=left,
        expected=float(budget.amount) * elapsed / days,
        ratio=ratio,
        **dict(zip(_SPEND, spend, strict=True)),
        **dict(zip(_CONVERSIONS, conversions, strict=True)),
        status=_status(elapsed, left, ratio, spend[1], tolerance),
    )


def pacing(
    daily_by_scope: Mapping[str, pd.DataFrame],
    budgets: Sequence[tuple[str, Budget]],
    as_of: date,
    *,
    tolerance: float = 0.1,
    recent_days: int = 7,
    level: float = 0.8,
) -> pd.DataFrame:
    """One row per ``(scope, budget)``, in order, with the columns of ``Pace.as_dict`` (``ratio``
    a nullable ``Float64``); ``daily_by_scope`` maps each scope key to its daily frame. Raises
    ``ReportError`` as ``pace`` does, or for a scope missing from ``daily_by_scope`` (give a scope
    without spend an empty frame: a misspelt key must not read as zero spend)."""
    missing = [scope for scope, _ in budgets if scope not in daily_by_scope]
    if missing:
        raise ReportError(
            f"no daily data for scope(s) {missing}; pass an empty frame for a scope without "
            f"spend (scopes given: {sorted(daily_by_scope)})"
        )
    kw = {"tolerance": tolerance, "recent_days": recent_days, "level": level}
    rows = [pace(daily_by_scope[key], budget, as_of, **kw).as_dict() for key, budget in budgets]
    out = pd.DataFrame(rows, columns=[field.name for field in fields(Pace)])
    out["ratio"] = out["ratio"].astype("Float64")
    return out


def _flight_days(daily: pd.DataFrame, start: date, elapsed: int) -> pd.DataFrame:
    """Spend and conversions for each of the first ``elapsed`` flight days, zeros filled in."""
    require(daily, ["date", *_MEASURES], "daily")
    try:
        dates = pd.to_datetime(daily["date"]).dt.date
        values = daily[_MEASURES].astype(float)
    except (TypeError, ValueError) as error:
        raise ReportError(f"daily has unreadable dates or non-numeric values: {error}") from None
    if (values < 0).any().any():
        raise ReportError("daily has negative spend or conversions; refunds are not spend")
    flight = [start + timedelta(days=offset) for offset in range(elapsed)]
    return values.groupby(dates.to_numpy()).sum().reindex(flight, fill_value=0.0)


def _project(values: pd.Series, left: int, recent: int, z: float, *, counts: bool) -> tuple:
    """(observed, projected, low, high) at flight end: the order of ``_SPEND``, ``_CONVERSIONS``."""
    observed = float(values.sum())
    window = values.iloc[-recent:]
    if left == 0 or window.size == 0:
        return observed, observed, observed, observed
    rate = float(window.mean())
    # One day has no spread: counts fall back to Poisson, spend to no width (module docstring).
    fallback = math.sqrt(rate) if counts else 0.0
    sd = float(window.std(ddof=1)) if window.size > 1 else fallback
    projected = observed + rate * left
    half = z * sd * math.sqrt(left)
    return observed, projected, max(observed, projected - half), projected + half


def _status(elapsed: int, left: int, ratio: float | None, spend: float, tol: float) -> PaceStatus:
    if elapsed == 0:
        return "not_started"
    if left == 0:
        return "ended"
    if ratio is None:  # a zero budget (config forbids it): any spend overshoots it
        return "over" if spend > 0 else "on_pace"
    if ratio - 1 > tol + _SLACK:
        return "over"
    return "under" if 1 - ratio > tol + _SLACK else "on_pace"
