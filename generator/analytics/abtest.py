"""Creative A/B tests on conversion counts: frequentist, Bayesian, lift and power.

``compare(a_conversions, a_trials, b_conversions, b_trials)`` reports, for B against A:

- ``z`` and ``p_value``: the pooled two-proportion z-test, two-sided;
- ``exact_p_value``: Fisher's exact test, two-sided; ``low_counts`` says when an expected
  cell count is below 5 and this, not the normal approximation, is the one to read;
- ``prob_b_beats_a``: P(p_B > p_A) under independent Beta(1, 1) priors, computed exactly
  with the closed-form sum (Evan Miller's formula; no sampling);
- ``lift`` = p_B / p_A - 1 with a confidence interval from the log of the rate ratio
  (Katz), null when A has no conversion;
- ``sample_size``: trials per arm to detect the observed difference (or ``mde``) with a
  two-sided test at ``alpha`` and ``power``; ``underpowered`` when an arm has fewer.

``compare_many`` tests several variants against one control with a multiple-comparison
correction of the p-values (Holm by default, Bonferroni, or Benjamini-Hochberg).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from generator.errors import ReportError

__all__ = [
    "ABResult",
    "adjust_p_values",
    "compare",
    "compare_many",
    "prob_b_beats_a",
    "sample_size",
]


@dataclass(frozen=True)
class ABResult:
    """The comparison of variant B with control A (see the module docstring)."""

    a_rate: float
    b_rate: float
    z: float | None
    p_value: float | None
    exact_p_value: float
    prob_b_beats_a: float
    lift: float | None
    lift_low: float | None
    lift_high: float | None
    sample_size: int | None
    underpowered: bool
    low_counts: bool

    def as_dict(self) -> dict:
        return asdict(self)


def compare(
    a_conversions: int,
    a_trials: int,
    b_conversions: int,
    b_trials: int,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    mde: float | None = None,
) -> ABResult:
    """Compare B with A. ``mde``: a relative lift to size the test for (default: observed).

    Raises:
        ReportError: for negative or non-integer counts, conversions above trials, an arm
            without trials, or ``alpha``/``power`` outside (0, 1).
    """
    xa, na, xb, nb = _counts(a_conversions, a_trials, b_conversions, b_trials)
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ReportError("alpha and power must lie strictly between 0 and 1")
    pa, pb = xa / na, xb / nb
    z, p_value = _z_test(xa, na, xb, nb)
    lift, low, high = _lift(xa, na, xb, nb, alpha)
    target = pb if mde is None else pa * (1 + mde)
    needed = sample_size(pa, target, alpha=alpha, power=power)
    pooled = (xa + xb) / (na + nb)
    expected = np.array([na, nb]) * np.array([[pooled], [1 - pooled]])
    return ABResult(
        a_rate=pa,
        b_rate=pb,
        z=z,
        p_value=p_value,
        exact_p_value=float(stats.fisher_exact([[xa, na - xa], [xb, nb - xb]])[1]),
        prob_b_beats_a=prob_b_beats_a(xa, na, xb, nb),
        lift=lift,
        lift_low=low,
        lift_high=high,
        sample_size=needed,
        underpowered=needed is None or min(na, nb) < needed,
        low_counts=bool((expected < 5).any()),
    )


def prob_b_beats_a(a_conversions: int, a_trials: int, b_conversions: int, b_trials: int) -> float:
    """Exact P(p_B > p_A) with Beta(1, 1) priors on both rates.

    With posteriors Beta(alpha_A, beta_A) and Beta(alpha_B, beta_B),
    P = sum_{i < alpha_B} B(alpha_A + i, beta_A + beta_B) / ((beta_B + i) B(1 + i, beta_B)
    B(alpha_A, beta_A)); summed in log space over the smaller of the two alphas (by the
    symmetry P(B > A) = 1 - P(A > B)), so it stays exact and fast for large counts.
    """
    xa, na, xb, nb = _counts(a_conversions, a_trials, b_conversions, b_trials)
    a_a, b_a, a_b, b_b = xa + 1, na - xa + 1, xb + 1, nb - xb + 1
    if a_b <= a_a:
        return _beats(a_a, b_a, a_b, b_b)
    return 1.0 - _beats(a_b, b_b, a_a, b_a)


def sample_size(p_a: float, p_b: float, *, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Trials per arm for a two-sided two-proportion test to detect ``p_a`` vs ``p_b``.

    None when the rates are equal (no difference can be detected) or outside (0, 1).
    """
    if not (0 < p_a < 1 and 0 < p_b < 1) or p_a == p_b:
        return None
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    mean = (p_a + p_b) / 2
    spread = z_a * np.sqrt(2 * mean * (1 - mean)) + z_b * np.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))
    return int(np.ceil(spread**2 / (p_a - p_b) ** 2))


def compare_many(
    control: tuple[int, int],
    variants: Mapping[str, tuple[int, int]],
    *,
    correction: Literal["holm", "bonferroni", "bh"] = "holm",
    alpha: float = 0.05,
    power: float = 0.8,
) -> pd.DataFrame:
    """Each variant (conversions, trials) against the control, p-values corrected.

    Returns:
        One row per variant: ``variant``, every ``ABResult`` field, ``adjusted_p_value``
        (from the pooled z-test's p-values) and ``significant`` (adjusted p < ``alpha``).
    """
    if not variants:
        raise ReportError("compare_many needs at least one variant")
    rows = [
        {"variant": name, **compare(*control, *counts, alpha=alpha, power=power).as_dict()}
        for name, counts in variants.items()
    ]
    out = pd.DataFrame(rows)
    raw = out["p_value"].to_numpy(dtype=np.float64, na_value=np.nan)
    out["adjusted_p_value"] = adjust_p_values(raw, correction)
    out["significant"] = out["adjusted_p_value"] < alpha
    return out


def adjust_p_values(p_values, method: str = "holm") -> np.ndarray:
    """Holm, Bonferroni or Benjamini-Hochberg adjusted p-values (NaN stays NaN)."""
    p = np.asarray(p_values, dtype=np.float64)
    if method not in ("holm", "bonferroni", "bh"):
        raise ReportError(f"unknown correction {method!r}; use holm, bonferroni or bh")
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = len(valid)
    order = valid[np.argsort(p[valid], kind="stable")]
    ranked = p[order]
    if method == "bonferroni":
        adjusted = ranked * m
    elif method == "holm":
        adjusted = np.maximum.accumulate(ranked * (m - np.arange(m)))
    else:
        adjusted = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _beats(a_a: int, b_a: int, a_b: int, b_b: int) -> float:
    """P(p_B > p_A), summing over i < a_b."""
    i = np.arange(a_b, dtype=np.float64)
    terms = (
        special.betaln(a_a + i, b_a + b_b)
        - np.log(b_b + i)
        - special.betaln(1 + i, b_b)
        - special.betaln(a_a, b_a)
    )
    return float(np.clip(np.exp(special.logsumexp(terms)), 0.0, 1.0))


def _z_test(xa, na, xb, nb) -> tuple[float | None, float | None]:
    pooled = (xa + xb) / (na + nb)
    se = np.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    if se == 0:  # no conversions at all, or only conversions: nothing to test
        return None, None
    z = (xb / nb - xa / na) / se
    return float(z), float(2 * stats.norm.sf(abs(z)))


def _lift(xa, na, xb, nb, alpha) -> tuple[float | None, float | None, float | None]:
    if xa == 0:
        return None, None, None
    lift = (xb / nb) / (xa / na) - 1
    if xb == 0:
        return lift, None, None
    se = np.sqrt(1 / xa - 1 / na + 1 / xb - 1 / nb)
    z = stats.norm.ppf(1 - alpha / 2)
    log_ratio = np.log((xb / nb) / (xa / na))
    return lift, float(np.exp(log_ratio - z * se) - 1), float(np.exp(log_ratio + z * se) - 1)


def _counts(*values) -> tuple[int, int, int, int]:
    for value in values:
        try:
            whole = not isinstance(value, bool) and float(value).is_integer() and value >= 0
        except (TypeError, ValueError):
            whole = False
        if not whole:
            raise ReportError(f"counts must be whole numbers >= 0, not {value!r}")
    xa, na, xb, nb = (int(v) for v in values)
    if na == 0 or nb == 0:
        raise ReportError("each arm needs at least one trial")
    if xa > na or xb > nb:
        raise ReportError("an arm has more conversions than trials")
    return xa, na, xb, nb
