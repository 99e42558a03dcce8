"""The commands that take reports to people: ``send``, ``publish``, ``serve`` and ``run``.

Thin like the rest of the command line: parse, call ``pipeline``, print what was done and
where. Registered on the main app by ``register``.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from generator import pipeline
from generator.cli_common import (
    EXIT_ERROR,
    EXIT_PARTIAL,
    ContentOpt,
    OutOpt,
    TodayOpt,
    _content,
    _fail,
    _progress,
    _setup_logging,
    _where,
    console,
)
from generator.config import load_clients
from generator.errors import ReportError
from generator.periods import Period, last_complete_month

__all__ = ["register"]

ClientOpt = Annotated[str | None, typer.Option("--client", help="Only this client (slug).")]
PeriodOpt = Annotated[
    str | None, typer.Option(help="Month YYYY-MM [default: the last complete month].")
]


def send(
    out: OutOpt = Path("build"),
    content: ContentOpt = None,
    client: ClientOpt = None,
    period: PeriodOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write .eml files to <out>/outbox; send nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Send again to those who already have it.")
    ] = False,
    jobs: Annotated[
        int, typer.Option(min=1, help="Clients composed in parallel (at most one per core).")
    ] = 1,
    today: TodayOpt = None,
) -> None:
    """Email each client's report for a period to its recipients (once: see --force)."""
    _setup_logging(False)
    folder = _content(content)
    now = _now(today)
    chosen = _month(period, now)
    try:
        slugs = [c.slug for c in load_clients(folder, only=client)]
        workspace = pipeline.Workspace(folder, out)
        with _progress() as progress:
            result = pipeline.send(
                workspace, slugs, chosen, dry_run=dry_run, force=force, jobs=jobs, now=now,
                progress=progress,
            )  # fmt: skip
    except ReportError as exc:
        _fail(exc)
    table = Table(title=f"Email for {chosen.label}", show_edge=False, header_style="bold")
    for column in ("client", "recipient", "status", "detail"):
        table.add_column(column, overflow="fold")
    for o in result.outcomes:
        detail = o.error or o.message_id or ""
        table.add_row(Text(o.client), Text(o.recipient), Text(o.status), Text(detail))
    console.print(table)
    if result.outbox:
        _where("outbox", result.outbox)
    _where("sent-log", result.log)
    if result.failed:
        code = EXIT_ERROR if len(result.failed) == len(result.outcomes) else EXIT_PARTIAL
        console.print(Text(f"{len(result.failed)} message(s) failed", style="red"))
        raise typer.Exit(code)


def publish(
    to: Annotated[
        str | None,
        typer.Option(help="A folder, or 'git' for the gh-pages branch [default: publish.to]."),
    ] = None,
    out: OutOpt = Path("build"),
    content: ContentOpt = None,
    client: ClientOpt = None,
    rebuild: Annotated[
        list[str] | None,
        typer.Option(help="Replace a frozen month: CLIENT/YYYY-MM (repeatable; needs --reason)."),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why the months are rebuilt.")] = None,
    today: TodayOpt = None,
) -> None:
    """Copy the built sites to a static host's layout (client/YYYY-MM, latest, versions)."""
    _setup_logging(False)
    folder = _content(content)
    try:
        wanted = _rebuilds(rebuild or [], reason)
        workspace = pipeline.Workspace(folder, out)
        clients = [client] if client else None
        result = pipeline.publish_sites(
            workspace, to=to, clients=clients, rebuild=wanted, now=_now(today)
        )
    except ReportError as exc:
        _fail(exc)
    for outcome in result.outcomes:
        console.print(Text(f"  {outcome.describe()}"), highlight=False)
    if result.commit:
        console.print(Text(f"committed {result.commit[:12]} (push it to publish)"))
    _where("published", result.dest)


def _rebuilds(items: list[str], reason: str | None) -> dict[tuple[str, str], str]:
    if items and not (reason and reason.strip()):
        raise typer.BadParameter("a rebuild needs --reason", param_hint="--rebuild")
    wanted = {}
    for item in items:
        slug, _, label = item.partition("/")
        if not slug or not label:
            raise typer.BadParameter(f"{item!r}: give CLIENT/YYYY-MM", param_hint="--rebuild")
        wanted[(slug, label)] = reason
    return wanted


def serve(
    root: Annotated[Path, typer.Argument(help="The published folder (publish --to DIR).")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 8000,
) -> None:
    """Preview a published folder on 127.0.0.1 until interrupted."""
    from generator.distribute.preview import serve as serve_tree

    if not root.is_dir():
        _fail(ReportError(f"{root} is not a folder; publish into it first (publish --to DIR)"))
    serve_tree(
        root, port=port, on_ready=lambda url: console.print(Text(f"serving {root} at {url}"))
    )
    console.print("stopped")


def run(
    kind: Annotated[str, typer.Argument(help="daily or monthly")],
    out: OutOpt = Path("build"),
    content: ContentOpt = None,
    sandbox: Annotated[
        bool, typer.Option(help="Talk to an embedded sandbox, not the platforms.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="monthly: write the emails to <out>/outbox.")
    ] = False,
    today: TodayOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Unattended run for cron or systemd: daily or monthly (see the README).

    daily: sync, month-to-date preview, alerts. monthly: sync, build last month, publish,
    send. Exit status 0, 1 or 3 as sync's; 0 also when another run holds the lock."""
    if kind not in ("daily", "monthly"):
        raise typer.BadParameter("daily or monthly", param_hint="KIND")
    _setup_logging(verbose)
    if not verbose:  # the run lowers generator's level to INFO for its log file, not for us
        for handler in logging.getLogger().handlers:
            handler.setLevel(logging.WARNING)
    workspace = pipeline.Workspace(_content(content), out)
    with _progress() as progress:
        result = pipeline.run(
            kind, workspace, today=today.date() if today else None, sandbox=sandbox,
            dry_run=dry_run, env=os.environ, progress=progress,
        )  # fmt: skip
    if result.skipped:
        console.print(Text("another run is in progress; nothing done"), highlight=False)
        return
    for slug_period, site in sorted(result.sites.items()):
        _where(slug_period[0], site / "index.html")
    counts = {s: sum(o.status == s for o in result.sent) for s in ("sent", "skipped", "dry-run")}
    if result.sent:
        console.print(Text(", ".join(f"{n} {s}" for s, n in counts.items() if n) + " email(s)"))
    if result.published:
        _where("published", Path(result.published))
    ok = sum(d.ok for d in result.deliveries)
    if result.deliveries:
        console.print(Text(f"{ok} of {len(result.deliveries)} notification(s) delivered"))
    for problem in result.problems:
        console.print(Text(f"problem: {problem}", style="red"), highlight=False)
    _where("log", result.log)
    raise typer.Exit(result.exit_code)


def _now(today: datetime | None) -> datetime:
    return datetime.combine(today.date(), datetime.min.time(), UTC) if today else datetime.now(UTC)


def _month(period: str | None, now: datetime) -> Period:
    try:
        return Period.month(period) if period else last_complete_month(now.date())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from None


def register(app: typer.Typer) -> None:
    for command in (send, publish, serve, run):
        app.command()(command)
