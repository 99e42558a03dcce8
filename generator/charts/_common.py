"""Small helpers every chart module shares (not public)."""

from __future__ import annotations

import altair as alt
import pandas as pd

__all__ = ["dates_as_text", "highlight", "numbers", "require"]

# Channels are given to ``encode`` as objects (``alt.Tooltip("x:N")``, ``alt.ColorValue(...)``),
# never as shorthand strings or plain dicts: Altair turns each of those into an object through
# its schema, about 10 ms a value, which made up a fifth of a report site's build.


def require(frame: pd.DataFrame, columns: list[str], chart: str) -> None:
    """Raise ``ValueError`` naming the chart when ``frame`` lacks a column."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{chart} needs column(s) {', '.join(missing)}")


def dates_as_text(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """A copy with date columns as ISO text (Vega reads them; JSON cannot carry dates)."""
    out = frame.copy()
    for column in columns:
        out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d")
    return out


def numbers(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A copy whose nullable numeric columns are plain floats (nulls as NaN -> null in JSON)."""
    out = frame.copy()
    for column in columns:
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    return out


def highlight(pick: alt.Parameter, on: float, off: float) -> alt.OpacityValue:
    """Opacity ``on`` for the marks ``pick`` selects (all, until something is picked),
    ``off`` for the others."""
    return alt.OpacityValue(**alt.condition(pick, alt.value(on), alt.value(off)))
