"""What the sandbox remembers between calls: issued tokens, request budgets, counters."""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from generator.sandbox.faults import Faults
from generator.sandbox.world import World

__all__ = ["SandboxState", "Throttle", "TokenIssuer"]


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
    _buckets: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    @property
    def burst(self) -> float:
        return max(5.0, self.rate)

    def take(self, platform: str, key: str) -> float | None:
        """Spend one request; None if allowed, else the seconds until one is available."""
        now = self.clock()
        tokens, last = self._buckets.get((platform, key), (self.burst, now))
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

    def __post_init__(self) -> None:
        if self.throttle is None:
            self.throttle = Throttle(rate=self.faults.rate_limit)

    def performance(self) -> pa.Table:
        """The ad numbers as reported right now (recent days still maturing)."""
        return self.world.reported(self.now().date())
