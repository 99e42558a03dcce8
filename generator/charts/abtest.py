"""A/B tests of creatives: each ad's rate day by day, and how sure we are of it."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME

__all__ = ["arm_posteriors", "test_cumulative"]


def test_cumulative(daily: pd.DataFrame, *, metric_label: str, theme: str = DEFAULT_THEME):
    """Each variant's cumulative rate day by day (``creative_tests.cumulative``; ``name`` is
    the variant's label): lines that settle apart mean a real difference, lines that keep
    crossing an undecided test."""
    data = daily.dropna(subset=["rate"]).assign(date=lambda d: pd.to_datetime(d["date"]))
    chart = (
        alt.Chart(data[["date", "name", "rate", "successes", "trials"]])
        .mark_line(point=alt.OverlayMarkDef(size=18))
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("rate:Q", title=f"Cumulative {metric_label}", axis=alt.Axis(format=".1%")),
            color=alt.Color("name:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("name:N", title="Ad"),
                alt.Tooltip("date:T", title="Day"),
                alt.Tooltip("rate:Q", title=metric_label, format=".2%"),
                alt.Tooltip("successes:Q", title="So far", format=",.0f"),
                alt.Tooltip("trials:Q", title="Out of", format=",.0f"),
            ],
        )
        .properties(title=f"Cumulative {metric_label} by day", width="container", height=220)
    )
    return with_theme(chart, theme)


def arm_posteriors(arms: pd.DataFrame, *, metric_label: str, theme: str = DEFAULT_THEME):
    """Posterior densities (Beta(1 + successes, 1 + failures)) of every arm's rate; ``arms``
    has ``name``, ``successes`` and ``trials``."""
    curves = []
    for name, wins, trials in arms[["name", "successes", "trials"]].itertuples(index=False):
        dist = stats.beta(1 + wins, 1 + max(trials - wins, 0))
        grid = np.linspace(dist.ppf(0.0005), dist.ppf(0.9995), 120)
        curves.append(pd.DataFrame({"rate": grid, "density": dist.pdf(grid), "variant": name}))
    data = pd.concat(curves, ignore_index=True)
    chart = (
        alt.Chart(data)
        .mark_area(opacity=0.4, line=True)
        .encode(
            x=alt.X("rate:Q", title=metric_label.capitalize(), axis=alt.Axis(format=".1%")),
            y=alt.Y("density:Q", title=None, axis=None, stack=None),
            color=alt.Color("variant:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("variant:N", title="Ad"), alt.Tooltip("rate:Q", format=".2%")],
        )
        .properties(title=f"How sure we are of each {metric_label}", width="container", height=180)
    )
    return with_theme(chart, theme)
