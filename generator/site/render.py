"""Render the report's Markdown pages from ``site_templates/pages`` with the analysis.

Templates are Jinja2. Every ``{{ value }}`` passes ``finalize``: plain strings (which may come
from a platform) are escaped by ``escape.md``; only fragments built here (``Markup``) go in
as they are. Forgetting a filter therefore cannot inject markup into a report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from generator.charts import to_spec
from generator.errors import BuildError
from generator.site import catalog, formatting, fragments
from generator.site.escape import md
from generator.site.report import Report
from generator.site.resources import templates_dir

__all__ = ["PAGES", "page_context", "render_pages"]

#: template -> output page, in navigation order
PAGES = {"overview.md.j2": "index.md", "methods.md.j2": "methods.md"}


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    if isinstance(value, str):
        return md(value)
    return value


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir() / "pages"),
        autoescape=False,  # Markdown output; escaping is done by _finalize instead
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=formatting.money,
        percent=formatting.percent,
        number=formatting.number,
        ratio=formatting.ratio,
        change=formatting.change,
        fmt=formatting.fmt,
    )
    return env


def page_context(report: Report, theme: str) -> dict[str, Any]:
    """What templates (and macros) can use: the summary plus fragment builders."""
    summary = report.summary
    currency = summary["currency"]

    def chart(name: str, caption: str | None = None) -> Markup:
        return fragments.chart(
            to_spec(catalog.build_chart(report, name, theme)), name, caption=caption
        )

    def table(name: str, limit: int | None = None) -> Markup:
        frame, columns = catalog.table_frame(report, name)
        return fragments.table(frame, columns, currency=currency, limit=limit)

    return {
        **summary,
        "kpi_cards": lambda: fragments.kpi_cards(summary["cards"], currency),
        "chart": chart,
        "table": table,
        "warnings": lambda: fragments.warnings(summary.get("warnings", [])),
    }


def render_pages(report: Report, docs: Path, theme: str) -> list[Path]:
    """Write every generated page into ``docs``; returns their paths."""
    env, context = _environment(), page_context(report, theme)
    written = []
    for template, page in PAGES.items():
        try:
            text = env.get_template(template).render(context)
        except jinja2.TemplateError as exc:
            raise BuildError(f"rendering {template}: {exc}") from exc
        target = docs / page
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
