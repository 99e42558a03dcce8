"""Conversion of money columns to the reporting currency with a dated rate table.

A rate table has rows ``date, base, quote, rate`` meaning one ``base`` buys ``rate`` ``quote``
from that date on. Each amount is converted at the latest rate on or before its row's date
(inverse pairs are used when only the other direction is listed). Spend and value are both
converted, so a ROAS never divides two currencies.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from generator.errors import ReportError

__all__ = ["RateTable", "to_currency"]


class RateTable:
    """Dated exchange rates; build it from a frame with date, base, quote, rate."""

    def __init__(self, rates: pd.DataFrame) -> None:
        missing = {"date", "base", "quote", "rate"} - set(rates.columns)
        if missing:
            raise ReportError(f"the rate table lacks column(s) {', '.join(sorted(missing))}")
        frame = rates[["date", "base", "quote", "rate"]].copy()
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        frame["rate"] = pd.to_numeric(frame["rate"], errors="coerce")
        if frame["rate"].isna().any() or (frame["rate"] <= 0).any():
            raise ReportError("the rate table has a rate that is not a positive number")
        inverse = frame.rename(columns={"base": "quote", "quote": "base"})
        inverse["rate"] = 1 / inverse["rate"]
        both = pd.concat([frame, inverse], ignore_index=True)
        self._pairs = {
            key: group.sort_values("date")[["date", "rate"]].to_numpy()
            for key, group in both.groupby(["base", "quote"])
        }

    def rates(self, base: str, quote: str, days: Sequence) -> np.ndarray:
        """The rate for each day (latest on or before it)."""
        days = np.asarray(days, dtype=object)
        if base == quote:
            return np.ones(len(days))
        pair = self._pairs.get((base, quote))
        if pair is None:
            raise ReportError(
                f"no exchange rate from {base} to {quote}; add one to the agency's rate table"
            )
        positions = np.searchsorted(pair[:, 0], days, side="right") - 1
        if len(days) and positions.min() < 0:
            first = days[positions < 0][0]
            raise ReportError(
                f"no {base}->{quote} rate on or before {first}; the rate table "
                f"starts on {pair[0, 0]}"
            )
        return pair[positions, 1].astype("float64")


def to_currency(
    frame: pd.DataFrame,
    currency: str,
    rates: RateTable,
    *,
    money: Sequence[str] = ("spend_micros", "value_micros"),
    date_column: str = "date",
) -> pd.DataFrame:
    """A copy of ``frame`` with ``money`` columns (micros) converted to ``currency``."""
    for column in ("currency", date_column, *money):
        if column not in frame.columns:
            raise ReportError(f"cannot convert currency: the frame has no {column!r} column")
    out = frame.copy()
    for source, index in out.groupby("currency").groups.items():
        if source == currency:
            continue
        factor = rates.rates(source, currency, out.loc[index, date_column].to_numpy())
        for column in money:
            converted = np.rint(out.loc[index, column].to_numpy(dtype="float64") * factor)
            out.loc[index, column] = converted.astype("int64")
    out["currency"] = currency
    return out
