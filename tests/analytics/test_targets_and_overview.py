from datetime import date

import pandas as pd
import pytest

from generator.analytics import overview
from generator.analytics.targets import status
from generator.config import CustomKpi, KpiTarget


@pytest.mark.parametrize(
    ("value", "target", "higher", "expected"),
    [
        (3.2, KpiTarget(target=3.0), True, "on_track"),
        (2.8, KpiTarget(target=3.0), True, "at_risk"),
        (2.0, KpiTarget(target=3.0), True, "off_track"),
        (38, KpiTarget(target=40), False, "on_track"),
        (43, KpiTarget(target=40), False, "at_risk"),
        (50, KpiTarget(target=40), False, "off_track"),
        (50, KpiTarget(target=40, direction="higher"), False, "on_track"),
        (None, KpiTarget(target=1), True, None),
        (float("nan"), KpiTarget(target=1), True, None),
    ],
)
def test_target_status(value, target, higher, expected):
    assert status(value, target, higher) == expected


def rows(scale=1):
    return pd.DataFrame(
        {
            "date": [date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 2)],
            "platform": ["Google Ads", "Google Ads", "Facebook"],
            "account_id": ["1", "1", "2"],
            "campaign_id": ["c1", "c1", "c2"],
            "campaign_name": ["Brand", "Brand", "Prospecting <b>"],
            "impressions": [1000, 1000, 4000],
            "clicks": [50, 50, 40],
            "spend_micros": [50_000_000 * scale, 50_000_000 * scale, 60_000_000 * scale],
            "conversions": [5.0, 5.0, 2.0],
            "value_micros": [400_000_000, 400_000_000, 100_000_000],
        }
    )


def test_scorecards_compare_periods_and_targets():
    cards = {
        c.key: c
        for c in overview.scorecards(
            rows(),
            rows(scale=2),
            targets={"roas": KpiTarget(target=5.0)},
            custom={"margin": CustomKpi(formula="(value - spend) / spend", label="Margin")},
        )
    }
    assert cards["spend"].value == 160 and cards["spend"].previous == 320
    assert cards["spend"].change == pytest.approx(-0.5)
    assert cards["roas"].value == pytest.approx(900 / 160)
    assert cards["roas"].status == "on_track" and cards["roas"].target == 5.0
    assert cards["cpa"].higher_is_better is False and cards["spend"].higher_is_better is None
    assert cards["margin"].label == "Margin" and cards["margin"].value == pytest.approx(740 / 160)
    empty = overview.scorecards(rows().iloc[:0], rows().iloc[:0])
    assert all(c.value is None and c.change is None for c in empty)


def test_tables_by_platform_campaign_and_day():
    platforms = overview.by_platform(rows())
    assert platforms["platform"].tolist() == ["Google Ads", "Facebook"]
    campaigns = overview.by_campaign(rows())
    assert campaigns.loc[0, "campaign_name"] == "Brand" and campaigns.loc[0, "cpa"] == 10.0
    daily = overview.daily(rows())
    assert len(daily) == 3 and daily["spend"].sum() == 160


def test_a_card_is_plain_data():
    card = overview.scorecards(rows(), rows())[0]
    assert card.as_dict()["key"] == "spend" and card.as_dict()["change"] == 0.0
