"""The Parquet lake: canonical tables partitioned by dataset, client and month, plus sync state."""

from generator.lake.state import AccountState, StateStore
from generator.lake.store import DATED, KEYED, Lake, WriteResult

__all__ = ["DATED", "KEYED", "AccountState", "Lake", "StateStore", "WriteResult"]
