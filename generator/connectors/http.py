"""One HTTP mechanism for every platform: auth, rate limit, retries, backoff, classification.

``ApiClient.call`` sends a request through the platform's limiter with fresh auth headers,
asks the connector's ``classify`` what the answer means (see ``verdicts``) and acts on it:
retry transient failures with jittered exponential backoff inside the policy's bounds, wait
out rate limits (they delay, never fail, up to ``rate_limit_wait``), refresh a rejected token
once, pause when usage headers say a limit is near. Lower-layer errors (httpx) are translated
to ``ConnectorError``s here and nowhere else.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from aiolimiter import AsyncLimiter

from generator.connectors.auth import Authenticator, NoAuth
from generator.connectors.retry import RetryPolicy
from generator.connectors.verdicts import Fail, Ok, RateLimit, Refresh, Retry, SlowDown, Verdict
from generator.errors import (
    AuthFailed,
    ConnectorError,
    PlatformUnavailable,
    RateLimited,
    ResponseInvalid,
)

__all__ = ["ApiClient", "CallStats", "default_verdict", "retry_after"]

log = logging.getLogger("generator.connectors")


@dataclass
class _Tries:
    """What one call has been through so far."""

    started: float
    failures: int = 0
    limited: int = 0
    waited: float = 0.0
    refreshed: bool = False


@dataclass
class CallStats:
    """Counters for one connector instance (reported by the sync benchmark)."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def default_verdict(response: httpx.Response, platform: str, request: str) -> Verdict:
    """What a status code means when the platform says nothing more specific."""
    status = response.status_code
    if status < 300:
        return Ok()
    if status == 401:
        return Refresh()
    if status == 429:
        return RateLimit("HTTP 429", retry_after(response))
    if status == 408 or status >= 500:
        return Retry(f"HTTP {status}")
    snippet = response.text[:300].replace("\n", " ")
    return Fail(ConnectorError(f"HTTP {status}: {snippet}", platform=platform, request=request))


class ApiClient:
    """Sends requests for one connector instance.

    Args:
        platform: the connector name, for errors.
        http: the ``httpx.AsyncClient`` (its transport decides where requests go).
        auth: the authenticator.
        classify: the connector's translation of responses into verdicts; returning None
            falls back to ``default_verdict``.
        limiter: requests allowed per second for this platform.
        policy: retry and wait bounds.
        headers: sent with every request (API version, developer token, ...).
    """

    def __init__(
        self,
        platform: str,
        http: httpx.AsyncClient,
        *,
        auth: Authenticator | None = None,
        classify: Callable[[httpx.Response, str], Verdict | None] | None = None,
        rate: float = 10.0,
        policy: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.platform, self.http = platform, http
        self.auth = auth or NoAuth()
        self._classify = classify or (lambda response, request: None)
        self.limiter = AsyncLimiter(max(rate, 0.001), 1.0)
        self.policy = policy or RetryPolicy()
        self.headers = dict(headers or {})
        self.stats = CallStats()
        self._rng, self._sleep = rng or random.Random(), sleep

    async def call(
        self,
        method: str,
        url: str,
        *,
        parse: Callable[[httpx.Response], Any] | None = None,
        authenticate: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Send until the platform gives a usable answer; return ``parse(response)`` or it.

        ``parse`` raising ``ValueError`` (a truncated or garbled body) counts as a transient
        failure and is retried. ``authenticate=False`` sends neither credentials nor the
        connector's default headers (for pre-signed download URLs).

        Raises:
            AuthFailed, ApiVersionRetired, ResponseInvalid, ConnectorError: from ``classify``.
            RateLimited: rate-limit waits exceeded ``policy.rate_limit_wait``.
            PlatformUnavailable: transient failures exceeded the policy's bounds.
        """
        request = f"{method} {httpx.URL(url).path}"
        tries = _Tries(started=time.monotonic())
        while True:
            verdict, response = await self._exchange(method, url, request, authenticate, kwargs)
            if isinstance(verdict, Ok | SlowDown):
                if isinstance(verdict, SlowDown) and verdict.pause > 0:
                    log.info(
                        "%s: usage near its limit, pausing %.1fs", self.platform, verdict.pause
                    )
                    self.stats.waited_seconds += verdict.pause
                    await self._sleep(verdict.pause)
                if parse is None:
                    return response
                try:
                    return parse(response)
                except ValueError as exc:
                    verdict = Retry(f"unreadable body ({exc})", malformed=True)
            await self._react(verdict, tries, request, authenticate)

    async def _react(self, verdict: Verdict, tries: _Tries, request: str, authenticate: bool):
        """Raise, refresh, or wait as ``verdict`` says, within the policy's bounds."""
        if isinstance(verdict, Fail):
            raise verdict.error
        if isinstance(verdict, Refresh):
            if not (authenticate and getattr(self.auth, "refreshable", False)):
                raise AuthFailed(
                    "the platform rejected the credentials; renew the token or key in the "
                    "environment and check the app's access to this account",
                    platform=self.platform,
                    request=request,
                )
            if tries.refreshed:
                raise AuthFailed(
                    "the platform rejected a freshly issued access token; check "
                    "the app's permissions",
                    platform=self.platform,
                    request=request,
                )
            tries.refreshed = True
            self.auth.invalidate()
            return
        if isinstance(verdict, RateLimit):
            tries.limited += 1  # without a hint, each consecutive limit waits longer
            delay = verdict.after if verdict.after is not None else self._backoff(tries.limited)
            if tries.waited + delay > self.policy.rate_limit_wait:
                raise RateLimited(
                    f"still rate limited after waiting {tries.waited:.0f}s ({verdict.reason})",
                    platform=self.platform,
                    request=request,
                    retry_after=delay,
                )
            tries.waited += delay
            self.stats.rate_limited += 1
            self.stats.waited_seconds += delay
            log.info("%s: rate limited (%s), waiting %.2fs", self.platform, verdict.reason, delay)
            await self._sleep(delay)
            return
        tries.failures += 1
        delay = self._backoff(tries.failures)
        spent = time.monotonic() - tries.started - tries.waited
        if tries.failures > self.policy.attempts or spent + delay > self.policy.budget:
            error = ResponseInvalid if verdict.malformed else PlatformUnavailable
            raise error(
                f"gave up after {tries.failures} failures ({verdict.reason})",
                platform=self.platform,
                request=request,
            )
        self.stats.retries += 1
        log.info("%s: %s, retry %d in %.2fs", self.platform, verdict.reason, tries.failures, delay)
        await self._sleep(delay)

    async def _exchange(self, method, url, request, authenticate, kwargs):
        # an unauthenticated call (a pre-signed download) carries none of the platform's
        # headers either: a developer token must not travel to a storage host
        headers = {**(self.headers if authenticate else {}), **(kwargs.get("headers") or {})}
        if authenticate:
            headers |= await self.auth.headers(self.http)
        rest = {k: v for k, v in kwargs.items() if k != "headers"}
        outgoing = self.http.build_request(
            method, url, headers=headers, timeout=self.policy.timeout, **rest
        )
        if authenticate and (sign := getattr(self.auth, "sign", None)):
            sign(outgoing)  # schemes that sign the whole request (OAuth 1.0a)
        async with self.limiter:
            self.stats.requests += 1
            try:
                response = await self.http.send(outgoing)
            except httpx.TimeoutException:
                return Retry("timeout"), None
            except httpx.TransportError as exc:
                return Retry(f"connection failed ({type(exc).__name__})"), None
        verdict = self._classify(response, request)
        return verdict or default_verdict(response, self.platform, request), response

    def _backoff(self, attempt: int) -> float:
        return self.policy.backoff(attempt, self._rng)
