"""Asynchronous report jobs: submit, poll with backoff, download; time out; split on failure.

Platforms that build reports offline (Meta insights jobs, X stats jobs, Microsoft reporting,
Amazon v3, Pinterest reports) all follow one shape. A connector supplies three coroutines,
``submit() -> job id``, ``poll(job id) -> JobStatus`` and ``fetch(job id, status) -> result``;
``run_job`` drives them. ``split_on_failure`` retries a failed date range as two halves, down
to single days, which is how a report too large for the platform still gets built.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from generator.errors import JobFailed, JobTimedOut

__all__ = ["JobFailed", "JobStatus", "JobTimedOut", "gather_all", "run_job", "split_on_failure"]

T = TypeVar("T")


@dataclass(frozen=True)
class JobStatus:
    """A poll's answer: finished, failed, or still running (with optional progress 0-100)."""

    done: bool = False
    failed: bool = False
    progress: float | None = None
    detail: str = ""
    result: Any = None


async def run_job(
    platform: str,
    submit: Callable[[], Awaitable[str]],
    poll: Callable[[str], Awaitable[JobStatus]],
    fetch: Callable[[str, JobStatus], Awaitable[T]],
    *,
    timeout: float = 1800.0,
    first_delay: float = 0.5,
    max_delay: float = 30.0,
    job_id: str | None = None,
    on_submitted: Callable[[str], None] | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> T:
    """Run one report job to its result.

    Args:
        job_id: an earlier run's pending job to resume instead of submitting a new one.
        on_submitted: called with the new job id right after submission (to persist it).
        timeout: seconds to wait for the job after submission.

    Raises:
        JobFailed: the platform marked the job failed.
        JobTimedOut: still running at the deadline (its ``job_id`` can be resumed).
    """
    if job_id is None:
        job_id = await submit()
        if on_submitted:
            on_submitted(job_id)
    deadline, delay = time.monotonic() + timeout, first_delay
    while True:
        status = await poll(job_id)
        if status.failed:
            raise JobFailed(
                f"report job {job_id} failed: {status.detail or 'no reason given'}",
                platform=platform,
            )
        if status.done:
            return await fetch(job_id, status)
        if time.monotonic() + delay > deadline:
            raise JobTimedOut(
                f"report job {job_id} still running after {timeout:.0f}s "
                f"({status.detail or status.progress})",
                platform=platform,
                job_id=job_id,
            )
        await sleep(delay)
        delay = min(max_delay, delay * 1.6)


async def split_on_failure(
    run: Callable[[date, date], Awaitable[T]],
    start: date,
    end: date,
    combine: Callable[[list[T]], T],
    *,
    min_days: int = 1,
) -> T:
    """``run(start, end)``; when it raises ``JobFailed``, run the two halves instead."""
    try:
        return await run(start, end)
    except JobFailed:
        days = (end - start).days + 1
        if days <= min_days:
            raise
        middle = start + timedelta(days=days // 2 - 1)
        first = await split_on_failure(run, start, middle, combine, min_days=min_days)
        second = await split_on_failure(
            run, middle + timedelta(days=1), end, combine, min_days=min_days
        )
        return combine([first, second])


async def gather_all(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Run concurrently and return every result; if any failed, raise the first failure, but
    only after all have finished (no report job is left running unobserved)."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
