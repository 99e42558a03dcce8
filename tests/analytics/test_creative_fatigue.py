"""Creative fatigue: a halving CTR is found, a flat or wobbly one is not, slopes are exact."""

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import special

from generator.analytics.creative_fatigue import FATIGUE_COLUMNS, fatigue
from generator.errors import ReportError

DAY0 = date(2026, 3, 2)


def two_sided(z):
    """The two-sided p-value of a standard normal z."""
    return math.erfc(abs(z) / math.sqrt(2))


def ad_days(ad_id, ctrs, impressions=50_000, rng=None, **extra):
    """Daily rows of one ad: clicks drawn (rng) or exactly impressions x CTR (fractional)."""
    ctrs = np.asarray(ctrs, dtype=float)
    clicks = rng.binomial(impressions, ctrs) if rng is not None else impressions * ctrs
    return pd.DataFrame(
        {
            "date": [DAY0 + timedelta(days=i) for i in range(len(ctrs))],
            "ad_id": ad_id,
            "impressions": impressions,
            "clicks": clicks,
            **extra,
        }
    )


def test_fatigue_finds_a_halving_ctr_and_not_a_flat_one():
    # binomial clicks, one seed per ad (over 200 seeds a flat ad was flagged 3.5% of the
    # time: alpha 0.05, a little less with the dispersion floored at 1)
    t = np.arange(28)
    daily = pd.concat(
        [
            ad_days("halving", 0.02 * 0.5 ** (t / 27), rng=np.random.default_rng(0)),
            ad_days("flat", np.full(28, 0.02), rng=np.random.default_rng(2)),
            ad_days("new", [0.02] * 3),
            ad_days("tiny", [0.02] * 10, impressions=50),
        ],
        ignore_index=True,
    )
    before = daily.copy()
    out = fatigue(daily).set_index("ad_id")
    pd.testing.assert_frame_equal(daily, before)
    assert list(out.reset_index().columns) == list(FATIGUE_COLUMNS)
    assert out.index.tolist() == ["flat", "halving"]  # 3 days and 500 impressions left out
    halving = out.loc["halving"]
    assert halving["fatigued"] and halving["slope"] < 0 and halving["p_value"] < 1e-10
    # CTR x 0.5^(7/27) a week: -16.4% (the logit is close to the log at 1-2% CTR)
    assert halving["weekly_change"] == pytest.approx(0.5 ** (7 / 27) - 1, abs=0.02)
    assert not out.loc["flat", "fatigued"] and out.loc["flat", "p_value"] > 0.05
    assert out.loc["halving", "days"] == 28 and out.loc["flat", "impressions"] == 1_400_000


def test_fatigue_slope_and_standard_error_on_an_exact_logistic_curve():
    # clicks exactly on logit(CTR) = -4 - 0.03 t: the MLE is the curve itself, the Pearson
    # dispersion 0 (floored at 1), var(slope) = [(X'WX)^-1]_11 with w = n p (1 - p)
    t = np.arange(10.0)
    p = special.expit(-4 - 0.03 * t)
    out = fatigue(ad_days("exact", p, impressions=10_000)).iloc[0]
    assert out["slope"] == pytest.approx(-0.03, abs=1e-7)
    x = np.column_stack([np.ones(10), t])
    se = math.sqrt(np.linalg.inv(x.T @ (x * (10_000 * p * (1 - p))[:, None]))[1, 1])
    assert out["p_value"] == pytest.approx(two_sided(-0.03 / se), rel=1e-5)
    assert out["weekly_change"] == pytest.approx(math.exp(-0.21) - 1)


def test_fatigue_discounts_day_to_day_wobble():
    # CTR 2.6% on even days, 1.4% on odd ones, 100,000 impressions a day: the least-squares
    # slope of the alternation is -14/1827 per day of its amplitude; binomial errors alone
    # give z = -4.4, but the Pearson dispersion (about 200) widens them to z = -0.32
    ctrs = [0.026 if i % 2 == 0 else 0.014 for i in range(28)]
    out = fatigue(ad_days("wobbly", ctrs, impressions=100_000)).iloc[0]
    assert out["slope"] < 0 and out["p_value"] > 0.5 and not out["fatigued"]


def test_fatigue_slope_on_frequency():
    t = np.arange(12.0)
    freq = np.array([2, 3, 1.5, 4, 2.5, 3.5, 1, 5, 2, 3, 4.5, 1.5])
    p = special.expit(-4 - 0.01 * t - 0.2 * freq)
    with_freq = ad_days("seen often", p, impressions=20_000, frequency=freq)
    without = ad_days("no reach", [0.02] * 12, frequency=np.nan)
    out = fatigue(pd.concat([with_freq, without], ignore_index=True)).set_index("ad_id")
    assert out.loc["seen often", "frequency_slope"] == pytest.approx(-0.2, abs=1e-6)
    assert out.loc["seen often", "frequency_p_value"] < 1e-6
    assert out.loc["no reach", ["frequency_slope", "frequency_p_value"]].isna().all()


def test_fatigue_edge_cases():
    split = pd.concat([ad_days("split", [0.01] * 8, impressions=500)] * 2, ignore_index=True)
    never = ad_days("never", [0.0] * 8)
    steady = ad_days("steady", [0.02] * 8, frequency=2.0)  # frequency cannot explain anything
    out = fatigue(pd.concat([split, never, steady], ignore_index=True)).set_index("ad_id")
    assert out.loc["split", "impressions"] == 8000  # two rows a day are summed
    assert pd.isna(out.loc["steady", "frequency_slope"]) and out.loc[
        "steady", "slope"
    ] == pytest.approx(0, abs=1e-9)
    assert pd.isna(out.loc["never", "slope"]) and not out.loc["never", "fatigued"]
    assert fatigue(never.iloc[:0]).columns.tolist() == list(FATIGUE_COLUMNS)


@pytest.mark.parametrize(
    ("daily", "options", "message"),
    [
        (ad_days("x", [0.01] * 8).drop(columns="clicks"), {}, "clicks"),
        (ad_days("x", [0.01] * 8), {"min_days": 2}, "min_days"),
        (ad_days("x", [2.0] * 8), {}, "more clicks than impressions"),
        (ad_days("x", [-0.01] * 8), {}, ">= 0"),
        (ad_days("x", [0.01] * 8).to_dict(), {}, "must be a pandas DataFrame"),
    ],
)
def test_fatigue_refuses_bad_input(daily, options, message):
    with pytest.raises(ReportError, match=message):
        fatigue(daily, **options)
