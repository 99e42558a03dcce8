"""A/B tests of creatives: the two conversion rates with their uncertainty."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME

__all__ = ["ab_posteriors"]


def ab_posteriors(
    a: tuple[int, int],
    b: tuple[int, int],
    *,
    names: tuple[str, str] = ("A", "B"),
    title: str = "How sure we are of each conversion rate",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """Posterior densities (Beta(1 + conversions, 1 + misses)) of A's and B's rates.

    ``a`` and ``b`` are (conversions, clicks); overlapping curves mean an undecided test.
    """
    curves = []
    for label, (wins, trials) in zip(names, (a, b), strict=True):
        dist = stats.beta(1 + wins, 1 + max(trials - wins, 0))
        low, high = dist.ppf(0.0005), dist.ppf(0.9995)
        grid = np.linspace(low, high, 120)
        curves.append(pd.DataFrame({"rate": grid, "density": dist.pdf(grid), "variant": label}))
    data = pd.concat(curves, ignore_index=True)
    chart = (
        alt.Chart(data)
        .mark_area(opacity=0.45, line=True)
        .encode(
            x=alt.X("rate:Q", title="Conversion rate", axis=alt.Axis(format=".1%")),
            y=alt.Y("density:Q", title=None, axis=None, stack=None),
            color=alt.Color("variant:N", title=None),
            tooltip=[alt.Tooltip("variant:N"), alt.Tooltip("rate:Q", format=".2%")],
        )
        .properties(title=title, width="container", height=180)
    )
    return with_theme(chart, theme)
