"""The build stage: analyse and publish client sites, period by period, in worker processes."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

from rich.progress import Progress

from generator.config import Agency, Client, load_agency, load_clients
from generator.periods import Period
from generator.pipeline.analysis import analyze, load_rates
from generator.pipeline.benchmark_editions import EditionStore
from generator.pipeline.workspace import Workspace, workers
from generator.site import archive
from generator.site.build import build_site
from generator.site.report import Report

__all__ = ["build", "build_pool", "publish", "publish_all"]


def build(workspace: Workspace, client: Client, agency: Agency, period: Period) -> Path:
    """Build the site of one analysed client and period; returns its folder."""
    results = workspace.results(client.slug, period)
    store = workspace.assets_of(client.slug)
    return build_site(Report.load(results), client, agency, workspace.out, results, store)


def publish(workspace: Workspace, slug: str, period: Period, now: datetime | None = None) -> Path:
    """Analyse and build one client's period (loads its own configuration, so it can run in a
    worker process); returns the site folder."""
    agency, (client,) = load_agency(workspace.content), load_clients(workspace.content, only=slug)
    rates = load_rates(workspace.content, agency)
    published = EditionStore.at(workspace.out).rows()  # the seed and any imported edition
    analysis = analyze(workspace.lake, client, agency, period, rates, now=now, published=published)
    analysis.save(workspace.results(client.slug, period))
    return build(workspace, client, agency, period)


def build_pool(jobs: int) -> ProcessPoolExecutor:
    """Worker processes for ``publish_all``, already importing what a build needs.

    Made before a long sync, the workers load pandas, Altair and MkDocs while the sync runs,
    so the first site starts building at once.
    """
    pool = ProcessPoolExecutor(max_workers=workers(jobs), mp_context=get_context("spawn"))
    for _ in range(workers(jobs)):
        pool.submit(_ready)
    return pool


def _ready() -> None:
    """Nothing: importing this module in a worker is the point."""


def publish_all(
    workspace: Workspace,
    slugs: Sequence[str],
    periods: Sequence[Period],
    *,
    jobs: int = 1,
    now: datetime | None = None,
    progress: Progress | None = None,
    pool: Executor | None = None,
) -> dict[tuple[str, str], Path]:
    """``publish`` for every client and period; ``jobs`` > 1 spreads them over processes
    (those of ``pool`` if given; the caller then shuts it down).

    Each (client, period) is one task; once all are done each client's archive index is
    rewritten here, so workers finishing in any order leave it complete.
    """
    tasks = [(slug, period) for slug in slugs for period in periods]
    bar = progress.add_task("building report sites", total=len(tasks)) if progress else None
    done: dict[tuple[str, str], Path] = {}
    if pool is None and (jobs <= 1 or len(tasks) <= 1):
        for slug, period in tasks:
            done[(slug, period.label)] = publish(workspace, slug, period, now)
            if progress:
                progress.advance(bar)
    else:
        with contextlib.nullcontext(pool) if pool else build_pool(jobs) as workers:
            futures = {
                workers.submit(publish, workspace, slug, period, now): (slug, period.label)
                for slug, period in tasks
            }
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                if progress:
                    progress.advance(bar)
    noindex = load_agency(workspace.content).site.noindex
    for slug in slugs:
        archive.update(workspace.out / "sites" / slug, noindex=noindex)
    return done
