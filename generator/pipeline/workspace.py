"""Where a run reads configuration and writes each stage's files."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from generator.creatives import AssetStore
from generator.lake import Lake
from generator.periods import Period

__all__ = ["Workspace", "history_start"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Workspace:
    """Where a run reads configuration and writes each stage's files."""

    content: Path
    out: Path

    @property
    def lake(self) -> Lake:
        return Lake(self.out / "lake")

    def assets_of(self, client: str) -> AssetStore:
        """``client``'s own asset store, reading through to the shared one of older runs."""
        if not _SLUG.match(client):
            raise ValueError(f"not a client slug: {client!r}")
        return AssetStore(self.out / "assets" / client, fallback=self.shared_assets)

    @property
    def shared_assets(self) -> AssetStore:
        """Where every client's assets went before each client had its own store: read
        (a lake may still name assets there) and pruned, never written."""
        return AssetStore(self.out / "assets")

    def results(self, client: str, period: Period) -> Path:
        return self.out / "results" / client / period.label

    def site(self, client: str, period: Period) -> Path:
        return self.out / "sites" / client / period.label


def history_start(period: Period, months: int) -> date:
    """First day of the month ``months - 1`` months before ``period``'s last month."""
    month = Period.month(period.months()[-1])
    for _ in range(months - 1):
        month = month.previous()
    return month.start


def workers(jobs: int) -> int:
    """How many worker processes ``jobs`` gets: never more than the machine has cores.

    A worker costs about 270 MB before it does anything (pandas, Altair, SciPy, MkDocs), and
    on two cores five workers finish no sooner than two (bench/README.md, issue 17).
    """
    return max(1, min(jobs, os.cpu_count() or 1))
