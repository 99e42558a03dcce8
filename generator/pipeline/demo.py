"""The demo: the sandbox, the demo clients' sync and their report sites, in one call."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from rich.progress import Progress

from generator.config import load_agency, load_clients
from generator.periods import Period, last_complete_month
from generator.pipeline.publishing import build_pool, publish_all
from generator.pipeline.syncing import AccountSync, sync_sandbox
from generator.pipeline.workspace import Workspace, history_start

__all__ = ["DemoResult", "run_demo"]


@dataclass(frozen=True)
class DemoResult:
    sites: dict[str, Path]
    lake: Path
    period: Period
    sync: list[AccountSync]


def run_demo(
    out: Path,
    *,
    content: Path,
    today: date | None = None,
    progress: Progress | None = None,
    months: int = 2,
    jobs: int | None = None,
) -> DemoResult:
    """Start the sandbox, sync the demo clients, and build their last ``months`` months
    (clients in ``jobs`` worker processes; by default one per core, at most two)."""
    now = datetime.combine(today, time(12), UTC) if today else datetime.now(UTC)
    workspace = Workspace(content=content, out=out)
    agency, clients = load_agency(content), load_clients(content)
    newest = last_complete_month(now.date())
    periods = [newest]
    while len(periods) < months:
        periods.insert(0, periods[0].previous())
    start = history_start(newest, agency.history_months)
    jobs = jobs if jobs is not None else min(2, os.cpu_count() or 1)
    with build_pool(jobs) as pool:  # its workers import the site libraries during the sync
        outcome = sync_sandbox(
            clients,
            workspace.lake,
            start=start,
            now=now,
            progress=progress,
            assets=workspace.assets,
        )
        slugs = [c.slug for c in clients]
        built = publish_all(workspace, slugs, periods, now=now, progress=progress, pool=pool)
    sites = {slug: path for (slug, label), path in built.items() if label == newest.label}
    return DemoResult(sites, out / "lake", newest, outcome)
