"""What a notification says (``Event``), and how Slack, Teams and a signed webhook want it said.

Everything here is pure: an ``Event`` in, a JSON-ready dict (or bytes and headers) out, so each
format can be tested exactly and ``notify`` only has to deliver.

An event's strings are *plain text*, and much of it is untrusted: client and campaign names come
from content/ and from the platforms. Each formatter escapes for its own channel, after the
event is built and never before, so one event renders safely everywhere:

- Slack: ``&``, ``<``, ``>`` become entities, so ``<!channel>`` or ``<http://evil|x>`` in a
  name shows as text instead of pinging a channel or hiding a link;
- Teams: Adaptive Card TextBlocks render a Markdown subset, so the characters that make
  emphasis, links, autolinks and lists are backslash-escaped (``[x](javascript:…)`` stays text);
- webhook: plain JSON, escaped by the encoder; receivers must treat every string as untrusted.

Webhook bodies are signed like Stripe's and Slack's: ``HMAC-SHA256(secret, f"{timestamp}.{body}")``
in ``X-Campaign-Signature: sha256=<hex>`` with the Unix ``X-Campaign-Timestamp``; ``verify``
checks both, so a receiver rejects tampered bodies and replays older than ``tolerance``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from generator.connectors.redact import redact
from generator.distribution_config import EVENTS

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Event",
    "encode",
    "kpi_alert",
    "markdown_escape",
    "published",
    "sign",
    "slack_escape",
    "slack_payload",
    "stale",
    "sync_failed",
    "teams_payload",
    "verify",
    "webhook_payload",
]

Severity = Literal["info", "warning", "error"]
TIMESTAMP_HEADER = "X-Campaign-Timestamp"
SIGNATURE_HEADER = "X-Campaign-Signature"

#: Block Kit's limits (characters, after escaping) and the most facts a card shows
_SLACK_HEADER, _SLACK_SECTION, _SLACK_FIELD, _SLACK_CONTEXT = 150, 3000, 2000, 2000
_SLACK_URL = 3000
_MAX_FACTS = 10
#: Teams has no per-field limits worth the name, but a message must stay under ~28 KB
_TEAMS_TITLE, _TEAMS_TEXT, _TEAMS_FACT = 200, 3000, 500
_BUTTON = "Open report"
_SLACK_ICON = {"info": "", "warning": ":warning: ", "error": ":rotating_light: "}
_TEAMS_COLOR = {"info": "default", "warning": "warning", "error": "attention"}


@dataclass(frozen=True)
class Event:
    """Something worth telling people about.

    Args:
        kind: one of ``EVENTS`` (what notifiers subscribe to).
        title: one line, plain text.
        text: the message, plain text.
        client: the client's slug (None: agency-wide); notifiers filter on it.
        client_name: how the client is shown (defaults to the slug).
        period: the report period, e.g. ``2026-10``.
        url: an http(s) link to the report, shown as a button.
        facts: ``(label, value)`` pairs, already formatted as text.
        severity: ``info``, ``warning`` or ``error``.
        id: unique per event; webhook receivers use it to drop a duplicate delivery.

    Raises:
        ValueError: an unknown kind or severity, or a url that is not http(s).
    """

    kind: str
    title: str
    text: str
    client: str | None = None
    client_name: str | None = None
    period: str | None = None
    url: str | None = None
    facts: tuple[tuple[str, str], ...] = ()
    severity: Severity = "info"
    id: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in EVENTS:
            raise ValueError(f"unknown event {self.kind!r}; events are {', '.join(EVENTS)}")
        if self.severity not in _TEAMS_COLOR:
            raise ValueError(f"unknown severity {self.severity!r}")
        # a javascript: or data: link must never become a button
        if self.url is not None and not re.match(r"https?://[^/\s]", self.url):
            raise ValueError("an event's url must be an http(s) URL")
        object.__setattr__(self, "facts", tuple((str(k), str(v)) for k, v in self.facts))

    @property
    def who(self) -> str:
        """The client as people call it, or "" for an agency-wide event."""
        return self.client_name or self.client or ""


def published(
    client: str,
    period: str,
    url: str | None,
    facts: Iterable[tuple[str, str]] = (),
    *,
    client_name: str | None = None,
) -> Event:
    """A client's report for ``period`` is online at ``url``; ``facts`` are its headlines."""
    name = client_name or client
    return Event(
        "published",
        f"{name}: {period} report published",
        f"The {period} marketing report for {name} is ready.",
        client=client,
        client_name=client_name,
        period=period,
        url=url,
        facts=tuple(facts),
    )


def sync_failed(
    client: str, source: str, error: BaseException | str, *, client_name: str | None = None
) -> Event:
    """Fetching ``source`` (a platform, or "platform account 123") failed with ``error``.

    The error's message is passed through ``redact`` once more: our errors never carry a
    secret, but a lower layer's text might, and a chat channel is a log that others read.
    """
    name = client_name or client
    message = redact(str(error)) or type(error).__name__
    return Event(
        "sync_failed",
        f"{name}: sync of {source} failed",
        f"Fetching {source} for {name} failed: {message}",
        client=client,
        client_name=client_name,
        facts=(("Source", source),),
        severity="error",
    )


def stale(
    client: str, platform: str, last_day: date | None, *, client_name: str | None = None
) -> Event:
    """``platform``'s newest complete day for ``client`` is ``last_day`` (None: never synced)."""
    name = client_name or client
    day = last_day.isoformat() if last_day else "never"
    text = (
        f"The newest {platform} data for {name} is from {day}."
        if last_day
        else f"{platform} data for {name} has never been synced."
    )
    return Event(
        "stale",
        f"{name}: {platform} data is stale",
        text,
        client=client,
        client_name=client_name,
        facts=(("Platform", platform), ("Last complete day", day)),
        severity="warning",
    )


def kpi_alert(
    client: str,
    period: str,
    what: str,
    *,
    client_name: str | None = None,
    url: str | None = None,
    facts: Iterable[tuple[str, str]] = (),
) -> Event:
    """A KPI needs attention, ``what`` says which: "CPA 48.20 against target 40.00"."""
    name = client_name or client
    return Event(
        "kpi_alert",
        f"{name}: KPI alert for {period}",
        what,
        client=client,
        client_name=client_name,
        period=period,
        url=url,
        facts=tuple(facts),
        severity="warning",
    )


# -- escaping and limits ------------------------------------------------------------------

_SLACK_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
#: emphasis, links, autolinks and the escape itself
_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\*_[]<>`~"})
#: a line that would start a list ("- x", "+ x", "1. x")
_LIST_MARK = re.compile(r"^([ \t]*)(?:([-+])|(\d+)\.)(?=[ \t])", re.MULTILINE)


def slack_escape(text: str) -> str:
    """``text`` with the three characters Slack reserves turned into entities."""
    return text.translate(_SLACK_ENTITIES)


def markdown_escape(text: str) -> str:
    """``text`` that an Adaptive Card TextBlock shows literally (no emphasis, link or list)."""
    return _LIST_MARK.sub(_unlist, text.translate(_MARKDOWN))


def _unlist(match: re.Match[str]) -> str:
    indent, bullet, number = match.groups()
    return indent + ("\\" + bullet if bullet else number + "\\.")


def _fit(text: str, limit: int, escape: Callable[[str], str]) -> str:
    """``escape(text)``, cut to at most ``limit`` characters with "…" if it is longer.

    The raw text is cut, never the escaped one, so no entity or escape is split in half.
    """
    whole = escape(text)
    if len(whole) <= limit:
        return whole
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix whose escaped form leaves room for "…"
        mid = (lo + hi + 1) // 2
        if len(escape(text[:mid])) < limit:
            lo = mid
        else:
            hi = mid - 1
    return escape(text[:lo]) + "…"


def _capped(facts: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """At most ``_MAX_FACTS`` facts; the last one says how many more the report holds."""
    if len(facts) <= _MAX_FACTS:
        return facts
    more = len(facts) - _MAX_FACTS + 1
    return (*facts[: _MAX_FACTS - 1], ("…", f"{more} more in the report"))


def _context(event: Event, agency: str | None) -> str:
    return " · ".join(part for part in (agency, event.who, event.period) if part)


# -- payloads -------------------------------------------------------------------------------


def slack_payload(event: Event, *, agency: str | None = None) -> dict[str, Any]:
    """A Slack incoming-webhook body in Block Kit, within Block Kit's limits.

    ``text`` is the fallback shown in notifications; blocks are a header, the message, the
    facts as fields, a context line (agency · client · period) and a button to the report.
    """
    icon = _SLACK_ICON[event.severity]
    fallback = f"{event.title}: {event.text}" if event.text else event.title
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": icon + _fit(event.title, _SLACK_HEADER - len(icon), slack_escape),
                "emoji": True,
            },
        }
    ]
    if event.text:
        section = _fit(event.text, _SLACK_SECTION, slack_escape)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": section}})
    if event.facts:
        fields = [
            {
                "type": "mrkdwn",
                "text": f"*{_fit(label, 100, slack_escape)}*\n"
                + _fit(value, _SLACK_FIELD - 110, slack_escape),
            }
            for label, value in _capped(event.facts)
        ]
        blocks.append({"type": "section", "fields": fields})
    if context := _context(event, agency):
        element = {"type": "mrkdwn", "text": _fit(context, _SLACK_CONTEXT, slack_escape)}
        blocks.append({"type": "context", "elements": [element]})
    if event.url and len(event.url) <= _SLACK_URL:
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": _BUTTON},
            "url": event.url,
        }
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": _fit(fallback, _SLACK_SECTION, slack_escape), "blocks": blocks}


def teams_payload(event: Event, *, agency: str | None = None) -> dict[str, Any]:
    """A Teams workflow-webhook body: one Adaptive Card (1.4) in a ``message``.

    Workflows' "Post to a channel when a webhook request is received" expects this envelope;
    the card has the title (coloured by severity), the message, the facts, a subtle context
    line and an "Open report" action.
    """
    title: dict[str, Any] = {
        "type": "TextBlock",
        "text": _fit(event.title, _TEAMS_TITLE, markdown_escape),
        "size": "Large",
        "weight": "Bolder",
        "wrap": True,
    }
    if event.severity != "info":
        title["color"] = _TEAMS_COLOR[event.severity]
    body: list[dict[str, Any]] = [title]
    if event.text:
        text = _fit(event.text, _TEAMS_TEXT, markdown_escape)
        body.append({"type": "TextBlock", "text": text, "wrap": True})
    if event.facts:
        facts = [
            {"title": _fit(k, 100, markdown_escape), "value": _fit(v, _TEAMS_FACT, markdown_escape)}
            for k, v in _capped(event.facts)
        ]
        body.append({"type": "FactSet", "facts": facts})
    if context := _context(event, agency):
        body.append(
            {
                "type": "TextBlock",
                "text": _fit(context, _TEAMS_TITLE, markdown_escape),
                "isSubtle": True,
                "size": "Small",
                "wrap": True,
            }
        )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if event.url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": _BUTTON, "url": event.url}]
    attachment = {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": None,
        "content": card,
    }
    return {"type": "message", "attachments": [attachment]}


def webhook_payload(event: Event, *, agency: str | None, sent_at: datetime) -> dict[str, Any]:
    """The generic webhook's body, a stable contract for receivers.

    ``{"event", "agency", "client", "client_name", "period", "title", "text", "url",
    "facts": {label: value}, "severity", "sent_at": ISO-8601 UTC, "id"}``; absent values are
    null, strings are plain (unescaped) text, and ``id`` is the same on every retry.
    """
    return {
        "event": event.kind,
        "agency": agency,
        "client": event.client,
        "client_name": event.client_name,
        "period": event.period,
        "title": event.title,
        "text": event.text,
        "url": event.url,
        "facts": dict(event.facts),
        "severity": event.severity,
        "sent_at": sent_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "id": event.id,
    }


def encode(payload: dict[str, Any]) -> bytes:
    """Compact ASCII JSON: the exact bytes sent and signed (no encoding for receivers to guess)."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


# -- signing ------------------------------------------------------------------------------


def _mac(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The two headers that let a receiver check ``body`` came from us, at ``timestamp``."""
    stamp = str(int(timestamp))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: f"sha256={_mac(secret, stamp, body)}"}


def verify(
    secret: str,
    timestamp: str | int,
    body: bytes | str,
    signature: str,
    now: float | None = None,
    tolerance: float = 300,
) -> bool:
    """Whether ``signature`` signs ``body`` at ``timestamp`` and that is within ``tolerance``
    seconds of ``now`` (default: the clock), for receivers and tests.

    The timestamp is part of what is signed, so a captured request cannot be replayed later
    with a fresh one; the comparison is constant-time (``hmac.compare_digest``).
    """
    stamp = str(timestamp).strip()
    if not re.fullmatch(r"[0-9]{1,12}", stamp):
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        return False
    raw = body.encode("utf-8") if isinstance(body, str) else body
    expected = f"sha256={_mac(secret, stamp, raw)}"
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8"))
