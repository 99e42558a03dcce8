"""Named charts and tables of a report, shared by the generated pages and the macros.

A chart name maps to a builder over the report's tables; authored pages call
``{{ chart("daily_spend") }}`` and get exactly the chart the overview shows. Charts about one
campaign or one A/B test take it as a parameter: ``chart("campaign_daily", campaign=slug)``,
and those about one funnel its page name: ``chart("funnel_explorer", funnel=slug)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import altair as alt
import pandas as pd

from generator import charts
from generator.analytics.creative_report import METRIC_LABELS
from generator.errors import BuildError
from generator.site.fragments import Column
from generator.site.report import Report

__all__ = ["CHARTS", "TABLES", "build_chart", "table_frame"]

Builder = Callable[..., alt.TopLevelMixin]


def _currency(report: Report) -> str:
    return report.summary["currency"]


def _campaign(report: Report, name: str, slug: str) -> pd.DataFrame:
    frame = report.frame(name)
    key = "slug" if "slug" in frame else "campaign_slug"
    if key not in frame:
        campaigns = report.frame("campaigns")[["platform", "account_id", "campaign_id", "slug"]]
        frame = frame.merge(campaigns, on=["platform", "account_id", "campaign_id"])
        key = "slug"
    rows = frame[frame[key] == slug]
    if rows.empty:
        raise BuildError(f"no campaign {slug!r} in the report")
    return rows


def _target(report: Report, kpi: str) -> float | None:
    card = next((c for c in report.summary["cards"] if c["key"] == kpi), {})
    return card.get("target")


def _lead_gen(report: Report) -> bool:
    """Whether conversions are leads without revenue (then CPA, not ROAS, is the measure)."""
    card = next((c for c in report.summary["cards"] if c["key"] == "value"), {})
    return not card.get("value")


_TEST = re.compile(r"^[gt]-[0-9a-f]{10}$")


def _creative_test(report: Report, test: str, metric: str, table: str) -> pd.DataFrame:
    """One creative test's rows of ``table`` for ``metric``, each arm named by its ad."""
    known = {t["id"]: t for t in report.summary.get("creatives", {}).get("tests", [])}
    if not _TEST.match(str(test)) or test not in known or metric not in METRIC_LABELS:
        raise BuildError(f"no creative test {test!r} on {metric!r} in the report")
    frame = report.frame(table)
    rows = frame[(frame["test"] == test) & (frame["metric"] == metric)]
    names = {a["ad_id"]: a["name"] for a in known[test]["results"][metric]["arms"]}
    ids = rows["ad_id"].astype(str)
    labels = [f"{str(names.get(i, i))[:36]} ({i[-4:]})" for i in ids]
    return rows.assign(name=labels)


_FUNNEL = re.compile(r"^f-[0-9a-f]{10}$")


def _funnel(report: Report, slug: str, table: str) -> pd.DataFrame:
    """One funnel's table (``slug`` is the page name of the funnel, see ``funnel_report``)."""
    known = [f["slug"] for f in report.summary.get("funnel", {}).get("funnels", [])]
    if not _FUNNEL.match(str(slug)) or slug not in known:
        raise BuildError(f"no funnel {slug!r} in the report; known: {', '.join(known) or 'none'}")
    return report.frame(f"{slug}_{table}")


def _focus(report: Report, slug: str) -> int:
    """The step the explorer opens on: where the largest share of users drops."""
    for funnel in report.summary["funnel"]["funnels"]:
        if funnel["slug"] == slug:
            drop = funnel["health"].get("biggest_drop_rate") or {}
            return int(drop.get("position") or 2)
    return 2


def _first_funnel(report: Report) -> str:
    funnels = report.summary.get("funnel", {}).get("funnels", [])
    if not funnels:
        raise BuildError("the report has no funnel")
    return funnels[0]["slug"]


def _benchmark_trend(report: Report) -> pd.DataFrame:
    """The trend with each edition's publisher, from the Sources table (the trend names the
    source only by its id)."""
    trend = report.frame("benchmark_trend")
    sources = report.frames.get("benchmark_sources")
    if sources is None or sources.empty or "pub_source" not in trend:
        return trend
    publishers = sources[["source", "edition", "publisher"]].drop_duplicates(["source", "edition"])
    publishers = publishers.rename(
        columns={"source": "pub_source", "edition": "pub_edition", "publisher": "pub_publisher"}
    )
    return trend.merge(publishers, on=["pub_source", "pub_edition"], how="left")


CHARTS: dict[str, Builder] = {
    # overview
    "daily_spend": lambda r, t: charts.daily_spend(r.frame("daily"), currency=_currency(r),
                                                   theme=t),
    "platform_mix": lambda r, t: charts.platform_mix(r.frame("platforms"), theme=t),
    "sparklines": lambda r, t: charts.sparklines(r.frame("daily_total"), theme=t),
    "target_bullets": lambda r, t: charts.target_bullets(r.frame("cards"), theme=t),
    # channels
    "kpi_by_platform": lambda r, t: charts.kpi_by_platform(r.frame("platforms"), theme=t),
    "efficiency": lambda r, t: charts.efficiency(r.frame("platforms"), currency=_currency(r),
                                                 theme=t),
    "change_by_platform": lambda r, t: charts.change_by_platform(r.frame("platforms"), theme=t),
    "spend_share": lambda r, t: charts.spend_share(r.frame("platforms"), theme=t),
    "rates_by_platform": lambda r, t: charts.rates_by_platform(r.frame("platforms"), theme=t),
    "funnel_steps": lambda r, t, funnel=None: charts.funnel_steps(
        _funnel(r, funnel or _first_funnel(r), "steps"), theme=t),
    # funnels
    "funnel_explorer": lambda r, t, funnel: charts.funnel_explorer(
        _funnel(r, funnel, "explorer"), focus=_focus(r, funnel), theme=t),
    "funnel_cohorts": lambda r, t, funnel: charts.funnel_cohorts(_funnel(r, funnel, "cohorts"),
                                                                 theme=t),
    "funnel_compare": lambda r, t, funnel: charts.funnel_compare(_funnel(r, funnel, "compare"),
                                                                 theme=t),
    "channel_flow": lambda r, t: charts.channel_flow(r.frame("funnel_transitions"), theme=t),
    # campaigns
    "campaign_map": lambda r, t: charts.campaign_map(
        r.frame("campaigns"), measure="cpa" if _lead_gen(r) else "roas",
        currency=_currency(r), theme=t),
    "campaign_ranking": lambda r, t: charts.campaign_ranking(
        r.frame("campaigns"), target=_target(r, "cpa"), currency=_currency(r), theme=t),
    "campaign_daily": lambda r, t, campaign: charts.campaign_daily(
        _campaign(r, "campaign_daily", campaign), currency=_currency(r), theme=t),
    "ad_performance": lambda r, t, campaign: charts.ad_performance(
        _campaign(r, "ads", campaign), theme=t),
    "creative_test": lambda r, t, test, metric="cvr": charts.test_cumulative(
        _creative_test(r, test, metric, "creative_test_daily"),
        metric_label=METRIC_LABELS.get(metric, metric), theme=t),
    "creative_test_posteriors": lambda r, t, test, metric="cvr": charts.arm_posteriors(
        _creative_test(r, test, metric, "creative_tests").query("trials > 0"),
        metric_label=METRIC_LABELS.get(metric, metric), theme=t),
    # trends
    "explorer": lambda r, t: charts.explorer(r.frame("history_platform_daily"), theme=t),
    "weekly_kpi": lambda r, t: charts.weekly_kpi(r.frame("weekly"), theme=t),
    "weekday_heatmap": lambda r, t: charts.weekday_heatmap(r.frame("history_daily"), theme=t),
    "anomaly_timeline": lambda r, t: charts.anomaly_timeline(
        r.frame("daily_total"), r.frame("anomalies"), theme=t),
    "rolling_cpa": lambda r, t: charts.rolling_kpi(r.frame("rolling"), kpi="cpa", theme=t),
    "rolling_roas": lambda r, t: charts.rolling_kpi(r.frame("rolling"), kpi="roas",
                                                    title="Daily and 7-day ROAS", theme=t),
    # site, attribution, customers
    "sessions_by_channel": lambda r, t: charts.sessions_by_channel(r.frame("sessions_daily"),
                                                                   theme=t),
    "attribution_models": lambda r, t: charts.model_comparison(r.frame("attribution_long"),
                                                               theme=t),
    "attribution_heatmap": lambda r, t: charts.model_heatmap(r.frame("attribution_long"), theme=t),
    "clv_distribution": lambda r, t: charts.clv_distribution(r.frame("customers"),
                                                             currency=_currency(r), theme=t),
    "alive_heatmap": lambda r, t: charts.alive_heatmap(r.frame("customers"), theme=t),
    # benchmarks
    "benchmark_standing": lambda r, t: charts.benchmark_standing(
        r.frame("benchmarks"), currency=_currency(r), theme=t),
    "benchmark_trend": lambda r, t: charts.benchmark_trend(_benchmark_trend(r),
                                                           currency=_currency(r), theme=t),
    # methods
    "freshness": lambda r, t: charts.freshness(r.frame("freshness"), theme=t),
}  # fmt: skip

_PERFORMANCE = [
    Column("spend", "Spend", "currency"),
    Column("impressions", "Impressions", "number"),
    Column("clicks", "Clicks", "number"),
    Column("ctr", "CTR", "percent"),
    Column("cpc", "CPC", "currency"),
    Column("conversions", "Conversions", "number"),
    Column("cpa", "CPA", "currency"),
    Column("value", "Value", "currency"),
    Column("roas", "ROAS", "ratio"),
]
_CHANGES = [
    Column("spend", "Spend", "currency"),
    Column("spend_change", "vs. before", "change"),
    Column("conversions", "Conversions", "number"),
    Column("conversions_change", "vs. before", "change", higher_is_better=True),
    Column("cpa", "CPA", "currency"),
    Column("cpa_change", "vs. before", "change", higher_is_better=False),
    Column("roas", "ROAS", "ratio"),
    Column("roas_change", "vs. before", "change", higher_is_better=True),
]
#: table name -> (report table, columns)
TABLES: dict[str, tuple[str, list[Column]]] = {
    "platforms": ("platforms", [Column("platform", "Platform"), *_PERFORMANCE]),
    "platform_changes": ("platforms", [Column("platform", "Platform"), *_CHANGES,
                                       Column("spend_share", "Share of spend", "percent")]),
    "campaigns": ("campaigns", [Column("campaign_name", "Campaign", link="slug"),
                                Column("platform", "Platform"), *_PERFORMANCE]),
    "campaign_changes": ("campaigns", [Column("campaign_name", "Campaign", link="slug"),
                                       Column("platform", "Platform"), *_CHANGES]),
    "ads": ("ads", [Column("ad_name", "Ad"), Column("headline", "Headline"), *_PERFORMANCE]),
    "funnel": ("{funnel}_steps", [
        Column("step", "Step"), Column("users", "Users", "number"),
        Column("rate_from_previous", "From previous step", "percent"),
        Column("rate_from_start", "From first step", "percent"),
        Column("dropped", "Dropped", "number"),
        Column("median_from_previous_hours", "Median time from previous", "hours"),
        Column("p90_from_previous_hours", "P90 from previous", "hours"),
        Column("median_from_start_hours", "Median time from start", "hours")]),
    "funnel_segments": ("{funnel}_ranking", [
        Column("breakdown", "Breakdown"), Column("segment", "Segment"),
        Column("entered", "Entered", "number"), Column("completed", "Completed", "number"),
        Column("conversion", "Conversion", "percent"), Column("worst_step", "Largest drop into"),
        Column("worst_drop_rate", "Drop-off there", "percent")]),
    "funnel_compare": ("{funnel}_compare", [
        Column("step", "Step"), Column("users_current", "Users", "number"),
        Column("users_previous", "Before", "number"),
        Column("rate_current", "From first step", "percent"),
        Column("rate_previous", "Before", "percent"),
        Column("change", "Change (points)", "points"),
        Column("significance", "Significant at 95%?")]),
    "funnel_paths": ("funnel_paths", [
        Column("path", "Channel path"), Column("conversions", "Conversions", "number"),
        Column("share_of_conversions", "Share", "percent"),
        Column("journeys", "Journeys", "number"),
        Column("conversion_rate", "Conversion rate", "percent"),
        Column("median_days_to_convert", "Median days to convert", "number")]),
    "attribution": ("attribution_long", [Column("channel", "Channel"), Column("model", "Model"),
                                         Column("conversions", "Conversions", "number"),
                                         Column("share", "Share", "percent")]),
    "pacing": ("pacing", [Column("label", "Budget"), Column("amount", "Amount", "currency"),
                          Column("spent", "Spent", "currency"),
                          Column("expected", "At even pace", "currency"),
                          Column("projected", "Projected", "currency"),
                          Column("projected_low", "Low", "currency"),
                          Column("projected_high", "High", "currency"),
                          Column("conversions_projected", "Conversions projected", "number"),
                          Column("days_left", "Days left", "number"),
                          Column("pace", "Pace")]),
    "budgets_spent": ("pacing", [Column("label", "Budget"),
                                 Column("amount", "Amount", "currency"),
                                 Column("spent", "Spent", "currency"),
                                 Column("share_spent", "Share spent", "percent"),
                                 Column("conversions", "Conversions", "number")]),
    "anomalies": ("anomalies", [Column("date", "Date"), Column("platform", "Platform"),
                                Column("value", "Conversions", "number"),
                                Column("expected", "Usual", "number"),
                                Column("ratio", "Of usual", "percent")]),
}  # fmt: skip


def build_chart(report: Report, name: str, theme: str, **params) -> alt.TopLevelMixin:
    """The chart ``name`` of ``report`` (``params`` for campaign or test charts)."""
    try:
        builder = CHARTS[name]
    except KeyError:
        raise BuildError(f"no chart {name!r}; available: {', '.join(sorted(CHARTS))}") from None
    try:
        return builder(report, theme, **params)
    except TypeError as exc:
        raise BuildError(f"chart {name!r}: {exc}") from None


def table_frame(
    report: Report, name: str, funnel: str | None = None
) -> tuple[pd.DataFrame, list[Column]]:
    """The table ``name`` (``funnel``: the funnel's page name, for the funnel tables)."""
    try:
        source, columns = TABLES[name]
    except KeyError:
        raise BuildError(f"no table {name!r}; available: {', '.join(sorted(TABLES))}") from None
    if source.startswith("{funnel}_"):
        return _funnel(report, funnel or _first_funnel(report), source.split("_", 1)[1]), columns
    return report.frame(source), columns
