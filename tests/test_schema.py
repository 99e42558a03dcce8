from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from generator import schema
from generator.errors import SchemaError


def _row(**overrides):
    row = {
        "date": date(2026, 10, 1),
        "platform": "google_ads",
        "source": "google_ads",
        "account_id": "1",
        "account_timezone": "UTC",
        "currency": "USD",
        "campaign_id": "c1",
        "ad_id": "a1",
        "impressions": 100,
        "clicks": 5,
        "spend_micros": 1_250_000,
        "conversions": 1.5,
        "value_micros": 30_000_000,
        "fetched_at": datetime(2026, 10, 2, tzinfo=UTC),
        "api_version": "v25",
    }
    row.update(overrides)
    return row


def test_every_table_is_named_and_versioned():
    assert set(schema.TABLES) == {
        "ad_performance",
        "actions",
        "creatives",
        "touchpoints",
        "conversions",
        "site_events",
        "site_funnel",
    }
    for name, table_schema in schema.TABLES.items():
        assert schema.table_name(table_schema) == name
        assert table_schema.metadata[b"version"] == (b"2" if name == "creatives" else b"1")
        assert {"fetched_at", "api_version"} <= set(table_schema.names)


def test_money_is_integer_micros_with_a_currency():
    for name in ("ad_performance", "actions"):
        s = schema.TABLES[name]
        assert s.field("value_micros").type == pa.int64()
        assert s.field("currency").type == pa.string()
    assert schema.AD_PERFORMANCE.field("spend_micros").type == pa.int64()


def test_from_rows_fills_optional_columns_and_orders_columns():
    table = schema.from_rows([_row()], schema.AD_PERFORMANCE)
    assert table.schema == schema.AD_PERFORMANCE
    assert table.column("ad_group_id").null_count == 1
    assert table.column("spend_micros")[0].as_py() == 1_250_000


def test_validate_widens_losslessly():
    table = schema.from_rows([_row()], schema.AD_PERFORMANCE)
    narrow = table.set_column(
        table.schema.get_field_index("clicks"), "clicks", pa.array([5], pa.int32())
    )
    assert schema.validate(narrow, schema.AD_PERFORMANCE).column("clicks").type == pa.int64()


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        ({"clicks": pa.array(["5"])}, "clicks", "has type string, expected int64"),
        ({"impressions": pa.array([-1], pa.int64())}, "impressions", "negative count"),
        ({"campaign_id": pa.array([None], pa.string())}, "campaign_id", "null in a required"),
        ({"conversions": pa.array([float("nan")])}, "conversions", "NaN"),
        ({"fetched_at": pa.array([datetime(2026, 1, 1)])}, "fetched_at", "expected timestamp"),
        ({"bogus": pa.array([1])}, "bogus", "unexpected column"),
    ],
)
def test_validate_names_table_column_and_row(change, column, message):
    table = schema.from_rows([_row(), _row()], schema.AD_PERFORMANCE).slice(0, 1)
    for name, values in change.items():
        index = table.schema.get_field_index(name)
        if index < 0:
            table = table.append_column(name, values)
        else:
            table = table.set_column(index, name, values)
    with pytest.raises(SchemaError) as err:
        schema.validate(table, schema.AD_PERFORMANCE)
    assert err.value.table == "ad_performance"
    assert err.value.column == column
    assert message in str(err.value)


def test_first_bad_row_is_reported():
    rows = [_row(), _row(), _row(clicks=-3), _row(clicks=-4)]
    with pytest.raises(
        SchemaError, match=r"ad_performance.clicks: negative count \(first bad row 2\)"
    ):
        schema.from_rows(rows, schema.AD_PERFORMANCE)


def test_missing_required_column():
    table = schema.from_rows([_row()], schema.AD_PERFORMANCE).drop_columns(["ad_id"])
    with pytest.raises(SchemaError, match="ad_performance.ad_id: missing required column"):
        schema.validate(table, schema.AD_PERFORMANCE)


def test_rows_that_do_not_fit_are_a_schema_error():
    with pytest.raises(SchemaError, match="rows do not fit"):
        schema.from_rows([_row(impressions="many")], schema.AD_PERFORMANCE)


def test_empty_table():
    assert schema.empty(schema.ACTIONS).num_rows == 0
