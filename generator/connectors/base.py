"""The connector base class: declaration first, behaviour in small overridable hooks.

A platform module subclasses ``Connector`` and mostly declares: ``platform``, ``api_version``
(with its ``sunset``), ``hosts``, ``rate``, ``lookback_days``, ``credential_names`` and field
maps. It overrides ``make_auth``/``default_headers`` for its auth scheme, ``classify`` for its
error and rate-limit signals, and the ``fetch_*`` methods that shape its requests. Transport,
retries, backoff, token refresh and throttling are the framework's (``http.ApiClient``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import httpx
import pyarrow as pa

from generator.connectors.auth import Authenticator, NoAuth
from generator.connectors.http import ApiClient
from generator.connectors.jobs import JobStatus, run_job
from generator.connectors.labels import Directory, Unresolved, fill_names
from generator.connectors.normalize import Col, normalize, utc_now
from generator.connectors.redact import register_secret
from generator.connectors.retry import RetryPolicy
from generator.connectors.verdicts import Verdict
from generator.errors import (
    ApiVersionRetired,
    AuthFailed,
    ConnectorError,
    JobFailed,
    JobTimedOut,
    PlatformUnavailable,
    RateLimited,
)

if TYPE_CHECKING:
    from generator.config import AccountConfig, Client

T = TypeVar("T")

#: errors of a resumed report that say nothing about the job itself (retrying it is pointless)
_WORTH_RAISING = (ApiVersionRetired, AuthFailed, JobTimedOut, PlatformUnavailable, RateLimited)

__all__ = ["FETCHERS", "AccountInfo", "Connector"]

log = logging.getLogger("generator.connectors")

#: dated canonical table -> the method that fetches it for an account and date range
FETCHERS = {
    "ad_performance": "fetch_performance",
    "actions": "fetch_actions",
    "site_funnel": "fetch_site_funnel",
    "touchpoints": "fetch_touchpoints",
    "conversions": "fetch_conversions",
    "site_events": "fetch_site_events",
}


@dataclass(frozen=True)
class AccountInfo:
    """What a platform says about an account."""

    account_id: str
    name: str
    currency: str
    timezone: str


class Connector:
    """Base of every platform connector. Use it as an async context manager.

    Args:
        credentials: the platform's own credential names -> values (already resolved).
        base_url: replaces every host of the platform (sandbox or recorded responses).
        transport: an ``httpx.AsyncBaseTransport`` (``MockTransport``, ``ASGITransport``).
        policy: retry bounds; the default suits production.
        on_rotate: called with a rotated refresh token, to persist it.
    """

    platform: ClassVar[str]
    api_version: ClassVar[str]
    sunset: ClassVar[str] = ""
    hosts: ClassVar[Mapping[str, str]] = {}
    rate: ClassVar[float] = 5.0
    lookback_days: ClassVar[int] = 7
    credential_names: ClassVar[tuple[str, ...]] = ()
    #: the dated canonical tables this connector fills, each by ``FETCHERS[table]``
    datasets: ClassVar[tuple[str, ...]] = ("ad_performance", "actions")
    #: whether ``fetch_creatives`` is offered
    has_creatives: ClassVar[bool] = True
    #: seconds an async report may take before the run moves on (it resumes next run)
    job_timeout: ClassVar[float] = 1800.0
    #: seconds before the second poll of a report job (grows 1.6x per poll up to 30 s)
    poll_delay: ClassVar[float] = 0.5
    #: re-read everything the source holds on each run (local exports), limited to the days
    #: ``coverage`` reports, so days the source no longer holds are never overwritten
    rereads_all: ClassVar[bool] = False
    #: accounts of different clients with the same credentials may share one instance
    shared_across_clients: ClassVar[bool] = True

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        on_rotate: Callable[[str], None] | None = None,
    ) -> None:
        missing = [n for n in self.credential_names if not credentials.get(n)]
        if missing:
            raise AuthFailed(
                f"credentials lack {', '.join(missing)} (set them in client.yml)",
                platform=self.platform,
            )
        self.credentials = dict(credentials)
        for name, value in self.credentials.items():
            if any(word in name.lower() for word in ("token", "secret", "password", "key")):
                register_secret(value)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.on_rotate = on_rotate
        #: account id -> {report key: job id} of jobs submitted but not yet read; the sync
        #: stores it with the account's state so the next run resumes them
        self.pending: dict[str, dict[str, str]] = {}
        #: account id -> entities that had numbers but no name from the API (see ``labels``)
        self.unresolved: dict[str, Unresolved] = {}
        self._shared: dict[Hashable, tuple[Any, frozenset[str]]] = {}
        self._http = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "campaign-reporter/0.1"},
        )
        self.api = ApiClient(
            self.platform,
            self._http,
            auth=self.make_auth(),
            classify=self.classify,
            rate=self.rate,
            policy=policy,
            headers=self.default_headers(),
        )

    # -- declaration hooks ----------------------------------------------------------------

    def url(self, host: str, path: str) -> str:
        """The URL of ``path`` on one of the platform's ``hosts`` (or on ``base_url``)."""
        root = self.base_url or self.hosts[host]
        return f"{root}{path}"

    def make_auth(self) -> Authenticator:
        return NoAuth()

    def default_headers(self) -> dict[str, str]:
        """Headers every request carries (API version, developer token, ...)."""
        return {}

    def classify(self, response: httpx.Response, request: str) -> Verdict | None:
        """Translate the platform's own signals; None means 'judge by status code'."""
        return None

    def configure(self, client: Client, account: AccountConfig, env: Mapping[str, str]) -> None:
        """Take an account's settings beyond credentials (a file export's path and columns)."""

    async def coverage(self, account_id: str) -> tuple[date, date] | None:
        """The first and last day the source holds (for ``rereads_all`` sources)."""
        return None

    # -- what every connector offers -------------------------------------------------------

    async def account_info(self, account_id: str) -> AccountInfo:
        raise ConnectorError("account_info is not available", platform=self.platform)

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily ad performance in the canonical ``ad_performance`` schema."""
        raise NotImplementedError

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        """Daily actions by canonical type and attribution window (``actions`` schema)."""
        raise NotImplementedError

    async def fetch_creatives(self, account_id: str) -> pa.Table:
        """Current creatives, one row per version (``creatives`` schema)."""
        raise NotImplementedError

    async def fetch(self, dataset: str, account_id: str, start: date, end: date) -> pa.Table:
        """The dated ``dataset`` for one account and range (dispatches to ``FETCHERS``)."""
        if dataset not in self.datasets:
            raise ConnectorError(
                f"{self.platform} does not provide {dataset}", platform=self.platform
            )
        table = await getattr(self, FETCHERS[dataset])(account_id, start, end)
        return fill_names(table, self.unresolved_in(account_id))

    def unresolved_in(self, account_id: str) -> Unresolved:
        """The account's unresolved entities so far (created empty on first use)."""
        return self.unresolved.setdefault(account_id, Unresolved())

    def label(self, account_id: str, directory: Directory, **ids: Any) -> dict[str, str | None]:
        """``directory.resolve`` for one report row; what it cannot name is recorded for the
        account (the row keeps its numbers, the id stands in for the name)."""
        return directory.resolve(self.unresolved_in(account_id), **ids)

    async def shared(self, dataset: str, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """``read()`` once for all of ``datasets``: the first dataset asking under ``key``
        reads, the others get the same result, then it is dropped.

        One insights job or report holds performance and actions alike; this keeps a window
        to one job instead of one per dataset.
        """
        value, unread = self._shared.pop(key, (None, frozenset()))
        if dataset not in unread:
            value, unread = await read(), frozenset(self.datasets)
        if unread - {dataset}:
            self._shared[key] = (value, unread - {dataset})
        return value

    def normalize(
        self,
        records: Iterable[Mapping[str, Any]],
        fields: Mapping[str, Col],
        schema: pa.Schema,
        **constants: Any,
    ) -> pa.Table:
        """``normalize.normalize`` with the lineage every row carries (source, fetched_at,
        api_version; first_seen for creatives) added to ``constants``."""
        lineage: dict[str, Any] = {
            "platform": self.platform,
            "source": self.platform,
            "fetched_at": utc_now(),
            "api_version": self.api_version,
        }
        if "first_seen" in schema.names:
            lineage["first_seen"] = lineage["fetched_at"].date()
        return normalize(
            records,
            fields,
            schema,
            constants=lineage | constants,
            platform=self.platform,
            api_version=self.api_version,
        )

    def rebase(self, url: str, mount: str) -> str:
        """A URL on another host (a pre-signed download) moved under ``base_url/mount`` when a
        ``base_url`` replaces the platform's hosts; unchanged otherwise."""
        if not self.base_url or url.startswith(self.base_url):
            return url
        parsed = httpx.URL(url)
        return f"{self.base_url}/{mount}{parsed.raw_path.decode()}"

    async def run_report(
        self,
        account_id: str,
        key: str,
        submit: Callable[[], Awaitable[str]],
        poll: Callable[[str], Awaitable[JobStatus]],
        fetch: Callable[[str, JobStatus], Awaitable[T]],
    ) -> T:
        """Run an async report job to its result, resuming one an earlier run left pending.

        ``key`` names the report (dataset and date range); a job submitted under it stays in
        ``pending`` until its result is read, so a run that times out (``JobTimedOut``)
        leaves it for the next run instead of submitting a duplicate. A resumed job the
        platform no longer knows or that failed is submitted afresh.
        """
        jobs = self.pending.setdefault(account_id, {})
        options = {"timeout": self.job_timeout, "first_delay": self.poll_delay}
        if (resumed := jobs.get(key)) is not None:
            try:
                result = await run_job(
                    self.platform, submit, poll, fetch, job_id=resumed, **options
                )
            except ConnectorError as exc:
                if isinstance(exc, _WORTH_RAISING):
                    raise
                # failed, expired or unknown at the platform: build the report afresh
                log.info(
                    "%s: pending report %s unusable (%s); resubmitting", self.platform, key, exc
                )
                jobs.pop(key, None)
            else:
                jobs.pop(key, None)
                return result
        try:
            result = await run_job(
                self.platform,
                submit,
                poll,
                fetch,
                on_submitted=lambda job_id: jobs.__setitem__(key, job_id),
                **options,
            )
        except JobFailed:
            jobs.pop(key, None)  # a failed job is never worth resuming
            raise
        jobs.pop(key, None)  # a timed-out one (JobTimedOut) stays pending for the next run
        return result

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def http(self) -> httpx.AsyncClient:
        """The connector's HTTP client without credentials (for public asset URLs)."""
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Connector:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
