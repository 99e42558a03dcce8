"""What every ``campaign-report`` command shares: the console, progress bars, logging, how an
error ends a command and how a made file is named, the common options and the exit statuses."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.text import Text

from generator.connectors import redact
from generator.errors import ReportError
from generator.site.resources import demo_content

#: No emoji codes: ``:x:`` in an error message stays ``:x:``. Text from configuration,
#: platforms and exports is never parsed as markup either: it is printed as ``Text``.
console = Console(emoji=False)

#: Exit statuses of ``sync`` and ``demo`` (README, "Running it unattended"): 0 every account
#: synced (or is stale by design: the platform asked to wait, the next run catches up);
#: 1 nothing could be done (bad configuration, or every account failed); 3 some accounts
#: failed while others synced. Typer uses 2 for a wrong command line.
EXIT_OK, EXIT_ERROR, EXIT_PARTIAL = 0, 1, 3

ContentOpt = Annotated[
    Path | None,
    typer.Option(
        "--content",
        help="Folder with agency.yml and one folder per client "
        "[default: ./content, else the bundled demo content]",
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder (lake, results, sites).")]


def _content(path: Path | None) -> Path:
    if path is not None:
        return path
    return Path("content") if Path("content/agency.yml").exists() else demo_content()


@contextmanager
def _progress() -> Iterator[Progress]:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=False,
    ) as progress:
        yield progress


def _setup_logging(verbose: bool) -> None:
    handler = RichHandler(console=console, show_path=False, show_time=False)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        handlers=[handler],
        format="%(message)s",
        force=True,
    )
    redact.install()


def _fail(exc: ReportError) -> None:
    console.print(Text.assemble(("error:", "bold red"), f" {exc}"), highlight=False, soft_wrap=True)
    raise typer.Exit(1)


TodayOpt = Annotated[
    datetime | None,
    typer.Option(
        formats=["%Y-%m-%d"],
        help="Run as if today were this day (data through the day before; the sandbox world "
        "ends then too, so the same day gives the same numbers).",
    ),
]


def _where(name: str, path: Path) -> None:
    """One line of "what was made, and where": the path verbatim, whatever its characters."""
    console.print(Text(f"  {name:<12} {path.resolve()}"), highlight=False, soft_wrap=True)
