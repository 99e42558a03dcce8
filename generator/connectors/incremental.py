"""Incremental sync windows: pure functions from sync state to the date ranges to fetch.

A daily run fetches every day never stored, plus the re-read window: from the last synced day
minus the platform's lookback (conversions and spend are restated for weeks) up to yesterday
in the account's time zone. ``full`` refetches the whole requested range. Ranges are split at
month boundaries so that each fetched piece is committed on its own: an interrupted run
resumes with the pieces it had not committed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from generator.lake.state import AccountState
from generator.periods import Period

__all__ = ["date_chunks", "last_complete_day", "sync_windows"]


def last_complete_day(timezone: str, now: datetime) -> date:
    """Yesterday in ``timezone`` at the instant ``now`` (an aware datetime)."""
    return now.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)


def sync_windows(
    state: AccountState, *, start: date, end: date, lookback_days: int, full: bool = False
) -> list[Period]:
    """The periods to fetch, oldest first, each inside one calendar month.

    Args:
        state: what the lake already holds for the account.
        start: the first day the report needs.
        end: the last complete day (see ``last_complete_day``).
        lookback_days: days before the last synced day to fetch again.
        full: refetch everything from ``start`` to ``end``.
    """
    if end < start:
        return []
    if full:
        ranges = [(start, end)]
    else:
        ranges = state.missing(start, end)
        through = state.synced_through
        if through is not None and lookback_days > 0:
            reread = max(start, min(through, end) - timedelta(days=lookback_days - 1))
            ranges.append((reread, end))
    return [piece for lo, hi in _merge(ranges) for piece in _by_month(lo, hi)]


def _merge(ranges: list[tuple[date, date]]) -> list[tuple[date, date]]:
    merged: list[tuple[date, date]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _by_month(lo: date, hi: date) -> list[Period]:
    pieces = []
    while lo <= hi:
        month_end = Period.month(f"{lo.year:04d}-{lo.month:02d}").end
        pieces.append(Period.between(lo, min(hi, month_end)))
        lo = min(hi, month_end) + timedelta(days=1)
    return pieces


def date_chunks(start: date, end: date, days: int) -> list[tuple[date, date]]:
    """``start``..``end`` in consecutive pieces of at most ``days`` days (a platform's longest
    range per request), oldest first."""
    pieces = []
    while start <= end:
        pieces.append((start, min(end, start + timedelta(days=days - 1))))
        start = pieces[-1][1] + timedelta(days=1)
    return pieces
