"""Funnel health: hand-computed answers on small compute()/reached()-shaped frames.

The frames are built by hand with the columns ``funnels.compute()`` and ``funnels.reached()``
return, so these tests do not depend on how events are counted.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from generator.analytics.funnel_health import (
    compare,
    dropped_by_segment,
    health,
    segment_ranking,
    weekly_cohorts,
    z_test,
)
from generator.errors import ReportError

STEPS = ["view_item", "add_to_cart", "begin_checkout", "purchase"]


def funnel(users, steps=STEPS, segment=None):
    """A compute()-shaped frame: every column, derived from ``users`` as compute() does."""
    users = np.asarray(users, dtype=np.int64)
    before = np.r_[users[0], users[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        step_rate = np.where(before > 0, users / before, np.nan)
        start_rate = np.where(users[0] > 0, users / users[0], np.nan)
    nat = pd.Series(pd.NaT, index=range(len(users)), dtype="timedelta64[ns]")
    frame = pd.DataFrame(
        {
            "step": steps,
            "position": np.arange(1, len(users) + 1),
            "users": users,
            "rate_from_previous": np.r_[1.0, step_rate[1:]],
            "rate_from_start": start_rate,
            "dropped": before - users,
            "drop_off_rate": np.r_[0.0, 1 - step_rate[1:]],
            "median_from_previous": nat,
            "p90_from_previous": nat,
            "median_from_start": nat,
            "p90_from_start": nat,
        }
    )
    if segment is not None:
        frame.insert(0, "segment", segment)
    return frame


def by_segment(**segments):
    return pd.concat([funnel(u, segment=name) for name, u in segments.items()], ignore_index=True)


CURRENT = funnel([1000, 400, 300, 60])
PREVIOUS = funnel([800, 400, 250, 40])
# desktop + mobile add up to CURRENT
DEVICES = by_segment(desktop=[400, 180, 140, 40], mobile=[600, 220, 160, 20])


def test_headline_numbers_and_the_two_biggest_drops():
    out = health(CURRENT)
    assert (out["entered"], out["completed"], out["overall_conversion"]) == (1000, 60, 0.06)
    # drops: 1000-400 = 600 (60%), 400-300 = 100 (25%), 300-60 = 240 (80%)
    assert out["biggest_drop_users"] == {
        "from_step": "view_item",
        "to_step": "add_to_cart",
        "position": 2,
        "dropped": 600,
        "rate": 0.6,
    }
    assert out["biggest_drop_rate"] == {
        "from_step": "begin_checkout",
        "to_step": "purchase",
        "position": 4,
        "dropped": 240,
        "rate": 0.8,
    }
    assert out["change"] is None and out["opportunities"] == []


def test_equal_drop_rates_go_to_the_transition_losing_more_users():
    # 200 -> 100 -> 50: both 50%; the first loses 100 users, the second 50
    out = health(funnel([200, 100, 50], steps=["a", "b", "c"]))
    assert out["biggest_drop_rate"]["position"] == 2 and out["biggest_drop_rate"]["dropped"] == 100


def test_change_is_a_pooled_two_proportion_z_test():
    out = health(CURRENT, PREVIOUS)["change"]
    # 40/800 = 0.05 before, 60/1000 = 0.06 now; pooled p = 100/1800 = 1/18
    # se = sqrt(1/18 * 17/18 * (1/800 + 1/1000)) = sqrt(153 / 1_296_000) = 0.0108653
    # z = 0.01 / 0.0108653 = 0.92036, p = 2 (1 - Phi(0.92036)) = 0.35738
    se = math.sqrt(153 / 1_296_000)
    assert out["previous_conversion"] == 0.05
    assert out["difference"] == pytest.approx(0.01)
    assert out["relative"] == pytest.approx(0.2)  # 0.01 / 0.05
    assert out["z"] == pytest.approx(0.01 / se) and out["z"] == pytest.approx(0.92036, abs=1e-5)
    assert out["p_value"] == pytest.approx(math.erfc(out["z"] / math.sqrt(2)))
    assert out["p_value"] == pytest.approx(2 * stats.norm.sf(0.01 / se))
    assert out["p_value"] == pytest.approx(0.35738, abs=1e-5)
    assert out["significant"] is False


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((400, 800, 400, 1000), (-3 * math.sqrt(2), 2 * stats.norm.sf(3 * math.sqrt(2)))),
        ((0, 800, 0, 1000), (None, None)),  # pooled p = 0
        ((800, 800, 1000, 1000), (None, None)),  # pooled p = 1
        ((0, 0, 5, 10), (None, None)),  # no entrants before
    ],
)
def test_z_test_by_hand(counts, expected):
    # first case: pooled 800/1800 = 4/9, se = sqrt(4/9 * 5/9 * 0.00225) = sqrt(1/1800),
    # z = (0.4 - 0.5) * sqrt(1800) = -3 sqrt(2) = -4.2426
    z, p_value = z_test(*counts)
    if expected[0] is None:
        assert (z, p_value) == expected
    else:
        assert z == pytest.approx(expected[0]) and p_value == pytest.approx(expected[1])


def plain(value):
    """Only JSON's own Python types, not numpy scalars that merely subclass them."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain(v) for v in value)
    return type(value) in (str, int, float, bool, type(None))


@pytest.mark.parametrize(
    "result",
    [
        lambda: health(CURRENT, PREVIOUS, segments=DEVICES, breakdown="device_category"),
        lambda: health(funnel([0, 0, 0, 0]), PREVIOUS, segments=by_segment(a=[0, 0, 0, 0])),
        lambda: health(funnel([100, 100, 100, 100]), funnel([50, 50, 50, 50])),
    ],
)
def test_health_is_plain_json(result):
    out = result()
    assert plain(out)
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_no_entrants_give_none_not_nan():
    out = health(funnel([0, 0, 0, 0]), PREVIOUS, segments=by_segment(a=[0, 0, 0, 0]))
    assert out["entered"] == 0 and out["overall_conversion"] is None
    assert out["biggest_drop_users"] is None and out["biggest_drop_rate"] is None
    assert out["change"] == {
        "previous_conversion": 0.05,
        "difference": None,
        "relative": None,
        "z": None,
        "p_value": None,
        "significant": False,
    }
    assert out["opportunities"] == []
    json.dumps(out, allow_nan=False)
    assert health(CURRENT, funnel([0, 0, 0, 0]))["change"] is None  # nothing to compare with


def test_everybody_converting_has_no_drop_and_no_test():
    out = health(funnel([100, 100, 100, 100]), funnel([50, 50, 50, 50]))
    assert out["overall_conversion"] == 1.0 and out["biggest_drop_users"] is None
    assert out["change"]["difference"] == 0.0 and out["change"]["z"] is None
    assert out["change"]["significant"] is False


def test_opportunities_on_two_segments_by_hand():
    out = health(CURRENT, PREVIOUS, segments=DEVICES, breakdown="device_category")
    # desktop's rates are higher at every step, so only mobile has opportunities:
    # checkout -> purchase: 160 x (40/140 - 20/160) x 1 = 160 x 9/56 = 25.71
    # view -> cart: 600 x (180/400 - 220/600) x (20/220) = 600 x 1/12 x 1/11 = 4.545
    # cart -> checkout: 220 x (140/180 - 160/220) x (20/160) = 220 x 5/99 x 1/8 = 1.389
    opportunities = out["opportunities"]
    assert [(o["from_step"], o["extra_completions"]) for o in opportunities] == [
        ("begin_checkout", 25.7),
        ("view_item", 4.5),
        ("add_to_cart", 1.4),
    ]
    first = opportunities[0]
    assert first["segment"] == "mobile" and first["benchmark_segment"] == "desktop"
    assert first["to_step"] == "purchase"
    assert first["segment_rate"] == 0.125 and first["benchmark_rate"] == pytest.approx(2 / 7)
    assert first["text"] == (
        "If mobile (device category) users moved from begin_checkout to purchase at the "
        "desktop rate (28.6% instead of 12.5%), about 26 more would reach purchase."
    )
    assert opportunities[1]["text"].startswith("If mobile (device category) users moved from ")
    assert opportunities[1]["text"].endswith(
        "(45.0% instead of 36.7%), about 4.5 more would reach purchase."
    )
    assert len(health(CURRENT, segments=DEVICES, top=2)["opportunities"]) == 2
    assert "If mobile users moved" in health(CURRENT, segments=DEVICES)["opportunities"][0]["text"]
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_a_segment_with_nobody_past_the_step_uses_the_overall_conversion_after_it():
    segments = by_segment(desktop=[400, 180, 140, 40], tv=[50, 0, 0, 0])
    (only,) = health(CURRENT, segments=segments)["opportunities"]
    # 50 x (0.45 - 0) x overall add_to_cart -> purchase (60/400) = 3.375
    assert (only["segment"], only["extra_completions"]) == ("tv", 3.4)


@pytest.mark.parametrize(
    ("min_users", "expected"),
    [
        # tablet (20 users) is neither rated nor a benchmark: the two-segment answer
        (30, [("mobile", "begin_checkout", "desktop"), ("mobile", "view_item", "desktop")]),
        # with 10, tablet's 100% is every transition's benchmark; desktop gains the most:
        # desktop checkout -> purchase: 140 x (1 - 2/7) x 1 = 100
        (10, [("mobile", "begin_checkout", "tablet"), ("desktop", "begin_checkout", "tablet")]),
        # with 200 only view -> cart has two rated segments (desktop 180 at cart is too few)
        (200, [("mobile", "view_item", "desktop")]),
    ],
)
def test_min_users_decides_who_is_rated_and_who_is_the_benchmark(min_users, expected):
    segments = pd.concat([DEVICES, funnel([20, 20, 20, 20], segment="tablet")])
    out = health(CURRENT, segments=segments, top=2, min_users=min_users)["opportunities"]
    assert [(o["segment"], o["from_step"], o["benchmark_segment"]) for o in out] == expected


def test_min_users_ten_numbers():
    segments = pd.concat([DEVICES, funnel([20, 20, 20, 20], segment="tablet")])
    out = health(CURRENT, segments=segments, top=2, min_users=10)["opportunities"]
    # mobile checkout -> purchase: 160 x (1 - 0.125) x 1 = 140; desktop: 140 x 5/7 = 100
    assert [o["extra_completions"] for o in out] == [140.0, 100.0]


def test_compare_per_step():
    out = compare(CURRENT, PREVIOUS)
    assert list(out.columns) == [
        "step",
        "position",
        "users_current",
        "users_previous",
        "rate_current",
        "rate_previous",
        "change",
        "z",
        "p_value",
        "significant",
    ]
    assert out["rate_previous"].tolist() == [1.0, 0.5, 0.3125, 0.05]
    assert out["change"].tolist() == pytest.approx([0.0, -0.1, -0.0125, 0.01])
    # step 1: rate 1 in both periods (pooled p = 1): no test
    assert np.isnan(out.loc[0, "z"]) and not out.loc[0, "significant"]
    # add_to_cart: 400/1000 against 400/800: z = -3 sqrt(2) (see test_z_test_by_hand)
    assert out.loc[1, "z"] == pytest.approx(-3 * math.sqrt(2)) and out.loc[1, "significant"]
    assert out.loc[3, "z"] == pytest.approx(0.92036, abs=1e-5) and not out.loc[3, "significant"]


def test_compare_refuses_different_steps():
    with pytest.raises(ReportError, match="differ"):
        compare(CURRENT, funnel([10, 5, 1], steps=["a", "b", "c"]))


def test_segment_ranking_worst_first_small_segments_last():
    segments = by_segment(
        tablet=[20, 20, 20, 20],  # 100% but fewer than 30 entrants
        desktop=[400, 120, 110, 40],  # 10%; drop rates 0.7, 10/120, 70/110
        tv=[0, 0, 0, 0],
        mobile=[600, 220, 160, 20],  # 3.3%; drop rates 380/600, 60/220, 140/160
    )
    out = segment_ranking(segments)
    assert out["segment"].tolist() == ["mobile", "desktop", "tablet", "tv"]
    assert out["entered"].tolist() == [600, 400, 20, 0]
    assert out["completed"].tolist() == [20, 40, 20, 0]
    assert out["conversion"].tolist()[:3] == pytest.approx([1 / 30, 0.1, 1.0])
    assert out["worst_step"].tolist()[:2] == ["purchase", "add_to_cart"]
    assert out["worst_step"].iloc[2:].isna().all()  # tablet: nobody dropped; tv: nobody came
    assert out["worst_drop_rate"].tolist()[:3] == pytest.approx([0.875, 0.7, 0.0])
    assert np.isnan(out.loc[3, "conversion"]) and np.isnan(out.loc[3, "worst_drop_rate"])
    assert out["enough_users"].tolist() == [True, True, False, False]


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        # dropped before add_to_cart: desktop 400-180 = 220, mobile 600-220 = 380; total 600
        (2, [("mobile", 380, 380 / 600, 380 / 600), ("desktop", 220, 220 / 600, 220 / 400)]),
        # before purchase: desktop 100 of 140, mobile 140 of 160; total 240
        (4, [("mobile", 140, 140 / 240, 140 / 160), ("desktop", 100, 100 / 240, 100 / 140)]),
    ],
)
def test_dropped_by_segment(position, expected):
    out = dropped_by_segment(DEVICES, position)
    assert list(out.columns) == ["segment", "dropped", "share_of_dropped", "drop_off_rate"]
    for row, (segment, dropped, share, rate) in zip(out.itertuples(), expected, strict=True):
        assert (row.segment, row.dropped) == (segment, dropped)
        assert (row.share_of_dropped, row.drop_off_rate) == pytest.approx((share, rate))


@pytest.mark.parametrize("position", [1, 5, 2.5])
def test_dropped_by_segment_needs_a_later_step(position):
    with pytest.raises(ReportError, match="position"):
        dropped_by_segment(DEVICES, position)


def reached_frame(starts_and_levels):
    starts = pd.to_datetime([s for s, _ in starts_and_levels], utc=True, format="ISO8601")
    n = len(starts)
    frame = pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(n)],
            "level": [level for _, level in starts_and_levels],
            "start": starts,
        }
    )
    for k in range(1, len(STEPS) + 1):  # not read by weekly_cohorts
        frame[f"t{k}"] = frame["start"].where(frame["level"] >= k)
    frame["entry_row"] = range(n)
    return frame


def test_weekly_cohorts_split_at_monday_midnight_utc():
    reached = reached_frame(
        [
            ("2024-01-07T23:30:00Z", 3),  # Sunday: week of Monday 2024-01-01
            ("2024-01-08T01:00:00+02:00", 2),  # 2024-01-07 23:00 UTC: also 2024-01-01
            ("2024-01-08T00:10:00Z", 1),  # Monday: week of 2024-01-08
            ("2024-01-10T12:00:00Z", 4),
            ("2024-01-14T23:59:00Z", 2),  # Sunday, still 2024-01-08
            ("2024-01-24T09:00:00Z", 1),  # week of 2024-01-22; 2024-01-15 has nobody
        ]
    )
    out = weekly_cohorts(reached, STEPS)
    assert list(out.columns) == ["week", "position", "step", "users", "rate_from_start"]
    weeks = [pd.Timestamp(d).date() for d in ("2024-01-01", "2024-01-08", "2024-01-22")]
    assert out["week"].tolist() == [w for w in weeks for _ in STEPS]
    assert out["step"].tolist() == STEPS * 3
    # 01-01: levels 3, 2 -> 2, 2, 1, 0; 01-08: levels 1, 4, 2 -> 3, 2, 1, 1; 01-22: level 1
    assert out["users"].tolist() == [2, 2, 1, 0, 3, 2, 1, 1, 1, 0, 0, 0]
    assert out["rate_from_start"].tolist() == pytest.approx(
        [1, 1, 0.5, 0, 1, 2 / 3, 1 / 3, 1 / 3, 1, 0, 0, 0]
    )
    sunday = weekly_cohorts(reached, STEPS, week_start="sunday")
    # the two Sunday-evening entrants now open the week of 2024-01-07 with the Monday ones
    assert sunday.loc[sunday["position"] == 1, "users"].tolist() == [4, 1, 1]


def test_weekly_cohorts_name_steps_given_as_specs():
    specs = [{"event": "view_item", "label": "Viewed", "filters": []}, {"event": "purchase"}]
    reached = reached_frame([("2024-01-03T10:00:00Z", 2)])
    assert weekly_cohorts(reached, specs)["step"].tolist() == ["Viewed", "purchase"]


def test_weekly_cohorts_of_nobody_is_empty():
    out = weekly_cohorts(reached_frame([]), STEPS)
    assert out.empty and list(out.columns) == [
        "week",
        "position",
        "step",
        "users",
        "rate_from_start",
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: health(CURRENT.drop(columns="users")), "lacks column"),
        (lambda: health(CURRENT.assign(position=[1, 2, 2, 4])), "position"),
        (lambda: health(CURRENT.assign(users=[10, -1, 0, 0])), "whole numbers"),
        (lambda: health(CURRENT, segments=DEVICES.drop(columns="segment")), "segment"),
        (lambda: health(CURRENT, top=-1), "top"),
        (lambda: weekly_cohorts(reached_frame([("2024-01-01", 5)]), STEPS), "level"),
        (
            lambda: weekly_cohorts(reached_frame([("2024-01-01", 1)]), STEPS, week_start="x"),
            "weekday",
        ),
    ],
)
def test_bad_input_is_a_report_error(call, message):
    with pytest.raises(ReportError, match=message):
        call()
