from datetime import date

import pandas as pd
import pytest

from generator.analytics.currency import RateTable, to_currency
from generator.errors import ReportError

RATES = RateTable(
    pd.DataFrame(
        {
            "date": ["2026-09-01", "2026-10-01", "2026-10-01"],
            "base": ["EUR", "EUR", "USD"],
            "quote": ["USD", "USD", "GBP"],
            "rate": [1.10, 1.20, 0.75],
        }
    )
)


def rows():
    return pd.DataFrame(
        {
            "date": [date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 2)],
            "currency": ["EUR", "EUR", "USD"],
            "spend_micros": [10_000_000, 10_000_000, 7_000_000],
            "value_micros": [1, 3, 5],
        }
    )


def test_each_row_uses_the_rate_of_its_day():
    out = to_currency(rows(), "USD", RATES)
    assert out["spend_micros"].tolist() == [11_000_000, 12_000_000, 7_000_000]
    assert out["value_micros"].tolist() == [1, 4, 5]
    assert set(out["currency"]) == {"USD"}
    assert rows()["currency"].tolist() == ["EUR", "EUR", "USD"]  # input untouched


def test_inverse_pairs_are_used():
    out = to_currency(rows().iloc[[2]], "GBP", RATES)
    assert out["spend_micros"].tolist() == [5_250_000]
    back = RATES.rates("GBP", "USD", [date(2026, 10, 5)])
    assert back[0] == pytest.approx(1 / 0.75)


@pytest.mark.parametrize(
    ("frame", "currency", "message"),
    [
        (rows(), "JPY", "no exchange rate from EUR to JPY"),
        (
            rows().assign(date=[date(2026, 1, 1)] * 3),
            "USD",
            "no EUR->USD rate on or before 2026-01-01",
        ),
        (rows().drop(columns=["currency"]), "USD", "no 'currency' column"),
    ],
)
def test_missing_rates_are_named(frame, currency, message):
    with pytest.raises(ReportError, match=message):
        to_currency(frame, currency, RATES)


def test_a_broken_rate_table():
    with pytest.raises(ReportError, match="lacks column"):
        RateTable(pd.DataFrame({"date": [], "rate": []}))
    with pytest.raises(ReportError, match="not a positive number"):
        RateTable(
            pd.DataFrame(
                {"date": ["2026-01-01"], "base": ["EUR"], "quote": ["USD"], "rate": ["abc"]}
            )
        )


def test_the_same_currency_needs_no_rate():
    assert RATES.rates("JPY", "JPY", [date(2020, 1, 1), date(2030, 1, 1)]).tolist() == [1.0, 1.0]
