"""Performance over time and across platforms."""

from __future__ import annotations

import altair as alt
import pandas as pd

from generator.charts._common import highlight, require
from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME, platform_scale

__all__ = ["daily_spend", "platform_mix"]


def daily_spend(
    frame: pd.DataFrame,
    *,
    title: str = "Daily spend by platform",
    currency: str = "USD",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """Stacked daily spend per platform; click a legend entry to single one out.

    ``frame``: date, platform (label), spend (major units).
    """
    require(frame, ["date", "platform", "spend"], "daily_spend")
    pick = alt.selection_point(fields=["platform"], bind="legend")
    chart = (
        alt.Chart(frame.assign(date=pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")))
        .mark_area(interpolate="monotone")
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %d")),
            y=alt.Y("sum(spend):Q", title=f"Spend ({currency})", stack="zero"),
            color=alt.Color(
                "platform:N", scale=platform_scale(frame["platform"]), title="Platform"
            ),
            opacity=highlight(pick, 0.9, 0.15),
            tooltip=[
                alt.Tooltip("date:T", format="%a %b %d"),
                alt.Tooltip("platform:N"),
                alt.Tooltip("sum(spend):Q", title="Spend", format=",.2f"),
            ],
        )
        .add_params(pick)
        .properties(title=title, width="container", height=260)
    )
    return with_theme(chart, theme)


def platform_mix(
    frame: pd.DataFrame,
    *,
    title: str = "Share of spend and conversions",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """Each platform's share of spend next to its share of conversions.

    ``frame``: platform (label), spend, conversions.
    """
    require(frame, ["platform", "spend", "conversions"], "platform_mix")
    shares = frame[["platform", "spend", "conversions"]].copy()
    for column in ("spend", "conversions"):
        total = shares[column].sum()
        shares[column] = shares[column] / total if total else 0.0
    long = shares.melt("platform", var_name="measure", value_name="share")
    long["measure"] = long["measure"].map({"spend": "Spend", "conversions": "Conversions"})
    chart = (
        alt.Chart(long)
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            y=alt.Y("platform:N", title=None, sort="-x"),
            x=alt.X("share:Q", title="Share", axis=alt.Axis(format="%")),
            yOffset=alt.YOffset("measure:N", sort=["Spend", "Conversions"]),
            color=alt.Color("measure:N", title=None, sort=["Spend", "Conversions"]),
            tooltip=[
                alt.Tooltip("platform:N"),
                alt.Tooltip("measure:N"),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(title=title, width="container")
    )
    return with_theme(chart, theme)
