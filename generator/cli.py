"""``campaign-report``: the command line. Thin: it parses, then calls ``pipeline``."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from generator import cli_distribute, pipeline
from generator.cli_common import (  # noqa: F401  (EXIT_* and console are part of cli's face)
    EXIT_ERROR,
    EXIT_OK,
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
from generator.config import load_agency, load_clients, validate_content
from generator.errors import ReportError
from generator.periods import Period, last_complete_month

app = typer.Typer(
    help="Pull ad performance from every platform and publish each client's report site.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def demo(
    out: OutOpt = Path("build"),
    content: ContentOpt = None,
    today: TodayOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Start the built-in sandbox, sync the demo clients and build their report sites."""
    _setup_logging(verbose)
    started = time.monotonic()
    try:
        with _progress() as progress:
            result = pipeline.run_demo(
                out,
                content=_content(content),
                today=today.date() if today else None,
                progress=progress,
            )
    except ReportError as exc:
        _fail(exc)
    _print_sync(result.sync)
    console.print(
        f"\n[bold]Report sites for {result.period.label}[/] "
        f"(built in {time.monotonic() - started:.1f}s):"
    )
    for slug, site in result.sites.items():
        _where(slug, site / "index.html")
    _where("lake", result.lake)
    _exit_for(result.sync)


@app.command()
def validate(content: ContentOpt = None) -> None:
    """Check agency.yml and every client.yml; list every problem found."""
    folder = _content(content)
    problems = validate_content(folder)
    if not problems:
        clients = load_clients(folder)
        valid = f": agency.yml and {len(clients)} client(s) in {folder} are valid"
        console.print(Text.assemble(("ok", "green"), valid), highlight=False)
        return
    for problem in problems:
        console.print(Text.assemble(("✗ ", "red"), str(problem)), highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.command()
def sync(
    out: OutOpt = Path("build"),
    content: ContentOpt = None,
    client: Annotated[str | None, typer.Option(help="Only this client (slug).")] = None,
    full: Annotated[bool, typer.Option(help="Refetch the whole history window.")] = False,
    sandbox: Annotated[
        bool, typer.Option(help="Talk to an embedded sandbox, not the platforms.")
    ] = False,
    today: TodayOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Fetch new and restated days for every configured account into the lake."""
    _setup_logging(verbose)
    folder = _content(content)
    now = datetime.combine(today.date(), dt_time(12), UTC) if today else datetime.now(UTC)
    try:
        agency, clients = load_agency(folder), load_clients(folder, only=client)
        workspace = pipeline.Workspace(folder, out)
        with _progress() as progress:
            outcome = pipeline.sync_workspace(
                workspace, agency, clients, now, sandbox=sandbox, full=full, progress=progress
            )
    except ReportError as exc:
        _fail(exc)
    _print_sync(outcome)
    console.print(Text(f"lake: {(out / 'lake').resolve()}"), highlight=False)
    _exit_for(outcome)


@app.command()
def build(
    out: OutOpt = Path("build"),
    content: ContentOpt = None,
    client: Annotated[str | None, typer.Option(help="Only this client (slug).")] = None,
    all_clients: Annotated[bool, typer.Option("--all", help="Every client (the default).")] = False,
    period: Annotated[
        str | None, typer.Option(help="Month YYYY-MM [default: the last complete month].")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day YYYY-MM-DD.")] = None,
    jobs: Annotated[
        int, typer.Option(min=1, help="Clients built in parallel (at most one per core).")
    ] = 1,
) -> None:
    """Analyse the lake and build each client's report site for a period."""
    folder = _content(content)
    chosen = _period(period, start, end)
    if client and all_clients:
        raise typer.BadParameter("give --client or --all, not both", param_hint="--client")
    try:
        slugs = [c.slug for c in load_clients(folder, only=client)]
        workspace = pipeline.Workspace(folder, out)
        with _progress() as progress:
            built = pipeline.publish_all(workspace, slugs, [chosen], jobs=jobs, progress=progress)
    except ReportError as exc:
        _fail(exc)
    console.print(f"[bold]Report sites for {chosen.label}[/]:")
    for (slug, _), site in sorted(built.items()):
        _where(slug, site / "index.html")


def _period(period: str | None, start: str | None, end: str | None) -> Period:
    try:
        if start or end:
            if period or not (start and end):
                raise ValueError("give --period, or both --from and --to")
            return Period.between(date.fromisoformat(start), date.fromisoformat(end))
        today = datetime.now(UTC).date()
        if not period:
            return last_complete_month(today)
        month = Period.month(period)
        if month.end >= today and month.start < today:  # still running: the month so far
            return Period.month_to_date(period, today - timedelta(days=1))
        return month
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period / --from / --to") from None


@app.command("sandbox")
def sandbox_command(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 8765,
) -> None:
    """Serve the platform sandbox on 127.0.0.1 until interrupted."""
    from generator.sandbox import DEMO_ENVIRONMENT, PLATFORMS, create_app, serve

    with serve(create_app(), port=port) as running:
        console.print(f"sandbox listening on {running.url}")
        for name in PLATFORMS:
            console.print(f"  {name:<14} base_url {running.base_url(name)}")
        console.print("demo credentials (sandbox-only values that open nothing else):")
        for key, value in DEMO_ENVIRONMENT.items():
            console.print(f"  export {key}={value}", highlight=False)
        try:
            _wait_forever()
        except KeyboardInterrupt:
            console.print("stopped")


def _wait_forever() -> None:
    while True:
        time.sleep(3600)


benchmarks_app = typer.Typer(
    help="Published industry benchmarks: import a new edition, list the editions in force.",
    no_args_is_help=True,
)
app.add_typer(benchmarks_app, name="benchmarks")


@benchmarks_app.command("import")
def benchmarks_import(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX or YAML with the seed's columns.")],
    out: OutOpt = Path("build"),
    replace: Annotated[
        bool, typer.Option(help="Replace editions that exist (in the seed or the store).")
    ] = False,
    reason: Annotated[
        str | None, typer.Option(help="Why they are replaced (required with --replace).")
    ] = None,
) -> None:
    """Import benchmark editions from a file into <out>/benchmarks."""
    store = pipeline.EditionStore.at(out)
    try:
        result = store.import_file(file, replace=replace, reason=reason)
    except ReportError as exc:
        _fail(exc)
    for verb, keys in (("added", result.added), ("replaced", result.replaced)):
        for source, edition in keys:
            console.print(Text(f"  {verb:<9} {source} {edition}"), highlight=False)
    _where("store", store.root)
    console.print(Text(f"{result.rows:,} rows imported"), highlight=False)


_AGE = {False: "", True: "yellow"}


@benchmarks_app.command("list")
def benchmarks_list(out: OutOpt = Path("build"), today: TodayOpt = None) -> None:
    """List the benchmark editions in force (seed and imported), with their age."""
    from generator.analytics.benchmark_seed import STALE_MONTHS  # only for this command

    store = pipeline.EditionStore.at(out)
    day = today.date() if today else datetime.now(UTC).date()
    try:
        editions = store.editions(day)
    except ReportError as exc:
        _fail(exc)
    table = Table(title="Benchmark editions", show_edge=False, header_style="bold")
    columns = ("source", "publisher", "edition", "published", "data to", "rows", "grade", "age")
    for column in (*columns, "origin"):
        table.add_column(column, overflow="fold")
    for e in editions:
        rows = f"{e.rows}" + (f" ({e.provisional_rows} prov.)" if e.provisional_rows else "")
        age = Text(f"{e.age_months} mo" + (" stale" if e.stale else ""), style=_AGE[e.stale])
        ended = e.window_end.isoformat() if e.window_end else "-"
        cells = (Text(e.source_id), Text(e.publisher), Text(e.edition), e.published.isoformat())
        table.add_row(*cells, ended, rows, e.grade, age, e.origin)
    console.print(table)
    console.print(
        Text(f"stale: published more than {STALE_MONTHS} months before {day.isoformat()}"),
        highlight=False,
    )
    _where("store", store.root)


creatives_app = typer.Typer(
    help="Stored creative images: apply the retention policy.", no_args_is_help=True
)
app.add_typer(creatives_app, name="creatives")


@creatives_app.command("prune")
def creatives_prune(
    out: OutOpt = Path("build"),
    content: ContentOpt = None,
    client: Annotated[str | None, typer.Option(help="Only this client's store (slug).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Say what would go; remove nothing.")] = False,
    today: TodayOpt = None,
) -> None:
    """Remove the images of ads that last ran more than creatives.retention_days ago."""
    from generator.pipeline.syncing import prune_assets  # only for this command

    folder = _content(content)
    day = today.date() if today else datetime.now(UTC).date()
    try:
        agency, clients = load_agency(folder), load_clients(folder, only=client)
        workspace = pipeline.Workspace(folder, out)
        days = agency.creatives.retention_days
        done = prune_assets(
            workspace.lake,
            workspace.assets_of,
            [c.slug for c in clients],
            days,
            day,
            dry_run=dry_run,
            shared=None if client else workspace.shared_assets,
        )
    except ReportError as exc:
        _fail(exc)
    verb = "would remove" if dry_run else "removed"
    console.print(
        Text(f"Images of ads that last ran before {day - timedelta(days=days)} ({days} days):"),
        highlight=False,
    )
    for name, pruned in done:
        line = f"{verb} {pruned.assets} asset(s), {pruned.files} file(s), {_size(pruned.bytes)}"
        console.print(Text(f"  {name:<12} {line}; {pruned.kept} kept"), highlight=False)
        _where("", pruned.root)
    total = sum(p.bytes for _, p in done)
    console.print(
        Text(f"{verb} {sum(p.assets for _, p in done)} asset(s), {_size(total)}"),
        highlight=False,
    )


def _size(count: int) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 100_000 else f"{count:,} bytes"


_COLOURS = {"ok": "green", "stale": "yellow", "failed": "red", "skipped": "dim"}


def _print_sync(outcome: list[pipeline.AccountSync]) -> None:
    """The sync table, then every note and message. Everything in them comes from
    configuration, platforms or exports, so it is printed as ``Text``: brackets, backslashes
    and ``:emoji:`` codes show as they are."""
    table = Table(title="Sync", show_edge=False, header_style="bold")
    for column in ("client", "platform", "account", "status", "windows", "rows"):
        table.add_column(column, overflow="fold")
    for r in outcome:
        status = Text(r.status, style=_COLOURS[r.status])
        cells = (Text(r.client), Text(r.source), Text(r.account_id), status)
        table.add_row(*cells, str(r.windows), f"{r.rows:,}")
    console.print(table)
    for r in outcome:
        for note in r.notes:
            line = Text.assemble(("note", "dim"), f" {r.client} {r.source}: {note}")
            console.print(line, highlight=False, soft_wrap=True)
        if r.message:
            line = Text.assemble(
                (r.status, _COLOURS[r.status]), f" {r.client} {r.source} {r.account_id}: "
            )
            line.append(r.message)
            console.print(line, highlight=False, soft_wrap=True)


def _exit_for(outcome: list[pipeline.AccountSync]) -> None:
    """End with ``EXIT_PARTIAL`` or ``EXIT_ERROR`` when accounts failed (see their meaning)."""
    failed = sum(r.status == "failed" for r in outcome)
    if not failed:
        return
    code = EXIT_ERROR if failed == len(outcome) else EXIT_PARTIAL
    console.print(
        Text(f"{failed} of {len(outcome)} accounts failed (exit status {code})", style="red")
    )
    raise typer.Exit(code)


cli_distribute.register(app)

if __name__ == "__main__":
    app()
