"""Retry bounds and jittered exponential backoff, in one place for every platform."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying.

    Attributes:
        attempts: transient failures (5xx, timeouts, garbled bodies) tolerated per request.
        base: first backoff delay in seconds; doubles each attempt up to ``cap``.
        cap: the longest single backoff.
        budget: total seconds of transient backoff per request before giving up.
        rate_limit_wait: total seconds a request may wait on rate limits before the platform
            is reported stale for this run (a rate limit delays, it does not fail).
        timeout: seconds for one HTTP exchange.
    """

    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0
    budget: float = 120.0
    rate_limit_wait: float = 900.0
    timeout: float = 60.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full-jitter delay before retry number ``attempt`` (1-based)."""
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)
