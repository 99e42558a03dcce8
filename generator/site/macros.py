"""mkdocs-macros module: the report's data for pages the agency writes.

An authored page (``content/<client>/*.md``) may call::

    {{ kpi_cards() }}                 the scorecards
    {{ chart("daily_spend") }}        any named chart (see site.catalog.CHARTS)
    {{ table("campaigns", 10) }}      any named table (see site.catalog.TABLES)
    {{ creative_gallery(limit=6) }}   the best-spending ads' creatives
    {{ metric("roas") }}              one formatted headline number
    {{ client.name }}, {{ period.label }}

The build writes the analysis folder's path into ``extra.report_data``. What a page prints is
text, escaped (a client called ``<b>`` shows as ``<b>``), except the fragments the macros
build, which stand in the page as placeholders until the page has been sanitised (see
``generator.site.commentary``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup

from generator.errors import BuildError
from generator.site import formatting
from generator.site.escape import md
from generator.site.plugin import NAME, ReportPlugin
from generator.site.render import page_context
from generator.site.report import Report

__all__ = ["define_env", "on_pre_page_macros"]


def define_env(env: Any) -> None:
    """Register the report macros (called by mkdocs-macros)."""
    extra = env.conf.get("extra", {})
    if "report_data" not in extra:
        raise BuildError("extra.report_data is not set; build sites with campaign-report")
    plugin = env.conf.plugins.get(NAME)
    if not isinstance(plugin, ReportPlugin):
        raise BuildError(f"the {NAME} MkDocs plugin is missing; build sites with campaign-report")
    report = Report.load(Path(extra["report_data"]))
    context = page_context(report, extra.get("chart_theme", "campaign-report"), root="../")
    for name in ("kpi_cards", "chart", "table", "warnings", "creative_gallery"):
        env.macro(plugin.fragments.wrap(context[name]), name)
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


def on_pre_page_macros(env: Any) -> None:
    """Print every value as escaped text (called by mkdocs-macros before each page)."""
    env.env.finalize = _finalize


def _finalize(value: Any) -> Any:
    # Markup is a placeholder of ours, or what the page marked ``| safe`` itself: HTML that
    # the page's sanitiser still reads
    if isinstance(value, Markup):
        return value
    return md("" if value is None else value)
