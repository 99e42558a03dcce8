"""The demo: the sandbox, the demo clients' sync and their report sites, in one call."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pyarrow.compute as pc
from rich.progress import Progress

from generator.config import load_agency, load_clients
from generator.lake import Lake
from generator.periods import Period, last_complete_month
from generator.pipeline.publishing import build_pool, publish_all
from generator.pipeline.syncing import AccountSync, sync_sandbox
from generator.pipeline.workspace import Workspace, history_start
from generator.sandbox import peers

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
        # the peers are written by a build worker while this process syncs (other clients'
        # partitions, other locks): the sync mostly waits on the sandbox
        task = progress.add_task("peer benchmarks", total=1) if progress else None
        peers_written = pool.submit(write_peers, workspace.out / "lake", now.date() - _DAY)
        # the agency started syncing four weeks ago and syncs daily: a creative changed since
        # then is a second version, and the report shows its history
        for when in (now - EARLIER_SYNC, now):
            outcome = sync_sandbox(
                clients,
                workspace.lake,
                start=start,
                now=when,
                progress=progress,
                assets=workspace.assets_of,
                retention_days=agency.creatives.retention_days,
            )
        peers_written.result()
        if progress is not None:
            progress.advance(task)
        slugs = [c.slug for c in clients]
        built = publish_all(workspace, slugs, periods, now=now, progress=progress, pool=pool)
    sites = {slug: path for (slug, label), path in built.items() if label == newest.label}
    return DemoResult(sites, out / "lake", newest, outcome)


#: how long before "now" the demo's first sync ran (the sandbox changes some creatives every
#: 28 days, so each of them has changed once since)
EARLIER_SYNC = timedelta(days=28)
#: days of the synthetic peers' history: the benchmark window (90 days) before each of the
#: demo's months
PEER_DAYS = 150
_DAY = timedelta(days=1)


def write_peers(
    lake_root: Path, end: date, cast: Sequence[peers.Peer] = peers.PEERS, days: int = PEER_DAYS
) -> int:
    """The agency's other clients, straight into the lake (the sandbox's synthetic peers have
    no client.yml and get no site), so that the demo's benchmark cohorts are big enough:
    ``days`` up to ``end``, each with its profile. Returns how many peers were written."""
    lake = Lake(lake_root)
    period = Period.between(end - timedelta(days=days - 1), end)
    for peer in cast:
        lake.put_profile(peer.slug, {"industry": peer.industry, "region": peer.region})
        table = peers.performance(peer, period.start, period.end)
        for account in sorted(set(table["account_id"].to_pylist())):
            rows = table.filter(pc.equal(table["account_id"], account))
            source = rows["source"][0].as_py()
            lake.write_days("ad_performance", peer.slug, source, account, period, rows)
    return len(peers.PEERS)
