"""mkdocs-macros module: the report's data for pages the agency writes.

An authored page (``content/<client>/*.md``) may call::

    {{ kpi_cards() }}                 the scorecards
    {{ chart("daily_spend") }}        any named chart (see site.catalog.CHARTS)
    {{ table("campaigns", 10) }}      any named table (see site.catalog.TABLES)
    {{ creative_gallery(limit=6) }}   the best-spending ads' creatives
    {{ metric("roas") }}              one formatted headline number
    {{ client.name }}, {{ period.label }}

The build writes the analysis folder's path into ``extra.report_data``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generator.errors import BuildError
from generator.site import formatting
from generator.site.render import page_context
from generator.site.report import Report

__all__ = ["define_env"]


def define_env(env: Any) -> None:
    """Register the report macros (called by mkdocs-macros)."""
    extra = env.conf.get("extra", {})
    if "report_data" not in extra:
        raise BuildError("extra.report_data is not set; build sites with campaign-report")
    report = Report.load(Path(extra["report_data"]))
    context = page_context(report, extra.get("chart_theme", "campaign-report"), root="../")
    for name in ("kpi_cards", "chart", "table", "warnings", "creative_gallery"):
        env.macro(context[name], name)
    for name in ("client", "period", "previous", "agency"):
        env.variables[name] = report.summary.get(name)

    @env.macro
    def metric(key: str) -> str:
        """One headline number, formatted (e.g. ``metric("roas")`` -> ``3.42x``)."""
        for card in report.summary["cards"]:
            if card["key"] == key:
                return formatting.fmt(card["value"], card["unit"], report.summary["currency"])
        known = ", ".join(c["key"] for c in report.summary["cards"])
        raise BuildError(f"metric({key!r}): no such headline number (known: {known})")
