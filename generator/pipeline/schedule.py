"""Unattended runs for cron or a systemd timer: ``run daily`` and ``run monthly``.

- daily: sync every client; build the month to date as a preview (refreshed on the host
  every day, never frozen); announce failed or stale accounts and KPI alerts (targets off
  track, unusual days of the last three days); publish if agency.yml names a host.
- monthly: sync; build last month; publish; mail every client's report; announce it.

Each is idempotent: a rerun syncs only the lookback window, keeps published months frozen,
sends no email twice (the sent-log) and announces nothing twice (``logs/announced.jsonl``).
One run at a time per output folder: a second one finds the lock taken and exits cleanly
without doing anything. Everything a run does is also appended to ``logs/run.log``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import logging.handlers
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from rich.progress import Progress

from generator.config import Agency, Client, load_agency, load_clients
from generator.connectors.redact import RedactingFilter
from generator.distribute import notify
from generator.errors import ReportError
from generator.lake.files import locked
from generator.periods import Period, last_complete_month
from generator.pipeline import distributing
from generator.pipeline.publishing import publish_all
from generator.pipeline.syncing import AccountSync, sync_workspace
from generator.pipeline.workspace import Workspace
from generator.site.report import Report

__all__ = ["RUN_LOG", "RunResult", "run"]

log = logging.getLogger("generator.pipeline")

#: where every run appends what it did (rotated at 5 MB, five files kept)
RUN_LOG = Path("logs") / "run.log"
_ANNOUNCED = Path("logs") / "announced.jsonl"
#: exit statuses: as ``sync`` (0 done, 1 nothing could be done, 3 partly failed)
OK, ERROR, PARTIAL = 0, 1, 3


@dataclass
class RunResult:
    """What a run did, for the console and the exit status."""

    kind: str
    exit_code: int = OK
    skipped: bool = False
    sync: list[AccountSync] = field(default_factory=list)
    sites: dict[tuple[str, str], Path] = field(default_factory=dict)
    published: str | None = None
    sent: list = field(default_factory=list)
    deliveries: list[notify.Delivery] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    events: list[notify.Event] = field(default_factory=list)
    log: Path | None = None


def run(
    kind: Literal["daily", "monthly"],
    workspace: Workspace,
    *,
    today: date | None = None,
    sandbox: bool = False,
    dry_run: bool = False,
    env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """One unattended run. A ``ReportError`` ends it with exit status 1 instead of raising;
    what it had found by then (a failed sync, say) is still announced. Anything else is a
    bug: it is logged with its traceback and raised."""
    now = _now(today)
    result = RunResult(kind, log=workspace.out / RUN_LOG)
    with locked(workspace.out / ".run.lock", wait=False) as mine, _logged(workspace.out):
        if not mine:
            log.warning("another run holds %s; nothing done", workspace.out / ".run.lock")
            result.skipped = True
            return result
        log.info("%s run for %s started", kind, now.date())
        agency = None
        try:
            agency, clients = load_agency(workspace.content), load_clients(workspace.content)
            step = _daily if kind == "daily" else _monthly
            step(workspace, agency, clients, now, result, sandbox, dry_run, env, progress)
            result.exit_code = _status(result)
        except ReportError as exc:
            log.error("%s run stopped: %s", kind, exc)
            result.problems.append(str(exc))
            result.exit_code = ERROR
        except Exception:
            log.exception("%s run failed", kind)
            raise
        finally:
            if agency is not None:
                _announce(workspace, agency, result.events, result, env)
        log.info("%s run ended with exit status %d", kind, result.exit_code)
    return result


def _now(today: date | None) -> datetime:
    return datetime.combine(today, time(6), UTC) if today else datetime.now(UTC)


def _daily(workspace, agency, clients, now, result, sandbox, dry_run, env, progress) -> None:
    result.sync = sync_workspace(
        workspace, agency, clients, now, sandbox=sandbox, progress=progress
    )
    _log_sync(result.sync)
    result.events += _sync_events(result.sync, clients, workspace)
    yesterday = now.date() - timedelta(days=1)
    if yesterday.month == now.date().month:  # on the 1st the month has no day yet
        preview = Period.month_to_date(f"{yesterday:%Y-%m}", yesterday)
        slugs = [c.slug for c in clients]
        result.sites = publish_all(workspace, slugs, [preview], now=now, progress=progress)
        for client in clients:
            report = Report.load(workspace.results(client.slug, preview))
            since = distributing.recent(now.date())
            result.events += distributing.alerts(report, client, agency, since=since)
    _publish(workspace, agency, result, now)


def _monthly(workspace, agency, clients, now, result, sandbox, dry_run, env, progress) -> None:
    result.sync = sync_workspace(
        workspace, agency, clients, now, sandbox=sandbox, progress=progress
    )
    _log_sync(result.sync)
    result.events += _sync_events(result.sync, clients, workspace)
    period = last_complete_month(now.date())
    slugs = [c.slug for c in clients]
    result.sites = publish_all(workspace, slugs, [period], now=now, progress=progress)
    _publish(workspace, agency, result, now)
    sent = distributing.send(
        workspace, slugs, period, dry_run=dry_run, env=env, now=now, progress=progress
    )
    result.sent = sent.outcomes
    result.problems += [f"email to {o.recipient}: {o.error}" for o in sent.failed]
    for o in sent.outcomes:
        detail = f": {o.error}" if o.status == "failed" else ""
        (log.warning if detail else log.info)(
            "email %s %s to %s %s%s", o.client, o.period, o.recipient, o.status, detail
        )
    for client in clients:  # a month's missed targets; its unusual days were news on the day
        report = Report.load(workspace.results(client.slug, period))
        result.events.append(distributing.published_event(report, client, agency))
        result.events += distributing.alerts(report, client, agency, unusual_days=False)


def _log_sync(outcome: list[AccountSync]) -> None:
    for r in outcome:
        detail = f": {r.message}" if r.message and r.status != "ok" else ""
        (log.info if r.status == "ok" else log.warning)(
            "sync %s %s %s %s%s", r.client, r.source, r.account_id, r.status, detail
        )


def _sync_events(
    outcome: list[AccountSync], clients: Sequence[Client], workspace: Workspace
) -> list:
    names = {c.slug: c.name for c in clients}
    events = []
    for r in outcome:
        where = f"{r.source} {r.account_id}"
        if r.status == "failed":
            events.append(
                notify.sync_failed(r.client, where, r.message, client_name=names.get(r.client))
            )
        elif r.status == "stale":  # its newest day is in the lake (None: never synced)
            last = workspace.lake.state.get(r.client, r.source, r.account_id).synced_through
            events.append(notify.stale(r.client, where, last, client_name=names.get(r.client)))
    return events


def _publish(workspace: Workspace, agency: Agency, result: RunResult, now: datetime) -> None:
    if agency.publish.to is None:
        log.info("no publish.to in agency.yml: the sites stay in %s", workspace.out / "sites")
        return
    done = distributing.publish_sites(workspace, now=now)
    for outcome in done.outcomes:
        log.info("publish %s", outcome.describe())
    result.published = str(done.dest)


def _announce(workspace, agency, events, result: RunResult, env) -> None:
    """Post the events no earlier run has posted."""
    seen_file = workspace.out / _ANNOUNCED
    seen = set(seen_file.read_text().split()) if seen_file.exists() else set()
    fresh = [(e, _key(e)) for e in events]
    fresh = [(e, k) for e, k in fresh if k not in seen]
    if not fresh or not agency.notifications:
        return
    told = []
    for event, key in fresh:
        deliveries = distributing.announce([event], agency, env)
        result.deliveries += deliveries
        for d in deliveries:
            (log.info if d.ok else log.warning)("notify %s: %s", d.name, "ok" if d.ok else d.error)
        # an event no channel took is tried again next run; one that any channel took is
        # not (the others would otherwise hear it twice)
        if any(d.ok for d in deliveries):
            told.append(key)
    if told:
        with seen_file.open("a") as handle:
            handle.writelines(f"{k}\n" for k in told)


def _key(event: notify.Event) -> str:
    """Events that say the same thing about the same thing are one (whatever their id)."""
    parts = [event.kind, event.client, event.period, event.title, event.text]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def _status(result: RunResult) -> int:
    failed = [r for r in result.sync if r.status == "failed"]
    if result.sync and len(failed) == len(result.sync):
        return ERROR
    mail_failed = any(o.status == "failed" for o in result.sent)
    return PARTIAL if failed or mail_failed or result.problems else OK


@contextmanager
def _logged(out: Path) -> Iterator[None]:
    """Append this run's log records (INFO and above) to ``logs/run.log`` too."""
    path = out / RUN_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    handler.addFilter(RedactingFilter())
    root = logging.getLogger("generator")
    before = root.level
    root.addHandler(handler)
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
        handler.close()
