"""Creative A/B tests: hand-computed answers, exact references and invariants."""

import hashlib
import json
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.analytics.abtest import prob_b_beats_a
from generator.analytics.creative_tests import (
    ARM_COLUMNS,
    Arm,
    DeclaredTest,
    ad_group_tests,
    compare_arms,
    cumulative,
    declared_tests,
    split_by_tag,
)
from generator.errors import ReportError

Z975 = 1.959963984540054
DAY0 = date(2026, 3, 2)


def two_sided(z):
    """P(|Z| > |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


def by_arm(frame):
    return frame.set_index("arm")


# --- compare_arms ----------------------------------------------------------------------------


def test_two_arms_by_hand():
    out = by_arm(compare_arms([Arm("A", 200, 1000), Arm("B", 250, 1000)]))
    assert list(out.reset_index().columns) == list(ARM_COLUMNS)
    b = out.loc["B"]
    # diff = .25 - .20 = .05; Wald se = sqrt(.2*.8/1000 + .25*.75/1000) = sqrt(.0003475)
    # = .0186413, half width 1.959964 * .0186413 = .0365361 -> (.0134639, .0865361)
    assert b["diff"] == pytest.approx(0.05)
    assert b["diff_low"] == pytest.approx(0.0134639, abs=1e-6)
    assert b["diff_high"] == pytest.approx(0.0865361, abs=1e-6)
    # pooled = 450/2000 = .225; se = sqrt(.225*.775*2/1000) = .0186748; z = .05/.0186748
    # = 2.6774; p = erfc(2.6774/sqrt 2) = .00742
    assert b["p_value"] == pytest.approx(two_sided(0.05 / math.sqrt(0.225 * 0.775 * 0.002)))
    assert b["p_value"] == pytest.approx(0.00742, abs=1e-5)
    assert b["p_holm"] == b["p_value"]  # one comparison: nothing to adjust
    # the exact P(B > A) is .99628; 20,000 draws have a standard error of .0004
    assert b["prob_best"] == pytest.approx(prob_b_beats_a(200, 1000, 250, 1000), abs=0.003)
    assert out["prob_best"].sum() == pytest.approx(1.0)
    # sample size: z_a sqrt(2 .225 .775) + z_b sqrt(.2 .8 + .25 .75) = 1.959964 * .590551
    # + .841621 * .589491 = 1.653586; squared / .05^2 = 1093.7 -> 1094 per arm, 94 more
    assert b["needed"] == 94
    assert b["verdict"] == "winner"
    a = out.loc["A"]
    assert a["is_control"] and a["diff"] == 0 and a["verdict"] == "loser"
    assert a[["diff_low", "diff_high", "p_value", "p_holm"]].isna().all()
    assert pd.isna(a["needed"])


def test_three_variants_holm_and_a_thin_arm():
    arms = [Arm("A", 200, 1000), Arm("B", 250, 1000), Arm("C", 215, 1000), Arm("D", 10, 50)]
    out = by_arm(compare_arms(arms))
    # B: p = .007420 (above). C: pooled 415/2000 = .2075, se = sqrt(.2075*.7925*.002) =
    # .0181352, z = .015/.0181352 = .82712, p = .40817. D: rate .2 = A's, z = 0, p = 1.
    p_b = two_sided(0.05 / math.sqrt(0.225 * 0.775 * 0.002))
    p_c = two_sided(0.015 / math.sqrt(0.2075 * 0.7925 * 0.002))
    assert out.loc["C", "p_value"] == pytest.approx(p_c) and p_c == pytest.approx(0.40817, 1e-4)
    assert out.loc["D", "p_value"] == pytest.approx(1.0)
    # Holm over three: sorted B, C, D -> 3 p_B = .02226, max(2 p_C, .02226) = .81634, 1
    assert out.loc["B", "p_holm"] == pytest.approx(3 * p_b)
    assert out.loc["C", "p_holm"] == pytest.approx(2 * p_c)
    assert out.loc["D", "p_holm"] == pytest.approx(1.0)
    assert out["prob_best"].sum() == pytest.approx(1.0)
    assert out["verdict"].to_dict() == {
        "A": "loser",  # B beats it
        "B": "winner",
        "C": "not yet significant",
        "D": "too little data",  # 50 trials < min_trials 100
    }
    # C: sample_size(.2, .215) - 1000 = 11472 - 1000
    assert out.loc["C", "needed"] == 10472
    assert pd.isna(out.loc["D", "needed"])  # no difference to detect


def test_control_wins_when_every_other_arm_significantly_loses():
    out = by_arm(compare_arms([Arm("A", 250, 1000), Arm("B", 200, 1000), Arm("C", 190, 1000)]))
    assert out["is_control"].to_dict() == {"A": True, "B": False, "C": False}  # first of equals
    assert out["verdict"].to_dict() == {"A": "winner", "B": "loser", "C": "loser"}


@pytest.mark.parametrize(
    ("arms", "control", "verdicts"),
    [
        # .20 vs .25: pooled 500/2200, z = .05 / sqrt(.2273 .7727 (1/1000 + 1/1200)) = 2.79;
        # by default v1 (more trials) is the control and wins, with v0 as control it loses
        ([(200, 1000), (300, 1200)], None, ["loser", "winner"]),
        ([(200, 1000), (300, 1200)], 0, ["loser", "winner"]),
        ([(200, 1000), (300, 1200)], 1, ["loser", "winner"]),
        # a significant loser and an undecided arm: the control is still just the control
        ([(250, 1000), (200, 1000), (255, 1000)], 0, ["control", "loser", "not yet significant"]),
        # no success anywhere: nothing to test
        ([(0, 500), (0, 500)], 0, ["control", "too little data"]),
        # 0/1000 vs 8/1000: z = .008 / sqrt(.004 .996 .002) = 2.83, p = .0046, but the pooled
        # rate .004 expects 4 < 5 successes per arm: the normal approximation is not trusted
        ([(0, 1000), (8, 1000)], 0, ["control", "too little data"]),
        # a control below min_trials makes every verdict "too little data"
        ([(5, 50), (100, 1000)], 0, ["too little data", "too little data"]),
        # fractional counts (modelled conversions) are fine
        ([(200.5, 1000), (250.25, 1000)], 0, ["loser", "winner"]),
    ],
)
def test_verdicts(arms, control, verdicts):
    out = compare_arms([Arm(f"v{i}", s, n) for i, (s, n) in enumerate(arms)], control=control)
    assert out["verdict"].tolist() == verdicts
    expected_control = int(np.argmax([n for _, n in arms])) if control is None else control
    assert out["is_control"].tolist() == [i == expected_control for i in range(len(arms))]


def test_needed_is_floored_at_zero():
    out = by_arm(compare_arms([Arm("A", 2000, 10_000), Arm("B", 2500, 10_000)]))
    assert out.loc["B", "needed"] == 0  # 1094 needed, 10,000 there


def test_prob_best_is_deterministic_with_the_seed():
    arms = [Arm("A", 100, 1000), Arm("B", 104, 1000), Arm("C", 98, 1000)]
    first, again = compare_arms(arms), compare_arms(arms)
    pd.testing.assert_frame_equal(first, again)
    other = compare_arms(arms, seed=1)
    assert not np.array_equal(first["prob_best"], other["prob_best"])
    assert other["prob_best"].sum() == pytest.approx(1.0)


def test_arms_are_not_changed():
    arms = [Arm("A", 200, 1000), Arm("B", 250, 1000)]
    compare_arms(arms)
    assert arms == [Arm("A", 200, 1000), Arm("B", 250, 1000)]


@pytest.mark.parametrize(
    ("arms", "options", "message"),
    [
        ([Arm("A", 1, 10)], {}, "at least two arms"),
        ([Arm("A", 1, 10), Arm("A", 2, 10)], {}, "distinct"),
        ([Arm("A", 11, 10), Arm("B", 2, 10)], {}, "successes above trials"),
        ([Arm("A", -1, 10), Arm("B", 2, 10)], {}, "negative"),
        ([Arm("A", float("nan"), 10), Arm("B", 2, 10)], {}, "missing"),
        ([Arm("A", 0, 0), Arm("B", 2, 10)], {}, "at least one trial"),
        ([Arm("A", 1, 10), Arm("B", "x", 10)], {}, "must be numbers"),
        ([Arm("A", 1, 10), Arm("B", 2, 10)], {"control": 2}, "control must be"),
        ([Arm("A", 1, 10), Arm("B", 2, 10)], {"alpha": 0}, "alpha and power"),
        ([Arm("A", 1, 10), Arm("B", 2, 10)], {"draws": 0}, "draws"),
    ],
)
def test_bad_arms_are_refused(arms, options, message):
    with pytest.raises(ReportError, match=message):
        compare_arms(arms, **options)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5000), st.floats(0, 1)), min_size=2, max_size=5))
def test_invariants(pairs):
    arms = [Arm(f"v{i}", round(n * share), n) for i, (n, share) in enumerate(pairs)]
    out = compare_arms(arms, draws=2000)
    assert out["prob_best"].between(0, 1).all()
    assert out["prob_best"].sum() == pytest.approx(1.0)
    tested = out["p_value"].notna()
    assert (out.loc[tested, "p_holm"] >= out.loc[tested, "p_value"] - 1e-12).all()
    assert out.loc[tested, "p_holm"].le(1).all()
    rest = ~out["is_control"]
    assert (out.loc[rest, "diff_low"] <= out.loc[rest, "diff"]).all()
    assert (out.loc[rest, "diff"] <= out.loc[rest, "diff_high"]).all()
    assert out["is_control"].sum() == 1


# --- ad groups, declared tests, tags -----------------------------------------------------------


def ads_frame():
    return pd.DataFrame(
        {
            "platform": ["google_ads"] * 4 + ["facebook"],
            "account_id": "123",
            "campaign_id": "c1",
            "ad_group_id": ["g1", "g1", "g1", "g2", "s1"],
            "ad_id": ["a2", "a1", "a3", "b1", "f1"],
            "ad_name": ["Blue", "Red", "Paused", "Solo", "Alone"],
            "impressions": [12_000, 10_000, 0, 5000, 800],
            "clicks": [300, 200, 0, 100, 8],
            "conversions": [30, 10, 0, 4, 0],
        }
    )


def test_ad_groups_with_two_serving_ads_are_compared():
    ads = ads_frame()
    before = ads.copy()
    out = ad_group_tests(ads)
    pd.testing.assert_frame_equal(ads, before)
    # g1 has a3 without impressions, g2 and s1 a single ad: only a1 and a2 are compared
    assert out["ad_id"].tolist() == ["a1", "a2"]
    assert out["arm"].tolist() == out["ad_id"].tolist()
    assert out["ad_name"].tolist() == ["Red", "Blue"]
    key = json.dumps(["google_ads", "123", "c1", "g1"])
    assert set(out["test"]) == {"g-" + hashlib.sha256(key.encode()).hexdigest()[:10]}
    assert (out["metric"] == "ctr").all()
    a1 = out.set_index("ad_id").loc["a1"]
    # a2 (12,000 impressions) is the control: 200/10000 - 300/12000 = .02 - .025
    assert a1["diff"] == pytest.approx(-0.005) and not a1["is_control"]
    # pooled 500/22000; z = -.005 / sqrt(p(1-p)(1/10000 + 1/12000)) = -2.478, p = .0132
    pooled = 500 / 22_000
    z = -0.005 / math.sqrt(pooled * (1 - pooled) * (1 / 10_000 + 1 / 12_000))
    assert a1["p_value"] == pytest.approx(two_sided(z))
    assert a1["verdict"] == "loser"


def test_ad_group_ids_are_stable_across_row_orders_and_metrics():
    ads = ads_frame()
    shuffled = ads.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(ad_group_tests(ads), ad_group_tests(shuffled))
    cvr = ad_group_tests(ads, metric="cvr", min_trials=50)
    assert set(cvr["test"]) == set(ad_group_tests(ads)["test"])
    # CVR: 10/200 vs 30/300 (control, more clicks): diff .05 - .10
    assert cvr.set_index("ad_id").loc["a1", "diff"] == pytest.approx(-0.05)


def test_rows_of_one_ad_are_summed_and_empty_results_keep_their_columns():
    ads = ads_frame()
    doubled = pd.concat([ads, ads.iloc[[0]]], ignore_index=True)
    out = ad_group_tests(doubled).set_index("ad_id")
    assert out.loc["a2", "trials"] == 24_000
    none = ad_group_tests(ads[ads["ad_group_id"] == "g2"])
    assert none.empty and "verdict" in none.columns and "test" in none.columns


def test_ad_groups_need_their_columns():
    with pytest.raises(ReportError, match="clicks"):
        ad_group_tests(ads_frame().drop(columns="clicks"))
    with pytest.raises(ReportError, match="unknown test metric"):
        ad_group_tests(ads_frame(), metric="cpc")


def daily_frame():
    """Ten days of a (CTR 2%), b (2% + 0.1 point per day), c only on days 8-9."""
    rows = []
    for i in range(10):
        day = DAY0 + timedelta(days=i)
        rows.append((day, "a", "Alpha", 1000, 20, 2))
        rows.append((day, "b", "Beta", 1000, 20 + i, 3))
        if i >= 8:
            rows.append((day, "c", "Gamma", 1000, 50, 5))
    return pd.DataFrame(
        rows, columns=["date", "ad_id", "ad_name", "impressions", "clicks", "conversions"]
    )


def test_declared_test_sums_its_window_and_marks_a_typo():
    daily = daily_frame()
    before = daily.copy()
    start, end = DAY0 + timedelta(days=2), DAY0 + timedelta(days=5)
    test = DeclaredTest("headline", ("a", "b", "bb", "c"), "ctr", start, end)
    out = declared_tests(daily, [test]).set_index("ad_id")
    pd.testing.assert_frame_equal(daily, before)
    assert out.index.tolist() == ["a", "b", "bb", "c"]
    # days 2..5: a 4 x 20 = 80 clicks, b 22 + 23 + 24 + 25 = 94 clicks, of 4000 impressions
    assert out.loc["a", ["successes", "trials"]].tolist() == [80, 4000]
    assert out.loc["b", ["successes", "trials"]].tolist() == [94, 4000]
    assert out.loc["a", "is_control"] and out.loc["a", "verdict"] == "control"
    assert out.loc["b", "diff"] == pytest.approx(94 / 4000 - 80 / 4000)
    # "bb" is nowhere in the data (a typo); "c" exists but did not serve in the window
    assert out.loc["bb", "verdict"] == "no data" and not out.loc["bb", "found"]
    assert out.loc["c", "verdict"] == "no data" and out.loc["c", "found"]
    assert out.loc["c", "ad_name"] == "Gamma" and pd.isna(out.loc["bb", "ad_name"])
    assert (out["test"] == "headline").all() and (out["end"] == end).all()


def test_declared_test_without_its_control_or_a_second_arm():
    daily = daily_frame()
    tests = [
        DeclaredTest("first missing", ("zz", "b", "a"), "cvr", DAY0),
        DeclaredTest("lonely", ("a", "zz"), "ctr", DAY0),
    ]
    out = declared_tests(daily, tests, min_trials=10)
    first = out[out["test"] == "first missing"].set_index("ad_id")
    # the first variant that served is the control: b (CVR 30/245) against a (20/200)
    assert first.loc["b", "is_control"] and first.loc["zz", "verdict"] == "no data"
    assert first.loc["a", "diff"] == pytest.approx(20 / 200 - 30 / 245)
    lonely = out[out["test"] == "lonely"].set_index("ad_id")
    assert lonely["verdict"].to_dict() == {"a": "too little data", "zz": "no data"}
    assert lonely.loc["a", "rate"] == pytest.approx(0.02)


def test_declared_tests_are_validated():
    assert DeclaredTest("ids", (101, 102), "ctr", DAY0).variants == ("101", "102")
    with pytest.raises(ReportError, match="unknown test metric"):
        DeclaredTest("x", ("a", "b"), "roas", DAY0)
    with pytest.raises(ReportError, match="two or more distinct"):
        DeclaredTest("x", ("a", "a"), "ctr", DAY0)
    with pytest.raises(ReportError, match="before it starts"):
        DeclaredTest("x", ("a", "b"), "ctr", DAY0, DAY0 - timedelta(days=1))
    with pytest.raises(ReportError, match="control"):
        declared_tests(daily_frame(), [], control=1)
    with pytest.raises(ReportError, match="ad_name"):
        declared_tests(daily_frame().drop(columns="ad_name"), [])
    assert declared_tests(daily_frame(), []).empty


def test_cumulative_rates():
    out = cumulative(daily_frame(), ["b", "a", "nope"], "ctr", end=DAY0 + timedelta(days=2))
    assert out["ad_id"].tolist() == ["b"] * 3 + ["a"] * 3
    b = out[out["ad_id"] == "b"]
    # b: 20, 21, 22 clicks -> running 20, 41, 63 of 1000, 2000, 3000
    assert b["successes"].tolist() == [20, 41, 63]
    assert b["rate"].tolist() == pytest.approx([0.02, 0.0205, 0.021])
    late = cumulative(daily_frame(), ["c"], "cvr", start=DAY0 + timedelta(days=9))
    assert late[["successes", "trials"]].values.tolist() == [[5, 50]]
    both = cumulative(
        daily_frame(), ["a"], "ctr", start=DAY0 + timedelta(days=4), end=DAY0 + timedelta(days=5)
    )
    assert both["successes"].tolist() == [20, 40] and both["trials"].tolist() == [1000, 2000]


def test_split_by_tag():
    ads = ads_frame().assign(video=[True, False, False, True, False])
    before = ads.copy()
    out = split_by_tag(ads, "video").set_index("arm")
    pd.testing.assert_frame_equal(ads, before)
    # video: (300 + 100) / (12000 + 5000); not video: (200 + 0 + 8) / (10000 + 0 + 800)
    assert out.loc["video", ["successes", "trials"]].tolist() == [400, 17_000]
    assert out.loc["not video", ["successes", "trials"]].tolist() == [208, 10_800]
    assert out.loc["not video", "is_control"]  # the question: what does the tag add
    assert out.loc["video", "diff"] == pytest.approx(400 / 17_000 - 208 / 10_800)
    assert split_by_tag(ads.assign(video=True), "video") is None
    with pytest.raises(ReportError, match="True or False"):
        split_by_tag(ads.assign(video=[True, None, False, True, False]), "video")
