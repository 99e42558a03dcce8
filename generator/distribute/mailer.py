"""Delivering report emails over SMTP: one message per person, retried when the failure is
passing, recorded in a sent-log so that a re-run never mails anyone twice.

Every recipient gets a message of their own with an envelope naming only them, which is what
lets a ``bcc`` recipient stay out of every header and what makes "sent to whom" a per-person
fact the log can hold. A 4xx reply, a dropped connection or a timeout is retried with
exponential backoff; a 5xx reply is final and reported with the server's code and text. The
SMTP server and its credentials come from the environment (``CAMPAIGN_SMTP_*``); the password
never appears in a repr, a log entry or an error.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

import tenacity

from generator.errors import ConfigError, ReportError
from generator.lake.files import atomic_write_bytes, locked

__all__ = ["Outcome", "Outgoing", "SentLog", "SmtpSettings", "deliver", "dry_run", "write_eml"]

Security = Literal["starttls", "tls", "none"]
Status = Literal["sent", "failed", "dry-run", "skipped"]

_ENV = "CAMPAIGN_SMTP_"
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
#: seconds before the n-th retry: 2, 4, 8, ... at most 60 (greylisting asks for minutes)
_BACKOFF, _MAX_WAIT = 2.0, 60.0
_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand messages over: ``security`` is ``starttls`` (upgrade a plain
    connection, the default), ``tls`` (implicit TLS, port 465) or ``none`` (loopback only
    when a password is sent)."""

    host: str
    port: int = 587
    security: Security = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        """Read ``CAMPAIGN_SMTP_HOST`` (required), ``_PORT`` (587; 465 means implicit TLS),
        ``_SECURITY``, ``_USER``, ``_PASSWORD`` and ``_TIMEOUT`` (seconds).

        Raises:
            ConfigError: naming the variable that is missing or wrong (never a password).
        """
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            return (env.get(_ENV + name) or "").strip() or None

        host = get("HOST")
        if host is None:
            raise _env_error("HOST", "is not set; name the SMTP server that sends the reports")
        port = _number("PORT", get("PORT") or "587", int, 1, 65535)
        security = get("SECURITY") or ("tls" if port == 465 else "starttls")
        if security not in ("starttls", "tls", "none"):
            raise _env_error("SECURITY", f"is {security!r}; use starttls, tls or none")
        user, password = get("USER"), env.get(_ENV + "PASSWORD") or None
        if (user is None) != (password is None):
            missing = "PASSWORD" if password is None else "USER"
            raise _env_error(missing, "is not set; the SMTP login needs both user and password")
        if password and security == "none" and host not in _LOOPBACK:
            raise _env_error(
                "SECURITY", "is none, which would send the password in clear; use starttls or tls"
            )
        timeout = _number("TIMEOUT", get("TIMEOUT") or "30", float, 1, 600)
        return cls(host, port, security, user, password, timeout)  # type: ignore[arg-type]

    def scrub(self, text: str) -> str:
        """``text`` with the password masked (a server may echo what it was sent)."""
        return text.replace(self.password, "***") if self.password else text


def _env_error(name: str, message: str) -> ConfigError:
    return ConfigError(message, file="environment", field=_ENV + name)


def _number(name: str, raw: str, kind: type, low: float, high: float):
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise _env_error(name, f"is {raw!r}; give a number from {low:g} to {high:g}")
    return value


@dataclass(frozen=True)
class Outgoing:
    """A composed message for one person of one client's report of one period."""

    client: str
    period: str
    recipient: str
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"] or "")


@dataclass(frozen=True)
class Outcome:
    """What became of one ``Outgoing``; ``error`` is the server's code and text, or why."""

    client: str
    period: str
    recipient: str
    status: Status
    message_id: str = ""
    error: str = ""
    attempts: int = 0

    @classmethod
    def of(cls, outgoing: Outgoing, status: Status, error: str = "", attempts: int = 0):
        o = outgoing
        return cls(o.client, o.period, o.recipient, status, o.message_id, error, attempts)


class SentLog:
    """An append-only JSON Lines record of every send, dry run and failure.

    Each entry is one ``write`` under an exclusive lock and fsynced, so entries never
    interleave and a crash loses at most the entry being written (a torn last line is
    skipped when read and fenced off by a newline before the next entry).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, outcome: Outcome, *, now: datetime | None = None) -> None:
        entry = {
            "time": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            **asdict(outcome),
        }
        line = json.dumps(entry, ensure_ascii=False).encode() + b"\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> list[dict]:
        """Every complete entry, oldest first."""
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ReportError(f"cannot read the sent-log {self.path}: {exc.strerror}") from None
        out = []
        for line in lines:
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return [e for e in out if isinstance(e, dict)]

    def already_sent(self, client: str, period: str, email: str) -> bool:
        """Whether ``email`` was sent ``client``'s report of ``period`` (case-insensitively)."""
        who = email.casefold()
        return any(
            (e.get("status"), e.get("client"), e.get("period")) == ("sent", client, period)
            and str(e.get("recipient")).casefold() == who
            for e in self.entries()
        )


def deliver(
    messages: Iterable[Outgoing],
    settings: SmtpSettings,
    log: SentLog,
    *,
    force: bool = False,
    retries: int = 3,
    sleep: Callable[[float], None] = time.sleep,
    ssl_context: ssl.SSLContext | None = None,
) -> list[Outcome]:
    """Send each message to its one recipient and log the outcome.

    A recipient the log shows as sent for that client and period is skipped unless
    ``force``. Transient failures are retried ``retries`` times (waits go through
    ``sleep``); a failure to open the session (a refused login, a TLS error) that persists
    fails every remaining message without trying it. Holds a lock beside the log for the
    whole run, so two runs never send the same report at the same time.

    Raises:
        ReportError: another delivery holds the sent-log's lock.
    """
    lock = log.path.with_name(log.path.name + ".lock")
    with locked(lock, wait=False) as held:
        if not held:
            raise ReportError(f"another send is running (it holds {lock}); try again later")
        with _Session(settings, ssl_context) as session:
            return [_deliver_one(o, session, log, force, retries, sleep) for o in messages]


def _deliver_one(outgoing, session, log, force, retries, sleep) -> Outcome:
    if not force and log.already_sent(outgoing.client, outgoing.period, outgoing.recipient):
        return Outcome.of(outgoing, "skipped", "already sent; force sends it again")
    if session.broken:
        outcome = Outcome.of(outgoing, "failed", f"not tried: {session.broken}")
    else:
        attempts, error = _attempt(session, outgoing, retries, sleep)
        status: Status = "failed" if error else "sent"
        outcome = Outcome.of(outgoing, status, error, attempts)
    log.append(outcome)
    return outcome


def _attempt(session, outgoing: Outgoing, retries: int, sleep) -> tuple[int, str]:
    """(attempts made, "" or the final error as text)."""
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(_transient),
        stop=tenacity.stop_after_attempt(retries + 1),
        wait=tenacity.wait_exponential(multiplier=_BACKOFF, max=_MAX_WAIT),
        sleep=sleep,
        reraise=True,
    )
    attempts = 0
    try:
        for attempt in retrying:
            with attempt:
                attempts += 1
                session.send(outgoing)
    except Exception as exc:  # every failure is this recipient's outcome, not the run's end
        text = session.settings.scrub(_describe(exc))
        if isinstance(exc, _OpenFailed):
            session.broken = text
        return attempts, text if attempts == 1 else f"{text} (after {attempts} attempts)"
    return attempts, ""


class _OpenFailed(Exception):
    """The connection, TLS or login failed: every later message would fail the same way."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _code(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        return next(iter(exc.recipients.values()))[0]
    return getattr(exc, "smtp_code", None)


def _transient(exc: BaseException) -> bool:
    """4xx replies and network trouble pass; 5xx, TLS and protocol refusals do not."""
    exc = exc.error if isinstance(exc, _OpenFailed) else exc
    code = _code(exc)
    if code is not None and code > 0:
        return 400 <= code < 500
    if isinstance(exc, ssl.SSLError | smtplib.SMTPNotSupportedError):
        return False
    return isinstance(exc, smtplib.SMTPServerDisconnected | OSError)


def _describe(exc: BaseException) -> str:
    inner = exc.error if isinstance(exc, _OpenFailed) else exc
    code = _code(inner)
    if isinstance(inner, smtplib.SMTPRecipientsRefused) and inner.recipients:
        reply = next(iter(inner.recipients.values()))[1]
    else:
        reply = getattr(inner, "smtp_error", None)
    if code is not None and code > 0 and reply is not None:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"{code} {' '.join(text.split())}"
    what = "could not open the SMTP session" if isinstance(exc, _OpenFailed) else "sending failed"
    return f"{what}: {type(inner).__name__}: {inner}"


class _Session:
    """One SMTP connection, opened on first use and reopened after any failure, so a list of
    recipients shares one login while a dropped connection costs a retry, not the run."""

    def __init__(self, settings: SmtpSettings, context: ssl.SSLContext | None) -> None:
        self.settings = settings
        self.context = context
        self.broken = ""
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def send(self, outgoing: Outgoing) -> None:
        if self._smtp is None:
            self._smtp = self._open()
        sender = outgoing.message["From"].addresses[0].addr_spec
        try:
            self._smtp.send_message(outgoing.message, sender, [outgoing.recipient])
        except BaseException:
            self.close()  # the server's state is unknown: start the next attempt afresh
            raise

    def _open(self) -> smtplib.SMTP:
        s, context = self.settings, self.context or ssl.create_default_context()
        try:
            if s.security == "tls":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        except Exception as exc:
            raise _OpenFailed(exc) from None
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user and s.password:
                smtp.login(s.user, s.password)
        except Exception as exc:
            smtp.close()
            raise _OpenFailed(exc) from None
        return smtp

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def write_eml(outgoing: Outgoing, folder: Path) -> Path:
    """Write the message as ``<client>-<period>-<recipient hash>.eml`` in ``folder``
    (atomically) and return its path; the name never holds the raw address."""
    who = hashlib.sha256(outgoing.recipient.casefold().encode()).hexdigest()[:12]
    parts = [_safe(outgoing.client), _safe(outgoing.period), who]
    path = folder / ("-".join(parts) + ".eml")
    atomic_write_bytes(path, outgoing.message.as_bytes(policy=policy.SMTP))
    return path


def _safe(part: str) -> str:
    return part if _SAFE_NAME.match(part) else hashlib.sha256(part.encode()).hexdigest()[:12]


def dry_run(messages: Iterable[Outgoing], folder: Path, log: SentLog) -> list[Outcome]:
    """Write each message as an ``.eml`` file instead of sending it; logged as ``dry-run``
    (which never counts as sent). The outcome's ``error`` is empty."""
    outcomes = []
    for outgoing in messages:
        write_eml(outgoing, folder)
        outcome = Outcome.of(outgoing, "dry-run")
        log.append(outcome)
        outcomes.append(outcome)
    return outcomes
