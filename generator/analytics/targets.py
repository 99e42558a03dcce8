"""Target status of a KPI: on track, at risk (within the tolerance band) or off track."""

from __future__ import annotations

from typing import Literal

from generator.config import KpiTarget

__all__ = ["Status", "status"]

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
