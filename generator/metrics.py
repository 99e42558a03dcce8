"""KPI definitions: the one place each ratio is defined.

Every KPI is a ratio of two summed components, recomputed at whatever grain it is shown (never
an average of ratios); a zero denominator gives null. ``generator.analytics.kpis`` computes
them, config validates targets against them, and the methods page of every report prints them.
Money components (``spend``, ``value``) are in major units of the reporting currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["COMPONENTS", "KPIS", "KpiDefinition"]

#: Summable components a KPI or custom formula may use.
COMPONENTS = ("impressions", "clicks", "spend", "conversions", "value", "video_views")


@dataclass(frozen=True)
class KpiDefinition:
    """What a KPI means and how it is shown."""

    name: str
    label: str
    numerator: str
    denominator: str
    scale: float
    higher_is_better: bool
    unit: Literal["percent", "currency", "ratio", "number"]
    definition: str


KPIS: dict[str, KpiDefinition] = {
    k.name: k
    for k in (
        KpiDefinition("ctr", "CTR", "clicks", "impressions", 1.0, True, "percent",
                      "clicks / impressions"),
        KpiDefinition("cpc", "CPC", "spend", "clicks", 1.0, False, "currency",
                      "spend / clicks"),
        KpiDefinition("cpm", "CPM", "spend", "impressions", 1000.0, False, "currency",
                      "spend / impressions x 1000"),
        KpiDefinition("cvr", "Conversion rate", "conversions", "clicks", 1.0, True, "percent",
                      "conversions / clicks"),
        KpiDefinition("cpa", "CPA", "spend", "conversions", 1.0, False, "currency",
                      "spend / conversions"),
        KpiDefinition("roas", "ROAS", "value", "spend", 1.0, True, "ratio",
                      "conversion value / spend"),
        KpiDefinition("aov", "AOV", "value", "conversions", 1.0, True, "currency",
                      "conversion value / conversions"),
    )
}  # fmt: skip
