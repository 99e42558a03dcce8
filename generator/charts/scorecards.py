"""The headline numbers as pictures: small trend lines and targets."""

from __future__ import annotations

import altair as alt
import pandas as pd

from generator.charts._common import dates_as_text, numbers, require
from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME

__all__ = ["sparklines", "target_bullets"]

_SPARKS = {"spend": "Spend", "conversions": "Conversions", "cpa": "CPA", "roas": "ROAS"}


def sparklines(
    frame: pd.DataFrame, *, title: str = "Day by day this period", theme: str = DEFAULT_THEME
) -> alt.FacetChart:
    """Small multiples of spend, conversions, CPA and ROAS per day (each on its own scale).

    ``frame``: date plus those columns (daily totals with KPIs).
    """
    require(frame, ["date", *_SPARKS], "sparklines")
    data = dates_as_text(numbers(frame[["date", *_SPARKS]], list(_SPARKS)), "date")
    data = data.rename(columns=_SPARKS)
    long = data.melt(
        "date", value_vars=list(_SPARKS.values()), var_name="measure", value_name="value"
    )
    chart = (
        alt.Chart(long)
        .mark_area(line={"strokeWidth": 1.5}, opacity=0.25)
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%d", labelFontSize=9)),
            y=alt.Y(
                "value:Q",
                title=None,
                scale=alt.Scale(zero=False),
                axis=alt.Axis(labelFontSize=9, tickCount=3),
            ),
            tooltip=[
                alt.Tooltip("date:T"),
                alt.Tooltip("measure:N"),
                alt.Tooltip("value:Q", format=",.2f"),
            ],
        )
        .properties(width=150, height=70)
        .facet(facet=alt.Facet("measure:N", title=None, sort=list(_SPARKS.values())), columns=4)
        .resolve_scale(y="independent")
        .properties(title=title)
    )
    return with_theme(chart, theme)


def target_bullets(
    cards: pd.DataFrame, *, title: str = "Against target", theme: str = DEFAULT_THEME
) -> alt.LayerChart:
    """Each KPI with a target as a bullet: the bar is the actual as a share of target, the
    rule is the target (100%), the band the tolerance. ``cards``: label, value, target,
    higher_is_better."""
    require(cards, ["label", "value", "target", "higher_is_better"], "target_bullets")
    data = numbers(cards.dropna(subset=["target", "value"]), ["value", "target"])
    data["share"] = data["value"] / data["target"]
    data["good"] = [
        (s >= 1) if h else (s <= 1)
        for s, h in zip(data["share"], data["higher_is_better"], strict=True)
    ]
    data["verdict"] = data["good"].map({True: "meets target", False: "misses target"})
    base = alt.Chart(data).encode(y=alt.Y("label:N", title=None))
    bars = base.mark_bar(height=16, cornerRadiusEnd=3).encode(
        x=alt.X(
            "share:Q",
            title="Actual as a share of target",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, max(1.5, float(data["share"].max() or 1) * 1.05)]),
        ),
        color=alt.Color(
            "verdict:N",
            title=None,
            scale=alt.Scale(domain=["meets target", "misses target"], range=["#188038", "#d93025"]),
        ),
        tooltip=[
            alt.Tooltip("label:N"),
            alt.Tooltip("value:Q", format=",.3~f"),
            alt.Tooltip("target:Q", format=",.3~f"),
            alt.Tooltip("share:Q", format=".0%"),
        ],
    )
    rule = (
        alt.Chart(pd.DataFrame({"x": [1.0]}))
        .mark_rule(strokeWidth=2, color="#202124")
        .encode(x=alt.X("x:Q"))
    )
    chart = alt.layer(bars, rule).properties(
        title=title, width="container", height=max(60, 34 * len(data))
    )
    return with_theme(chart, theme)
