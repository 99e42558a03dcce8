"""Fault knobs: what can go wrong on the sandbox's side of the wire, reproducibly.

Every platform's handlers pass through ``Faults.before`` (outages, random server errors,
latency) and may truncate their body with ``Faults.truncate``. Draws come from a seeded
generator, so a test with faults on fails or passes the same way every run.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field, fields

__all__ = ["Faults"]


@dataclass
class Faults:
    """What to break.

    Attributes:
        outage: platforms that answer every call with 503.
        error_rate: probability of a random 500/502/503 on any call.
        slow_rate: probability that a call is delayed by ``slow_seconds``.
        truncate_rate: probability that a successful body is cut short.
        token_ttl: lifetime in seconds of issued access tokens (short = expired tokens).
        rate_limit: requests per second each platform allows a client before it throttles.
        throttle_step: when set, the throttle's clock moves on this many seconds per request
            instead of following the wall clock, so a test sees the same throttling however
            fast or loaded the machine is (the sandbox perceives ``1 / throttle_step``
            requests a second).
    """

    outage: set[str] = field(default_factory=set)
    error_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 0.2
    truncate_rate: float = 0.0
    token_ttl: float = 3600.0
    rate_limit: float = 50.0
    throttle_step: float | None = None
    seed: int = 11
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def to_json(self) -> str:
        """The knobs as JSON (for a sandbox in another process; ``from_json`` reads it)."""
        knobs = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        return json.dumps(knobs | {"outage": sorted(self.outage)})

    @classmethod
    def from_json(cls, text: str) -> Faults:
        knobs = json.loads(text)
        return cls(**knobs | {"outage": set(knobs.get("outage", ()))})

    @classmethod
    def chaos(cls, **overrides) -> Faults:
        """A preset with every kind of trouble at a rate a sync must survive."""
        knobs = {
            "error_rate": 0.08,
            "slow_rate": 0.05,
            "slow_seconds": 0.05,
            "truncate_rate": 0.04,
            "token_ttl": 2.0,
            "rate_limit": 20.0,
            "throttle_step": 0.05,  # twenty requests a second, as the throttle sees them
        }
        return cls(**{**knobs, **overrides})

    async def before(self, platform: str) -> int | None:
        """Apply latency; return an HTTP status to fail with, or None to proceed."""
        if platform in self.outage:
            return 503
        if self.slow_rate and self._rng.random() < self.slow_rate:
            await asyncio.sleep(self.slow_seconds)
        if self.error_rate and self._rng.random() < self.error_rate:
            return self._rng.choice((500, 502, 503))
        return None

    def truncate(self, body: bytes) -> bytes:
        if self.truncate_rate and len(body) > 2 and self._rng.random() < self.truncate_rate:
            return body[: len(body) // 2]
        return body
