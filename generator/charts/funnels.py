"""The Funnels page: the drill-down explorer, weekly cohorts, period against period, and which
channel follows which on the way to a conversion.

The explorer works offline in the page: a dropdown (a bound parameter) picks the breakdown,
clicking a step of the funnel shows how each segment converts into it, clicking a segment
filters the funnel to that segment's users. Its data is every breakdown's segments x steps
(segments partition the users, so summing a breakdown's segments gives the whole funnel).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from generator.charts._common import dates_as_text, numbers, require
from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME

__all__ = ["channel_flow", "funnel_cohorts", "funnel_compare", "funnel_explorer"]

#: Vega expression: is a point selection's store empty (nothing clicked)
_STORE = "data('{name}_store')"


def funnel_explorer(
    frame: pd.DataFrame,
    *,
    focus: int = 2,
    title: str = "The funnel, step by step",
    theme: str = DEFAULT_THEME,
) -> alt.HConcatChart:
    """Left: users at each step (of the clicked segment, else of everyone). Right: how each
    segment of the chosen breakdown converts into the clicked step (``focus`` until a step
    is clicked).

    ``frame``: breakdown (label), segment, position, step, users, previous_users.
    """
    require(
        frame, ["breakdown", "segment", "position", "step", "users", "previous_users"], "explorer"
    )
    data = numbers(frame, ["users", "previous_users"])
    breakdowns = list(dict.fromkeys(data["breakdown"]))
    order = data.drop_duplicates("position").sort_values("position")["step"].tolist()
    last = int(data["position"].max())
    focus = min(max(int(focus), 1), last)
    pick = alt.param(
        name="breakdown",
        value=breakdowns[0],
        bind=alt.binding_select(options=breakdowns, name="Break down by "),
    )
    step = alt.selection_point(name="step", fields=["position"], on="click", clear="dblclick")
    segment = alt.selection_point(name="segment", fields=["breakdown", "segment"], on="click")
    chosen = alt.param(
        name="chosen",
        expr=f"length({_STORE.format(name='step')}) ? "
        f"{_STORE.format(name='step')}[0].values[0] : {focus}",
    )
    # a segment clicked under another breakdown than the one shown filters nothing
    in_segment = (
        f"!length({_STORE.format(name='segment')}) || "
        f"{_STORE.format(name='segment')}[0].values[0] != breakdown || "
        "vlSelectionTest('segment_store', datum)"
    )
    funnel = (
        alt.Chart(data)
        .transform_filter("datum.breakdown == breakdown")
        .transform_filter(in_segment)
        .transform_aggregate(users="sum(users)", groupby=["position", "step"])
        .transform_joinaggregate(entered="max(users)")
        .transform_calculate(share="datum.entered > 0 ? datum.users / datum.entered : 0")
        .mark_bar(cornerRadiusEnd=3, cursor="pointer")
        .encode(
            y=alt.Y("step:N", sort=order, title=None),
            x=alt.X("users:Q", title="Users"),
            color=alt.ColorValue(
                **alt.condition(
                    "datum.position == chosen", alt.value("#e07a1f"), alt.value("#1f3a5f")
                )
            ),
            tooltip=[
                alt.Tooltip("step:N"),
                alt.Tooltip("users:Q", format=","),
                alt.Tooltip("share:Q", format=".1%", title="of those who entered"),
            ],
        )
        .add_params(step)
        .properties(
            title=alt.TitleParams(
                text={
                    "expr": "'Users at each step · ' + (length(data('segment_store')) && "
                    "data('segment_store')[0].values[0] == breakdown ? "
                    "data('segment_store')[0].values[1] : 'everyone')"
                },
                subtitle="Click a step to compare segments; double-click to reset",
            ),
            width=330,
            height=44 * len(order),
        )
    )
    segments = (
        alt.Chart(data)
        .transform_filter("datum.breakdown == breakdown && datum.position == chosen")
        .transform_calculate(
            rate="datum.previous_users > 0 ? datum.users / datum.previous_users : 0",
            dropped="datum.previous_users - datum.users",
        )
        .mark_bar(cornerRadiusEnd=3, cursor="pointer")
        .encode(
            y=alt.Y("segment:N", sort="-x", title=None),
            x=alt.X("rate:Q", title="Conversion into the step", axis=alt.Axis(format="%")),
            color=alt.ColorValue(
                **alt.condition(segment, alt.value("#2a7f62"), alt.value("#9aa0a6"))
            ),
            tooltip=[
                alt.Tooltip("segment:N"),
                alt.Tooltip("rate:Q", format=".1%", title="conversion into the step"),
                alt.Tooltip("users:Q", format=",", title="users at the step"),
                alt.Tooltip("dropped:Q", format=",", title="dropped before it"),
            ],
        )
        .add_params(segment)
        .properties(
            title=alt.TitleParams(
                text={"expr": "'Into ' + " + _step_name(order) + " + ' · by ' + lower(breakdown)"},
                subtitle="Click a segment to see its funnel",
            ),
            width=300,
        )
    )
    chart = alt.hconcat(funnel, segments, spacing=36).add_params(pick, chosen)
    chart = chart.properties(title=title)
    return with_theme(chart, theme)


def _step_name(order: list[str]) -> str:
    """A Vega expression naming the step at position ``chosen``."""
    names = ", ".join(_js(name) for name in order)
    return f"[{names}][chosen - 1]"


def _js(text: str) -> str:
    """A JavaScript string literal (a step name is the agency's text)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", " ")
    return f"'{escaped}'"


def funnel_cohorts(
    frame: pd.DataFrame, *, title: str = "Weekly cohorts", theme: str = DEFAULT_THEME
) -> alt.Chart:
    """Conversion from the first step to each later step, by the week users entered.

    ``frame``: week, position, step, users, rate_from_start.
    """
    require(frame, ["week", "position", "step", "rate_from_start"], "funnel_cohorts")
    data = dates_as_text(numbers(frame[frame["position"] > 1], ["rate_from_start"]), "week")
    order = data.drop_duplicates("position").sort_values("position")["step"].tolist()
    pick = alt.selection_point(fields=["step"], bind="legend")
    chart = (
        alt.Chart(data)
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X("week:T", title="Week users entered", axis=alt.Axis(format="%b %d")),
            y=alt.Y("rate_from_start:Q", title="Reached the step", axis=alt.Axis(format="%")),
            color=alt.Color("step:N", sort=order, title=None),
            opacity=alt.OpacityValue(**alt.condition(pick, alt.value(1.0), alt.value(0.15))),
            tooltip=[
                alt.Tooltip("week:T", title="week of"),
                alt.Tooltip("step:N"),
                alt.Tooltip("rate_from_start:Q", format=".1%", title="reached it"),
                alt.Tooltip("users:Q", format=","),
            ],
        )
        .add_params(pick)
        .properties(title=title, width="container", height=260)
    )
    return with_theme(chart, theme)


def funnel_compare(
    frame: pd.DataFrame,
    *,
    title: str = "This period and the one before",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """Conversion from the first step per step, this period beside the previous one.

    ``frame``: step, position, rate_current, rate_previous.
    """
    require(frame, ["step", "position", "rate_current", "rate_previous"], "funnel_compare")
    data = numbers(frame, ["rate_current", "rate_previous"]).melt(
        id_vars=["step", "position"],
        value_vars=["rate_current", "rate_previous"],
        var_name="period",
        value_name="rate",
    )
    data["period"] = data["period"].map({"rate_current": "This period", "rate_previous": "Before"})
    order = frame.sort_values("position")["step"].tolist()
    chart = (
        alt.Chart(data)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            y=alt.Y("step:N", sort=order, title=None),
            yOffset=alt.YOffset("period:N", sort=["This period", "Before"]),
            x=alt.X("rate:Q", title="Reached the step", axis=alt.Axis(format="%")),
            color=alt.Color(
                "period:N",
                title=None,
                sort=["This period", "Before"],
                scale=alt.Scale(range=["#1f3a5f", "#b0bec5"]),
            ),
            tooltip=[
                alt.Tooltip("step:N"),
                alt.Tooltip("period:N"),
                alt.Tooltip("rate:Q", format=".1%"),
            ],
        )
        .properties(title=title, width="container")
    )
    return with_theme(chart, theme)


def channel_flow(
    frame: pd.DataFrame, *, title: str = "Which channel comes next", theme: str = DEFAULT_THEME
) -> alt.LayerChart:
    """How journeys move from channel to channel: each row a channel, each column what follows
    it (another channel or the conversion), coloured by the share of moves out of the row.

    ``frame``: from_channel, to_channel, count, share_of_from.
    """
    require(frame, ["from_channel", "to_channel", "count", "share_of_from"], "channel_flow")
    data = numbers(frame, ["count", "share_of_from"])
    rows = [c for c in ["(start)", *sorted(set(data["from_channel"]) - {"(start)"})]
            if c in set(data["from_channel"])]  # fmt: skip
    ends = ["(conversion)", "(no conversion)"]
    columns = [*sorted(set(data["to_channel"]) - set(ends)), *ends]
    base = alt.Chart(data).encode(
        x=alt.X("to_channel:N", sort=columns, title="Next", axis=alt.Axis(labelAngle=-35)),
        y=alt.Y("from_channel:N", sort=rows, title="From"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "share_of_from:Q", title="Share", scale=alt.Scale(scheme="blues"),
            legend=alt.Legend(format="%"),
        ),
        tooltip=[
            alt.Tooltip("from_channel:N", title="from"),
            alt.Tooltip("to_channel:N", title="next"),
            alt.Tooltip("count:Q", format=","),
            alt.Tooltip("share_of_from:Q", format=".1%", title="of moves from here"),
        ],
    )  # fmt: skip
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("share_of_from:Q", format=".0%"),
        color=alt.ColorValue(
            **alt.condition("datum.share_of_from > 0.4", alt.value("white"), alt.value("#202124"))
        ),
    )
    chart = alt.layer(cells, text).properties(
        title=title, width="container", height=24 * len(rows) + 40
    )
    return with_theme(chart, theme)
