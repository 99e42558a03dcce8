"""How numbers read in a report: money, counts, percentages, ratios, changes."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["change", "fmt", "money", "number", "percent", "ratio"]

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
_DASH = "—"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is _NA


try:  # pandas' missing value, without importing pandas for it
    from pandas import NA as _NA
except ImportError:  # pragma: no cover
    _NA = object()


def money(value: Any, currency: str = "USD", *, decimals: int | None = None) -> str:
    """``$12,345`` (no cents from 1,000 up), ``$4.56`` below; other codes as ``1,234 CHF``."""
    if _missing(value):
        return _DASH
    value = float(value)
    places = decimals if decimals is not None else (0 if abs(value) >= 1000 else 2)
    body = f"{abs(value):,.{places}f}"
    sign = "-" if value < 0 else ""
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency}"


def number(value: Any, decimals: int = 0) -> str:
    """``12,345``; large values compact (``1.2M``)."""
    if _missing(value):
        return _DASH
    value = float(value)
    if abs(value) >= 10_000_000:
        return f"{value / 1_000_000:,.1f}M"
    return f"{value:,.{decimals}f}"


def percent(value: Any, decimals: int = 2) -> str:
    if _missing(value):
        return _DASH
    return f"{float(value) * 100:.{decimals}f}%"


def ratio(value: Any) -> str:
    """A multiple such as ROAS: ``3.42x``."""
    if _missing(value):
        return _DASH
    return f"{float(value):.2f}x"


def change(value: Any) -> str:
    """A relative change: ``+12.3%``, ``-4.0%``."""
    if _missing(value):
        return _DASH
    return f"{float(value) * 100:+.1f}%"


def hours(value: Any) -> str:
    """A duration given in hours: ``12 min``, ``3.5 h``, ``2.1 days``."""
    if _missing(value):
        return _DASH
    value = float(value)
    if value < 1:
        return f"{value * 60:.0f} min"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} days"


def points(value: Any) -> str:
    """A difference of two rates, in percentage points: ``+1.2 pts``."""
    if _missing(value):
        return _DASH
    return f"{float(value) * 100:+.1f} pts"


def fmt(value: Any, unit: str, currency: str = "USD") -> str:
    """Format by a KPI's unit (currency, percent, ratio, number)."""
    if unit == "currency":
        return money(value, currency)
    if unit == "percent":
        return percent(value)
    if unit == "ratio":
        return ratio(value)
    if unit == "change":
        return change(value)
    if unit == "hours":
        return hours(value)
    if unit == "points":
        return points(value)
    decimals = 0 if _missing(value) or float(value) >= 100 or float(value).is_integer() else 2
    return number(value, decimals)
