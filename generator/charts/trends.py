"""Time series: explore with a date brush, weekly KPIs, weekday patterns, anomalies, rolling."""

from __future__ import annotations

import altair as alt
import pandas as pd

from generator.charts._common import dates_as_text, numbers, require
from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME, platform_scale

__all__ = ["anomaly_timeline", "explorer", "rolling_kpi", "weekday_heatmap", "weekly_kpi"]

_WEEKLY = {
    "Spend": "spend",
    "Conversions": "conversions",
    "CPA": "cpa",
    "ROAS": "roas",
    "Clicks": "clicks",
    "CTR": "ctr",
}


def explorer(
    frame: pd.DataFrame,
    *,
    measure: str = "conversions",
    title: str = "Drag across the lower chart to zoom",
    theme: str = DEFAULT_THEME,
) -> alt.VConcatChart:
    """Daily ``measure`` per platform: a detail view driven by a brush on an overview strip."""
    require(frame, ["date", "platform", measure], "explorer")
    data = dates_as_text(numbers(frame, [measure]), "date")
    brush = alt.selection_interval(encodings=["x"])
    colour = alt.Color("platform:N", scale=platform_scale(frame["platform"]), title=None)
    base = alt.Chart(data).encode(color=colour)
    detail = (
        base.mark_line(strokeWidth=1.8)
        .encode(
            x=alt.X("date:T", title=None, scale=alt.Scale(domain=brush)),
            y=alt.Y(f"sum({measure}):Q", title=measure.capitalize()),
            tooltip=[
                alt.Tooltip("date:T"),
                alt.Tooltip("platform:N"),
                alt.Tooltip(f"sum({measure}):Q", format=",.1f", title=measure),
            ],
        )
        .properties(width=680, height=240)
    )
    overview = (
        base.mark_area(opacity=0.5)
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y(f"sum({measure}):Q", title=None, axis=None),
        )
        .add_params(brush)
        .properties(width=680, height=60)
    )
    chart = alt.vconcat(detail, overview, title=title)
    return with_theme(chart, theme)


def weekly_kpi(
    frame: pd.DataFrame, *, title: str = "Week by week", theme: str = DEFAULT_THEME
) -> alt.Chart:
    """A weekly KPI per platform, the KPI chosen from a dropdown. ``frame``: week, platform,
    spend, conversions, clicks, cpa, roas, ctr."""
    require(frame, ["week", "platform", *_WEEKLY.values()], "weekly_kpi")
    data = dates_as_text(
        numbers(frame[["week", "platform", *_WEEKLY.values()]], list(_WEEKLY.values())), "week"
    )
    data = data.rename(columns={v: k for k, v in _WEEKLY.items()})
    long = data.melt(
        ["week", "platform"], value_vars=list(_WEEKLY), var_name="kpi", value_name="value"
    )
    pick = alt.param(
        name="weekly_kpi",
        value="Conversions",
        bind=alt.binding_select(options=list(_WEEKLY), name="Measure "),
    )
    chart = (
        alt.Chart(long.dropna(subset=["value"]))
        .transform_filter(alt.datum.kpi == pick)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title="Week starting", axis=alt.Axis(format="%b %d")),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("platform:N", scale=platform_scale(frame["platform"]), title=None),
            tooltip=[
                alt.Tooltip("week:T", title="Week of"),
                alt.Tooltip("platform:N"),
                alt.Tooltip("kpi:N"),
                alt.Tooltip("value:Q", format=",.3~f"),
            ],
        )
        .add_params(pick)
        .properties(title=title, width="container", height=280)
    )
    return with_theme(chart, theme)


def weekday_heatmap(
    frame: pd.DataFrame,
    *,
    measure: str = "conversions",
    title: str = "Conversions by weekday",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """Each day as a cell: week (x) by weekday (y), coloured by ``measure``."""
    require(frame, ["date", measure], "weekday_heatmap")
    days = pd.to_datetime(frame["date"])
    data = (
        numbers(frame, [measure])
        .assign(
            week=(days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d"),
            weekday=days.dt.strftime("%a"),
            day=days.dt.strftime("%Y-%m-%d"),
        )
        .groupby(["week", "weekday", "day"], as_index=False)[measure]
        .sum()
    )
    chart = (
        alt.Chart(data)
        .mark_rect(cornerRadius=2)
        .encode(
            x=alt.X("week:O", title="Week starting", axis=alt.Axis(labelAngle=-45)),
            y=alt.Y(
                "weekday:O", title=None, sort=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
            ),
            color=alt.Color(f"{measure}:Q", title=None, scale=alt.Scale(scheme="blues")),
            tooltip=[
                alt.Tooltip("day:N", title="Date"),
                alt.Tooltip(f"{measure}:Q", format=",.1f"),
            ],
        )
        .properties(title=title, width="container", height=200)
    )
    return with_theme(chart, theme)


def anomaly_timeline(
    daily: pd.DataFrame,
    anomalies: pd.DataFrame,
    *,
    measure: str = "conversions",
    title: str = "Unusual days",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """The daily total of ``measure`` with the days flagged as anomalies marked."""
    require(daily, ["date", measure], "anomaly_timeline")
    require(anomalies, ["date", "direction", "ratio"], "anomaly_timeline")
    totals = dates_as_text(
        numbers(daily, [measure]).groupby("date", as_index=False)[measure].sum(), "date"
    )
    flags = dates_as_text(anomalies, "date").merge(totals, on="date", how="inner")
    line = (
        alt.Chart(totals)
        .mark_line(color="#5f6368")
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %d")),
            y=alt.Y(f"{measure}:Q", title=measure.capitalize()),
            tooltip=[alt.Tooltip("date:T"), alt.Tooltip(f"{measure}:Q", format=",.1f")],
        )
    )
    points = (
        alt.Chart(flags)
        .mark_point(size=140, filled=True)
        .encode(
            x=alt.X("date:T"),
            y=f"{measure}:Q",
            color=alt.Color(
                "direction:N",
                title=None,
                scale=alt.Scale(domain=["spike", "drop"], range=["#188038", "#d93025"]),
            ),
            shape=alt.Shape(
                "direction:N",
                legend=None,
                scale=alt.Scale(domain=["spike", "drop"], range=["triangle-up", "triangle-down"]),
            ),
            tooltip=[
                alt.Tooltip("date:T"),
                alt.Tooltip("direction:N"),
                alt.Tooltip("ratio:Q", format=".0%", title="of normal"),
            ],
        )
    )
    layers = [line, points] if not flags.empty else [line]
    chart = alt.layer(*layers).properties(title=title, width="container", height=240)
    return with_theme(chart, theme)


def rolling_kpi(
    frame: pd.DataFrame,
    *,
    kpi: str = "cpa",
    title: str = "Daily and 7-day CPA",
    theme: str = DEFAULT_THEME,
) -> alt.Chart:
    """A KPI day by day (thin) and over a rolling week (thick). ``frame`` from
    ``analytics.trends.rolling``."""
    require(frame, ["date", kpi, f"{kpi}_rolling"], "rolling_kpi")
    data = dates_as_text(
        numbers(frame[["date", kpi, f"{kpi}_rolling"]], [kpi, f"{kpi}_rolling"]), "date"
    )
    long = data.melt(
        "date", value_vars=[kpi, f"{kpi}_rolling"], var_name="series", value_name="value"
    ).dropna(subset=["value"])
    long["series"] = long["series"].map({kpi: "Daily", f"{kpi}_rolling": "7-day"})
    chart = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %d")),
            y=alt.Y("value:Q", title=kpi.upper(), scale=alt.Scale(zero=False)),
            color=alt.Color("series:N", title=None),
            strokeWidth=alt.StrokeWidthValue(
                **alt.condition(alt.datum.series == "7-day", alt.value(3), alt.value(1))
            ),
            tooltip=[
                alt.Tooltip("date:T"),
                alt.Tooltip("series:N"),
                alt.Tooltip("value:Q", format=",.2f"),
            ],
        )
        .properties(title=title, width="container", height=240)
    )
    return with_theme(chart, theme)
