"""KPIs as ratios of sums, at any grain, with null for a zero denominator.

``compute(frame, by=[...], kpis=[...])`` sums the canonical components per group and derives
each KPI from the sums (the definitions live in ``generator.metrics``). Money KPIs come out in
major units. A frame mixing currencies is refused unless ``currency`` is a grouping column:
convert to the reporting currency first (``analytics.currency``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from generator import formula
from generator.errors import ReportError
from generator.metrics import COMPONENTS, KPIS

__all__ = ["COMPONENT_COLUMNS", "change", "compute", "ratio", "summarize"]

#: Component name -> canonical column it is summed from (money in micros).
COMPONENT_COLUMNS = {
    "impressions": "impressions",
    "clicks": "clicks",
    "spend": "spend_micros",
    "conversions": "conversions",
    "value": "value_micros",
    "video_views": "video_views",
}
_MICROS = {"spend", "value"}


def ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 1.0) -> pd.Series:
    """``numerator / denominator * scale`` as nullable floats; a zero denominator gives <NA>."""
    num = pd.to_numeric(numerator).astype("Float64")
    den = pd.to_numeric(denominator).astype("Float64")
    out = (num / den.where(den != 0)) * scale
    return out.astype("Float64")


def summarize(frame: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Summed components per group, money in major units (spend, value).

    Components whose column is absent are left out. Raises ``ReportError`` when the
    frame holds several currencies and ``currency`` is not among ``by``.
    """
    by = list(by)
    _check_columns(frame, by)
    _check_currency(frame, by)
    present = {name: col for name, col in COMPONENT_COLUMNS.items() if col in frame.columns}
    if not present:
        raise ReportError(
            f"the frame has none of the KPI components ({', '.join(COMPONENT_COLUMNS.values())})"
        )
    data = frame[by + list(present.values())].rename(columns={v: k for k, v in present.items()})
    sums = (
        data.groupby(by, dropna=False, sort=True).sum(min_count=0).reset_index()
        if by
        else (data.sum(min_count=0).to_frame().T)
    )
    for name in present:
        if name in _MICROS:
            sums[name] = sums[name].astype("float64") / 1_000_000
    return sums


def compute(
    frame: pd.DataFrame,
    by: Sequence[str] = (),
    kpis: Sequence[str] | None = None,
    *,
    custom: Mapping[str, str] | None = None,
    components: bool = False,
) -> pd.DataFrame:
    """KPIs per group of ``by`` (all standard KPIs when ``kpis`` is None).

    Args:
        frame: canonical rows (impressions, clicks, spend_micros, conversions, value_micros).
        by: grouping columns; empty for one total row.
        kpis: names of standard or custom KPIs to compute.
        custom: name -> formula over components (client.yml's custom_kpis).
        components: also return the summed components.

    Returns:
        A new DataFrame: the ``by`` columns, [components], one nullable-float column per KPI.
    """
    custom = dict(custom or {})
    names = list(KPIS) + list(custom) if kpis is None else list(kpis)
    unknown = [k for k in names if k not in KPIS and k not in custom]
    if unknown:
        raise ReportError(f"unknown KPI {unknown[0]!r}; known: {', '.join([*KPIS, *custom])}")
    sums = summarize(frame, by)
    out = sums[list(by)].copy()
    if components:
        for name in COMPONENTS:
            if name in sums:
                out[name] = sums[name]
    for name in names:
        out[name] = _kpi(sums, name, custom)
    return out


def change(current: pd.Series | float, previous: pd.Series | float):
    """Relative change ``current / previous - 1``; null when previous is zero or missing."""
    if isinstance(current, pd.Series) or isinstance(previous, pd.Series):
        return ratio(pd.Series(current), pd.Series(previous)) - 1
    if (
        previous is None
        or pd.isna(previous)
        or previous == 0
        or current is None
        or pd.isna(current)
    ):
        return None
    return float(current) / float(previous) - 1


def _kpi(sums: pd.DataFrame, name: str, custom: Mapping[str, str]) -> pd.Series:
    if name in KPIS:
        k = KPIS[name]
        missing = [c for c in (k.numerator, k.denominator) if c not in sums]
        if missing:
            raise ReportError(f"KPI {name} needs the {missing[0]!r} component")
        return ratio(sums[k.numerator], sums[k.denominator], k.scale)
    parsed = formula.parse(custom[name], allowed=COMPONENTS)
    missing = sorted(parsed.names - set(sums.columns))
    if missing:
        raise ReportError(f"custom KPI {name} ({custom[name]!r}) needs {missing[0]!r}")
    values = parsed.evaluate({n: sums[n].to_numpy(dtype="float64") for n in parsed.names})
    series = pd.Series(np.atleast_1d(values), index=sums.index, dtype="Float64")
    return series.mask(series.isna() | ~np.isfinite(series.fillna(0).to_numpy(dtype=float)))


def _check_columns(frame: pd.DataFrame, by: Sequence[str]) -> None:
    missing = [c for c in by if c not in frame.columns]
    if missing:
        raise ReportError(f"cannot group by {missing[0]!r}: the frame has no such column")


def _check_currency(frame: pd.DataFrame, by: Sequence[str]) -> None:
    if "currency" in frame.columns and "currency" not in by and frame["currency"].nunique() > 1:
        found = ", ".join(sorted(frame["currency"].dropna().unique()))
        raise ReportError(
            f"the rows mix currencies ({found}); convert them to the reporting "
            "currency before summing"
        )
