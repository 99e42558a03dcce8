"""Benchmark arithmetic: where a client's number stands against published figures and peers.

Two kinds of standing, always labelled apart on the page:

*Modelled*, from a published median m and a spread sigma: the metric is taken as log-normal
(costs, ROAS, and rates, which are small enough for it), so the client's value x stands at

    percentile = 100 * Phi((ln x - ln m) / sigma)           (mirrored when lower is better)

with bands P25 = m * exp(-0.674 sigma) and P75 = m * exp(+0.674 sigma). Sigma comes from a source
that publishes two points of one distribution (a mean and a median: sigma = sqrt(2 ln(mean /
median)); a median and the q-th quantile: sigma = ln(value / median) / z_q), or from a default
per metric family recorded with its provenance beside the seed data. Shown percentiles are
capped to [5, 95]: a model fitted to two numbers does not know the tails.

*Empirical*, from the agency's own portfolio: the mid-rank percentile among peers, one account
one vote, 100 * (#peers worse + 0.5 * #ties) / n. Cohort quantiles are Harrell-Davis estimates
(a weighted mean of every order statistic), so no quantile shown is ever one peer's own value,
and they are released only under the anonymity rules of ``cohort_summary``.

Intervals for the client's own value: Wilson's score interval for rates (successes of trials),
and a bootstrap over days for cost ratios (days resampled with replacement, ratio of sums).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats
from scipy.stats import mstats

__all__ = [
    "CAP",
    "Z95",
    "blend",
    "bootstrap_ratio",
    "cohort_summary",
    "empirical_percentile",
    "median_from_mean",
    "modelled_bands",
    "modelled_percentile",
    "shown_percentile",
    "sigma_from_mean",
    "sigma_from_quantile",
    "significance",
    "size_band",
    "standing",
    "wilson",
]

#: Shown percentiles are capped to this range (a modelled tail is a guess).
CAP = (5.0, 95.0)
Z95 = float(stats.norm.ppf(0.975))
_Z75 = float(stats.norm.ppf(0.75))


def modelled_percentile(
    value: float, median: float, sigma: float, *, higher_is_better: bool = True
) -> float:
    """Percentile in [0, 100] of ``value`` under a log-normal with this median and sigma.

    Direction-aware: with ``higher_is_better=False`` (CPC, CPA) a value below the median ranks
    above the 50th percentile. Not capped; see ``shown_percentile``.

    Raises:
        ValueError: a value, median or sigma that is not positive.
    """
    if not (value > 0 and median > 0 and sigma > 0):
        raise ValueError(
            f"log-normal standing needs positive numbers (value={value}, "
            f"median={median}, sigma={sigma})"
        )
    z = (math.log(value) - math.log(median)) / sigma
    share_below = float(stats.norm.cdf(z))
    return 100.0 * (share_below if higher_is_better else 1.0 - share_below)


def modelled_bands(median: float, sigma: float) -> tuple[float, float, float]:
    """(P25, median, P75) of the log-normal with this median and sigma."""
    return median * math.exp(-_Z75 * sigma), median, median * math.exp(_Z75 * sigma)


def sigma_from_mean(mean: float, median: float) -> float:
    """Log-normal sigma from a published mean and median of one distribution.

    Raises:
        ValueError: the mean is not above the median (no log-normal has that shape).
    """
    if not (mean > median > 0):
        raise ValueError(f"a log-normal's mean exceeds its median (mean={mean}, median={median})")
    return math.sqrt(2.0 * math.log(mean / median))


def sigma_from_quantile(median: float, value: float, q: float) -> float:
    """Log-normal sigma from a median and the value at quantile ``q`` (e.g. P90: q=0.9).

    Raises:
        ValueError: q is 0.5 or outside (0, 1), or the two points are not ordered as q says.
    """
    if not 0.0 < q < 1.0 or q == 0.5:
        raise ValueError(f"quantile must be in (0, 1) and not the median, got {q}")
    sigma = math.log(value / median) / float(stats.norm.ppf(q))
    if not sigma > 0:
        raise ValueError(f"P{q * 100:g} = {value} does not lie on the right side of {median}")
    return sigma


def median_from_mean(mean: float, sigma: float) -> float:
    """The median of a log-normal with this mean and sigma (mean * exp(-sigma^2 / 2))."""
    return mean * math.exp(-(sigma**2) / 2.0)


def empirical_percentile(
    value: float, peers: Sequence[float], *, higher_is_better: bool = True
) -> float:
    """Mid-rank percentile of ``value`` among ``peers``: 100 * (#worse + 0.5 * #ties) / n.

    Raises:
        ValueError: no peers.
    """
    values = np.asarray(peers, dtype=float)
    if values.size == 0:
        raise ValueError("a percentile needs at least one peer")
    worse = values < value if higher_is_better else values > value
    ties = np.isclose(values, value, rtol=1e-12, atol=0.0)
    return float(100.0 * (np.sum(worse & ~ties) + 0.5 * np.sum(ties)) / values.size)


def cohort_summary(
    values_by_client: Mapping[str, Sequence[float]],
    *,
    k_median: int = 5,
    k_quartiles: int = 10,
    max_share: float = 0.3,
    weights: Mapping[str, float] | None = None,
) -> dict:
    """The peer median and quartiles of a cohort, released only under the anonymity rules.

    One account, one vote: the quantiles are Harrell-Davis estimates over every value of every
    client. Rules, in order: fewer than ``k_median`` companies withholds everything; one company
    holding more than ``max_share`` of the cohort's spend (``weights``) withholds everything;
    fewer than ``k_quartiles`` withholds the quartiles. Last, a quantile that would equal one
    peer's own value (all peers alike, or data symmetric about one of them) is withheld too:
    the median with everything, a quartile with both quartiles.

    Args:
        values_by_client: each peer company's account values (the benchmarked client already
            excluded). Non-finite values are ignored.
        k_median: companies needed to release the median.
        k_quartiles: companies needed to release P25 and P75.
        max_share: the largest share of the cohort's spend one company may hold.
        weights: each company's spend, for the dominance rule; None skips that rule.

    Returns:
        ``{"n", "median", "p25", "p75", "suppressed"}``: ``n`` distinct companies with at least
        one finite value; each quantile a float or None when withheld; ``suppressed`` None or a
        sentence saying why something was withheld.

    Raises:
        ValueError: thresholds out of range, or weights missing or negative for a company.
    """
    if not (1 <= k_median <= k_quartiles) or not 0.0 < max_share <= 1.0:
        raise ValueError(
            f"need 1 <= k_median <= k_quartiles and 0 < max_share <= 1 (k_median={k_median}, "
            f"k_quartiles={k_quartiles}, max_share={max_share})"
        )
    pooled = {
        client: finite
        for client, vals in values_by_client.items()
        if (finite := _finite(vals)).size > 0
    }
    n = len(pooled)
    out: dict = {"n": n, "median": None, "p25": None, "p75": None, "suppressed": None}
    if n < k_median:
        return {**out, "suppressed": f"fewer than {k_median} other companies ({n})"}
    if weights is not None and _dominant(pooled, weights, max_share):
        return {
            **out,
            "suppressed": f"one company holds more than {max_share:.0%} of the cohort's spend",
        }
    values = np.concatenate(list(pooled.values()))
    p25, median, p75 = _hd_quartiles(values)
    if _coincides(median, values):
        return {**out, "suppressed": "the median would equal one company's own value"}
    out["median"] = median
    if n < k_quartiles:
        return {**out, "suppressed": f"quartiles need at least {k_quartiles} companies ({n})"}
    if _coincides(p25, values) or _coincides(p75, values):
        return {**out, "suppressed": "a quartile would equal one company's own value"}
    return {**out, "p25": p25, "p75": p75}


def _finite(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    return array[np.isfinite(array)]


def _dominant(pooled: Mapping[str, np.ndarray], weights: Mapping[str, float], cap: float) -> bool:
    missing = sorted(set(pooled) - set(weights))
    if missing:
        raise ValueError(f"weights: no spend given for {', '.join(missing)}")
    spend = np.array([float(weights[client]) for client in pooled])
    if np.any(~np.isfinite(spend)) or np.any(spend < 0):
        raise ValueError("weights: spend must be finite and not negative")
    total = spend.sum()
    return bool(total > 0 and spend.max() / total > cap)


def _hd_quartiles(values: np.ndarray) -> tuple[float, float, float]:
    """Harrell-Davis P25, P50, P75; NaN for a single value (no estimate from one number)."""
    if values.size < 2:
        return math.nan, math.nan, math.nan
    estimates = np.asarray(mstats.hdquantiles(values, prob=(0.25, 0.5, 0.75)), dtype=float)
    # A weighted mean of order statistics lies in [min, max] and rises with p; clip and
    # accumulate so floating-point rounding cannot break either.
    estimates = np.maximum.accumulate(np.clip(estimates, values.min(), values.max()))
    p25, median, p75 = (float(q) for q in estimates)
    return p25, median, p75


def _coincides(quantile: float, values: np.ndarray) -> bool:
    """True when releasing ``quantile`` would reveal one peer's own value (or it is NaN)."""
    return not math.isfinite(quantile) or bool(
        np.any(np.isclose(values, quantile, rtol=1e-9, atol=0.0))
    )


def shown_percentile(p: float) -> float:
    """A percentile as the page shows it: capped to ``CAP`` (a modelled tail is a guess).

    Raises:
        ValueError: p is not a finite number.
    """
    if not math.isfinite(p):
        raise ValueError(f"a percentile must be a finite number, got {p}")
    low, high = CAP
    return min(max(float(p), low), high)


def standing(p: float) -> str:
    """The badge for a direction-aware percentile: "Top 25%", "Middle" or "Bottom 25%".

    Raises:
        ValueError: p is not a finite number.
    """
    if not math.isfinite(p):
        raise ValueError(f"a percentile must be a finite number, got {p}")
    if p >= 75.0:
        return "Top 25%"
    if p < 25.0:
        return "Bottom 25%"
    return "Middle"


def wilson(successes: float, trials: float, *, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for the rate ``successes / trials`` (CTR, CVR, open rate).

    Unlike the normal approximation it stays inside [0, 1] and behaves at 0 and at 100%.

    Returns:
        (low, high), or None when there are no trials (no rate to bound).

    Raises:
        ValueError: negative or non-finite counts, more successes than trials, or z <= 0.
    """
    if not (math.isfinite(successes) and math.isfinite(trials)) or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials (successes={successes}, trials={trials})")
    if not z > 0:
        raise ValueError(f"z must be positive, got {z}")
    if trials == 0:
        return None
    p = successes / trials
    z2n = z * z / trials
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / trials + z2n / (4.0 * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_ratio(
    numerators: Sequence[float],
    denominators: Sequence[float],
    *,
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile-bootstrap interval of ``sum(numerators) / sum(denominators)`` over days.

    Days are resampled with replacement (one multinomial count per day and resample, so the
    whole bootstrap is one matrix product); a resample whose denominator sums to 0 has no
    ratio and is dropped. Deterministic for a seed.

    Args:
        numerators: one number per day (e.g. spend for CPC).
        denominators: one number per day, aligned with ``numerators`` (e.g. clicks).
        resamples: bootstrap resamples.
        level: the interval's coverage, in (0, 1).
        seed: seed of the random generator.

    Returns:
        (low, high), or None with fewer than 2 days or no resample with a denominator.

    Raises:
        ValueError: sequences of different lengths, non-finite values, resamples < 1, or a
            level outside (0, 1).
    """
    num = np.asarray(numerators, dtype=float).ravel()
    den = np.asarray(denominators, dtype=float).ravel()
    if num.shape != den.shape:
        raise ValueError(f"numerators ({num.size}) and denominators ({den.size}) must align")
    if not (np.all(np.isfinite(num)) and np.all(np.isfinite(den))):
        raise ValueError("bootstrap_ratio needs finite numbers for every day")
    if resamples < 1 or not 0.0 < level < 1.0:
        raise ValueError(f"need resamples >= 1 and 0 < level < 1 (got {resamples}, {level})")
    days = num.size
    if days < 2:
        return None
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(days, np.full(days, 1.0 / days), size=resamples).astype(float)
    sum_num, sum_den = counts @ num, counts @ den
    valid = sum_den != 0
    if not np.any(valid):
        return None
    ratios = sum_num[valid] / sum_den[valid]
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(ratios, [tail, 1.0 - tail])
    return float(low), float(high)


def significance(low: float, high: float, benchmark: float) -> str:
    """Whether an interval (low, high) lies "above", "below" or "in line" with a benchmark.

    Raises:
        ValueError: low > high.
    """
    if low > high:
        raise ValueError(f"an interval needs low <= high (low={low}, high={high})")
    if low > benchmark:
        return "above"
    if high < benchmark:
        return "below"
    return "in line"


def blend(empirical: float, seed: float, n: int, *, n0: float = 10.0) -> float:
    """Peer median shrunk toward the published seed, on the log scale (reference §8.3.5).

    exp(w ln empirical + (1 - w) ln seed) with w = n / (n + n0): the seed acts as a prior
    worth ``n0`` companies, so a small portfolio starts from public data and moves toward its
    own peers as n grows.

    Raises:
        ValueError: a value that is not positive, n < 0 or n0 <= 0.
    """
    if not (empirical > 0 and seed > 0):
        raise ValueError(
            f"blending on the log scale needs positive values (empirical={empirical}, seed={seed})"
        )
    if n < 0 or not n0 > 0:
        raise ValueError(f"need n >= 0 and n0 > 0 (n={n}, n0={n0})")
    w = n / (n + n0)
    return math.exp(w * math.log(empirical) + (1.0 - w) * math.log(seed))


_SIZE_BANDS = (
    (5, "fewer than 5 companies"),
    (10, "5–10 companies"),
    (20, "10–20 companies"),
    (50, "20–50 companies"),
    (100, "50–100 companies"),
)


def size_band(n: int) -> str:
    """A cohort size rounded for the page ("10–20 companies"): an exact count helps nobody
    and narrows down who the peers are.

    Raises:
        ValueError: n < 0.
    """
    if n < 0:
        raise ValueError(f"a cohort size cannot be negative, got {n}")
    for below, label in _SIZE_BANDS:
        if n < below:
            return label
    return "100+ companies"
