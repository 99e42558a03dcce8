"""The analyze stage: one client's report for one period, computed from the lake."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from generator.analytics import funnel_report, pacing_report, report, value_rules
from generator.analytics.benchmark_seed import BenchmarkRow, seed_rows
from generator.analytics.currency import RateTable, to_currency
from generator.charts import PLATFORM_LABELS, platform_label
from generator.config import Agency, Client
from generator.errors import BuildError, ReportError
from generator.lake import AccountState, Lake
from generator.periods import Period
from generator.pipeline.benchmark_inputs import benchmark_inputs
from generator.pipeline.workspace import history_start
from generator.schema import UNKNOWN_ID
from generator.site.report import Report

__all__ = ["analyze", "load_rates"]


def analyze(
    lake: Lake,
    client: Client,
    agency: Agency,
    period: Period,
    rates: RateTable,
    *,
    now: datetime | None = None,
    published: Sequence[BenchmarkRow] | None = None,
) -> Report:
    """Compute one client's report for ``period`` from the lake (in its reporting currency).

    ``published``: the benchmark editions to compare with (default: the packaged seed)."""
    inputs = _inputs(lake, client, period, rates)
    trend_start = history_start(period, agency.history_months)
    benchmark, benchmark_warnings = benchmark_inputs(
        lake,
        client,
        agency,
        period,
        rates,
        seed_rows() if published is None else published,
        trend_start=trend_start,
    )
    inputs = dataclasses.replace(inputs, benchmarks=benchmark)
    current = inputs.performance[inputs.performance["date"] >= period.start]
    if current.empty:
        raise BuildError(_no_data(lake, client, period))
    summary, frames = report.assemble(inputs, client, period)
    states = lake.state.all(client.slug)
    frames["freshness"] = pd.DataFrame(
        [_coverage(s) for s in states], columns=["account", "first", "last", "status"]
    )
    summary.update(
        {
            "client": {"slug": client.slug, "name": client.name, "industry": client.industry},
            "agency": {"name": agency.name},
            "currency": client.currency,
            "period": _period_info(period),
            "previous": _period_info(period.previous()),
            "generated_at": (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
            "freshness": [_freshness(s) for s in states],
            "warnings": _warnings(client, states, period, current) + benchmark_warnings,
        }
    )
    summary.setdefault("definitions", [])
    return Report(summary, frames)


def _inputs(lake: Lake, client: Client, period: Period, rates: RateTable) -> report.Inputs:
    """The client's tables for ``period``, in its reporting currency."""
    first = min(period.previous().start, period.end - timedelta(weeks=report.TREND_WEEKS))
    slug = client.slug
    rows = lake.read("ad_performance", client=slug, period=Period.between(first, period.end))
    performance = rows.to_pandas()
    if not performance.empty:
        performance = to_currency(performance, client.currency, rates)
        if client.conversion_value_rules:
            actions = lake.read("actions", client=slug, period=Period.between(first, period.end))
            performance = _valued(performance, actions.to_pandas(), client, rates)
        performance["platform"] = performance["platform"].map(platform_label)
    performance = performance[performance["date"] <= period.end]
    lookback = Period.between(period.start - timedelta(days=31), period.end)
    site = lake.read("conversions", client=slug).to_pandas()
    if not site.empty:
        site = to_currency(
            site.assign(date=site["timestamp"].dt.date),
            client.currency,
            rates,
            money=("value_micros",),
        )
        site["value"] = site["value_micros"] / 1_000_000
    return report.Inputs(
        performance=performance,
        creatives=lake.read("creatives", client=slug).to_pandas(),
        touchpoints=lake.read("touchpoints", client=slug, period=lookback).to_pandas(),
        site_conversions=site,
        site_events=_site_events(lake, slug, period),
        channel_label=platform_label,
        budgets=pacing_report.scoped(client.budgets, period, platform_label),
        pacing_tolerance=client.pacing_tolerance,
    )


def _site_events(lake: Lake, slug: str, period: Period) -> pd.DataFrame:
    """The site events the Funnels section reads: its cohort weeks and the previous period."""
    first = min(
        period.previous().start,
        period.end - timedelta(weeks=funnel_report.COHORT_WEEKS) + timedelta(days=1),
    )
    events = lake.read("site_events", client=slug, period=Period.between(first, period.end))
    events = events.to_pandas()
    if not events.empty:  # channels named as the rest of the report names them
        events["channel"] = events["channel"].map(platform_label)
    return events


def _no_data(lake: Lake, client: Client, period: Period) -> str:
    """Which client and period have nothing to report, what the lake does hold, and what to
    run."""
    span = lake.query(
        "SELECT min(date) AS first, max(date) AS last FROM ad_performance WHERE client = ?",
        [client.slug],
    ).to_pylist()[0]
    sync = f"campaign-report sync --client {client.slug}"
    where = f"the lake at {lake.root}"
    troubles = "".join(
        f"; {PLATFORM_LABELS.get(s.source, s.source)} account {s.account_id} is {s.status} "
        f"({s.message})"
        for s in lake.state.all(client.slug)
        if s.status in ("stale", "failed")
    )
    if span["first"] is None:
        return f"{client.slug} has no ad performance in {where} yet: run `{sync}` first{troubles}"
    held = f"{where} holds {span['first']} to {span['last']} for it"
    if period.start > span["last"]:
        hint = f"run `{sync}` to fetch newer days, or build a period inside those dates"
    else:
        hint = (
            f"build a period inside those dates, or raise history_months in agency.yml and "
            f"run `{sync} --full`"
        )
    return (
        f"{client.slug} has no ad performance for {period.label} "
        f"({period.start} to {period.end}): {held}; {hint}{troubles}"
    )


def _valued(performance, actions, client: Client, rates: RateTable) -> pd.DataFrame:
    """Conversions and value from client.yml's value rules, applied before any KPI.

    Each platform's actions are counted once: its default attribution window where it
    reports one, otherwise all of its windows (LinkedIn's post-click and post-view windows
    split one total between them).
    """
    if actions.empty:
        return performance
    actions = to_currency(actions, client.currency, rates, money=("value_micros",))
    has_default = actions.groupby("source")["attribution_window"].transform(
        lambda w: (w == "default").any()
    )
    actions = actions[~has_default | (actions["attribution_window"] == "default")]
    actions = actions.assign(attribution_window="default")
    return value_rules.with_value_rules(
        performance, actions, client.conversion_value_rules, currency=client.currency
    )


def _coverage(state: AccountState) -> dict:
    label = f"{PLATFORM_LABELS.get(state.source, state.source)} {state.account_id}"
    first = min((lo for lo, _ in state.covered), default=None)
    return {
        "account": label,
        "first": first,
        "last": state.synced_through,
        "status": _STATUS[state.status],
    }


def load_rates(content: Path, agency: Agency) -> RateTable:
    """The agency's exchange-rate table (an empty one if the file does not exist)."""
    path = Path(content) / agency.fx_rates
    if not path.exists():
        return RateTable(pd.DataFrame(columns=["date", "base", "quote", "rate"]))
    try:
        return RateTable(pd.read_csv(path))
    except (ValueError, OSError) as exc:
        raise ReportError(f"{path}: cannot read the exchange-rate table: {exc}") from exc


def _period_info(period: Period) -> dict[str, str]:
    if period.is_month:
        title = period.start.strftime("%B %Y")
    elif period.is_month_to_date:
        title = f"{period.start:%B %Y} to date ({period.start:%b} 1–{period.end.day})"
    else:
        title = f"{period.start:%b %d, %Y} – {period.end:%b %d, %Y}"
    return {
        "label": period.label,
        "title": title,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


_STATUS = {"ok": "up to date", "stale": "stale", "failed": "failed", "never": "never synced"}


def _freshness(state: AccountState) -> dict[str, str | None]:
    return {
        "platform": PLATFORM_LABELS.get(state.source, state.source),
        "account": state.account_id,
        "synced_through": state.synced_through.isoformat() if state.synced_through else None,
        "last_success": state.last_success.strftime("%Y-%m-%d %H:%M UTC")
        if state.last_success
        else None,
        "status": _STATUS[state.status],
    }


def _warnings(
    client: Client, states: list[AccountState], period: Period, current: pd.DataFrame
) -> list[str]:
    out = []
    by_key = {(s.source, s.account_id): s for s in states}
    for account in client.accounts:
        state = by_key.get((account.platform, account.account_id))
        label = PLATFORM_LABELS.get(account.platform, account.platform)
        name = f"{label} account {account.account_id}"
        if state is None or state.status == "never":
            out.append(f"{name} has never been synced; its numbers are missing from this report.")
        elif state.status in ("stale", "failed"):
            out.append(
                f"{name} could not be refreshed on the last run ({state.message}); it "
                f"shows data through {state.synced_through or 'no date'}."
            )
        elif state.synced_through and state.synced_through < period.end:
            out.append(f"{name} has data only through {state.synced_through}.")
        if state is not None and state.unresolved:
            out.extend(_unresolved(name, state, current))
    return out


_NOUNS = {"campaign": "campaign", "ad_group": "ad group", "ad": "ad"}


def _unresolved(account: str, state: AccountState, current: pd.DataFrame) -> list[str]:
    """Warnings for entities of this period shown under their ids: the platform still
    reported their numbers but no longer describes them (deleted, archived, filtered)."""
    if current.empty:
        return []
    rows = current[current["account_id"] == state.account_id]
    out = []
    for level, ids in state.unresolved.items():
        id_col, name_col = f"{level}_id", f"{level}_name"
        if id_col not in rows or name_col not in rows:
            continue
        unnamed = rows[
            rows[id_col].isin(ids)
            & (
                rows[name_col].isna()
                | (rows[name_col] == rows[id_col])
                | rows[id_col].eq(UNKNOWN_ID)
            )
        ]
        shown = sorted(unnamed[id_col].dropna().unique())
        if not shown:
            continue
        noun = _NOUNS.get(level, level) + ("s" if len(shown) > 1 else "")
        listed = ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
        out.append(
            f"{account}: {len(shown)} {noun} no longer described by the platform "
            f"(deleted, archived or filtered out) appear under their ids: {listed}. "
            "Their numbers are included in every total."
        )
    return out
