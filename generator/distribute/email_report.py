"""A client's report as an email: the headline numbers, the story in a few sentences, what
needs attention, two or three charts, and a button to the full report.

The message is ``multipart/alternative``: a plain-text part, and an HTML part that is
``multipart/related`` to the charts it shows as inline PNGs (``cid:`` links). The HTML is
built for mail clients, not browsers: nested tables, inline styles only (no ``<style>``),
no script, nothing fetched from anywhere, at most 600px wide, and a "bulletproof" button (a
coloured table cell around a link) that Outlook draws too. Every string from config or a
platform is escaped (``Markup.format`` escapes its arguments) and header texts are folded
to one line, so a name can inject neither markup nor a header.

Charts are drawn once per client and period (``charts``) and shared by every recipient's
message (``compose``); ``outgoing`` does both for a client's whole recipient list.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import altair as alt
import pandas as pd
import vl_convert
from markupsafe import Markup

from generator import charts as builders
from generator.config import Agency, Client, Recipient
from generator.distribute.mailer import Outgoing
from generator.errors import BuildError, ConfigError
from generator.site import narrative
from generator.site.escape import safe_url
from generator.site.formatting import change, fmt, money, percent
from generator.site.report import Report

__all__ = ["WIDTH", "InlineImage", "charts", "compose", "outgoing"]

#: the CSS width charts are shown at: the 600px column less its padding
WIDTH = 560
_MAX_ALERTS = 5
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_TONES = {"good": "#188038", "bad": "#d93025", "neutral": "#5f6368"}
_STATUS = {
    "on_track": ("on track", "#188038"),
    "at_risk": ("at risk", "#b06000"),
    "off_track": ("off track", "#d93025"),
}


@dataclass(frozen=True)
class InlineImage:
    """A chart as the email carries it: ``cid`` is its Content-ID without brackets;
    ``width`` and ``height`` are the CSS pixels it is shown at (the PNG has twice as many)."""

    cid: str
    filename: str
    png: bytes
    alt: str
    width: int
    height: int


def charts(report: Report, client: Client) -> list[InlineImage]:
    """Daily spend, the platform mix and (when there are targets) KPIs against target, as
    PNGs in the client's colours; a chart whose table is missing or empty is left out.

    Raises:
        BuildError: a chart could not be drawn.
    """
    brand = client.branding
    theme = builders.register(f"client-{client.slug}", brand.primary_color, brand.accent_color)
    out = []
    for name, make in (("daily_spend", _daily), ("platform_mix", _mix), ("targets", _targets)):
        made = make(report, theme)
        if made is not None:
            out.append(_image(name, _png(name, made[0]), made[1]))
    return out


def _daily(report: Report, theme: str) -> tuple[alt.TopLevelMixin, str] | None:
    frame = report.frames.get("daily")
    if frame is None or frame.empty or not frame["spend"].sum():
        return None
    currency = report.summary["currency"]
    platforms = ", ".join(sorted(frame["platform"].astype(str).unique()))
    total = money(frame["spend"].sum(), currency)
    alt_text = f"Daily spend by platform in {_period_title(report)}: {total} on {platforms}."
    return builders.daily_spend(frame, currency=currency, theme=theme), alt_text


def _mix(report: Report, theme: str) -> tuple[alt.TopLevelMixin, str] | None:
    frame = report.frames.get("platforms")
    if frame is None or frame.empty or not frame["spend"].sum():
        return None
    spend = frame["spend"] / frame["spend"].sum()
    conversions = frame["conversions"] / (frame["conversions"].sum() or 1)
    rows = sorted(zip(spend, conversions, frame["platform"], strict=True), reverse=True)[:5]
    parts = [f"{p} {percent(s, 0)} of spend, {percent(c, 0)} of conversions" for s, c, p in rows]
    return builders.platform_mix(frame, theme=theme), "Share by platform: " + "; ".join(parts)


def _targets(report: Report, theme: str) -> tuple[alt.TopLevelMixin, str] | None:
    cards = [c for c in report.summary.get("cards", []) if c.get("target") and c.get("status")]
    if not cards:
        return None
    currency = report.summary["currency"]
    parts = [
        f"{c['label']} {fmt(c['value'], c['unit'], currency)} "
        f"(target {fmt(c['target'], c['unit'], currency)}, {_STATUS[c['status']][0]})"
        for c in cards
    ]
    chart = builders.target_bullets(pd.DataFrame(cards), theme=theme)
    return chart, "KPIs against target: " + "; ".join(parts)


def _png(name: str, chart: alt.TopLevelMixin) -> bytes:
    """Draw ``chart`` at the email's width on white (a transparent PNG vanishes in dark
    mode), its legend wrapped, refusing every external data request."""
    spec = builders.to_spec(chart.properties(width=WIDTH), validate=False)
    spec["background"] = "#ffffff"
    # a legend of many platforms is one row in a browser (it scrolls); a picture wraps it
    spec.setdefault("config", {}).setdefault("legend", {})["columns"] = 4
    version = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    try:
        return vl_convert.vegalite_to_png(spec, vl_version=version, scale=2, allowed_base_urls=[])
    except Exception as exc:  # vl_convert raises bare ValueErrors
        raise BuildError(f"the email's {name} chart could not be drawn: {exc}") from None


def _image(name: str, png: bytes, alt_text: str) -> InlineImage:
    width, height = struct.unpack(">II", png[16:24])  # the PNG's IHDR, in pixels at scale 2
    cid = f"{name}.{hashlib.sha256(png).hexdigest()[:16]}@campaign-report"
    return InlineImage(cid, f"{name}.png", png, alt_text, width // 2, height // 2)


def outgoing(
    report: Report,
    client: Client,
    agency: Agency,
    *,
    report_url: str | None = None,
    images: Sequence[InlineImage] | None = None,
    now: datetime | None = None,
) -> list[Outgoing]:
    """One message per person on the client's list (an address listed twice gets one),
    sharing one drawing of the charts (drawn here when ``images`` is None)."""
    images = charts(report, client) if images is None else images
    period, out = report.summary["period"]["label"], []
    for person in _people(client):
        message = compose(
            report, client, agency, person, images=images, report_url=report_url, now=now
        )
        out.append(Outgoing(client.slug, period, person.email, message))
    return out


def compose(
    report: Report,
    client: Client,
    agency: Agency,
    recipient: Recipient,
    *,
    images: Sequence[InlineImage] = (),
    report_url: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The email of ``report`` for ``recipient``.

    Headers name the client's ``to`` and ``cc`` recipients, never ``bcc`` ones (who gets a
    copy is the envelope's business, see ``mailer.deliver``). ``report_url`` adds the
    button to the hosted report when it is an http(s) URL.

    Raises:
        ConfigError: the agency has no ``sender``, or an address cannot be used.
    """
    fields = {"agency": agency.name, "client": client.name, "period": _period_title(report)}
    subject = _line(agency.email.subject.format(**fields))
    message = _headers(client, agency, subject, now or datetime.now(UTC))
    digest = _digest(report, client, agency, recipient, safe_url(report_url))
    message.set_content(_text(digest))
    message.add_alternative(_html(digest, subject, client, images), subtype="html")
    related = message.get_payload()[1]
    for image in images:
        cid, name = f"<{image.cid}>", image.filename
        related.add_related(image.png, "image", "png", cid=cid, filename=name, disposition="inline")
    return message


def _headers(client: Client, agency: Agency, subject: str, now: datetime) -> EmailMessage:
    if agency.sender is None:
        raise ConfigError(
            "set sender: to the address report emails come from (reports@agency.example)",
            file="agency.yml",
            field="sender",
        )
    message = EmailMessage()
    message["From"] = _address(agency.email.from_name or agency.name, agency.sender)
    if agency.email.reply_to:
        message["Reply-To"] = _address(None, agency.email.reply_to)
    people = _people(client)
    message["To"] = [_address(r.name, r.email) for r in people if r.kind == "to"] or (
        "undisclosed-recipients:;"
    )
    cc = [_address(r.name, r.email) for r in people if r.kind == "cc"]
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=agency.sender.rsplit("@", 1)[1])
    message["Auto-Submitted"] = "auto-generated"  # asks autoresponders not to answer
    return message


def _people(client: Client) -> list[Recipient]:
    """The client's recipients, each address once (its first listing wins)."""
    seen: set[str] = set()
    out = []
    for person in client.recipients:
        if person.email.casefold() not in seen:
            seen.add(person.email.casefold())
            out.append(person)
    return out


def _line(text: object) -> str:
    """``text`` on one line: a header value cannot hold a line break (nor smuggle a header)."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def _address(name: str | None, email: str) -> Address:
    try:
        if _CONTROL.search(email):
            raise ValueError("it holds a control character")
        return Address(display_name=_line(name or ""), addr_spec=email)
    except (ValueError, IndexError) as exc:
        raise ConfigError(f"{email!r} cannot be used as an email address: {exc}") from None


def _period_title(report: Report) -> str:
    period = report.summary["period"]
    return str(period.get("title") or period["label"])


@dataclass(frozen=True)
class _Card:
    label: str
    value: str
    change: str
    tone: str
    status: str
    status_color: str


@dataclass(frozen=True)
class _Digest:
    """What the email says, worded once for both parts (plain text, not yet escaped)."""

    agency: str
    title: str
    greeting: str
    intro: str
    before: str | None
    cards: list[_Card]
    story: list[str]
    wins: list[str]
    alerts: list[str]
    url: str | None
    footer: str


def _digest(report, client, agency, recipient, url) -> _Digest:
    summary = report.summary
    has_previous = (summary.get("facts") or {}).get("has_previous")
    before = summary["previous"]["title"] if has_previous else None
    alerts = [_line(a) for a in [*narrative.risks(summary), *summary.get("warnings", [])]]
    if len(alerts) > _MAX_ALERTS:
        alerts = [*alerts[:_MAX_ALERTS], f"And {len(alerts) - _MAX_ALERTS} more in the report."]
    story = [s for s in map(_line, narrative.story(summary)) if s not in alerts][:3]
    client_name, period = _line(client.name), _period_title(report)
    return _Digest(
        agency=_line(agency.name),
        title=f"{client_name}, {period}",
        greeting=f"Hi {_line(recipient.name)}," if recipient.name else "Hello,",
        intro=f"Here is your {period} marketing report for {client_name}.",
        before=before,
        cards=[_card(c, summary["currency"], before) for c in summary.get("cards", [])],
        story=story,
        wins=[_line(w) for w in narrative.wins(summary)][:3],
        alerts=alerts,
        url=url,
        footer=f"{_line(agency.name)} prepared this report for {client_name}. "
        "Reply to this email with any question.",
    )


def _card(card: dict, currency: str, before: str | None) -> _Card:
    moved, better = (card.get("change") if before else None), card.get("higher_is_better")
    tone = "neutral"
    if moved is not None and better is not None and abs(moved) >= 0.005:
        tone = "good" if (moved > 0) == better else "bad"
    status, color = "", _TONES["neutral"]
    if card.get("status") in _STATUS and card.get("target") is not None:
        word, color = _STATUS[card["status"]]
        status = f"{word} (target {fmt(card['target'], card['unit'], currency)})"
    value = fmt(card["value"], card["unit"], currency)
    return _Card(_line(card["label"]), value, change(moved), tone, status, color)


def _text(d: _Digest) -> str:
    heading = f"The numbers (change on {d.before})" if d.before else "The numbers"
    lines = [d.greeting, "", d.intro, "", heading]
    label = max((len(c.label) for c in d.cards), default=0)
    value = max((len(c.value) for c in d.cards), default=0)
    for c in d.cards:
        moved = f"  {c.change:<6}" if d.before else ""
        lines.append(f"  {c.label:<{label}}  {c.value:<{value}}{moved}  {c.status}".rstrip())
    sections = {"In short": d.story, "What went well": d.wins, "Needs attention": d.alerts}
    for title, items in sections.items():
        if items:
            lines += ["", title, *(f"- {item}" for item in items)]
    if d.url:
        lines += ["", f"The full report: {d.url}"]
    return "\n".join([*lines, "", "-- ", d.footer, ""])


_TABLE = (
    'role="presentation" cellpadding="0" cellspacing="0" border="0" '
    'style="font-family:Arial,Helvetica,sans-serif;'
)
_PAGE = Markup(
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{subject}</title></head>"
    '<body style="margin:0;padding:0;background-color:#f4f5f7;">'
    '<div style="display:none;max-height:0;overflow:hidden;">{preview}</div>'
    '<table width="100%" bgcolor="#f4f5f7" ' + _TABLE + 'background-color:#f4f5f7;">'
    '<tr><td align="center" style="padding:24px 8px;">'
    '<table width="600" bgcolor="#ffffff" ' + _TABLE + "width:100%;max-width:600px;"
    'background-color:#ffffff;"><tr><td bgcolor="{primary}" style="background-color:{primary};'
    'padding:20px;color:#ffffff;"><div style="font-size:13px;">{agency}</div>'
    '<div style="font-size:22px;font-weight:bold;padding-top:4px;">{title}</div></td></tr>'
    '<tr><td style="padding:20px;font-size:15px;line-height:22px;color:#202124;">{body}</td>'
    '</tr><tr><td style="padding:16px 20px;font-size:12px;line-height:18px;color:#5f6368;'
    'border-top:1px solid #e8eaed;">{footer}</td></tr></table></td></tr></table></body></html>'
)
_P = Markup('<p style="margin:0 0 12px 0;">{}</p>')
_H = Markup('<p style="margin:20px 0 8px 0;font-size:17px;font-weight:bold;">{}</p>')
_CELL = Markup('<td style="padding:6px 4px;border-bottom:1px solid #e8eaed;{}">{}</td>')
_ITEM = Markup('<tr><td style="padding:4px 10px;border-left:3px solid {}">{}</td></tr>')
_IMG = Markup(
    '<p style="margin:16px 0 0 0;"><img src="cid:{cid}" width="{width}" height="{height}" '
    'alt="{alt}" style="display:block;width:100%;max-width:{width}px;height:auto;border:0;"></p>'
)
_BUTTON = Markup(
    "<table " + _TABLE + 'margin:24px 0 8px 0;"><tr><td align="center" bgcolor="{color}" '
    'style="background-color:{color};border-radius:4px;"><a href="{url}" target="_blank" '
    'style="display:inline-block;padding:12px 24px;font-family:Arial,Helvetica,sans-serif;'
    'font-size:16px;font-weight:bold;color:#ffffff;text-decoration:none;">'
    "Open the full report</a></td></tr></table>"
)


def _html(d: _Digest, subject: str, client: Client, images: Sequence[InlineImage]) -> str:
    primary = client.branding.primary_color
    heading = f"The numbers, change on {d.before}" if d.before else "The numbers"
    parts = [_P.format(d.greeting), _P.format(d.intro), _H.format(heading), _kpis(d)]
    if d.story:
        parts += [_H.format("In short"), *map(_P.format, d.story)]
    parts.append(_list("What went well", d.wins, _TONES["good"]))
    parts.append(_list("Needs attention", d.alerts, _STATUS["at_risk"][1]))
    parts += [_IMG.format(cid=i.cid, width=i.width, height=i.height, alt=i.alt) for i in images]
    if d.url:
        parts.append(_BUTTON.format(color=primary, url=d.url))
    body, preview = Markup("").join(parts), (d.story or [d.intro])[0]
    page = {"subject": subject, "preview": preview, "agency": d.agency, "title": d.title}
    return _PAGE.format(**page, primary=primary, body=body, footer=d.footer)


def _list(title: str, items: list[str], color: str) -> Markup:
    if not items:
        return Markup("")
    rows = Markup("").join(_ITEM.format(color, item) for item in items)
    return _H.format(title) + Markup('<table width="100%" ' + _TABLE + '">{}</table>').format(rows)


def _kpis(d: _Digest) -> Markup:
    targets = any(c.status for c in d.cards)
    head = ["", "This period"] + (["Change"] if d.before else []) + (["Target"] if targets else [])
    rows = [[_CELL.format("font-size:12px;color:#5f6368;", h) for h in head]]
    for c in d.cards:
        row = [_CELL.format("", c.label), _CELL.format("font-weight:bold;", c.value)]
        if d.before:
            row.append(_CELL.format(f"color:{_TONES[c.tone]};", c.change))
        if targets:
            row.append(_CELL.format(f"color:{c.status_color};", c.status))
        rows.append(row)
    body = Markup("").join(Markup("<tr>{}</tr>").format(Markup("").join(r)) for r in rows)
    return Markup('<table width="100%" ' + _TABLE + 'font-size:14px;">{}</table>').format(body)
