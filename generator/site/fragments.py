"""HTML fragments the pages and the macros share: KPI cards, chart embeds, tables.

Every value that may come from a platform is escaped here; a fragment is ``Markup`` and
goes into a page as a raw HTML block, which Markdown leaves alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from generator.site import formatting
from generator.site.escape import script_json

__all__ = ["Column", "chart", "kpi_cards", "table", "warnings"]

_STATUS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track"}


@dataclass(frozen=True)
class Column:
    """A table column: source key, heading, unit (text, number, currency, percent, ratio)."""

    key: str
    label: str
    unit: str = "text"


def kpi_cards(cards: Iterable[Mapping[str, Any]], currency: str) -> Markup:
    """A grid of scorecards with change and target status."""
    items = []
    for card in cards:
        value = formatting.fmt(card["value"], card["unit"], currency)
        change = card.get("change")
        trend = ""
        if change is not None:
            good = card.get("higher_is_better")
            tone = (
                "neutral"
                if good is None or change == 0
                else ("good" if (change > 0) == good else "bad")
            )
            arrow = "▲" if change > 0 else "▼" if change < 0 else "■"
            trend = (
                f'<span class="kpi-change kpi-{tone}">{arrow} '
                f"{escape(formatting.change(change))}</span>"
            )
        target = ""
        if card.get("status"):
            target_value = formatting.fmt(card["target"], card["unit"], currency)
            target = (
                f'<span class="kpi-status kpi-{card["status"]}">'
                f"{_STATUS[card['status']]} · target {escape(target_value)}</span>"
            )
        items.append(
            f'<div class="kpi-card"><span class="kpi-label">{escape(card["label"])}</span>'
            f'<span class="kpi-value">{escape(value)}</span>{trend}{target}</div>'
        )
    return Markup(f'<div class="kpi-grid">{"".join(items)}</div>')


def chart(spec: Mapping[str, Any], chart_id: str, *, caption: str | None = None) -> Markup:
    """A chart placeholder plus its spec; ``charts.js`` draws it with the bundled Vega."""
    safe_id = "chart-" + re.sub(r"[^a-z0-9-]", "-", chart_id.lower())
    note = f'<p class="chart-caption">{escape(caption)}</p>' if caption else ""
    return Markup(
        f'<div class="report-chart"><div class="vega-chart" data-spec="{safe_id}"></div>'
        f'<script type="application/json" id="{safe_id}">{script_json(dict(spec))}</script>'
        f"{note}</div>"
    )


def table(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    currency: str = "USD",
    limit: int | None = None,
) -> Markup:
    """An HTML table of ``frame``'s ``columns``; cells escaped, numbers right-aligned."""
    rows = frame.head(limit) if limit else frame
    head = "".join(
        f'<th class="{"num" if c.unit != "text" else ""}">{escape(c.label)}</th>' for c in columns
    )
    body = []
    for record in rows.to_dict("records"):
        cells = []
        for c in columns:
            value = record.get(c.key)
            if c.unit == "text":
                cells.append(f"<td>{escape('' if value is None else str(value))}</td>")
            else:
                cells.append(
                    f'<td class="num">{escape(formatting.fmt(value, c.unit, currency))}</td>'
                )
        body.append(f"<tr>{''.join(cells)}</tr>")
    return Markup(
        f'<div class="report-table"><table class="report"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def warnings(messages: Iterable[str]) -> Markup:
    """An admonition-styled box listing data warnings (nothing when there are none)."""
    items = "".join(f"<li>{escape(m)}</li>" for m in messages)
    if not items:
        return Markup("")
    return Markup(
        f'<div class="admonition warning"><p class="admonition-title">Data warnings'
        f"</p><ul>{items}</ul></div>"
    )
