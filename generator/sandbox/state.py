"""What the sandbox remembers between calls: issued tokens, request budgets, counters."""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from generator.sandbox.faults import Faults
from generator.sandbox.world import World

__all__ = ["SandboxState", "StepClock", "Throttle", "TokenIssuer"]


@dataclass
class StepClock:
    """A clock that reads ``start`` and moves on ``step`` seconds each time it is read.

    With ``Faults.throttle_step`` the sandbox's rate windows and token lifetimes follow it
    instead of the wall clock, so a test meets the same expiries and refusals however fast or
    loaded the machine is."""

    start: float
    step: float
    _reads: int = 0

    def __call__(self) -> float:
        self._reads += 1
        return self.start + self._reads * self.step


@dataclass
class TokenIssuer:
    """Access tokens per platform, each with an expiry on the sandbox clock."""

    clock: Callable[[], float] = time.monotonic
    _tokens: dict[str, tuple[str, str, float]] = field(default_factory=dict)

    def issue(self, platform: str, subject: str, ttl: float) -> str:
        token = f"sbx.{platform}.{secrets.token_urlsafe(18)}"
        self._tokens[token] = (platform, subject, self.clock() + ttl)
        return token

    def check(self, platform: str, token: str | None) -> str | None:
        """The subject a live token was issued to, or None (unknown, other platform, expired)."""
        entry = self._tokens.get(token or "")
        if entry is None or entry[0] != platform or entry[2] <= self.clock():
            return None
        return entry[1]


@dataclass
class Throttle:
    """A token bucket per (platform, key): ``rate`` requests a second, bursts of ``burst``."""

    rate: float
    clock: Callable[[], float] = time.monotonic
    #: when set, each bucket's clock moves on ``step`` seconds per request (``Faults``)
    step: float | None = None
    _buckets: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    @property
    def burst(self) -> float:
        """A stepped throttle (tests) allows bursts of two, so a handful of calls meets it."""
        return 2.0 if self.step is not None else max(5.0, self.rate)

    def take(self, platform: str, key: str) -> float | None:
        """Spend one request; None if allowed, else the seconds until one is available."""
        if self.step is None:
            now = self.clock()
            tokens, last = self._buckets.get((platform, key), (self.burst, now))
        else:
            tokens, last = self._buckets.get((platform, key), (self.burst, 0.0))
            now = last + self.step
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[(platform, key)] = (tokens - 1, now)
            return None
        self._buckets[(platform, key)] = (tokens, now)
        return (1 - tokens) / self.rate


@dataclass
class SandboxState:
    """Everything the platform handlers share. ``now`` is the sandbox's wall clock: it decides
    how mature recent days' conversions are (tests move it to see restatements)."""

    world: World
    faults: Faults
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    tokens: TokenIssuer = field(default_factory=TokenIssuer)
    throttle: Throttle | None = None
    requests: Counter = field(default_factory=Counter)
    _scratch: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    #: the clock rate windows and tokens follow: wall time, or a ``StepClock`` (``Faults``)
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if (step := self.faults.throttle_step) is not None:
            self.clock = StepClock(time.time(), step)
            self.tokens.clock = StepClock(time.monotonic(), step)
        if self.throttle is None:
            self.throttle = Throttle(rate=self.faults.rate_limit, step=self.faults.throttle_step)

    def performance(self) -> pa.Table:
        """The ad numbers as reported right now (recent days still maturing)."""
        return self.world.reported(self.now().date())

    def rows(
        self,
        source: str,
        account_id: str,
        since: date,
        until: date,
        *,
        ad_ids: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """The account's reported rows from ``since`` to ``until`` (of ``ad_ids`` if given),
        one per date x ad x network, in date then ad order."""
        truth = self.performance()
        mask = pc.and_(pc.equal(truth["source"], source), pc.equal(truth["account_id"], account_id))
        mask = pc.and_(mask, pc.greater_equal(truth["date"], since))
        mask = pc.and_(mask, pc.less_equal(truth["date"], until))
        if ad_ids is not None:
            mask = pc.and_(mask, pc.is_in(truth["ad_id"], pa.array(ad_ids, pa.string())))
        records = truth.filter(mask).to_pylist()
        records.sort(key=lambda r: (r["date"], r["ad_id"], r["platform"]))
        return records

    def scratch(self, platform: str) -> dict[str, Any]:
        """A dict the platform's handlers keep between calls (report jobs, cursors)."""
        return self._scratch.setdefault(platform, {})
