"""Post an ``Event`` to the agency's chat channels and webhooks, and say how each one went.

``notify`` never raises for a channel that failed: a notification is a courtesy, and a dead
Slack hook must not fail the run it announces. Each channel that wants the event gets a
``Delivery`` (ok, status, error), and a failure is logged as a warning.

Retries: connection errors, timeouts, 408, 429 (waiting what ``Retry-After`` says, capped) and
5xx are retried with jittered exponential backoff, ``ATTEMPTS`` requests in all; any other
4xx is permanent (a revoked hook stays revoked). Redirects are not followed, so a signed body
only ever goes where it was addressed.

Secrets: a notifier's ``url`` and ``secret`` are ``${ENV}`` references, resolved here from
``env``. A hook URL is a bearer credential (whoever has it can post), so no log line, error or
repr shows more than its scheme and host (``https://hooks.slack.com/…``), and an error names
the environment *variable*, never its value. Resolved values are also registered with
``connectors.redact``, whose logging filter masks them should a lower layer ever print one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import tenacity

from generator import secretlike
from generator.connectors.http import retry_after
from generator.connectors.redact import RedactingFilter, redact, register_secret
from generator.distribute.notify_formats import (
    Event,
    encode,
    kpi_alert,
    published,
    sign,
    slack_payload,
    stale,
    sync_failed,
    teams_payload,
    webhook_payload,
)
from generator.distribution_config import Notifier

__all__ = [
    "ATTEMPTS",
    "RETRY_AFTER_CAP",
    "Delivery",
    "Event",
    "kpi_alert",
    "notify",
    "published",
    "stale",
    "sync_failed",
]

log = logging.getLogger("generator.distribute")

#: requests per channel and event, the first included
ATTEMPTS = 4
#: the longest a 429's Retry-After is honoured for, in seconds
RETRY_AFTER_CAP = 30.0
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_BACKOFF = tenacity.wait_exponential_jitter(initial=1.0, max=10.0)
_FORMATS = {
    "slack": lambda event, agency, sent_at: slack_payload(event, agency=agency),
    "teams": lambda event, agency, sent_at: teams_payload(event, agency=agency),
    "webhook": lambda event, agency, sent_at: webhook_payload(
        event, agency=agency, sent_at=sent_at
    ),
}


@dataclass(frozen=True)
class Delivery:
    """How one channel took one event.

    Attributes:
        name: the notifier's name.
        kind: ``slack``, ``teams`` or ``webhook``.
        ok: the endpoint accepted it (2xx).
        status: the last HTTP status; None when no answer came (not configured, unreachable).
        error: what went wrong and what to fix; never a URL or a secret.
        attempts: requests made.
        target: where it went, as scheme and host only.
    """

    name: str
    kind: str
    ok: bool
    status: int | None = None
    error: str | None = None
    attempts: int = 0
    target: str = ""


@dataclass(frozen=True)
class _Target:
    """A resolved channel; the url and secret are kept out of the repr."""

    url: str = field(repr=False)
    secret: str | None = field(repr=False)
    shown: str
    variables: str


class _Undeliverable(Exception):
    """The channel cannot be tried at all (its configuration or environment is wrong)."""


class _Transient(Exception):
    """Worth another try; ``retry_after`` is the endpoint's own hint, in seconds."""

    def __init__(self, message: str, status: int | None = None, wait: float | None = None):
        super().__init__(message)
        self.status, self.retry_after = status, wait


class _Refused(Exception):
    """The endpoint answered and trying again will not change its mind."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def notify(
    event: Event,
    notifiers: Iterable[Notifier],
    env: Mapping[str, str],
    *,
    agency: str | None = None,
    http: httpx.Client | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> list[Delivery]:
    """Send ``event`` to each notifier that ``wants`` it, one after another.

    Args:
        event: what to announce.
        notifiers: the agency's ``notifications``.
        env: where ``${VAR}`` references are looked up (``os.environ``).
        agency: the agency's name, shown in the message and the webhook body.
        http: a client to send with; by default one is made (with ``transport``, timeouts,
            no redirects) and closed again.
        transport: for tests, e.g. ``httpx.MockTransport``.
        sleep: how to wait between retries (tests pass a recorder).
        clock: Unix time, for ``sent_at`` and webhook signatures.

    Returns:
        One ``Delivery`` per notifier that wanted the event, in order; never raises for a
        channel that failed.
    """
    chosen = [n for n in notifiers if n.wants(event.kind, event.client)]
    if not chosen:
        return []
    _guard_library_logs()
    own = http is None
    client = http or httpx.Client(transport=transport, timeout=TIMEOUT, follow_redirects=False)
    try:
        return [_deliver(event, n, env, agency, client, sleep, clock) for n in chosen]
    finally:
        if own:
            client.close()


def _deliver(event, notifier, env, agency, http, sleep, clock) -> Delivery:
    """One channel: resolve, format, post with retries, and report."""
    try:
        target = _resolve(notifier, env)
    except _Undeliverable as exc:
        return _report(event, Delivery(notifier.name, notifier.kind, ok=False, error=str(exc)))
    sent_at = datetime.fromtimestamp(clock(), UTC)
    body = encode(_FORMATS[notifier.kind](event, agency, sent_at))
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(ATTEMPTS),
        wait=_wait,
        retry=tenacity.retry_if_exception_type(_Transient),
        sleep=sleep,
        reraise=True,
        before_sleep=lambda state: log.info(
            "notification to %r: %s; trying again in %.1fs",
            notifier.name,
            state.outcome.exception(),
            state.upcoming_sleep,
        ),
    )
    status, error = None, None
    try:
        status = retrying(_post, http, target, body, clock)
    except _Transient as exc:  # re-raised only once every attempt is spent
        status, error = exc.status, f"{exc} after {ATTEMPTS} attempts"
    except _Refused as exc:
        status, error = exc.status, str(exc)
    attempts = retrying.statistics.get("attempt_number", 1)
    ok = error is None
    delivery = Delivery(notifier.name, notifier.kind, ok, status, error, attempts, target.shown)
    return _report(event, delivery)


def _resolve(notifier: Notifier, env: Mapping[str, str]) -> _Target:
    """The channel's URL and secret from ``env``; errors name the variable, not the value."""
    url_var = _variable(notifier.url, notifier, "url")
    url = _lookup(env, url_var, f"the {notifier.kind} URL of notifier {notifier.name!r}")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise _Undeliverable(f"environment variable {url_var} does not hold an http(s) URL")
    # as httpx spells it in its own logs, and the path alone (the secret part of a hook)
    register_secret(str(parsed))
    register_secret(parsed.raw_path.decode("ascii"))
    secret, variables = None, url_var
    if notifier.kind == "webhook":
        secret_var = _variable(notifier.secret, notifier, "secret")
        secret = _lookup(env, secret_var, f"the signing secret of notifier {notifier.name!r}")
        variables = f"{url_var} and {secret_var}"
    return _Target(url, secret, f"{parsed.scheme}://{parsed.host}/…", variables)


def _variable(reference: str | None, notifier: Notifier, what: str) -> str:
    match = secretlike.ENV_REF.match(reference or "")
    if not match:  # the config refuses literals; a model built in code might not have
        raise _Undeliverable(
            f"the {what} of notifier {notifier.name!r} must be an environment reference "
            "such as ${SLACK_WEBHOOK_URL}"
        )
    return match[1]


def _lookup(env: Mapping[str, str], variable: str, meaning: str) -> str:
    value = (env.get(variable) or "").strip()
    if not value:
        raise _Undeliverable(f"environment variable {variable} is not set; it holds {meaning}")
    register_secret(value)
    return value


def _post(http: httpx.Client, target: _Target, body: bytes, clock) -> int:
    """One request; the status if accepted, else ``_Transient`` or ``_Refused``."""
    headers = {"Content-Type": "application/json", "User-Agent": "campaign-reporter"}
    if target.secret is not None:  # signed per attempt: a retry carries a fresh timestamp
        headers.update(sign(target.secret, body, int(clock())))
    try:
        response = http.post(target.url, content=body, headers=headers)
    except httpx.TransportError as exc:  # its text may hold the URL; its class is enough
        raise _Transient(f"could not reach {target.shown} ({type(exc).__name__})") from None
    status = response.status_code
    if 200 <= status < 300:
        return status
    if status == 429:
        raise _Transient("HTTP 429 (rate limited)", status, retry_after(response))
    if status >= 500 or status == 408:
        raise _Transient(f"HTTP {status}", status)
    detail = _scrub(response.text, target)
    raise _Refused(
        f"HTTP {status}{f' ({detail})' if detail else ''}: the endpoint refused the "
        f"notification{' and redirects elsewhere' if status < 400 else ''}; "
        f"check {target.variables}",
        status,
    )


def _guard_library_logs() -> None:
    """Mask registered secrets in httpx's and httpcore's own records.

    httpx logs every request's full URL at INFO; for a hook that URL is the credential. A
    filter on those loggers works whoever configured the handlers (the CLI, a notebook, a
    test's caplog), where one on the root's handlers would only cover the CLI.
    """
    for name in ("httpx", "httpcore"):
        library = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in library.filters):
            library.addFilter(RedactingFilter())


def _wait(state: tenacity.RetryCallState) -> float:
    """The endpoint's Retry-After (capped) when it gave one, else jittered backoff."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _Transient) and exc.retry_after is not None:
        return min(exc.retry_after, RETRY_AFTER_CAP)
    return _BACKOFF(state)


def _scrub(text: str, target: _Target) -> str:
    """A short, one-line excerpt of an error body, without our URL or secret in it."""
    for secret in (target.url, target.secret):
        if secret:
            text = text.replace(secret, "***")
    return redact(" ".join(text.split()))[:200]


def _report(event: Event, delivery: Delivery) -> Delivery:
    if delivery.ok:
        log.info("notification %s sent to %r", event.kind, delivery.name)
    else:
        log.warning(
            "notification %s to %r (%s) failed: %s",
            event.kind,
            delivery.name,
            delivery.target or delivery.kind,
            delivery.error,
        )
    return delivery
