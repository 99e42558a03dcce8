"""Reporting periods: a calendar month (``2026-10``) or an explicit inclusive date range."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["Period", "last_complete_month"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive range of reporting days; ``label`` names it in paths and headings."""

    start: date
    end: date
    label: str

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period {self.label!r} ends ({self.end}) before it starts")

    @classmethod
    def month(cls, text: str) -> Period:
        """The calendar month ``YYYY-MM``."""
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"{text!r} is not a month; write it as YYYY-MM, e.g. 2026-10")
        year, month = int(match.group(1)), int(match.group(2))
        last = calendar.monthrange(year, month)[1]
        return cls(date(year, month, 1), date(year, month, last), f"{year:04d}-{month:02d}")

    @classmethod
    def month_to_date(cls, text: str, through: date) -> Period:
        """The month ``YYYY-MM`` so far: its first day through ``through`` (at most its last).

        Labelled like the month, so the daily preview and the month's final report share a
        folder (and an archive entry); compared with the same days of the month before.
        """
        full = cls.month(text)
        if through < full.start:
            raise ValueError(f"{full.label} has not started by {through}")
        return cls(full.start, min(through, full.end), full.label)

    @classmethod
    def between(cls, start: date, end: date) -> Period:
        """An explicit range, labelled ``START_END``."""
        return cls(start, end, f"{start.isoformat()}_{end.isoformat()}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def is_month(self) -> bool:
        """A whole calendar month."""
        return bool(_MONTH.match(self.label)) and self == Period.month(self.label)

    @property
    def is_month_to_date(self) -> bool:
        """A month still running (``month_to_date``)."""
        return bool(_MONTH.match(self.label)) and not self.is_month

    def previous(self) -> Period:
        """The comparison period: the previous month; for a month to date the same days of
        the month before (1-23 November against 1-23 October); else as many days before."""
        if self.is_month:
            return Period.month(_shift_month(self.label, -1))
        if self.is_month_to_date:
            before = Period.month(_shift_month(self.label, -1))
            end = min(before.end, before.start + timedelta(days=self.days - 1))
            return Period.between(before.start, end)
        end = self.start - timedelta(days=1)
        return Period.between(end - timedelta(days=self.days - 1), end)

    def months(self) -> list[str]:
        """Labels of the calendar months this period touches, oldest first."""
        out, cursor = [], self.start.replace(day=1)
        while cursor <= self.end:
            out.append(f"{cursor.year:04d}-{cursor.month:02d}")
            cursor = (cursor + timedelta(days=32)).replace(day=1)
        return out

    def __str__(self) -> str:
        return self.label


def last_complete_month(today: date) -> Period:
    """The most recent calendar month that has fully ended before ``today``."""
    return Period.month(_shift_month(f"{today.year:04d}-{today.month:02d}", -1))


def _shift_month(label: str, delta: int) -> str:
    year, month = map(int, label.split("-"))
    index = year * 12 + (month - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
