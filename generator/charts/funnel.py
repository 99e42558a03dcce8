"""The site funnel and where site traffic comes from (analytics data)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from generator.charts._common import dates_as_text, highlight, numbers, require
from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME

__all__ = ["funnel_steps", "sessions_by_channel"]


def funnel_steps(
    frame: pd.DataFrame, *, title: str = "Site funnel", theme: str = DEFAULT_THEME
) -> alt.LayerChart:
    """Each step's users as a bar, labelled with the conversion from the step before.

    ``frame``: step (name), position, users, rate_from_previous (1 for the first step).
    """
    require(frame, ["step", "position", "users", "rate_from_previous"], "funnel_steps")
    data = numbers(frame, ["users", "rate_from_previous"]).sort_values("position")
    data["label"] = [
        "" if p == 1 or pd.isna(r) else f"{r:.0%} of previous"
        for p, r in zip(data["position"], data["rate_from_previous"], strict=True)
    ]
    order = data["step"].tolist()
    base = alt.Chart(data).encode(y=alt.Y("step:N", sort=order, title=None))
    bars = base.mark_bar(cornerRadiusEnd=3).encode(
        x=alt.X("users:Q", title="Users"),
        color=alt.Color(
            "position:O", legend=None, scale=alt.Scale(scheme="tealblues", reverse=True)
        ),
        tooltip=[
            alt.Tooltip("step:N"),
            alt.Tooltip("users:Q", format=","),
            alt.Tooltip("rate_from_previous:Q", format=".1%", title="from previous step"),
        ],
    )
    text = base.mark_text(align="left", dx=4, color="#3c4043").encode(
        x=alt.X("users:Q"), text=alt.Text("label:N")
    )
    chart = alt.layer(bars, text).properties(title=title, width="container", height=46 * len(data))
    return with_theme(chart, theme)


def sessions_by_channel(
    frame: pd.DataFrame, *, title: str = "Site visits by channel", theme: str = DEFAULT_THEME
) -> alt.Chart:
    """Daily sessions per channel, stacked; click the legend to isolate one.

    ``frame``: date, channel, sessions.
    """
    require(frame, ["date", "channel", "sessions"], "sessions_by_channel")
    data = dates_as_text(numbers(frame, ["sessions"]), "date")
    pick = alt.selection_point(fields=["channel"], bind="legend")
    chart = (
        alt.Chart(data)
        .mark_area()
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %d")),
            y=alt.Y("sum(sessions):Q", title="Sessions", stack="zero"),
            color=alt.Color("channel:N", title=None, scale=alt.Scale(scheme="tableau10")),
            opacity=highlight(pick, 0.85, 0.12),
            tooltip=[
                alt.Tooltip("date:T"),
                alt.Tooltip("channel:N"),
                alt.Tooltip("sum(sessions):Q", format=",", title="sessions"),
            ],
        )
        .add_params(pick)
        .properties(title=title, width="container", height=260)
    )
    return with_theme(chart, theme)
