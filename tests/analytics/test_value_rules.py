from datetime import date

import pandas as pd
import pytest

from generator.analytics.kpis import compute
from generator.analytics.value_rules import (
    apply_value_rules,
    conversions_from_actions,
    with_value_rules,
)
from generator.config import ValueRule
from generator.errors import ReportError

D1, D2 = date(2026, 10, 1), date(2026, 10, 2)


def actions():
    return pd.DataFrame(
        {
            "date": [D1, D1, D1, D2, D2],
            "platform": ["google_ads", "google_ads", "facebook", "facebook", "google_ads"],
            "campaign_id": ["c1", "c1", "c2", "c2", "c3"],
            "campaign_name": ["Brand", "Brand", "Prospecting", "Prospecting", "Retarget"],
            "ad_id": ["a1", "a1", "a2", "a2", "a3"],
            "action_type": ["lead", "purchase", "lead", "purchase", "signup"],
            "attribution_window": ["default"] * 5,
            "count": [4.0, 2.0, 10.0, 1.0, 3.0],
            "value_micros": [0, 300_000_000, 0, 80_000_000, 0],
            "currency": ["USD"] * 5,
        }
    )


def rule(**kwargs):
    return ValueRule(**kwargs)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        # a fixed value per lead, a margin on purchases, signups untouched
        (
            [rule(action_type="lead", value=50), rule(action_type="purchase", multiplier=0.3)],
            [200_000_000, 90_000_000, 500_000_000, 24_000_000, 0],
        ),
        # the platform-scoped rule beats the general one wherever both match
        (
            [
                rule(action_type="lead", value=50),
                rule(action_type="lead", value=5, platforms=["facebook"]),
            ],
            [200_000_000, 300_000_000, 50_000_000, 80_000_000, 0],
        ),
        # campaign beats platform; names match as well as ids
        (
            [
                rule(action_type="lead", value=7, platforms=["google_ads"]),
                rule(action_type="lead", value=1, campaigns=["Brand"]),
                rule(action_type="lead", value=2, campaigns=["c2"], platforms=["facebook"]),
            ],
            [4_000_000, 300_000_000, 20_000_000, 80_000_000, 0],
        ),
        # among equals, the first listed wins
        (
            [rule(action_type="signup", value=1), rule(action_type="signup", value=9)],
            [0, 300_000_000, 0, 80_000_000, 3_000_000],
        ),
    ],
)
def test_rules_value_each_action(rules, expected):
    out = apply_value_rules(actions(), rules, currency="USD")
    assert out["value_micros"].tolist() == expected
    assert actions()["value_micros"].tolist() == [0, 300_000_000, 0, 80_000_000, 0]


def test_conversions_are_the_actions_the_rules_name():
    rules = [rule(action_type="lead", value=50), rule(action_type="purchase", multiplier=0.5)]
    out = conversions_from_actions(actions(), rules)
    assert out[["ad_id", "conversions", "value_micros"]].to_dict("list") == {
        "ad_id": ["a2", "a1", "a2"],  # by date, then platform
        "conversions": [10.0, 6.0, 1.0],
        "value_micros": [500_000_000, 350_000_000, 40_000_000],
    }
    signups = conversions_from_actions(actions(), rules, action_types=["signup"])
    assert signups["conversions"].tolist() == [3.0] and signups["value_micros"].tolist() == [0]


def test_performance_rows_take_rule_values_and_keep_every_conversion():
    performance = pd.DataFrame(
        {
            "date": [D1, D1, D2],
            "platform": ["google_ads", "facebook", "facebook"],
            "campaign_id": ["c1", "c2", "c9"],
            "ad_id": ["a1", "a2", "a9"],
            "impressions": [1000, 2000, 10],
            "clicks": [50, 80, 1],
            "spend_micros": [100_000_000, 200_000_000, 1_000_000],
            "conversions": [1.0, 1.0, 1.0],
            "value_micros": [1, 1, 1],
        }
    )
    rules = [rule(action_type="lead", value=50), rule(action_type="purchase", multiplier=0.5)]
    out = with_value_rules(performance, actions(), rules)
    assert list(out.columns) == list(performance.columns)
    by_ad = out.set_index(["date", "ad_id"])
    assert by_ad.loc[(D1, "a1"), "value_micros"] == 350_000_000
    assert by_ad.loc[(D2, "a9"), "conversions"] == 0  # no action of a valued type
    assert by_ad.loc[(D2, "a2"), "spend_micros"] == 0  # actions without a performance row
    roas = compute(out, kpis=["roas"]).iloc[0]["roas"]
    assert roas == pytest.approx((350 + 500 + 40) / 301)
    unchanged = with_value_rules(performance, actions(), [])
    pd.testing.assert_frame_equal(unchanged, performance)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda a: apply_value_rules(a, [rule(action_type="lead", value=1)], currency="EUR"),
            "fixed amount in EUR, but rows are in USD",
        ),
        (lambda a: apply_value_rules(a.drop(columns=["count"]), []), "lack column.*'count'"),
        (lambda a: apply_value_rules(a.assign(count=-1.0), []), "row 0 has -1.0$"),
        (
            lambda a: apply_value_rules(
                a.drop(columns=["platform"]), [rule(action_type="lead", value=1, platforms=["x"])]
            ),
            "'platform'",
        ),
        (
            lambda a: apply_value_rules(
                a.drop(columns=["campaign_id", "campaign_name"]),
                [rule(action_type="lead", value=1, campaigns=["x"])],
            ),
            "names campaigns",
        ),
        (
            lambda a: conversions_from_actions(
                pd.concat([a, a.assign(attribution_window="7d_click")]), []
            ),
            "several attribution windows .7d_click, default.",
        ),
        (
            lambda a: with_value_rules(
                a.drop(columns=["ad_id"]), a, [rule(action_type="lead", value=1)]
            ),
            "must both have 'date' and 'ad_id'",
        ),
    ],
)
def test_bad_rules_and_rows(call, message):
    with pytest.raises(ReportError, match=message):
        call(actions())


def test_choosing_an_attribution_window_and_unscoped_rows():
    both = pd.concat([actions(), actions().assign(attribution_window="7d_click", count=1.0)])
    out = conversions_from_actions(
        both, [rule(action_type="lead", value=1)], attribution_window="7d_click"
    )
    assert out["conversions"].tolist() == [1.0, 1.0]
    bare = actions().drop(columns=["attribution_window", "currency"])
    valued = apply_value_rules(bare, [rule(action_type="lead", value=1)], currency="USD")
    assert valued["value_micros"].iloc[0] == 4_000_000
    counted = conversions_from_actions(bare, [rule(action_type="lead", value=1)])
    assert counted["conversions"].sum() == 14


def test_performance_without_clicks_keeps_its_columns():
    performance = pd.DataFrame(
        {"date": [D1], "ad_id": ["a1"], "spend_micros": [5], "conversions": [0.0]}
    )
    out = with_value_rules(performance, actions(), [rule(action_type="purchase", multiplier=1)])
    assert list(out.columns) == ["date", "ad_id", "spend_micros", "conversions", "value_micros"]
    assert out["value_micros"].tolist() == [300_000_000, 80_000_000]
