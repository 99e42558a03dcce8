"""What to do with a platform's answer: the vocabulary of ``Connector.classify``.

A platform signals trouble in its own way (HTTP 429, a 400 whose JSON body carries error
code 17, an HTTP 200 with ``code: 40100``). Each connector translates its signals into one of
these verdicts; ``http.ApiClient`` acts on them once, for every platform.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.errors import ConnectorError

__all__ = ["Fail", "Ok", "RateLimit", "Refresh", "Retry", "SlowDown", "Verdict"]


@dataclass(frozen=True)
class Ok:
    """Use the response."""


@dataclass(frozen=True)
class Retry:
    """A transient failure (5xx, timeout, garbled body): retry with backoff, bounded.

    ``malformed`` marks an answer that arrived but could not be read; if that is still the
    case when the retries run out, the error is ``ResponseInvalid`` rather than
    ``PlatformUnavailable``.
    """

    reason: str
    malformed: bool = False


@dataclass(frozen=True)
class RateLimit:
    """The platform throttled us: wait ``after`` seconds (backoff if None), then retry.

    Rate-limit waits delay a sync but never count as failures.
    """

    reason: str
    after: float | None = None


@dataclass(frozen=True)
class SlowDown:
    """Success, but the platform's usage headers say we are close to a limit: pause first."""

    pause: float


@dataclass(frozen=True)
class Refresh:
    """The access token was rejected: refresh it once and retry."""


@dataclass(frozen=True)
class Fail:
    """Stop with this error (it says how to fix the cause)."""

    error: ConnectorError


Verdict = Ok | Retry | RateLimit | SlowDown | Refresh | Fail
