"""Creative fatigue: ads whose CTR falls significantly with the days they have been live.

``fatigue`` fits, per ad, a binomial GLM (logit link) of CTR on days live, and on frequency where
the platform reports it (statsmodels' GLM, binomial family, fitted by IRLS). Standard errors use
the Pearson dispersion floored at 1 (quasi-binomial): daily CTRs wobble far more than binomial
noise, and without it every large ad would look fatigued.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

from generator.analytics._columns import require
from generator.errors import ReportError

__all__ = ["FATIGUE_COLUMNS", "fatigue"]

#: the columns of ``fatigue``, in order
FATIGUE_COLUMNS = (
    "ad_id", "days", "impressions", "clicks", "ctr", "slope", "p_value", "weekly_change",
    "fatigued", "frequency_slope", "frequency_p_value",
)  # fmt: skip


def fatigue(
    daily: pd.DataFrame, *, min_days: int = 7, min_impressions: int = 1000, alpha: float = 0.05
) -> pd.DataFrame:
    """Flag ads whose CTR falls significantly with the days they have been live.

    Per ad, a binomial GLM (logit link, clicks of impressions) of daily CTR on days since the
    ad's first day with impressions; with a ``frequency`` column, a second fit on days and
    frequency (the ad's days where it is reported) gives the slope on frequency. P-values are
    Wald tests with quasi-binomial standard errors (see the module docstring).

    Args:
        daily: ``date``, ``ad_id``, ``impressions``, ``clicks`` and optionally ``frequency``;
            rows of one ad and day are summed (frequency: impression-weighted mean).
        min_days: ads with fewer days with impressions are left out (at least 3).
        min_impressions: ads with fewer impressions in total are left out.
        alpha: the significance level of ``fatigued``.

    Returns:
        One row per ad kept, columns ``FATIGUE_COLUMNS``: ``slope`` (log-odds per day),
        ``p_value``, ``weekly_change`` = exp(7 slope) - 1, ``fatigued`` = slope < 0 and
        p_value < alpha, ``frequency_slope`` and ``frequency_p_value`` (missing without
        frequency). Slopes are missing (and ``fatigued`` False) for an ad that never or always
        got clicked.

    Raises:
        ReportError: for a missing column, negative or missing counts, clicks above
            impressions, ``min_days`` < 3 or ``alpha`` outside (0, 1).
    """
    require(daily, ("date", "ad_id", "impressions", "clicks"), "daily")
    if min_days < 3 or not 0 < alpha < 1:
        raise ReportError("fatigue needs min_days >= 3 and alpha strictly between 0 and 1")
    days = _ad_days(daily)
    rows = []
    for ad_id, ad in days.groupby("ad_id", sort=True):
        if len(ad) < min_days or ad["impressions"].sum() < min_impressions:
            continue
        rows.append({"ad_id": ad_id, **_fatigue_fit(ad, alpha)})
    return pd.DataFrame(rows, columns=list(FATIGUE_COLUMNS))


def _ad_days(daily: pd.DataFrame) -> pd.DataFrame:
    """One row per ad and day with impressions: t (days since the ad's first), counts, freq."""
    rows = daily[["impressions", "clicks"]].apply(pd.to_numeric, errors="coerce")
    rows.insert(0, "ad_id", daily["ad_id"].astype(str))
    rows.insert(1, "date", pd.to_datetime(daily["date"]))
    counts = rows[["impressions", "clicks"]]
    if counts.isna().any(axis=None) or (counts < 0).any(axis=None):
        raise ReportError("daily impressions and clicks must be numbers >= 0")
    if (rows["clicks"] > rows["impressions"]).any():
        raise ReportError("daily rows with more clicks than impressions cannot be fitted")
    freq = (
        pd.to_numeric(daily["frequency"], errors="coerce")
        if "frequency" in daily.columns
        else pd.Series(np.nan, index=daily.index)
    )
    rows["weighted"] = freq * rows["impressions"]
    rows["weight"] = rows["impressions"].where(freq.notna(), 0.0)
    days = rows.groupby(["ad_id", "date"], sort=True).sum(min_count=1).reset_index()
    days = days[days["impressions"] > 0]
    days["frequency"] = days["weighted"] / days["weight"].where(days["weight"] > 0)
    first = days.groupby("ad_id")["date"].transform("min")
    days["t"] = (days["date"] - first).dt.days.astype(np.float64)
    return days[["ad_id", "t", "impressions", "clicks", "frequency"]]


def _fatigue_fit(ad: pd.DataFrame, alpha: float) -> dict:
    """The FATIGUE_COLUMNS of one ad (but ``ad_id``)."""
    imps, clicks = ad["impressions"].sum(), ad["clicks"].sum()
    slope, p_value = _slope(ad, ["t"])[0]
    freq = ad[ad["frequency"].notna()]
    freq_slope, freq_p = _slope(freq, ["t", "frequency"])[1] if len(freq) > 3 else (np.nan, np.nan)
    return {
        "days": len(ad),
        "impressions": imps,
        "clicks": clicks,
        "ctr": clicks / imps,
        "slope": slope,
        "p_value": p_value,
        "weekly_change": float(np.expm1(7 * slope)),
        "fatigued": bool(slope < 0 and p_value < alpha),
        "frequency_slope": freq_slope,
        "frequency_p_value": freq_p,
    }


def _slope(ad: pd.DataFrame, regressors: list[str]) -> list[tuple[float, float]]:
    """(coefficient, Wald p-value) of each regressor in a quasi-binomial logit GLM."""
    nan = [(np.nan, np.nan)] * len(regressors)
    y, n = ad["clicks"].to_numpy(np.float64), ad["impressions"].to_numpy(np.float64)
    raw = ad[regressors].to_numpy(np.float64)
    x = np.column_stack([np.ones(len(ad)), raw - raw.mean(axis=0)])  # centred: well conditioned
    if not 0 < y.sum() < n.sum() or np.linalg.matrix_rank(x) < x.shape[1]:
        return nan
    model = sm.GLM(np.column_stack([y, n - y]), x, family=sm.families.Binomial())
    try:
        with warnings.catch_warnings():  # an exact curve "separates"; its Wald test still holds
            warnings.simplefilter("ignore", PerfectSeparationWarning)
            fit = model.fit()
    except (ValueError, np.linalg.LinAlgError, PerfectSeparationError):
        return nan
    # the dispersion floored at 1: fewer clicks than binomial noise is no reason for more trust
    dispersion = max(1.0, fit.pearson_chi2 / fit.df_resid) if fit.df_resid > 0 else 1.0
    se = np.asarray(fit.bse[1:]) * np.sqrt(dispersion)
    beta = np.asarray(fit.params[1:])
    p = 2 * stats.norm.sf(np.abs(beta / se))
    return [(float(b), float(q)) for b, q in zip(beta, p, strict=True)]
