"""Turning a chart into the plain Vega-Lite spec the site embeds."""

from __future__ import annotations

import altair as alt

from generator.charts.theme import DEFAULT_THEME

__all__ = ["to_spec", "with_theme"]


def with_theme(chart: alt.TopLevelMixin, theme: str) -> alt.TopLevelMixin:
    """A copy of ``chart`` that names the registered theme it is drawn with.

    Single and layered charts fit their container's width only (their height follows
    their content), which is what a report column needs.
    """
    chart = chart.properties(usermeta={"theme": theme})
    if isinstance(chart, alt.Chart | alt.LayerChart):
        chart = chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    return chart


def to_spec(chart: alt.TopLevelMixin, *, validate: bool = True) -> dict:
    """The chart as a Vega-Lite dict, data inline, styled by the theme it names.

    ``validate`` checks the spec against the Vega-Lite schema (a third of the time of a
    chart); the report site skips it for the catalog's charts, whose tests check every one.
    """
    usermeta = chart.usermeta if isinstance(chart.usermeta, dict) else {}
    theme = usermeta.get("theme", DEFAULT_THEME)
    with alt.theme.enable(theme), alt.data_transformers.enable("default", max_rows=None):
        return chart.to_dict(validate=validate)
