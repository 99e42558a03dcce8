"""The empirical benchmark: a client's peers among the agency's own portfolio.

Two steps, both pure functions over pandas frames:

1. ``account_values`` turns each account's window sums into one value per metric (ratios of
   sums), keeping only accounts that clear the eligibility rules (minimum spend and
   impressions) and dropping values above the outlier caps.
2. ``cohort`` picks the client's peers (every *other* client of the portfolio with a value for
   that platform and metric) as the client asked (industry level, region, spend band) and,
   while the cohort is too small or dominated to release a median, relaxes it in the order of
   reference §8.3.5: drop the spend band, drop the region, climb the client's industry chain,
   and finally every industry. Each relaxation is reported in words, so the page can say
   which cohort it shows.

Anonymity lives in ``benchmarks.cohort_summary``: the cohort's size and spend shares decide
what is released, and the client's own percentile among its peers is given only when the
quartiles are (a percentile among fewer than ``k_quartiles`` companies says too much about
each of them).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from generator.analytics._columns import require
from generator.analytics.benchmarks import cohort_summary, empirical_percentile, size_band
from generator.errors import ReportError

__all__ = [
    "METRICS",
    "SPEND_BANDS",
    "Cohort",
    "Metric",
    "PeerSpec",
    "Profile",
    "Rules",
    "account_values",
    "cohort",
    "spend_band",
]

ACCOUNT_COLUMNS = (
    "client",
    "platform",
    "account_id",
    "spend",
    "impressions",
    "clicks",
    "conversions",
    "value",
)
VALUE_COLUMNS = ("client", "platform", "account_id", "metric", "value", "spend")
_KEYS = ["client", "platform", "account_id"]
#: Average days in a month (365.25 / 12), to turn a window's spend into monthly spend.
DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class Metric:
    """One benchmarked metric: ``scale * sum(numerator) / sum(denominator)``."""

    numerator: str
    denominator: str
    scale: float
    higher_is_better: bool
    label: str


METRICS: Mapping[str, Metric] = MappingProxyType(
    {
        "ctr": Metric("clicks", "impressions", 1.0, True, "CTR"),
        "cpc": Metric("spend", "clicks", 1.0, False, "CPC"),
        "cpm": Metric("spend", "impressions", 1000.0, False, "CPM"),
        "cvr": Metric("conversions", "clicks", 1.0, True, "Conversion rate"),
        "cpa": Metric("spend", "conversions", 1.0, False, "CPA"),
        "roas": Metric("value", "spend", 1.0, True, "ROAS"),
    }
)

# Values above these are not performance but broken measurement, and one of them would drag
# the cohort's quartiles: ROAS above 50 is test or wholesale orders or a value field in the
# wrong unit (Triple Whale drops it for the same reason); CTR above 50% is a click tracker
# firing on impressions or a handful of brand searches; CVR above 100% counts view-through or
# repeated conversions, a different definition from the peers' (reference §7, §8.3.2).
_DEFAULT_CAPS = {"roas": 50.0, "ctr": 0.5, "cvr": 1.0}


@dataclass(frozen=True)
class Rules:
    """Eligibility and anonymity rules of the portfolio benchmark, configurable per agency.

    Attributes:
        window_days: the trailing window the account sums cover.
        min_spend: spend (reporting currency) an account needs over the window to count.
        min_impressions: impressions an account needs over the window to count.
        caps: per metric, the largest plausible value; values above are dropped as outliers.
        k_median: companies needed to release a peer median.
        k_quartiles: companies needed to release quartiles and the client's percentile.
        max_share: the largest share of a cohort's spend one company may hold.
        n0: pseudo-count of the published seed when blended with the peer median.
    """

    window_days: int = 90
    min_spend: float = 100.0
    min_impressions: int = 1000
    caps: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(dict(_DEFAULT_CAPS)), hash=False
    )
    k_median: int = 5
    k_quartiles: int = 10
    max_share: float = 0.3
    n0: float = 10.0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.caps) - set(METRICS))
        if unknown:
            raise ReportError(
                f"benchmark caps name unknown metrics {unknown}; use {sorted(METRICS)}"
            )
        if self.window_days < 1 or self.min_spend < 0 or self.min_impressions < 0:
            raise ReportError(
                "benchmark rules: window_days must be >= 1, min_spend and "
                "min_impressions must not be negative"
            )
        if not (1 <= self.k_median <= self.k_quartiles) or not 0 < self.max_share <= 1:
            raise ReportError(
                "benchmark rules: need 1 <= k_median <= k_quartiles and 0 < max_share <= 1"
            )
        if not self.n0 > 0:
            raise ReportError(f"benchmark rules: n0 must be positive, not {self.n0}")
        # A frozen copy: the caller's dict cannot change the rules afterwards.
        object.__setattr__(self, "caps", MappingProxyType(dict(self.caps)))


@dataclass(frozen=True)
class Profile:
    """One client of the portfolio: its industry chain (most specific first) and region."""

    client: str
    industries: tuple[str, ...]
    region: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.industries, str) or not self.industries:
            raise ReportError(
                f"profile {self.client!r}: industries must be a non-empty chain "
                "such as ('local/dental', 'health', 'all')"
            )
        object.__setattr__(self, "industries", tuple(self.industries))


@dataclass(frozen=True)
class PeerSpec:
    """The peer group a client asked for; None means any region or any spend band."""

    industry: str
    region: str | None = None
    spend_band: str | None = None


#: Monthly spend bands in the reporting currency: (name, lower bound, upper bound), [lo, hi).
SPEND_BANDS: tuple[tuple[str, float, float], ...] = (
    ("under 10k", 0.0, 10_000.0),
    ("10k–50k", 10_000.0, 50_000.0),
    ("50k–250k", 50_000.0, 250_000.0),
    ("250k+", 250_000.0, math.inf),
)


def spend_band(monthly_spend: float) -> str:
    """The name of the ``SPEND_BANDS`` band a monthly spend falls in.

    Raises:
        ReportError: a negative or non-finite spend.
    """
    if not (math.isfinite(monthly_spend) and monthly_spend >= 0):
        raise ReportError(f"monthly spend must be a number >= 0, not {monthly_spend!r}")
    return next(name for name, low, high in SPEND_BANDS if low <= monthly_spend < high)


def account_values(accounts: pd.DataFrame, rules: Rules = Rules()) -> pd.DataFrame:
    """Each eligible account's value of every metric over the window (ratios of sums).

    Args:
        accounts: one row per client x platform x account_id with the window's sums of
            spend, impressions, clicks, conversions and value, in one currency. Repeated keys
            are summed first.
        rules: eligibility and outlier caps.

    Returns:
        A new long frame ``client, platform, account_id, metric, value, spend`` with only
        accounts of at least ``min_spend`` and ``min_impressions``; a metric whose denominator
        is zero or missing, or whose value is above its cap, has no row.

    Raises:
        ReportError: ``accounts`` is not a frame or lacks a column.
    """
    require(accounts, ACCOUNT_COLUMNS, "accounts")
    sums = accounts.groupby(_KEYS, as_index=False, sort=True)[list(ACCOUNT_COLUMNS[3:])].sum(
        min_count=1
    )
    eligible = sums[
        (sums["spend"] >= rules.min_spend) & (sums["impressions"] >= rules.min_impressions)
    ]
    parts = [
        _metric_rows(eligible, name, metric, rules.caps.get(name))
        for name, metric in METRICS.items()
    ]
    long = pd.concat(parts, ignore_index=True)
    return long.sort_values([*_KEYS, "metric"], ignore_index=True)[list(VALUE_COLUMNS)]


def _metric_rows(sums: pd.DataFrame, name: str, metric: Metric, cap: float | None) -> pd.DataFrame:
    num = sums[metric.numerator].to_numpy(dtype=float)
    den = sums[metric.denominator].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = metric.scale * num / den
    keep = (den != 0) & np.isfinite(value)
    if cap is not None:
        keep &= value <= cap
    rows = sums.loc[keep, [*_KEYS, "spend"]].assign(metric=name, value=value[keep])
    return rows.astype({"spend": float, "value": float})


@dataclass(frozen=True)
class Cohort:
    """The peers a client's number is compared with, and what may be shown of them.

    Attributes:
        platform: the platform compared on.
        metric: a ``METRICS`` name.
        level: the industry id the cohort was finally drawn from.
        relaxed: what was relaxed to get there, in words and in order.
        n: distinct other clients in the cohort.
        size: ``size_band(n)``, the size as the page shows it.
        summary: ``cohort_summary`` output (median, quartiles, suppression reason).
        percentile: the client's direction-aware mid-rank percentile among the peers'
            account values; None unless the quartiles are released and ``own`` is known.
    """

    platform: str
    metric: str
    level: str
    relaxed: tuple[str, ...]
    n: int
    size: str
    summary: dict
    percentile: float | None


@dataclass(frozen=True)
class _Attempt:
    level: str
    region: str | None
    band: str | None
    relaxed: tuple[str, ...]


def cohort(
    values: pd.DataFrame,
    profiles: Mapping[str, Profile],
    *,
    client: str,
    spec: PeerSpec,
    platform: str,
    metric: str,
    own: float | None,
    rules: Rules = Rules(),
) -> Cohort:
    """The client's peer cohort for one platform and metric, relaxed until a median shows.

    Peers are the other clients of ``profiles`` with a value for the platform and metric. A
    peer's spend band is its window spend over all platforms per month; its weight in the
    dominance rule is its spend on this platform. The cohort is tried as asked, then without
    the spend band, without the region, at each parent industry of the client's chain, and at
    "all"; the first attempt that releases a median is returned, else the last one with its
    reason for suppression.

    Args:
        values: ``account_values`` output.
        profiles: every client of the portfolio by name.
        client: the client being benchmarked (never counted among its peers).
        spec: the peer group it asked for.
        platform: the platform compared on.
        metric: a ``METRICS`` name.
        own: the client's own value, for its percentile; None for no percentile.
        rules: the anonymity thresholds and the window.

    Returns:
        A ``Cohort``.

    Raises:
        ReportError: a missing column, unknown metric, client or spend band, or an industry
            not in the client's chain.
    """
    require(values, VALUE_COLUMNS, "values")
    _check_request(profiles, client, spec, metric)
    peers = _peer_values(values, profiles, client, platform, metric)
    bands = pd.Series(dtype=object)  # only a spend band asked for needs every peer's band
    if spec.spend_band is not None:
        monthly = _account_spend(values).groupby("client")["spend"].sum()
        bands = (monthly / (rules.window_days / DAYS_PER_MONTH)).map(spend_band)
    weights = _account_spend(values[values["platform"] == platform]).groupby("client")["spend"]
    weights = weights.sum().to_dict()
    attempt, summary, members = _first_release(
        _attempts(profiles[client].industries, spec), peers, profiles, bands, weights, rules
    )
    percentile = None
    if summary["p25"] is not None and own is not None and math.isfinite(own):
        pooled = np.concatenate([peers[name] for name in members])
        percentile = empirical_percentile(
            own, pooled, higher_is_better=METRICS[metric].higher_is_better
        )
    return Cohort(
        platform,
        metric,
        attempt.level,
        attempt.relaxed,
        summary["n"],
        size_band(summary["n"]),
        summary,
        percentile,
    )


def _first_release(
    attempts: Iterator[_Attempt],
    peers: Mapping[str, np.ndarray],
    profiles: Mapping[str, Profile],
    bands: pd.Series,
    weights: Mapping[str, float],
    rules: Rules,
) -> tuple[_Attempt, dict, list[str]]:
    """The first attempt whose cohort releases a median (else the last), its summary, members."""
    for attempt in attempts:
        members = [name for name in peers if _member(profiles[name], bands.get(name), attempt)]
        summary = cohort_summary(
            {name: peers[name] for name in members},
            k_median=rules.k_median,
            k_quartiles=rules.k_quartiles,
            max_share=rules.max_share,
            weights={name: weights[name] for name in members},
        )
        if summary["median"] is not None:
            break
    return attempt, summary, members


def _check_request(
    profiles: Mapping[str, Profile], client: str, spec: PeerSpec, metric: str
) -> None:
    if metric not in METRICS:
        raise ReportError(f"unknown benchmark metric {metric!r}; use one of {sorted(METRICS)}")
    if client not in profiles:
        raise ReportError(f"client {client!r} has no profile; add it to the portfolio profiles")
    chain = profiles[client].industries
    if spec.industry != "all" and spec.industry not in chain:
        raise ReportError(
            f"peer industry {spec.industry!r} is not in {client!r}'s industry "
            f"chain {list(chain)}; pick one of them"
        )
    names = [name for name, _, _ in SPEND_BANDS]
    if spec.spend_band is not None and spec.spend_band not in names:
        raise ReportError(f"unknown spend band {spec.spend_band!r}; use one of {names}")


def _peer_values(
    values: pd.DataFrame,
    profiles: Mapping[str, Profile],
    client: str,
    platform: str,
    metric: str,
) -> dict[str, np.ndarray]:
    """Every other profiled client's finite account values for the platform and metric."""
    rows = values[
        (values["platform"] == platform)
        & (values["metric"] == metric)
        & (values["client"] != client)
        & values["client"].isin(list(profiles))
    ]
    rows = rows[np.isfinite(rows["value"].to_numpy(dtype=float))]
    return {
        str(name): group["value"].to_numpy(dtype=float)
        for name, group in rows.groupby("client", sort=True)
    }


def _account_spend(values: pd.DataFrame) -> pd.DataFrame:
    """One row per account with its window spend (the long frame repeats it per metric)."""
    return values.drop_duplicates(_KEYS)[["client", "spend"]]


def _attempts(chain: tuple[str, ...], spec: PeerSpec) -> Iterator[_Attempt]:
    """The cohorts to try, in the relaxation order of reference §8.3.5."""
    attempt = _Attempt(spec.industry, spec.region, spec.spend_band, ())
    yield attempt
    if attempt.band is not None:
        attempt = _Attempt(attempt.level, attempt.region, None, (*attempt.relaxed, "spend band"))
        yield attempt
    if attempt.region is not None:
        attempt = _Attempt(attempt.level, None, None, (*attempt.relaxed, "region"))
        yield attempt
    if spec.industry == "all":
        return
    parents = [level for level in chain[chain.index(spec.industry) + 1 :] if level != "all"]
    for parent in [*parents, "all"]:
        step = f"industry: {attempt.level} → {parent}"
        attempt = _Attempt(parent, None, None, (*attempt.relaxed, step))
        yield attempt


def _member(profile: Profile, band: str | None, attempt: _Attempt) -> bool:
    return (
        (attempt.level == "all" or attempt.level in profile.industries)
        and (attempt.region is None or profile.region == attempt.region)
        and (attempt.band is None or band == attempt.band)
    )
