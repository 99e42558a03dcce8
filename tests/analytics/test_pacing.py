"""Budget pacing against answers worked out by hand (the arithmetic is in the comments)."""

import json
import math
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.analytics.pacing import Budget, Pace, pace, pacing
from generator.errors import ReportError

# Normal quantile for a central 80% interval: Phi^-1(0.9), from the standard table.
Z80 = 1.2815515655446004
JUNE = Budget("All platforms", 3000.0, date(2024, 6, 1), date(2024, 6, 30))  # 30 days


def june(day: int) -> date:
    return date(2024, 6, day)


def daily(spend, conversions=None, *, first: int = 1, days=None) -> pd.DataFrame:
    """Rows for June ``first``, ``first + 1``, ... (or the given ``days``)."""
    days = days or range(first, first + len(spend))
    conversions = conversions if conversions is not None else [0.0] * len(spend)
    return pd.DataFrame(
        {"date": [june(d) for d in days], "spend": spend, "conversions": conversions}
    )


def test_exactly_linear_spend_is_on_pace_with_no_spread():
    # 10 days x 100 = 1000 spent; expected 3000 * 10/30 = 1000; rate 100 (sd 0) over the 20
    # days left: 1000 + 20 * 100 = 3000 = amount, so ratio 1.0 and a zero-width interval.
    got = pace(daily([100.0] * 10), JUNE, june(10))
    assert (got.days, got.days_elapsed, got.days_left) == (30, 10, 20)
    assert got.spent == 1000.0 and got.expected == 1000.0
    assert got.projected == got.projected_low == got.projected_high == 3000.0
    assert got.ratio == 1.0 and got.status == "on_pace"


def test_rising_spend_projects_the_recent_week_with_a_normal_interval():
    spend = [100.0] * 3 + [100.0, 110.0, 120.0, 130.0, 140.0, 150.0, 160.0]
    got = pace(daily(spend), JUNE, june(10))
    # spent = 400 + 110 + 120 + 130 + 140 + 150 + 160 = 1210
    # last 7 days 100..160: mean 130; squared deviations 900+400+100+0+100+400+900 = 2800,
    # sample variance 2800/6; 20 days left: projected 1210 + 130*20 = 3810,
    # half width = z * sqrt(2800/6) * sqrt(20) = 1.28155 * 96.609 = 123.81
    half = Z80 * math.sqrt(2800 / 6) * math.sqrt(20)
    assert got.spent == pytest.approx(1210.0)
    assert got.projected == pytest.approx(3810.0)
    assert got.projected_low == pytest.approx(3810.0 - half)
    assert got.projected_high == pytest.approx(3810.0 + half)
    assert half == pytest.approx(123.81, abs=0.01)
    assert got.ratio == pytest.approx(3810 / 3000) and got.status == "over"


def test_level_sets_the_quantile():
    spend = [100.0] * 3 + [100.0, 110.0, 120.0, 130.0, 140.0, 150.0, 160.0]
    got = pace(daily(spend), JUNE, june(10), level=0.95)
    # Phi^-1(0.975) = 1.959963984540054
    half = 1.959963984540054 * math.sqrt(2800 / 6) * math.sqrt(20)
    assert got.projected_high == pytest.approx(3810.0 + half)


@pytest.mark.parametrize(
    ("per_day", "status"),
    [
        (110.0, "on_pace"),  # 1100 + 20*110 = 3300 = 1.1 x 3000: on the band's edge
        (110.1, "over"),  # 3303 / 3000 = 1.101
        (90.0, "on_pace"),  # 2700 / 3000 = 0.9: the lower edge
        (89.9, "under"),  # 2697 / 3000 = 0.899
        (100.0, "on_pace"),
    ],
)
def test_status_thresholds_at_ten_percent(per_day, status):
    got = pace(daily([per_day] * 10), JUNE, june(10), tolerance=0.1)
    assert got.ratio == pytest.approx(per_day / 100)
    assert got.status == status


def test_before_the_flight_nothing_is_projected():
    got = pace(daily([500.0] * 5), JUNE, date(2024, 5, 31))
    assert (got.days_elapsed, got.days_left) == (0, 30)
    assert got.spent == got.expected == got.projected == got.projected_high == 0.0
    assert got.ratio is None and got.status == "not_started"


@pytest.mark.parametrize("as_of", [june(30), date(2024, 7, 3)])
def test_after_the_flight_the_projection_is_what_was_spent(as_of):
    # 30 days x 90 in June, plus July days that lie outside the flight: 2700 spent.
    july = pd.DataFrame({"date": [date(2024, 7, d) for d in (1, 2, 3)], "spend": 1000.0})
    frame = pd.concat([daily([90.0] * 30, [2.0] * 30), july.assign(conversions=5.0)])
    got = pace(frame, JUNE, as_of)
    assert (got.days_elapsed, got.days_left) == (30, 0)
    assert got.spent == got.projected == got.projected_low == got.projected_high == 2700.0
    assert got.conversions == got.conversions_low == got.conversions_high == 60.0
    assert got.expected == 3000.0
    assert got.ratio == pytest.approx(0.9) and got.status == "ended"


def test_a_flight_starting_mid_month_ignores_earlier_and_later_days():
    flight = Budget("Google Ads", 800.0, june(15), june(30))  # 16 days
    frame = daily([1000.0] * 14 + [50.0] * 6 + [999.0] * 2)  # June 1..14, 15..20, 21..22
    got = pace(frame, flight, june(20))
    # elapsed 15..20 = 6 days, spent 300; rate 50 (only 6 days); 10 left: 300 + 500 = 800
    # expected 800 * 6/16 = 300
    assert (got.days, got.days_elapsed, got.days_left) == (16, 6, 10)
    assert got.spent == 300.0 and got.expected == 300.0
    assert got.projected == 800.0 and got.ratio == 1.0 and got.status == "on_pace"


def test_missing_days_count_as_zero():
    got = pace(daily([100.0, 200.0, 200.0], days=[1, 2, 5]), JUNE, june(5))
    # days 1..5: 100, 200, 0, 0, 200: sum 500, mean 100; deviations 0, 100, -100, -100, 100
    # give 40000 / 4 = 10000, sd 100; 25 days left: 500 + 2500 = 3000, half = z * 100 * 5
    assert got.spent == 500.0 and got.projected == 3000.0
    assert got.projected_low == pytest.approx(3000.0 - Z80 * 500)
    assert got.projected_high == pytest.approx(3000.0 + Z80 * 500)


def test_conversions_are_projected_the_same_way():
    got = pace(daily([100.0] * 5, [1.0, 3.0, 2.0, 4.0, 5.0]), JUNE, june(5))
    # sum 15, mean 3; deviations -2, 0, -1, 1, 2: 10 / 4 = 2.5; 25 days left:
    # 15 + 3*25 = 90, half = z * sqrt(2.5) * sqrt(25) = z * sqrt(62.5)
    half = Z80 * math.sqrt(62.5)
    assert got.conversions == 15.0 and got.conversions_projected == 90.0
    assert got.conversions_low == pytest.approx(90.0 - half)
    assert got.conversions_high == pytest.approx(90.0 + half)


def test_low_ends_are_clamped_at_what_is_observed():
    short = Budget("Short", 150.0, june(1), june(3))
    got = pace(daily([0.0, 100.0], [0.0, 10.0]), short, june(2))
    # mean 50, sd sqrt(2 * 50^2 / 1) = 70.71; 1 day left: 100 + 50 = 150,
    # 150 - z * 70.71 = 59.4 < 100 spent, so the low end is 100; conversions: 10 + 5,
    # 15 - z * 7.07 = 5.9 < 10 observed, so 10
    assert got.projected == 150.0 and got.projected_low == 100.0
    assert got.projected_high == pytest.approx(150.0 + Z80 * math.sqrt(5000))
    assert got.conversions_projected == 15.0 and got.conversions_low == 10.0


def test_one_day_of_data_poisson_for_conversions_and_no_spread_for_spend():
    got = pace(daily([100.0], [4.0]), JUNE, june(1))
    # spend: 100 + 29 * 100 = 3000, no width; conversions: 4 + 29 * 4 = 120,
    # sd of the remaining total sqrt(4 * 29) = sqrt(116)
    assert got.projected == got.projected_low == got.projected_high == 3000.0
    assert got.conversions_projected == 120.0
    assert got.conversions_low == pytest.approx(120.0 - Z80 * math.sqrt(116))
    assert got.conversions_high == pytest.approx(120.0 + Z80 * math.sqrt(116))


def test_recent_days_is_the_window():
    got = pace(daily([0.0] * 7 + [300.0] * 3), JUNE, june(10), recent_days=3)
    # rate = mean(300, 300, 300) = 300: 900 + 20 * 300 = 6900
    assert got.projected == 6900.0


def test_a_zero_budget_has_no_ratio():
    zero = Budget("Zero", 0.0, june(1), june(30))
    assert pace(daily([10.0]), zero, june(1)).ratio is None
    assert pace(daily([10.0]), zero, june(1)).status == "over"
    assert pace(daily([0.0]), zero, june(1)).status == "on_pace"


def test_as_dict_is_json_with_iso_dates():
    got = pace(daily([100.0] * 10), JUNE, june(10)).as_dict()
    assert json.loads(json.dumps(got)) == got
    assert (got["start"], got["end"], got["as_of"]) == ("2024-06-01", "2024-06-30", "2024-06-10")
    assert list(got) == list(Pace.__dataclass_fields__)


def test_input_is_not_mutated_and_timestamps_are_read_as_dates():
    frame = daily([100.0] * 10)
    before = frame.copy()
    stamped = frame.assign(date=pd.to_datetime(frame["date"]))
    assert pace(stamped, JUNE, june(10)).projected == 3000.0
    pace(frame, JUNE, june(10))
    pd.testing.assert_frame_equal(frame, before)


def test_pacing_gives_one_row_per_budget_in_order():
    later = Budget("Google Ads", 800.0, june(15), june(30))
    by_scope = {"all": daily([100.0] * 10), "google_ads": daily([50.0] * 10)}
    out = pacing(by_scope, [("google_ads", later), ("all", JUNE)], june(10))
    assert out["label"].tolist() == ["Google Ads", "All platforms"]
    assert out["status"].tolist() == ["not_started", "on_pace"]
    assert list(out.columns) == list(Pace.__dataclass_fields__)
    assert out["ratio"].dtype == "Float64" and pd.isna(out["ratio"].iloc[0])
    assert out["ratio"].iloc[1] == 1.0
    assert pacing(by_scope, [], june(10)).empty


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: pacing({}, [("all", JUNE)], june(10)), r"no daily data for scope\(s\) \['all'\]"),
        (lambda: pace(daily([1.0]).drop(columns="spend"), JUNE, june(1)), "lacks column"),
        (lambda: pace(daily([-1.0]), JUNE, june(1)), "negative"),
        (lambda: pace(daily([1.0]).assign(date="x"), JUNE, june(1)), "unreadable"),
        (lambda: pace(daily([1.0]), JUNE, june(1), level=1.0), "level=1.0"),
        (lambda: pace(daily([1.0]), JUNE, june(1), recent_days=0), "recent_days=0"),
        (lambda: Budget("Back", 1.0, june(2), june(1)), "ends"),
    ],
)
def test_errors_say_what_is_wrong(call, message):
    with pytest.raises(ReportError, match=message):
        call()


amounts = st.floats(0, 1e6, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(
    length=st.integers(1, 40),
    offset=st.integers(-5, 45),
    rows=st.lists(st.tuples(st.integers(0, 44), amounts, st.floats(0, 1e3)), max_size=40),
    recent_days=st.integers(1, 10),
    level=st.floats(0.5, 0.99),
)
def test_intervals_contain_the_projection_and_days_add_up(length, offset, rows, recent_days, level):
    budget = Budget("Any", 1000.0, june(1), june(1) + timedelta(days=length - 1))
    frame = pd.DataFrame(
        {
            "date": [june(1) + timedelta(days=day) for day, _, _ in rows],
            "spend": [spend for _, spend, _ in rows],
            "conversions": [conversions for _, _, conversions in rows],
        }
    )
    as_of = june(1) + timedelta(days=offset)
    got = pace(frame, budget, as_of, recent_days=recent_days, level=level)
    assert got.days_elapsed + got.days_left == got.days == length
    assert got.spent <= got.projected_low <= got.projected <= got.projected_high
    assert got.conversions <= got.conversions_low <= got.conversions_projected
    assert got.conversions_projected <= got.conversions_high
