"""Comparing platforms: a KPI of your choice, efficiency, change, share, funnel rates."""

from __future__ import annotations

import altair as alt
import pandas as pd

from generator.charts._common import highlight, numbers, require
from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME, platform_scale

__all__ = [
    "change_by_platform",
    "efficiency",
    "kpi_by_platform",
    "rates_by_platform",
    "spend_share",
]

_KPIS = {
    "CPA": "cpa",
    "ROAS": "roas",
    "CPC": "cpc",
    "CTR": "ctr",
    "Conversion rate": "cvr",
    "CPM": "cpm",
}
_FORMATS = {
    "CPA": ",.2f",
    "ROAS": ".2f",
    "CPC": ",.2f",
    "CTR": ".2%",
    "Conversion rate": ".2%",
    "CPM": ",.2f",
}


def kpi_by_platform(
    frame: pd.DataFrame, *, title: str = "Platforms compared", theme: str = DEFAULT_THEME
) -> alt.Chart:
    """One KPI per platform, the KPI chosen from a dropdown. ``frame``: platform + KPIs."""
    require(frame, ["platform", *_KPIS.values()], "kpi_by_platform")
    long = numbers(frame[["platform", *_KPIS.values()]], list(_KPIS.values()))
    long = long.rename(columns={v: k for k, v in _KPIS.items()})
    long = long.melt("platform", value_vars=list(_KPIS), var_name="kpi", value_name="value")
    pick = alt.param(
        name="kpi_choice", value="CPA", bind=alt.binding_select(options=list(_KPIS), name="KPI ")
    )
    chart = (
        alt.Chart(long.dropna(subset=["value"]))
        .transform_filter(alt.datum.kpi == pick)
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            y=alt.Y("platform:N", sort="-x", title=None),
            x=alt.X("value:Q", title=None),
            color=alt.Color("platform:N", scale=platform_scale(frame["platform"]), legend=None),
            tooltip=[
                alt.Tooltip("platform:N"),
                alt.Tooltip("kpi:N"),
                alt.Tooltip("value:Q", format=",.4~f"),
            ],
        )
        .add_params(pick)
        .properties(title=title, width="container")
    )
    return with_theme(chart, theme)


def efficiency(
    frame: pd.DataFrame,
    *,
    title: str = "Spend against cost per conversion",
    currency: str = "USD",
    label: str = "platform",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """Spend (x) against CPA (y), bubble size = conversions: where money works hardest."""
    require(frame, [label, "platform", "spend", "cpa", "conversions"], "efficiency")
    data = numbers(frame, ["spend", "cpa", "conversions"]).dropna(subset=["cpa"])
    pick = alt.selection_point(fields=["platform"], bind="legend")
    chart = (
        alt.Chart(data)
        .mark_circle(opacity=0.8, stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("spend:Q", title=f"Spend ({currency})", scale=alt.Scale(zero=False)),
            y=alt.Y("cpa:Q", title=f"CPA ({currency})"),
            size=alt.Size("conversions:Q", title="Conversions", scale=alt.Scale(range=[60, 1400])),
            color=alt.Color("platform:N", scale=platform_scale(frame["platform"]), title=None),
            opacity=highlight(pick, 0.85, 0.15),
            tooltip=[
                f"{label}:N",
                alt.Tooltip("platform:N"),
                alt.Tooltip("spend:Q", format=",.0f"),
                alt.Tooltip("conversions:Q", format=",.1f"),
                alt.Tooltip("cpa:Q", format=",.2f"),
            ],
        )
        .add_params(pick)
        .properties(title=title, width="container", height=300)
    )
    return with_theme(chart, theme)


def change_by_platform(
    frame: pd.DataFrame,
    *,
    title: str = "Change on the previous period",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """Relative change of spend and conversions per platform (diverging bars)."""
    require(frame, ["platform", "spend_change", "conversions_change"], "change_by_platform")
    data = numbers(frame, ["spend_change", "conversions_change"])
    long = data.melt(
        "platform",
        value_vars=["spend_change", "conversions_change"],
        var_name="measure",
        value_name="change",
    ).dropna(subset=["change"])
    long["measure"] = long["measure"].map(
        {"spend_change": "Spend", "conversions_change": "Conversions"}
    )
    chart = (
        alt.Chart(long)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            y=alt.Y("platform:N", title=None),
            yOffset=alt.YOffset("measure:N"),
            x=alt.X("change:Q", title="Change", axis=alt.Axis(format="+%")),
            color=alt.Color("measure:N", title=None),
            tooltip=[
                alt.Tooltip("platform:N"),
                alt.Tooltip("measure:N"),
                alt.Tooltip("change:Q", format="+.1%"),
            ],
        )
        .properties(title=title, width="container")
    )
    return with_theme(chart, theme)


def spend_share(
    frame: pd.DataFrame, *, title: str = "Share of spend", theme: str = DEFAULT_THEME
) -> alt.Chart:
    """A donut of each platform's share of spend."""
    require(frame, ["platform", "spend"], "spend_share")
    data = numbers(frame, ["spend"])
    data["share"] = data["spend"] / data["spend"].sum() if data["spend"].sum() else 0.0
    chart = (
        alt.Chart(data)
        .mark_arc(innerRadius=70, outerRadius=120, stroke="white")
        .encode(
            theta=alt.Theta("spend:Q", stack=True),
            color=alt.Color(
                "platform:N",
                scale=platform_scale(frame["platform"]),
                title=None,
                # beside the donut, one platform a line: eleven platforms never fit under it
                legend=alt.Legend(orient="right", columns=1),
            ),
            order=alt.Order("spend:Q", sort="descending"),
            tooltip=[
                alt.Tooltip("platform:N"),
                alt.Tooltip("spend:Q", format=",.0f"),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(title=title, width=280, height=260)
    )
    # a donut keeps its size (fitting the width would squeeze it behind its legend)
    return with_theme(chart, theme).properties(autosize=alt.AutoSizeParams(type="pad"))


def rates_by_platform(
    frame: pd.DataFrame,
    *,
    title: str = "From impression to conversion",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """Click-through and conversion rates per platform, side by side."""
    require(frame, ["platform", "ctr", "cvr"], "rates_by_platform")
    data = numbers(frame[["platform", "ctr", "cvr"]], ["ctr", "cvr"])
    long = data.melt("platform", value_vars=["ctr", "cvr"], var_name="rate", value_name="value")
    long["rate"] = long["rate"].map({"ctr": "Click-through rate", "cvr": "Conversion rate"})
    chart = (
        alt.Chart(long.dropna(subset=["value"]))
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            y=alt.Y("platform:N", title=None),
            yOffset=alt.YOffset("rate:N"),
            x=alt.X("value:Q", title=None, axis=alt.Axis(format="%")),
            color=alt.Color("rate:N", title=None),
            tooltip=[
                alt.Tooltip("platform:N"),
                alt.Tooltip("rate:N"),
                alt.Tooltip("value:Q", format=".2%"),
            ],
        )
        .properties(title=title, width="container")
    )
    return with_theme(chart, theme)
