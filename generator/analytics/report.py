"""Everything one client's report shows for one period, computed from tables (no I/O).

``assemble`` takes the client's rows (already in the reporting currency, platforms named as a
marketer names them) and returns a JSON-able summary plus named tables for the pages:
overview (scorecards, narrative facts, wins and risks), channels, campaigns and their ads,
A/B tests, trends and anomalies, the site funnel, attribution and customer value. Sections
without data are left out and the summary says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import pandas as pd

from generator.analytics import (
    attribution,
    benchmark_report,
    cltv,
    creative_report,
    funnel_report,
    insights,
    overview,
    pacing_report,
    trends,
)
from generator.analytics.kpis import compute
from generator.config import Client
from generator.errors import ReportError
from generator.metrics import KPIS
from generator.periods import Period

__all__ = ["Inputs", "assemble", "campaign_slug"]

#: History shown on the trends page, in weeks before the period's end.
TREND_WEEKS = 26


@dataclass(frozen=True)
class Inputs:
    """The client's rows. ``performance`` spans at least the previous period (ideally
    ``TREND_WEEKS``); the site tables may be empty."""

    performance: pd.DataFrame
    creatives: pd.DataFrame = field(default_factory=pd.DataFrame)
    touchpoints: pd.DataFrame = field(default_factory=pd.DataFrame)
    site_conversions: pd.DataFrame = field(default_factory=pd.DataFrame)
    site_events: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: how the report names a touchpoint's channel (``google_ads`` -> "Google Ads")
    channel_label: Callable[[str], str] = str
    #: what the Benchmarks section reads (None: no such section)
    benchmarks: benchmark_report.Inputs | None = None
    #: the budgets of the period's month, and how far a projection may stray from one
    budgets: Sequence[pacing_report.ScopedBudget] = ()
    pacing_tolerance: float = 0.1


def campaign_slug(platform: str, account_id: str, campaign_id: str) -> str:
    """A page name for a campaign: derived from a hash, never from platform-supplied text."""
    digest = hashlib.sha256(f"{platform}/{account_id}/{campaign_id}".encode()).hexdigest()
    return f"c-{digest[:12]}"


def assemble(
    inputs: Inputs, client: Client, period: Period
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """The summary and tables of ``client``'s report for ``period``."""
    rows = inputs.performance
    if rows.empty:
        return {"sections": [], "cards": [], "platforms": [], "campaigns": []}, {}
    previous = period.previous()
    current = _between(rows, period.start, period.end)
    before = _between(rows, previous.start, previous.end)
    summary, frames = _performance(current, before, client)
    frames.update(_trend_tables(rows, current, period))
    ads = _ads(current, inputs.creatives)
    summary["creatives"], tables = creative_report.section(
        rows, current, ads, inputs.creatives, client, period
    )
    frames.update(tables)
    summary["facts"] = _facts(summary["cards"], frames, before)
    sections = ["overview", "channels", "campaigns", "trends"]
    paced = pacing_report.section(current, inputs.budgets, period.end, inputs.pacing_tolerance)
    if paced is not None:
        summary["pacing"], tables = paced
        frames.update(tables)
        sections.append("pacing")
    if summary["creatives"]["tests"]:
        sections.append("creative_tests")
    for name, build in (
        ("funnel", _funnel),
        ("attribution", _attribution),
        ("customers", _customers),
        ("benchmarks", _benchmarks),
    ):
        part = build(inputs, client, period)
        if part is not None:
            summary[name], tables = part
            frames.update(tables)
            sections.append(name)
    summary["sections"] = sections
    return summary, frames


def _between(rows: pd.DataFrame, first, last) -> pd.DataFrame:
    return rows[(rows["date"] >= first) & (rows["date"] <= last)]


def _performance(current, before, client: Client) -> tuple[dict, dict]:
    cards = overview.scorecards(
        current, before, targets=client.kpi_targets, custom=client.custom_kpis
    )
    keys = ["platform", "account_id", "campaign_id"]
    campaigns = insights.compare(current, before, keys)
    names = current.groupby(keys, dropna=False)["campaign_name"].last().reset_index()
    campaigns = campaigns.merge(names, on=keys, how="left")
    campaigns["campaign_name"] = campaigns["campaign_name"].fillna(campaigns["campaign_id"])
    campaigns["slug"] = [campaign_slug(*k) for k in campaigns[keys].itertuples(index=False)]
    campaigns = campaigns.sort_values("spend", ascending=False, ignore_index=True)
    platforms = insights.compare(current, before, ["platform"]).sort_values(
        "spend", ascending=False, ignore_index=True
    )
    total = platforms["spend"].sum()
    platforms["spend_share"] = platforms["spend"] / total if total else 0.0
    frames = {
        "daily": overview.daily(current),
        "daily_total": compute(current, ["date"], components=True),
        "platforms": platforms,
        "campaigns": campaigns,
        "campaign_daily": compute(current, ["date", *keys], components=True),
        "cards": pd.DataFrame([c.as_dict() for c in cards]),
    }
    summary = {
        "cards": [c.as_dict() for c in cards],
        "platforms": sorted(current["platform"].unique().tolist()),
        "campaign_count": len(campaigns),
        "campaigns": campaigns[["slug", "campaign_name", "platform"]].to_dict("records"),
        "definitions": [{"label": k.label, "definition": k.definition} for k in KPIS.values()],
    }
    return summary, frames


def _trend_tables(rows: pd.DataFrame, current: pd.DataFrame, period: Period) -> dict:
    history = _between(rows, period.end - timedelta(weeks=TREND_WEEKS), period.end)
    flagged = trends.anomalies(history, "conversions", by=["platform"])
    flagged = _between(flagged, period.start, period.end) if not flagged.empty else flagged
    weekly = trends.weekly(history)
    days = pd.to_datetime(history["date"]).dt.normalize()
    first, last = days.min(), days.max()
    complete = (pd.to_datetime(weekly["week"]) >= first) & (
        pd.to_datetime(weekly["week"]) + pd.Timedelta(days=6) <= last
    )
    return {
        "weekly": weekly[complete].reset_index(drop=True),
        "history_platform_daily": overview.daily(history),
        "rolling": trends.rolling(current),
        "history_daily": compute(history, ["date"], components=True),
        "weekday": trends.day_of_week(history),
        "anomalies": flagged,
    }


#: the creative columns the ads table carries (older lakes may lack some)
_CREATIVE_COLUMNS = (
    "headline", "body", "format", "call_to_action", "landing_url", "display_url",
    "asset_sha256", "width", "height", "duration_ms", "cards", "language", "colours",
    "asset_bytes", "phash",
)  # fmt: skip


def _ads(current: pd.DataFrame, creatives: pd.DataFrame) -> pd.DataFrame:
    keys = ["platform", "account_id", "campaign_id", "ad_group_id", "ad_id"]
    ads = compute(current, keys, components=True)
    labels = [c for c in ("ad_name", "ad_group_name", "campaign_name") if c in current]
    names = current.groupby(keys, dropna=False)[labels].last().reset_index()
    ads = ads.merge(names, on=keys, how="left")
    if not creatives.empty:
        creatives = creatives.assign(ad_key=creatives["ad_id"].fillna(creatives["creative_id"]))
        latest = (
            creatives.sort_values([c for c in ("fetched_at", "first_seen") if c in creatives])
            .groupby(["account_id", "ad_key"], as_index=False)
            .last()
        )
        columns = ["account_id", "ad_key", *(c for c in _CREATIVE_COLUMNS if c in latest)]
        ads = ads.merge(
            latest[columns],
            left_on=["account_id", "ad_id"],
            right_on=["account_id", "ad_key"],
            how="left",
        ).drop(columns=["ad_key"])
    ads["campaign_slug"] = [
        campaign_slug(p, a, c)
        for p, a, c in ads[["platform", "account_id", "campaign_id"]].itertuples(index=False)
    ]
    return ads.sort_values("spend", ascending=False, ignore_index=True)


def _facts(cards: list[dict], frames: dict, before: pd.DataFrame) -> dict:
    campaigns, platforms = frames["campaigns"], frames["platforms"]
    wins, risks = insights.wins_and_risks(cards, campaigns, frames["anomalies"])
    return {
        "headline": insights.headline(cards),
        "conversion_drivers": insights.drivers(campaigns, "campaign_name", "conversions"),
        "spend_drivers": insights.drivers(platforms, "platform", "spend", top=2),
        "wins": wins,
        "risks": risks,
        "has_previous": not before.empty,
    }


def _funnel(inputs: Inputs, client: Client, period: Period):
    return funnel_report.section(
        inputs.site_events,
        inputs.touchpoints,
        inputs.site_conversions,
        client,
        period,
        label=inputs.channel_label,
    )


def _benchmarks(inputs: Inputs, client: Client, period: Period):
    if inputs.benchmarks is None:
        return None
    return benchmark_report.section(
        inputs.benchmarks, client.slug, period, label=inputs.channel_label
    )


def _attribution(inputs: Inputs, client: Client, period: Period):
    touches, converted = inputs.touchpoints, inputs.site_conversions
    if touches.empty or converted.empty:
        return None
    start = pd.Timestamp(period.start, tz="UTC")
    end = pd.Timestamp(period.end + timedelta(days=1), tz="UTC")
    window = converted[(converted["timestamp"] >= start) & (converted["timestamp"] < end)]
    if window.empty:
        return None
    # a journey starts after the user's previous conversion, also one before the period
    earlier = converted[converted["timestamp"] < start].groupby("user_id")["timestamp"].max()
    last_before = touches["user_id"].map(earlier)
    touches = touches[last_before.isna() | (touches["timestamp"] > last_before)]
    try:
        side_by_side = attribution.compare_models(touches, window, lookback_days=30)
    except ReportError:
        return None
    long = _attribution_long(side_by_side)
    sessions = touches[(touches["timestamp"] >= start) & (touches["timestamp"] < end)]
    daily = (
        sessions.assign(date=sessions["timestamp"].dt.date)
        .groupby(["date", "channel"], as_index=False)
        .size()
        .rename(columns={"size": "sessions"})
    )
    summary = {
        "conversions": len(window),
        "value": float(window["value"].sum()),
        "lookback_days": 30,
        "models": list(attribution.MODELS),
        "channels": int(side_by_side["channel"].nunique()),
    }
    return summary, {"attribution": side_by_side, "attribution_long": long, "sessions_daily": daily}


def _attribution_long(side_by_side: pd.DataFrame) -> pd.DataFrame:
    models = [m for m in attribution.MODELS if m in side_by_side.columns]
    long = side_by_side.melt(
        "channel", value_vars=models, var_name="model", value_name="conversions"
    )
    totals = long.groupby("model")["conversions"].transform("sum")
    long["share"] = long["conversions"] / totals.where(totals > 0)
    return long


def _customers(inputs: Inputs, client: Client, period: Period):
    converted = inputs.site_conversions
    if converted.empty or "value" not in converted or float(converted["value"].sum()) <= 0:
        return None
    end = pd.Timestamp(period.end + timedelta(days=1), tz="UTC")
    history = converted[converted["timestamp"] < end]
    summary = cltv.rfm_summary(
        history,
        customer_id="user_id",
        monetary_value="value",
        observation_end=end - pd.Timedelta(microseconds=1),
    )
    summary = summary[summary["T"] > 0]  # customers won on the very last day carry no history
    repeaters = summary[summary["frequency"] > 0]
    if len(summary) < 200 or len(repeaters) < 50:
        return None
    try:
        purchases = cltv.BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])
        spend = cltv.GammaGamma().fit(repeaters["frequency"], repeaters["monetary_value"])
    except ReportError:
        return None
    return _customer_tables(summary, purchases, spend)


def _customer_tables(summary: pd.DataFrame, purchases, spend) -> tuple[dict, dict]:
    x, tx, t = summary["frequency"], summary["recency"], summary["T"]
    money = summary["monetary_value"].where(summary["frequency"] > 0, 0.0)
    table = summary.assign(
        p_alive=purchases.probability_alive(x, tx, t),
        expected_90d=purchases.conditional_expected_purchases(90, x, tx, t),
        clv=cltv.customer_lifetime_value(
            purchases, spend, x, tx, t, money, periods=12, period_length=30.0, discount_rate=0.01
        ),
    )
    facts = {
        "customers": len(table),
        "repeat_customers": int((x > 0).sum()),
        "mean_clv": float(table["clv"].mean()),
        "total_clv": float(table["clv"].sum()),
        "expected_90d": float(table["expected_90d"].sum()),
        "purchase_model": {k: float(v) for k, v in purchases.params_.items()},
        "spend_model": {k: float(v) for k, v in spend.params_.items()},
        "horizon_months": 12,
    }
    return facts, {"customers": table}
