"""Named charts and tables of a report, shared by the generated pages and the macros.

A chart name maps to a builder over the report's tables; authored pages call
``{{ chart("daily_spend") }}`` and get exactly the chart the overview shows.
"""

from __future__ import annotations

from collections.abc import Callable

import altair as alt
import pandas as pd

from generator import charts
from generator.errors import BuildError
from generator.site.fragments import Column
from generator.site.report import Report

__all__ = ["CHARTS", "TABLES", "build_chart"]


def _daily_spend(report: Report, theme: str) -> alt.Chart:
    return charts.daily_spend(
        report.frame("daily"), currency=report.summary["currency"], theme=theme
    )


def _platform_mix(report: Report, theme: str) -> alt.Chart:
    return charts.platform_mix(report.frame("platforms"), theme=theme)


CHARTS: dict[str, Callable[[Report, str], alt.Chart]] = {
    "daily_spend": _daily_spend,
    "platform_mix": _platform_mix,
}

_PERFORMANCE = [
    Column("spend", "Spend", "currency"),
    Column("impressions", "Impressions", "number"),
    Column("clicks", "Clicks", "number"),
    Column("ctr", "CTR", "percent"),
    Column("cpc", "CPC", "currency"),
    Column("conversions", "Conversions", "number"),
    Column("cpa", "CPA", "currency"),
    Column("value", "Value", "currency"),
    Column("roas", "ROAS", "ratio"),
]
#: table name -> (report table, columns)
TABLES: dict[str, tuple[str, list[Column]]] = {
    "platforms": ("platforms", [Column("platform", "Platform"), *_PERFORMANCE]),
    "campaigns": (
        "campaigns",
        [Column("campaign_name", "Campaign"), Column("platform", "Platform"), *_PERFORMANCE],
    ),
}


def build_chart(report: Report, name: str, theme: str) -> alt.Chart:
    try:
        builder = CHARTS[name]
    except KeyError:
        raise BuildError(f"no chart {name!r}; available: {', '.join(sorted(CHARTS))}") from None
    return builder(report, theme)


def table_frame(report: Report, name: str) -> tuple[pd.DataFrame, list[Column]]:
    try:
        source, columns = TABLES[name]
    except KeyError:
        raise BuildError(f"no table {name!r}; available: {', '.join(sorted(TABLES))}") from None
    return report.frame(source), columns
