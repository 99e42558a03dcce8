"""Campaigns and their ads: where they sit, how they rank, how they ran day by day."""

from __future__ import annotations

import altair as alt
import pandas as pd

from generator.charts._common import dates_as_text, highlight, numbers, require
from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME, platform_scale

__all__ = ["ad_performance", "campaign_daily", "campaign_map", "campaign_ranking"]


def campaign_map(
    frame: pd.DataFrame,
    *,
    measure: str = "roas",
    title: str = "Every campaign at a glance",
    currency: str = "USD",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """Spend (x) against ROAS or CPA (y) per campaign; bubble = conversions; legend filters."""
    require(frame, ["campaign_name", "platform", "spend", "conversions", measure], "campaign_map")
    data = numbers(frame, ["spend", "conversions", measure]).dropna(subset=[measure])
    pick = alt.selection_point(fields=["platform"], bind="legend")
    label = {"roas": "ROAS", "cpa": f"CPA ({currency})"}.get(measure, measure.upper())
    chart = (
        alt.Chart(data)
        .mark_circle(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("spend:Q", title=f"Spend ({currency})", scale=alt.Scale(type="sqrt")),
            y=alt.Y(f"{measure}:Q", title=label),
            size=alt.Size("conversions:Q", title="Conversions", scale=alt.Scale(range=[40, 900])),
            color=alt.Color("platform:N", scale=platform_scale(frame["platform"]), title=None),
            opacity=highlight(pick, 0.85, 0.1),
            tooltip=[
                alt.Tooltip("campaign_name:N"),
                alt.Tooltip("platform:N"),
                alt.Tooltip("spend:Q", format=",.0f"),
                alt.Tooltip("conversions:Q", format=",.1f"),
                alt.Tooltip(f"{measure}:Q", format=",.2f"),
            ],
        )
        .add_params(pick)
        .properties(title=title, width="container", height=320)
    )
    return with_theme(chart, theme)


def campaign_ranking(
    frame: pd.DataFrame,
    *,
    target: float | None = None,
    top: int = 12,
    title: str = "Campaigns by conversions",
    currency: str = "USD",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """The top campaigns by conversions, coloured by CPA against the target when there is one."""
    require(frame, ["campaign_name", "conversions", "cpa"], "campaign_ranking")
    data = numbers(frame, ["conversions", "cpa"]).nlargest(top, "conversions")
    data["name"] = data["campaign_name"].astype(str).str.slice(0, 48)
    if target is not None:
        data["against"] = (data["cpa"] <= target).map(
            {True: "CPA on target", False: "CPA above target"}
        )
        colour = alt.Color(
            "against:N",
            title=None,
            scale=alt.Scale(
                domain=["CPA on target", "CPA above target"], range=["#188038", "#d93025"]
            ),
        )
    else:
        colour = alt.ColorValue("#5f6368")
    chart = (
        alt.Chart(data)
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            y=alt.Y("name:N", sort="-x", title=None),
            x=alt.X("conversions:Q", title="Conversions"),
            color=colour,
            tooltip=[
                alt.Tooltip("campaign_name:N"),
                alt.Tooltip("conversions:Q", format=",.1f"),
                alt.Tooltip("cpa:Q", format=",.2f", title=f"CPA ({currency})"),
            ],
        )
        .properties(title=title, width="container")
    )
    return with_theme(chart, theme)


def campaign_daily(
    frame: pd.DataFrame,
    *,
    title: str = "Day by day",
    currency: str = "USD",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """Daily spend (bars) and conversions (line) of one campaign, on two axes."""
    require(frame, ["date", "spend", "conversions"], "campaign_daily")
    data = dates_as_text(numbers(frame, ["spend", "conversions"]), "date")
    # the data goes on the layer, once: on each layer Altair would hash it to merge them
    base = alt.Chart().encode(x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %d")))
    bars = base.mark_bar(opacity=0.35).encode(
        y=alt.Y("spend:Q", title=f"Spend ({currency})"),
        tooltip=[
            alt.Tooltip("date:T"),
            alt.Tooltip("spend:Q", format=",.2f"),
            alt.Tooltip("conversions:Q", format=",.1f"),
        ],
    )
    line = base.mark_line(point=True, strokeWidth=2).encode(
        y=alt.Y("conversions:Q", title="Conversions"), color=alt.ColorValue("#e07a1f")
    )
    chart = (
        alt.layer(bars, line, data=data)
        .resolve_scale(y="independent")
        .properties(title=title, width="container", height=240)
    )
    return with_theme(chart, theme)


def ad_performance(
    frame: pd.DataFrame, *, title: str = "Ads compared", theme: str = DEFAULT_THEME
) -> alt.Chart:
    """Click-through and conversion rate of each ad in a campaign."""
    require(frame, ["ad_name", "ctr", "cvr", "impressions"], "ad_performance")
    data = numbers(frame, ["ctr", "cvr", "impressions"])
    names = data["ad_name"].fillna(data["ad_id"]) if "ad_id" in data else data["ad_name"]
    data = data.assign(ad=names.astype(str).str.slice(0, 40))[["ad", "impressions", "ctr", "cvr"]]
    long = data.melt(
        ["ad", "impressions"], value_vars=["ctr", "cvr"], var_name="rate", value_name="value"
    ).dropna(subset=["value"])
    long["rate"] = long["rate"].map({"ctr": "Click-through rate", "cvr": "Conversion rate"})
    chart = (
        alt.Chart(long)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            y=alt.Y("ad:N", title=None, sort="-x"),
            x=alt.X("value:Q", title=None, axis=alt.Axis(format="%")),
            color=alt.Color("rate:N", title=None),
            yOffset=alt.YOffset("rate:N"),
            tooltip=[
                alt.Tooltip("ad:N"),
                alt.Tooltip("rate:N"),
                alt.Tooltip("value:Q", format=".2%"),
                alt.Tooltip("impressions:Q", format=","),
            ],
        )
        .properties(title=title, width="container")
    )
    return with_theme(chart, theme)
