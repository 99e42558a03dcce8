"""Target status of a KPI: on track, at risk (within the tolerance band) or off track."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd

from generator.config import CustomKpi, KpiTarget
from generator.metrics import KPIS

__all__ = ["Status", "status", "statuses"]

Status = Literal["on_track", "at_risk", "off_track"]


def status(value: float | None, target: KpiTarget, higher_is_better: bool) -> Status | None:
    """Where ``value`` stands against ``target``; None when there is no value.

    The target's own ``direction`` overrides the KPI's natural one. 'At risk' means short
    of the target by no more than ``tolerance`` (relative).
    """
    if value is None or value != value:  # None or NaN
        return None
    higher = target.direction == "higher" if target.direction else higher_is_better
    if higher:
        if value >= target.target:
            return "on_track"
        return "at_risk" if value >= target.target * (1 - target.tolerance) else "off_track"
    if value <= target.target:
        return "on_track"
    return "at_risk" if value <= target.target * (1 + target.tolerance) else "off_track"


def statuses(
    frame: pd.DataFrame,
    targets: Mapping[str, KpiTarget],
    *,
    custom: Mapping[str, CustomKpi] | None = None,
) -> pd.DataFrame:
    """A copy of ``frame`` (KPI columns, e.g. from ``kpis.compute``) with a ``<kpi>_status``
    column for each targeted KPI it holds; a null KPI gives a null status."""
    custom = dict(custom or {})
    out = frame.copy()
    for name, target in targets.items():
        if name not in frame.columns:
            continue
        higher = KPIS[name].higher_is_better if name in KPIS else _custom_higher(custom, name)
        found = [status(None if pd.isna(v) else float(v), target, higher) for v in frame[name]]
        out[f"{name}_status"] = pd.Series(found, index=frame.index, dtype=object)
    return out


def _custom_higher(custom: Mapping[str, CustomKpi], name: str) -> bool:
    return custom[name].higher_is_better if name in custom else True
