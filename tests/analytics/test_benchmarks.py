"""Benchmark arithmetic: known answers worked by hand or taken from published examples."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.analytics.benchmarks import (
    CAP,
    Z95,
    blend,
    bootstrap_ratio,
    cohort_summary,
    empirical_percentile,
    median_from_mean,
    modelled_bands,
    modelled_percentile,
    shown_percentile,
    sigma_from_mean,
    sigma_from_quantile,
    significance,
    size_band,
    standing,
    wilson,
)

# --- modelled standing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "higher_is_better", "expected"),
    [
        (2.0, True, 50.0),  # the median itself
        (2.0 * math.exp(0.5), True, 84.1345),  # one sigma above: Phi(1)
        (2.0 * math.exp(-0.5), True, 15.8655),  # one sigma below: Phi(-1)
        (2.0 * math.exp(0.5), False, 15.8655),  # a cost one sigma above the median: mirrored
        (2.0 * math.exp(-1.0), False, 97.7250),  # a cost two sigma below: 1 - Phi(-2)
    ],
)
def test_modelled_percentile_known_answers(value, higher_is_better, expected):
    assert modelled_percentile(value, 2.0, 0.5, higher_is_better=higher_is_better) == (
        pytest.approx(expected, abs=1e-4)
    )


@pytest.mark.parametrize(("value", "median", "sigma"), [(0, 1, 1), (1, -1, 1), (1, 1, 0)])
def test_modelled_percentile_refuses_non_positive_numbers(value, median, sigma):
    with pytest.raises(ValueError, match="positive"):
        modelled_percentile(value, median, sigma)


def test_modelled_bands_follow_reference_8_2_4():
    # m = 2, sigma = 0.5: z_0.75 = 0.674490, 0.674490 * 0.5 = 0.337245;
    # exp(-0.337245) = 0.713734 and exp(+0.337245) = 1.401082, times m = 2.
    assert modelled_bands(2.0, 0.5) == pytest.approx((1.427468, 2.0, 2.802164), abs=1e-5)


def test_sigma_from_published_pairs_matches_reference_tables():
    # ZenABM single image CPC, mean 16.34 / median 13.23: sqrt(2 ln 1.2351) = 0.650
    assert sigma_from_mean(16.34, 13.23) == pytest.approx(0.65, abs=0.005)
    # Klaviyo flows placed-order rate, median 1.71% / P90 5.71%: ln(3.339) / 1.2816 = 0.941
    assert sigma_from_quantile(1.71, 5.71, 0.9) == pytest.approx(0.94, abs=0.005)


def test_median_from_mean_inverts_sigma_from_mean():
    sigma = sigma_from_mean(16.34, 13.23)
    assert median_from_mean(16.34, sigma) == pytest.approx(13.23)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: sigma_from_mean(1.0, 2.0), "exceeds its median"),
        (lambda: sigma_from_quantile(1.0, 2.0, 0.5), "not the median"),
        (lambda: sigma_from_quantile(1.0, 2.0, 1.0), "not the median"),
        (lambda: sigma_from_quantile(2.0, 1.0, 0.9), "right side"),
    ],
)
def test_sigma_refuses_impossible_shapes(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- empirical standing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "higher_is_better", "expected"),
    [
        (3.0, True, 60.0),  # worse: 1, 2; ties: 3, 3 -> (2 + 0.5 * 2) / 5
        (3.0, False, 40.0),  # a cost: worse is 5 only -> (1 + 0.5 * 2) / 5
        (6.0, True, 100.0),
        (0.5, True, 0.0),
        (5.0, True, 90.0),  # (4 + 0.5) / 5
    ],
)
def test_empirical_percentile_mid_rank_with_ties(value, higher_is_better, expected):
    peers = [1.0, 2.0, 3.0, 3.0, 5.0]
    assert empirical_percentile(value, peers, higher_is_better=higher_is_better) == (
        pytest.approx(expected)
    )


def test_empirical_percentile_needs_peers():
    with pytest.raises(ValueError, match="at least one peer"):
        empirical_percentile(1.0, [])


@pytest.mark.parametrize(("p", "shown"), [(0.0, 5.0), (4.9, 5.0), (50.0, 50.0), (99.0, 95.0)])
def test_shown_percentile_is_capped(p, shown):
    assert shown_percentile(p) == shown
    assert CAP == (5.0, 95.0)


@pytest.mark.parametrize(
    ("p", "label"),
    [(100.0, "Top 25%"), (75.0, "Top 25%"), (74.9, "Middle"), (25.0, "Middle"),
     (24.9, "Bottom 25%"), (0.0, "Bottom 25%")],
)  # fmt: skip
def test_standing_badges(p, label):
    assert standing(p) == label


@pytest.mark.parametrize("call", [lambda: shown_percentile(math.nan), lambda: standing(math.inf)])
def test_percentile_labels_refuse_non_numbers(call):
    with pytest.raises(ValueError, match="finite"):
        call()


# --- intervals ---------------------------------------------------------------------------------


def test_wilson_matches_newcombe_1998_example():
    # Newcombe (1998), Statistics in Medicine 17:857, example 81/263: Wilson 0.2553 to 0.3662.
    low, high = wilson(81, 263)
    assert (low, high) == pytest.approx((0.2553, 0.3662), abs=5e-5)


def test_wilson_at_zero_successes_by_hand():
    # p = 0: centre = half = (z^2 / 2n) / (1 + z^2 / n), so the interval is [0, z^2 / (n + z^2)]
    # = [0, 3.8415 / 13.8415] = [0, 0.27753] for n = 10.
    low, high = wilson(0, 10)
    assert low == 0.0
    assert high == pytest.approx(Z95**2 / (10 + Z95**2))
    assert high == pytest.approx(0.27753, abs=1e-5)


def test_wilson_without_trials_is_none_and_bad_counts_raise():
    assert wilson(0, 0) is None
    for successes, trials in [(5, 4), (-1, 4), (math.nan, 4)]:
        with pytest.raises(ValueError, match="successes"):
            wilson(successes, trials)
    with pytest.raises(ValueError, match="z must be positive"):
        wilson(1, 4, z=0)


def daily(days, seed):
    """Days of spend and clicks around a CPC of 2."""
    rng = np.random.default_rng(seed)
    clicks = rng.poisson(50, days).astype(float)
    spend = clicks * rng.lognormal(math.log(2.0), 0.3, days)
    return spend, clicks


def test_bootstrap_is_deterministic_and_contains_the_point_estimate():
    spend, clicks = daily(30, seed=1)
    interval = bootstrap_ratio(spend, clicks, seed=7)
    assert interval == bootstrap_ratio(spend, clicks, seed=7)
    assert interval != bootstrap_ratio(spend, clicks, seed=8)
    low, high = interval
    assert low < spend.sum() / clicks.sum() < high


def test_bootstrap_narrows_with_more_days():
    short = bootstrap_ratio(*daily(10, seed=2))
    long = bootstrap_ratio(*daily(200, seed=2))
    assert long[1] - long[0] < (short[1] - short[0]) / 2


def test_bootstrap_drops_resamples_without_a_denominator():
    # Two days, one without clicks: resamples drawing only that day have no ratio; all others
    # give 10 / 5 = 2 (any mix of the two days keeps the ratio at 2).
    assert bootstrap_ratio([0.0, 10.0], [0.0, 5.0]) == pytest.approx((2.0, 2.0))
    assert bootstrap_ratio([1.0, 2.0], [0.0, 0.0]) is None
    assert bootstrap_ratio([1.0], [2.0]) is None


@pytest.mark.parametrize(
    ("num", "den", "kwargs", "match"),
    [
        ([1, 2], [1], {}, "align"),
        ([1, math.nan], [1, 1], {}, "finite"),
        ([1, 2], [1, 1], {"level": 1.0}, "level"),
        ([1, 2], [1, 1], {"resamples": 0}, "resamples"),
    ],
)
def test_bootstrap_refuses_bad_input(num, den, kwargs, match):
    with pytest.raises(ValueError, match=match):
        bootstrap_ratio(num, den, **kwargs)


@pytest.mark.parametrize(
    ("low", "high", "label"),
    [(2.1, 3.0, "above"), (1.0, 1.9, "below"), (1.5, 2.5, "in line"), (2.0, 2.5, "in line")],
)
def test_significance(low, high, label):
    assert significance(low, high, 2.0) == label


def test_significance_refuses_reversed_interval():
    with pytest.raises(ValueError, match="low <= high"):
        significance(3.0, 1.0, 2.0)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, 1.0),  # no peers: the seed
        (10, 2.0),  # w = 1/2: geometric mean of 4 and 1
        (30, 4.0**0.75),  # w = 3/4
    ],
)
def test_blend_weights_the_seed_as_n0_companies(n, expected):
    assert blend(4.0, 1.0, n) == pytest.approx(expected)


def test_blend_refuses_non_positive_values():
    with pytest.raises(ValueError, match="positive"):
        blend(0.0, 1.0, 5)
    with pytest.raises(ValueError, match="n0"):
        blend(1.0, 1.0, 5, n0=0)


@pytest.mark.parametrize(
    ("n", "band"),
    [(0, "fewer than 5 companies"), (4, "fewer than 5 companies"), (5, "5–10 companies"),
     (9, "5–10 companies"), (10, "10–20 companies"), (19, "10–20 companies"),
     (20, "20–50 companies"), (50, "50–100 companies"), (99, "50–100 companies"),
     (100, "100+ companies"), (5000, "100+ companies")],
)  # fmt: skip
def test_size_band(n, band):
    assert size_band(n) == band


def test_size_band_refuses_negative():
    with pytest.raises(ValueError, match="negative"):
        size_band(-1)


# --- cohort summary and anonymity --------------------------------------------------------------


def portfolio(size, seed=0):
    """``size`` peer companies with one log-normal account value each."""
    rng = np.random.default_rng(seed)
    return {f"peer{i}": [float(v)] for i, v in enumerate(rng.lognormal(0.0, 0.6, size))}


def released(summary):
    return [summary[key] for key in ("p25", "median", "p75") if summary[key] is not None]


@pytest.mark.parametrize(
    ("size", "median_shown", "quartiles_shown", "reason"),
    [
        (4, False, False, "fewer than 5 other companies (4)"),
        (5, True, False, "quartiles need at least 10 companies (5)"),
        (9, True, False, "quartiles need at least 10 companies (9)"),
        (10, True, True, None),
    ],
)
def test_anonymity_thresholds(size, median_shown, quartiles_shown, reason):
    summary = cohort_summary(portfolio(size))
    assert summary["n"] == size
    assert (summary["median"] is not None) is median_shown
    assert (summary["p25"] is not None) is quartiles_shown
    assert (summary["p75"] is not None) is quartiles_shown
    assert summary["suppressed"] == reason


def test_a_dominant_peer_suppresses_everything():
    values = portfolio(12)
    weights = dict.fromkeys(values, 100.0) | {"peer3": 500.0}  # 500 / 1600 = 31%
    summary = cohort_summary(values, weights=weights)
    assert summary == {
        "n": 12,
        "median": None,
        "p25": None,
        "p75": None,
        "suppressed": "one company holds more than 30% of the cohort's spend",
    }
    weights["peer3"] = 400.0  # 400 / 1500 = 27%: allowed
    assert cohort_summary(values, weights=weights)["suppressed"] is None


@pytest.mark.parametrize("size", range(4, 26))
def test_no_released_number_equals_a_peer_value(size):
    for values in (portfolio(size, seed=size), {f"c{i}": [float(i)] for i in range(size)}):
        summary = cohort_summary(values)
        own = np.concatenate([np.asarray(v) for v in values.values()])
        for number in released(summary):
            assert not np.any(np.isclose(own, number, rtol=1e-9, atol=0.0))


def test_symmetric_data_would_put_the_median_on_a_peer_and_is_withheld():
    # Harrell-Davis weights are symmetric, so for 1..5 the estimate is exactly 3: one peer's own
    # number. It is withheld rather than shown.
    summary = cohort_summary({f"c{i}": [float(i)] for i in range(1, 6)})
    assert summary["median"] is None
    assert summary["suppressed"] == "the median would equal one company's own value"
    alike = cohort_summary({f"c{i}": [0.02] for i in range(12)})
    assert alike["median"] is None
    one = cohort_summary({"c": [0.02]}, k_median=1, k_quartiles=1)
    assert (one["n"], one["median"]) == (1, None)


def test_a_quartile_on_a_peer_withholds_the_quartiles_only():
    # 45 of 60 companies at exactly 1.0: P25 is 1.0 to within 1e-15 (the Beta(15.25, 45.75)
    # weights above the 45th order statistic are negligible), the median is not.
    values = {f"c{i}": [1.0] for i in range(45)} | {f"d{i}": [10.0 + i] for i in range(15)}
    summary = cohort_summary(values)
    assert summary["suppressed"] == "a quartile would equal one company's own value"
    assert summary["median"] > 1.0
    assert summary["p25"] is None and summary["p75"] is None


def test_quartiles_are_harrell_davis_estimates():
    # The worked example in SciPy's hdquantiles documentation.
    data = [1.2, 2.5, 3.7, 4.0, 5.1, 6.3, 7.0, 8.2, 9.4]
    summary = cohort_summary({f"c{i}": [v] for i, v in enumerate(data)}, k_quartiles=9)
    assert (summary["p25"], summary["median"], summary["p75"]) == pytest.approx(
        (3.1505820231763066, 5.194344084883956, 7.430626414674935)
    )


def test_one_account_one_vote_but_companies_are_counted_once():
    # Four companies, one with three accounts: six values, but only four companies.
    values = {"a": [1.0, 1.1, 1.3], "b": [2.0], "c": [2.7], "d": [4.1], "e": [math.nan]}
    summary = cohort_summary(values)
    assert summary["n"] == 4
    assert summary["suppressed"] == "fewer than 5 other companies (4)"
    # With a fifth company the median is over all seven values, so a's accounts pull it down.
    values["e"] = [9.0]
    pooled = cohort_summary(values)["median"]
    per_company = cohort_summary({k: [float(np.mean(v))] for k, v in values.items()})["median"]
    assert pooled < per_company


def test_cohort_summary_refuses_bad_rules_and_weights():
    with pytest.raises(ValueError, match="k_median"):
        cohort_summary(portfolio(5), k_median=6, k_quartiles=5)
    with pytest.raises(ValueError, match="no spend given for peer4"):
        cohort_summary(portfolio(5), weights={f"peer{i}": 1.0 for i in range(4)})
    with pytest.raises(ValueError, match="not negative"):
        cohort_summary(portfolio(5), weights={f"peer{i}": -1.0 for i in range(5)})


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(1e-4, 1e4, allow_nan=False), min_size=1, max_size=4),
        min_size=5,
        max_size=30,
    )
)
def test_released_quantiles_are_ordered_and_inside_the_data(companies):
    values = {f"c{i}": v for i, v in enumerate(companies)}
    summary = cohort_summary(values)
    pooled = np.concatenate([np.asarray(v) for v in companies])
    if summary["median"] is not None:
        assert pooled.min() <= summary["median"] <= pooled.max()
    if summary["p25"] is not None:
        assert summary["p25"] <= summary["median"] <= summary["p75"]
    for number in released(summary):
        assert not np.any(np.isclose(pooled, number, rtol=1e-9, atol=0.0))
