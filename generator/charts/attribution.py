"""Attribution: how the credit for conversions moves between channels across models."""

from __future__ import annotations

import altair as alt
import pandas as pd

from generator.charts._common import highlight, numbers, require
from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME

__all__ = ["model_comparison", "model_heatmap"]

MODEL_LABELS = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "linear": "Linear",
    "time_decay": "Time decay",
    "position_based": "Position-based",
    "w_shaped": "W-shaped",
    "markov": "Markov",
    "shapley": "Shapley",
}


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    require(frame, ["channel", "model", "conversions", "share"], "attribution chart")
    data = numbers(frame, ["conversions", "share"])
    data["model"] = data["model"].map(lambda m: MODEL_LABELS.get(m, m))
    return data


def model_comparison(
    frame: pd.DataFrame,
    *,
    title: str = "Conversions credited, model by model",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """Credited conversions per channel under each model; pick a model in the legend."""
    data = _labelled(frame)
    pick = alt.selection_point(fields=["model"], bind="legend")
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("channel:N", sort="-x", title=None),
            x=alt.X("conversions:Q", title="Credited conversions"),
            yOffset=alt.YOffset("model:N", sort=list(MODEL_LABELS.values())),
            color=alt.Color(
                "model:N",
                title="Model",
                sort=list(MODEL_LABELS.values()),
                scale=alt.Scale(scheme="tableau10"),
            ),
            opacity=highlight(pick, 0.9, 0.12),
            tooltip=[
                alt.Tooltip("channel:N"),
                alt.Tooltip("model:N"),
                alt.Tooltip("conversions:Q", format=",.1f"),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .add_params(pick)
        .properties(title=title, width="container")
    )
    return with_theme(chart, theme)


def model_heatmap(
    frame: pd.DataFrame,
    *,
    title: str = "Share of credit: channel by model",
    theme: str = DEFAULT_THEME,
) -> alt.LayerChart:
    """Each channel's share of all conversions under each model, as a labelled heatmap."""
    data = _labelled(frame)
    base = alt.Chart(data).encode(
        x=alt.X(
            "model:N", title=None, sort=list(MODEL_LABELS.values()), axis=alt.Axis(labelAngle=-30)
        ),
        y=alt.Y("channel:N", title=None),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "share:Q",
            title="Share",
            scale=alt.Scale(scheme="greens"),
            legend=alt.Legend(format=".0%"),
        ),
        tooltip=[
            alt.Tooltip("channel:N"),
            alt.Tooltip("model:N"),
            alt.Tooltip("share:Q", format=".1%"),
        ],
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("share:Q", format=".0%"),
        color=alt.ColorValue(
            **alt.condition(alt.datum.share > 0.3, alt.value("white"), alt.value("#202124"))
        ),
    )
    chart = alt.layer(cells, text).properties(
        title=title, width="container", height=max(120, 26 * data["channel"].nunique())
    )
    return with_theme(chart, theme)
