from datetime import UTC, date, datetime

import pytest

from generator.connectors.normalize import Col, major_to_micros, normalize
from generator.errors import ResponseInvalid
from generator.schema import AD_PERFORMANCE

CONSTANTS = {
    "platform": "tiktok",
    "source": "tiktok",
    "account_id": "1",
    "currency": "USD",
    "account_timezone": "UTC",
    "fetched_at": datetime(2026, 1, 1, tzinfo=UTC),
    "api_version": "v1.3",
}
MAP = {
    "date": Col("dimensions.stat_time_day", "date", required=True),
    "campaign_id": Col("dimensions.campaign_id", "id", required=True),
    "ad_id": Col("dimensions.ad_id", "id", required=True),
    "impressions": Col("metrics.impressions", "count", default=0),
    "clicks": Col("metrics.clicks", "count", default=0),
    "spend_micros": Col("metrics.spend", "major", default=0),
    "conversions": Col("metrics.conversion", "number", default=0.0),
    "value_micros": Col("metrics.total_purchase_value", "major", default=0),
}


def run(records):
    return normalize(
        records, MAP, AD_PERFORMANCE, constants=CONSTANTS, platform="tiktok", api_version="v1.3"
    ).to_pylist()


@pytest.mark.parametrize(
    ("value", "micros"),
    [
        ("5339.5", 5_339_500_000),
        ("0.000001", 1),
        (12.34, 12_340_000),
        (0, 0),
        ("1e3", 10**9),
        ("0.0000005", 0),
        ("0.0000015", 2),
    ],
)
def test_major_units_become_exact_micros(value, micros):
    assert major_to_micros(value) == micros


def test_strings_dashes_and_dates():
    rows = run(
        [
            {
                "dimensions": {
                    "stat_time_day": "2024-01-15 00:00:00",
                    "campaign_id": 17,
                    "ad_id": "99",
                },
                "metrics": {
                    "impressions": "1204",
                    "clicks": "-",
                    "spend": "1265.87",
                    "conversion": "3",
                    "total_purchase_value": "-",
                },
            }
        ]
    )
    (row,) = rows
    assert row["date"] == date(2024, 1, 15)
    assert (row["impressions"], row["clicks"]) == (1204, 0)
    assert row["spend_micros"] == 1_265_870_000 and row["value_micros"] == 0
    assert row["campaign_id"] == "17" and row["conversions"] == 3.0


def test_ga4_style_dates_and_list_paths():
    m = {"date": Col("dimensionValues.0.value", "date", required=True)}
    rows = normalize(
        [{"dimensionValues": [{"value": "20260115"}]}],
        {**MAP, **m},
        AD_PERFORMANCE,
        constants={**CONSTANTS, "campaign_id": "c", "ad_id": "a"},
        platform="ga4",
        api_version="v1beta",
    ).to_pylist()
    assert rows[0]["date"] == date(2026, 1, 15)


def test_a_missing_required_field_names_platform_version_and_field():
    with pytest.raises(ResponseInvalid) as err:
        run([{"dimensions": {"stat_time_day": "2024-01-15", "campaign_id": "1"}, "metrics": {}}])
    assert "required field 'dimensions.ad_id' missing from record 0 of the v1.3 response" in str(
        err.value
    )
    assert err.value.platform == "tiktok"


@pytest.mark.parametrize("bad", ["12.5", "lots", "NaN"])
def test_values_that_are_not_counts(bad):
    with pytest.raises(ResponseInvalid, match="dimensions|metrics.impressions"):
        run(
            [
                {
                    "dimensions": {"stat_time_day": "2024-01-15", "campaign_id": "1", "ad_id": "2"},
                    "metrics": {"impressions": bad},
                }
            ]
        )


def test_unknown_fields_are_ignored():
    rows = run(
        [
            {
                "dimensions": {
                    "stat_time_day": "2024-01-15",
                    "campaign_id": "1",
                    "ad_id": "2",
                    "new_dimension": "x",
                },
                "metrics": {"brand_new_metric": "9"},
            }
        ]
    )
    assert rows[0]["impressions"] == 0
