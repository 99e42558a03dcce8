import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from generator.analytics.abtest import (
    adjust_p_values,
    compare,
    compare_many,
    prob_b_beats_a,
    sample_size,
)
from generator.errors import ReportError


def test_two_proportions_by_hand():
    out = compare(200, 1000, 250, 1000)
    pooled = 450 / 2000
    z = 0.05 / math.sqrt(pooled * (1 - pooled) * 2 / 1000)
    assert out.z == pytest.approx(z) and out.z == pytest.approx(2.6774, abs=1e-4)
    assert out.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert out.lift == pytest.approx(0.25)
    # Katz: se(log RR) = sqrt(1/200 - 1/1000 + 1/250 - 1/1000) = sqrt(0.007)
    half = 1.959964 * math.sqrt(0.007)
    assert out.lift_low == pytest.approx(1.25 * math.exp(-half) - 1, abs=1e-6)
    assert out.lift_high == pytest.approx(1.25 * math.exp(half) - 1, abs=1e-6)
    assert out.a_rate == 0.2 and out.b_rate == 0.25 and not out.low_counts
    assert out.as_dict()["sample_size"] == out.sample_size


def probability_by_integration(xa, na, xb, nb):
    a, b = stats.beta(xa + 1, na - xa + 1), stats.beta(xb + 1, nb - xb + 1)
    return integrate.quad(lambda p: b.pdf(p) * a.cdf(p), 0, 1, limit=200)[0]


@pytest.mark.parametrize(
    "counts", [(200, 1000, 250, 1000), (3, 10, 1, 12), (0, 20, 0, 20), (40, 50, 5, 9), (9, 9, 0, 1)]
)
def test_probability_b_beats_a_is_exact(counts):
    assert prob_b_beats_a(*counts) == pytest.approx(probability_by_integration(*counts), abs=1e-7)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.data())
def test_probabilities_of_both_orders_add_up_to_one(na, nb, data):
    xa, xb = data.draw(st.integers(0, na)), data.draw(st.integers(0, nb))
    total = prob_b_beats_a(xa, na, xb, nb) + prob_b_beats_a(xb, nb, xa, na)
    assert total == pytest.approx(1.0, abs=1e-9)


def test_large_counts_stay_fast_and_sane():
    assert prob_b_beats_a(50_000, 1_000_000, 50_600, 1_000_000) == pytest.approx(
        stats.norm.cdf(600 / math.sqrt(2 * 50_000 * 0.95)), abs=5e-3
    )


def test_sample_size_by_hand():
    # (1.96 sqrt(2 .11 .89) + 0.8416 sqrt(.09 + .1056))^2 / .02^2 = 3840.9
    assert sample_size(0.10, 0.12) == 3841
    assert sample_size(0.1, 0.1) is None and sample_size(0.0, 0.1) is None
    sized = compare(100, 1000, 100, 1000, mde=0.2)
    assert sized.sample_size == sample_size(0.1, 0.12) and sized.underpowered


def test_low_counts_use_the_exact_test():
    out = compare(0, 5, 5, 5)
    assert out.low_counts
    assert out.exact_p_value == pytest.approx(2 / math.comb(10, 5))
    assert out.lift is None and out.lift_low is None  # A has no conversion


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((0, 50, 0, 50), {"z": None, "p_value": None, "prob_b_beats_a": 0.5, "sample_size": None}),
        ((5, 50, 0, 50), {"lift": -1.0, "lift_low": None, "lift_high": None}),
        ((50, 50, 50, 50), {"z": None, "exact_p_value": 1.0}),
    ],
)
def test_degenerate_tests_have_documented_results(counts, expected):
    out = compare(*counts).as_dict()
    assert {k: out[k] for k in expected} == pytest.approx(expected)


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("holm", [0.03, 0.06, 0.06, np.nan]),
        ("bonferroni", [0.03, 0.12, 0.09, np.nan]),
        ("bh", [0.03, 0.04, 0.04, np.nan]),
    ],
)
def test_p_value_corrections_by_hand(method, expected):
    out = adjust_p_values([0.01, 0.04, 0.03, np.nan], method)
    np.testing.assert_allclose(out, expected)
    assert adjust_p_values([0.9, 0.8], "bonferroni").tolist() == [1.0, 1.0]


def test_several_variants_against_one_control():
    out = compare_many((100, 1000), {"b": (150, 1000), "c": (101, 1000), "d": (0, 1000)})
    assert out["variant"].tolist() == ["b", "c", "d"]
    raw = out["p_value"].to_numpy()
    assert out["adjusted_p_value"].tolist() == pytest.approx(adjust_p_values(raw, "holm").tolist())
    assert out["significant"].tolist() == [True, False, True]
    bh = compare_many((100, 1000), {"b": (130, 1000)}, correction="bh")
    assert bh["adjusted_p_value"].iloc[0] == pytest.approx(bh["p_value"].iloc[0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: compare(-1, 10, 1, 10), "whole numbers >= 0, not -1"),
        (lambda: compare(1.5, 10, 1, 10), "not 1.5"),
        (lambda: compare(True, 10, 1, 10), "not True"),
        (lambda: compare("x", 10, 1, 10), "not 'x'"),
        (lambda: compare(11, 10, 1, 10), "more conversions than trials"),
        (lambda: compare(0, 0, 1, 10), "at least one trial"),
        (lambda: compare(1, 10, 1, 10, alpha=1.5), "strictly between 0 and 1"),
        (lambda: compare_many((1, 10), {}), "at least one variant"),
        (lambda: adjust_p_values([0.1], "sidak"), "unknown correction 'sidak'"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ReportError, match=message):
        call()
