"""The distribute stage: mail each client's report, publish the built sites, announce events.

Reads what the build stage wrote (``results/<client>/<period>/`` and ``sites/``) and writes
only its own files under the output root::

    <out>/mail/sent-log.jsonl     every message sent, failed or dry-run (one JSON per line)
    <out>/outbox/                 ``send --dry-run``: one .eml per recipient, for review

so a rerun sends nothing twice (the sent-log decides) unless forced.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

from rich.progress import Progress

from generator.config import Agency, Client, load_agency, load_clients
from generator.distribute import email_report, gh_pages, hosting, mailer, notify
from generator.errors import BuildError, ConfigError
from generator.periods import Period
from generator.pipeline.workspace import Workspace, workers
from generator.site.formatting import fmt
from generator.site.report import Report

__all__ = [
    "SendResult",
    "alerts",
    "announce",
    "compose",
    "publish_sites",
    "published_event",
    "recent",
    "send",
]

log = logging.getLogger("generator.pipeline")


@dataclass(frozen=True)
class SendResult:
    """How ``send`` went: one outcome per recipient; where the log and any outbox are."""

    outcomes: list[mailer.Outcome]
    log: Path
    outbox: Path | None = None

    @property
    def failed(self) -> list[mailer.Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def send(
    workspace: Workspace,
    slugs: Sequence[str],
    period: Period,
    *,
    dry_run: bool = False,
    force: bool = False,
    env: Mapping[str, str] | None = None,
    jobs: int = 1,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> SendResult:
    """Mail every chosen client's report for ``period`` to its recipients.

    The SMTP settings are read before anything is drawn, so a missing variable fails at
    once; each client's charts are drawn once for all its recipients, ``jobs`` clients at a
    time in worker processes.

    Raises:
        ConfigError: the agency has no sender, or an SMTP variable is missing or wrong.
        BuildError: a client's period has not been built yet.
    """
    env = os.environ if env is None else env
    agency = load_agency(workspace.content)
    settings = None if dry_run else mailer.SmtpSettings.from_env(env)
    if agency.sender is None:
        raise ConfigError("sender: set the address reports are sent from", file="agency.yml")
    for slug in slugs:
        _require_analysis(workspace, slug, period)
    messages = _compose_all(workspace, slugs, period, jobs=jobs, now=now, progress=progress)
    sent_log = mailer.SentLog(workspace.out / "mail" / "sent-log.jsonl")
    if dry_run:
        outbox = workspace.out / "outbox"
        return SendResult(mailer.dry_run(messages, outbox, sent_log), sent_log.path, outbox)
    assert settings is not None
    bar = progress.add_task("sending reports", total=None) if progress else None
    outcomes = mailer.deliver(
        messages, settings, sent_log, force=force, retries=agency.email.retries
    )
    if progress and bar is not None:
        progress.update(bar, total=len(outcomes), completed=len(outcomes))
    return SendResult(outcomes, sent_log.path)


def _require_analysis(workspace: Workspace, slug: str, period: Period) -> None:
    if not (workspace.results(slug, period) / "summary.json").exists():
        raise BuildError(
            f"{slug} has no report for {period.label} yet; run "
            f"`campaign-report build --client {slug} --period {period.label}` first"
        )


def _compose_all(workspace, slugs, period, *, jobs, now, progress) -> list[mailer.Outgoing]:
    bar = progress.add_task("composing emails", total=len(slugs)) if progress else None
    done: dict[str, list[mailer.Outgoing]] = {}
    if jobs <= 1 or len(slugs) <= 1:
        for slug in slugs:
            done[slug] = compose(workspace, slug, period, now)
            if progress:
                progress.advance(bar)
    else:
        pool = ProcessPoolExecutor(max_workers=workers(jobs), mp_context=get_context("spawn"))
        with pool:
            futures = {pool.submit(compose, workspace, s, period, now): s for s in slugs}
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                if progress:
                    progress.advance(bar)
    return [message for slug in slugs for message in done[slug]]


def compose(
    workspace: Workspace, slug: str, period: Period, now: datetime | None = None
) -> list[mailer.Outgoing]:
    """One client's messages (loads its own configuration, so it can run in a worker)."""
    agency, (client,) = load_agency(workspace.content), load_clients(workspace.content, only=slug)
    report = Report.load(workspace.results(slug, period))
    url = agency.report_url(slug, period.label)
    return email_report.outgoing(report, client, agency, report_url=url, now=now)


# -- publishing ---------------------------------------------------------------------------


def publish_sites(
    workspace: Workspace,
    *,
    to: str | Path | None = None,
    clients: Sequence[str] | None = None,
    rebuild: Mapping[tuple[str, str], str] | None = None,
    now: datetime | None = None,
) -> hosting.PublishResult:
    """Copy the built sites to the agency's host: a folder, or ``git`` (the gh-pages branch
    of ``publish.repository``, default the current folder). ``to`` overrides ``publish.to``
    of agency.yml; a relative path in agency.yml is relative to its folder, on the command
    line to where you are.

    Raises:
        ConfigError: no destination anywhere.
        PublishError: as ``hosting.publish`` and ``gh_pages.publish_to_git``.
    """
    agency = load_agency(workspace.content)
    target = str(to) if to is not None else agency.publish.to
    if target is None:
        raise ConfigError(
            "no destination: give --to DIR (or --to git), or set publish.to in agency.yml",
            file=str(agency.folder / "agency.yml"),
            field="publish.to",
        )
    now = now or datetime.now(UTC)
    options = {"now": now, "clients": clients, "rebuild": rebuild, "noindex": agency.site.noindex}
    sites = workspace.out / "sites"
    if target == "git":
        # the repository is only ever named in agency.yml (default: where you are), whether
        # ``git`` came from there or from --to
        configured = agency.publish.repository
        repo = _relative(agency, configured, given=False) if configured else Path()
        return gh_pages.publish_to_git(sites, repo, branch=agency.publish.branch, **options)
    return hosting.publish(sites, _relative(agency, target, given=to is not None), **options)


def _relative(agency: Agency, path: str, *, given: bool) -> Path:
    """A path from the command line as typed; one from agency.yml against its folder."""
    found = Path(path).expanduser()
    return found if given or found.is_absolute() else agency.folder / found


# -- notifications ------------------------------------------------------------------------


def alerts(
    report: Report,
    client: Client,
    agency: Agency,
    *,
    since: date | None = None,
    unusual_days: bool = True,
) -> list[notify.Event]:
    """KPI alerts of an analysed period: each target off track, each budget off pace, and
    (with ``unusual_days``) the unusual days on or after ``since`` (all without it)."""
    period = report.summary["period"]["label"]
    url = agency.report_url(client.slug, period)
    events = []
    for card in report.summary.get("cards", []):
        if card.get("status") != "off_track":
            continue
        value, target = (fmt(card[k], card["unit"], client.currency) for k in ("value", "target"))
        what = f"{card['label']} {value} against a target of {target} (off track)"
        events.append(_alert(client, period, what, url))
    for budget in (report.summary.get("pacing") or {}).get("budgets", []):
        if budget["status"] in ("under", "over"):
            events.append(_alert(client, period, _pace_text(budget, client.currency), url))
    anomalies = report.frames.get("anomalies") if unusual_days else None
    if anomalies is not None and not anomalies.empty:
        for row in anomalies.sort_values("date").itertuples():
            day = date.fromisoformat(str(row.date)[:10])
            if since is not None and day < since:
                continue
            what = (
                f"{row.platform}: unusual {row.direction} on {day:%b %d} "
                f"({fmt(row.value, 'number')} conversions against {fmt(row.expected, 'number')} "
                "expected)"
            )
            events.append(_alert(client, period, what, url))
    return events


def _pace_text(budget: dict, currency: str) -> str:
    """An off-pace budget in words: "Google Ads: projected $23,400 against a budget of ..."."""
    projected, amount = (fmt(budget[k], "currency", currency) for k in ("projected", "amount"))
    gap = budget["projected"] / budget["amount"] - 1
    word = "over" if budget["status"] == "over" else "under"
    return (
        f"{budget['label']}: projected {projected} against a budget of {amount} "
        f"({gap:+.0%}, {word} pace; {budget['days_left']} days left)"
    )


def _alert(client: Client, period: str, what: str, url: str | None) -> notify.Event:
    return notify.kpi_alert(client.slug, period, what, client_name=client.name, url=url)


def announce(
    events: Sequence[notify.Event], agency: Agency, env: Mapping[str, str] | None = None
) -> list[notify.Delivery]:
    """Post each event to the channels that want it; never raises for a failed channel."""
    if not agency.notifications or not events:
        return []
    env = os.environ if env is None else env
    deliveries = []
    for event in events:
        deliveries += notify.notify(event, agency.notifications, env, agency=agency.name)
    return deliveries


def published_event(report: Report, client: Client, agency: Agency) -> notify.Event:
    """The event that says a report is out, with its headline numbers."""
    period = report.summary["period"]
    keys = ("spend", "conversions", "cpa", "roas")
    facts = [
        (card["label"], fmt(card["value"], card["unit"], client.currency))
        for card in report.summary.get("cards", [])
        if card["key"] in keys
    ]
    return notify.published(
        client.slug,
        period["label"],
        agency.report_url(client.slug, period["label"]),
        facts,
        client_name=client.name,
    )


def recent(today: date, days: int = 3) -> date:
    """The first day a daily run still calls recent (its unusual days are news)."""
    return today - timedelta(days=days)
