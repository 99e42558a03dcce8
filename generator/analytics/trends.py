"""Trends over time: weekly and rolling series, weekday patterns, and anomalous days.

All series are built from summed components and KPIs recomputed at their grain (a 7-day
rolling CPA is rolling spend over rolling conversions). Anomalies compare each day with the
same weekday in the weeks before it, on a log scale, and score the gap in robust standard
deviations (median absolute deviation), so one odd day does not hide the next.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from generator.analytics.kpis import compute
from generator.errors import ReportError

__all__ = ["anomalies", "day_of_week", "rolling", "weekly"]

#: the smallest spread believed (8% on the log scale): smaller swings are business as usual
_MIN_SPREAD = 0.08
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def weekly(frame: pd.DataFrame, by: Sequence[str] = ("platform",)) -> pd.DataFrame:
    """Components and KPIs per ISO week (``week`` = its Monday) and ``by``."""
    _require(frame, ["date"])
    days = pd.to_datetime(frame["date"])
    weeks = frame.assign(week=(days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.date)
    return compute(weeks, ["week", *by], components=True)


def rolling(frame: pd.DataFrame, window: int = 7) -> pd.DataFrame:
    """Daily totals with ``window``-day rolling sums and the KPIs of those sums.

    Columns: date, the daily components, and ``<kpi>_rolling`` for ctr, cpc, cpa, roas, cvr.
    """
    daily = compute(frame, ["date"], components=True).sort_values("date", ignore_index=True)
    sums = (
        daily[["impressions", "clicks", "spend", "conversions", "value"]]
        .rolling(window, min_periods=1)
        .sum()
    )
    rolled = _kpis_of(sums)
    for name in ("ctr", "cpc", "cpa", "roas", "cvr"):
        daily[f"{name}_rolling"] = rolled[name].to_numpy()
    return daily


def day_of_week(frame: pd.DataFrame) -> pd.DataFrame:
    """Components and KPIs per weekday (Mon..Sun), with the average per day."""
    _require(frame, ["date"])
    days = pd.to_datetime(frame["date"])
    out = compute(frame.assign(weekday=days.dt.day_of_week), ["weekday"], components=True)
    counts = days.groupby(days.dt.day_of_week).nunique().reindex(out["weekday"]).to_numpy()
    for column in ("spend", "conversions", "clicks"):
        out[f"{column}_per_day"] = out[column] / np.maximum(counts, 1)
    out["weekday_name"] = [_WEEKDAYS[d] for d in out["weekday"]]
    return out


def anomalies(
    frame: pd.DataFrame,
    metric: str,
    *,
    by: Sequence[str] = (),
    weeks: int = 4,
    threshold: float = 3.5,
) -> pd.DataFrame:
    """Days whose ``metric`` (a component such as conversions or spend) is far from normal.

    The expectation for a day is the median of the same weekday over the ``weeks`` before it;
    the score is the log-ratio to it divided by the robust spread (1.4826 x MAD) of the
    log-ratios of the twice as many weeks before, or by the Poisson noise of the expected
    count, or by 8%, whichever is largest (so a quiet campaign going from 0 to 3, or a 5%
    wobble of a smooth series, is not an anomaly).

    Returns date, the ``by`` columns, value, expected, ratio, score and direction ("spike"
    or "drop") for the days with |score| >= threshold, most extreme first.
    """
    series = compute(frame, ["date", *by], components=True)
    if metric not in series:
        raise ReportError(f"anomalies: {metric!r} is not a component of the frame")
    found = [_score(group, metric, weeks) for _, group in _groups(series, by)]
    scored = pd.concat(found, ignore_index=True) if found else series.iloc[:0]
    if scored.empty:
        return pd.DataFrame(
            columns=["date", *by, "value", "expected", "ratio", "score", "direction"]
        )
    flagged = scored[scored["score"].abs() >= threshold].copy()
    flagged["direction"] = np.where(flagged["score"] > 0, "spike", "drop")
    order = flagged["score"].abs().sort_values(ascending=False).index
    return flagged.loc[
        order, ["date", *by, "value", "expected", "ratio", "score", "direction"]
    ].reset_index(drop=True)


def _score(group: pd.DataFrame, metric: str, weeks: int) -> pd.DataFrame:
    group = group.sort_values("date").set_index(pd.to_datetime(group["date"]))
    full = group.reindex(pd.date_range(group.index.min(), group.index.max(), freq="D"))
    value = full[metric].fillna(0.0).astype(float)
    log = np.log1p(value)
    lagged = pd.concat([log.shift(7 * k) for k in range(1, weeks + 1)], axis=1)
    expected_log = lagged.median(axis=1, skipna=False)
    ratio_log = log - expected_log
    history = pd.concat([ratio_log.shift(7 * k) for k in range(1, 2 * weeks + 1)], axis=1)
    spread = 1.4826 * (history.sub(history.median(axis=1), axis=0)).abs().median(axis=1)
    # counts are noisy when small: never trust a spread tighter than Poisson noise allows
    noise = 1 / np.sqrt(np.expm1(expected_log).clip(lower=0) + 1)
    score = ratio_log / np.maximum(np.maximum(spread, noise), _MIN_SPREAD)
    out = full.assign(
        value=value, expected=np.expm1(expected_log), ratio=np.exp(ratio_log), score=score
    )
    out = out[out["score"].notna() & group.reindex(full.index)["date"].notna()]
    out["date"] = out.index.date
    return out.reset_index(drop=True)


def _groups(series: pd.DataFrame, by: Sequence[str]):
    if not by:
        yield (), series
        return
    yield from series.groupby(list(by), dropna=False)


def _kpis_of(sums: pd.DataFrame) -> pd.DataFrame:
    micros = sums.assign(
        spend_micros=(sums["spend"] * 1e6).round().astype("int64"),
        value_micros=(sums["value"] * 1e6).round().astype("int64"),
    )
    rows = micros.drop(columns=["spend", "value"]).reset_index(drop=True)
    rows["row"] = np.arange(len(rows))
    return compute(rows, ["row"]).drop(columns=["row"])


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReportError(f"the frame has no {missing[0]!r} column")
