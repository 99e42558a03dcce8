"""What a client's Benchmarks section reads from the lake: its own daily numbers and the
agency's whole portfolio over the benchmark window, in the client's reporting currency.

The portfolio is every client the lake holds (the synced ones and any other the agency keeps
there), each account summed over the trailing ``window_days`` to the period's end; who each
client is (industry, region) comes from the profiles the sync records. Peer rows stay here
and in ``analytics.peers``: the section releases cohort statistics only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pandas as pd

from generator.analytics import benchmark_report, peers
from generator.analytics.benchmark_seed import BenchmarkRow
from generator.analytics.currency import RateTable, to_currency
from generator.analytics.industries import taxonomy
from generator.config import Agency, Client
from generator.errors import ConfigError, ReportError
from generator.lake import Lake
from generator.periods import Period

__all__ = ["benchmark_inputs"]

_SUMS = """sum(impressions)::BIGINT AS impressions, sum(clicks)::BIGINT AS clicks,
    sum(spend_micros)::BIGINT AS spend_micros, sum(conversions)::DOUBLE AS conversions,
    sum(value_micros)::BIGINT AS value_micros"""


def benchmark_inputs(
    lake: Lake,
    client: Client,
    agency: Agency,
    period: Period,
    rates: RateTable,
    published: Sequence[BenchmarkRow],
    *,
    trend_start,
) -> tuple[benchmark_report.Inputs, list[str]]:
    """The section's inputs and the warnings to show (an unknown industry, say).

    Raises:
        ConfigError: the client names a peer group agency.yml does not define.
    """
    name, group = agency.peer_group(client)
    rules = _rules(agency)
    warnings: list[str] = []
    chain = _chain(group.industry or client.industry, warnings)
    window = Period.between(period.end - timedelta(days=rules.window_days - 1), period.end)
    own = _daily(lake, client.slug, Period.between(trend_start, period.end), client, rates)
    inputs = benchmark_report.Inputs(
        own=own,
        portfolio=_portfolio(lake, window, client, rates),
        profiles=_profiles(lake),
        published=published,
        industries=chain,
        spec=peers.PeerSpec(chain[0], group.region, None if group.spend_band == "any" else "same"),
        group_name=name,
        platforms=tuple(group.platforms) if group.platforms else None,
        rules=rules,
        usd=_usd(rates, client.currency, period),
        currency=client.currency,
        industry_name=taxonomy().name,
    )
    return inputs, warnings


def _rules(agency: Agency) -> peers.Rules:
    settings = agency.benchmarks
    caps = {**peers.Rules().caps, "roas": settings.max_roas}
    return peers.Rules(
        window_days=settings.window_days,
        min_spend=settings.min_spend,
        min_impressions=settings.min_impressions,
        caps=caps,
        k_median=settings.k_median,
        k_quartiles=settings.k_quartiles,
        max_share=settings.max_share,
        n0=settings.prior_weight,
    )


def _chain(industry: str, warnings: list[str]) -> tuple[str, ...]:
    try:
        return tuple(taxonomy().chain(industry))
    except ConfigError as exc:
        warnings.append(f"Benchmarks: {exc}; the page compares with all industries")
        return ("all",)


def _profiles(lake: Lake) -> dict[str, peers.Profile]:
    found = {}
    for slug, profile in lake.profiles().items():
        try:
            chain = tuple(taxonomy().chain(str(profile.get("industry"))))
        except ConfigError:
            chain = ("all",)  # still a peer of everyone, at the widest level
        found[slug] = peers.Profile(slug, chain, profile.get("region"))
    return found


def _daily(lake: Lake, slug: str, span: Period, client: Client, rates: RateTable) -> pd.DataFrame:
    """The client's sums per day and platform, in its reporting currency."""
    frame = lake.query(
        f"""SELECT date, platform, currency, {_SUMS} FROM ad_performance
        WHERE client = ? AND date BETWEEN ? AND ?
        GROUP BY ALL""",
        [slug, span.start, span.end],
        client=slug,
        months=_months(span),
    ).to_pandas()
    return _converted(frame, client, rates, ["date", "platform"])


def _portfolio(lake: Lake, window: Period, client: Client, rates: RateTable) -> pd.DataFrame:
    """Every lake client's accounts summed over the window, in this client's currency."""
    frame = lake.query(
        f"""SELECT client, platform, account_id, date, currency, {_SUMS} FROM ad_performance
        WHERE date BETWEEN ? AND ?
        GROUP BY ALL""",
        [window.start, window.end],
        months=_months(window),
    ).to_pandas()
    frame = _converted(frame, client, rates, ["client", "platform", "account_id", "date"])
    return frame.groupby(["client", "platform", "account_id"], as_index=False)[
        ["spend", "impressions", "clicks", "conversions", "value"]
    ].sum()


def _months(span: Period) -> tuple[str, str]:
    months = span.months()
    return months[0], months[-1]


def _converted(frame: pd.DataFrame, client: Client, rates: RateTable, keys: list[str]):
    columns = [*keys, "spend", "impressions", "clicks", "conversions", "value"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = to_currency(frame, client.currency, rates)
    frame["spend"] = frame["spend_micros"] / 1e6
    frame["value"] = frame["value_micros"] / 1e6
    return frame.groupby(keys, as_index=False)[columns[len(keys) :]].sum()


def _usd(rates: RateTable, currency: str, period: Period) -> float:
    if currency == "USD":
        return 1.0
    try:
        return float(rates.rates("USD", currency, [period.end])[0])
    except ReportError as exc:
        raise ReportError(
            f"Benchmarks: published figures are in USD and {exc}; add a USD->{currency} rate"
        ) from exc
