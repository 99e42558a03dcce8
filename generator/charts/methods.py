"""How fresh the data is."""

from __future__ import annotations

import altair as alt
import pandas as pd

from generator.charts._common import dates_as_text, require
from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME

__all__ = ["freshness"]


def freshness(
    frame: pd.DataFrame, *, title: str = "Data held per account", theme: str = DEFAULT_THEME
) -> alt.Chart:
    """One bar per account from the first to the last stored day, coloured by sync status.

    ``frame``: account (label), first, last, status.
    """
    require(frame, ["account", "first", "last", "status"], "freshness")
    data = dates_as_text(frame.dropna(subset=["first", "last"]), "first", "last")
    chart = (
        alt.Chart(data)
        .mark_bar(height=14, cornerRadius=3)
        .encode(
            y=alt.Y("account:N", title=None),
            x=alt.X("first:T", title=None),
            x2=alt.X2("last:T"),
            color=alt.Color(
                "status:N",
                title=None,
                scale=alt.Scale(
                    domain=["up to date", "stale", "failed", "never synced"],
                    range=["#188038", "#f9ab00", "#d93025", "#9aa0a6"],
                ),
            ),
            tooltip=[
                alt.Tooltip("account:N"),
                alt.Tooltip("first:T", title="from"),
                alt.Tooltip("last:T", title="through"),
                alt.Tooltip("status:N"),
            ],
        )
        .properties(title=title, width="container", height=max(60, 28 * len(data)))
    )
    return with_theme(chart, theme)
