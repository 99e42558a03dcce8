"""How reports reach people: the ``email:``, ``notifications:`` and ``publish:`` blocks of
``agency.yml`` and a client's ``recipients:``.

Kept apart from ``generator.config`` (which embeds these models in ``Agency`` and ``Client``)
so that the distribution stage reads as one piece. Like all config, every field has limits:
a subject is a template of known placeholders only, a webhook's address and signing key are
``${ENV}`` references (an address is a bearer secret: whoever has it can post), never literals.
"""

from __future__ import annotations

import string
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from generator import secretlike

__all__ = [
    "EVENTS",
    "SUBJECT_FIELDS",
    "EmailOptions",
    "Notifier",
    "PublishOptions",
    "Recipient",
]

Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
_NAME = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[^\r\n]*$")]

#: what notifications announce: a report published, a sync that failed or left a platform
#: stale, a KPI alert (a target missed or an unusual day)
EVENTS = ("published", "sync_failed", "stale", "kpi_alert")
#: the placeholders a subject may use
SUBJECT_FIELDS = ("agency", "client", "period")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Recipient(_Model):
    """Someone a client's report is sent to (``recipients:`` in client.yml)."""

    email: Email
    name: _NAME | None = None
    kind: Literal["to", "cc", "bcc"] = "to"


class EmailOptions(_Model):
    """``email:`` in agency.yml. The From address is the agency's ``sender``; the SMTP server
    and its credentials come from the environment (``CAMPAIGN_SMTP_*``), never from here."""

    from_name: _NAME | None = None
    reply_to: Email | None = None
    subject: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\r\n]*$")] = (
        "{client}: your {period} marketing report"
    )
    #: how many times a transient failure (a 4xx reply, a dropped connection) is retried
    retries: Annotated[int, Field(ge=0, le=10)] = 3

    @field_validator("subject")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        try:
            parts = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(value)]
        except ValueError as exc:
            raise ValueError(f"subject is not a valid template: {exc}") from None
        for name, spec, conv in parts:
            if name is None:
                continue
            if name not in SUBJECT_FIELDS:
                known = ", ".join("{" + f + "}" for f in SUBJECT_FIELDS)
                raise ValueError(f"subject uses {{{name}}}; it may use {known}")
            if spec or conv:
                raise ValueError("subject placeholders take no format spec or conversion")
        return value


class Notifier(_Model):
    """One notification channel (``notifications:`` in agency.yml).

    ``url`` is an ``${ENV}`` reference (Slack's incoming webhook, a Teams workflow, any
    HTTPS endpoint); a ``webhook`` also names the ``secret`` that signs its bodies.
    """

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    kind: Literal["slack", "teams", "webhook"]
    url: str
    secret: str | None = None
    events: Annotated[list[Literal[EVENTS]], Field(min_length=1)] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(EVENTS)
    )
    clients: Annotated[list[str], Field(max_length=500)] | None = None

    @field_validator("url", "secret")
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        if value is not None and not secretlike.ENV_REF.match(value):
            raise ValueError("must be an environment reference such as ${SLACK_WEBHOOK_URL}")
        return value

    @model_validator(mode="after")
    def _secret_for_webhooks(self) -> Notifier:
        if self.kind == "webhook" and self.secret is None:
            raise ValueError("a webhook needs a secret (${ENV}) to sign what it sends")
        if self.kind != "webhook" and self.secret is not None:
            raise ValueError(f"a {self.kind} notifier takes no secret; its url is the secret")
        return self

    def wants(self, event: str, client: str | None) -> bool:
        """Whether this channel hears ``event`` about ``client`` (None: agency-wide)."""
        return event in self.events and (
            self.clients is None or client is None or client in self.clients
        )


class PublishOptions(_Model):
    """``publish:`` in agency.yml: where ``campaign-report publish`` puts the sites by
    default (a folder, or ``git`` for a repository's gh-pages branch) and that branch."""

    to: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    repository: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    branch: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")] = "gh-pages"
