"""Customer value: the spread of predicted lifetime value and who is still active."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from generator.charts._common import numbers, require
from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME

__all__ = ["alive_heatmap", "clv_distribution"]


def clv_distribution(
    frame: pd.DataFrame,
    *,
    title: str = "Predicted 12-month value per customer",
    currency: str = "USD",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """A histogram of predicted customer lifetime value (long tail clipped at the 99th pct)."""
    require(frame, ["clv"], "clv_distribution")
    values = numbers(frame, ["clv"])["clv"].dropna()
    cap = float(np.quantile(values, 0.99)) if len(values) else 0.0
    data = pd.DataFrame({"clv": values.clip(upper=cap)})
    chart = (
        alt.Chart(data)
        .mark_bar(cornerRadiusTopLeft=2, cornerRadiusTopRight=2)
        .encode(
            x=alt.X("clv:Q", bin=alt.Bin(maxbins=40), title=f"Predicted value ({currency})"),
            y=alt.Y("count():Q", title="Customers"),
            tooltip=[
                alt.Tooltip("clv:Q", bin=True, title="value"),
                alt.Tooltip("count():Q", title="customers"),
            ],
        )
        .properties(title=title, width="container", height=240)
    )
    return with_theme(chart, theme)


def alive_heatmap(
    frame: pd.DataFrame,
    *,
    title: str = "Chance a customer is still active",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """Mean probability of being alive by repeat purchases (x) and recency (y, in months)."""
    require(frame, ["frequency", "recency", "p_alive"], "alive_heatmap")
    data = numbers(frame, ["frequency", "recency", "p_alive"])
    data["repeats"] = (
        data["frequency"].clip(upper=8).astype(int).map(lambda f: "8+" if f >= 8 else str(f))
    )
    data["last_purchase_month"] = (data["recency"] / 30.4).astype(int).clip(upper=18)
    grid = data.groupby(["repeats", "last_purchase_month"], as_index=False).agg(
        p_alive=("p_alive", "mean"), customers=("p_alive", "size")
    )
    chart = (
        alt.Chart(grid)
        .mark_rect()
        .encode(
            x=alt.X(
                "repeats:O", title="Repeat purchases", sort=[str(i) for i in range(8)] + ["8+"]
            ),
            y=alt.Y(
                "last_purchase_month:O",
                title="Months from first to last purchase",
                sort="descending",
            ),
            color=alt.Color(
                "p_alive:Q",
                title="P(active)",
                scale=alt.Scale(scheme="redyellowgreen", domain=[0, 1]),
            ),
            tooltip=[
                alt.Tooltip("repeats:O"),
                alt.Tooltip("last_purchase_month:O"),
                alt.Tooltip("p_alive:Q", format=".0%"),
                alt.Tooltip("customers:Q"),
            ],
        )
        .properties(title=title, width="container", height=300)
    )
    return with_theme(chart, theme)
