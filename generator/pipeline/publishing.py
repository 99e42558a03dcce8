"""The build stage: analyse and publish client sites, period by period, in worker processes."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

from rich.progress import Progress

from generator.config import Agency, Client, load_agency, load_clients
from generator.periods import Period
from generator.pipeline.analysis import analyze, load_rates
from generator.pipeline.workspace import Workspace
from generator.site.build import build_site
from generator.site.report import Report

__all__ = ["build", "publish", "publish_all"]


def build(workspace: Workspace, client: Client, agency: Agency, period: Period) -> Path:
    """Build the site of one analysed client and period; returns its folder."""
    results = workspace.results(client.slug, period)
    return build_site(
        Report.load(results), client, agency, workspace.out, results, workspace.assets
    )


def publish(workspace: Workspace, slug: str, period: Period, now: datetime | None = None) -> Path:
    """Analyse and build one client's period (loads its own configuration, so it can run in a
    worker process); returns the site folder."""
    agency, (client,) = load_agency(workspace.content), load_clients(workspace.content, only=slug)
    rates = load_rates(workspace.content, agency)
    analysis = analyze(workspace.lake, client, agency, period, rates, now=now)
    analysis.save(workspace.results(client.slug, period))
    return build(workspace, client, agency, period)


def publish_all(
    workspace: Workspace,
    slugs: Sequence[str],
    periods: Sequence[Period],
    *,
    jobs: int = 1,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> dict[tuple[str, str], Path]:
    """``publish`` for every client and period; ``jobs`` > 1 spreads clients over processes.

    A client's periods run in order in one worker (their archive index is shared).
    """
    task = (
        progress.add_task("building report sites", total=len(slugs) * len(periods))
        if (progress)
        else None
    )
    done: dict[tuple[str, str], Path] = {}

    def finished(slug: str, sites: list[Path]) -> None:
        for period, site in zip(periods, sites, strict=True):
            done[(slug, period.label)] = site
        if progress:
            progress.advance(task, len(sites))

    if jobs <= 1 or len(slugs) <= 1:
        for slug in slugs:
            finished(slug, _publish_periods(workspace, slug, list(periods), now))
        return done
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = {
            pool.submit(_publish_periods, workspace, s, list(periods), now): s for s in slugs
        }
        for future in as_completed(futures):
            finished(futures[future], future.result())
    return done


def _publish_periods(workspace, slug, periods, now) -> list[Path]:
    return [publish(workspace, slug, period, now) for period in periods]
