"""The check every analytics function makes first: a DataFrame with the columns it reads."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from generator.errors import ReportError

__all__ = ["require"]


def require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    """Raise ``ReportError`` naming ``name`` unless ``frame`` is a DataFrame with ``columns``."""
    if not isinstance(frame, pd.DataFrame):
        raise ReportError(f"{name} must be a pandas DataFrame, not {type(frame).__name__}")
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ReportError(f"{name} lacks column(s) {missing}; it needs {list(columns)}")
