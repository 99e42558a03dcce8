"""Build the demo agency's report sites through the Python API, stage by stage.

This is what ``campaign-report demo`` does, spelled out: start the platform sandbox, sync
every client's accounts into the lake, analyse the last complete month and build one site
per client. Run it with ``uv run python examples/generate_campaign_report.py [OUT [CLIENT...]]``.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

from generator import pipeline
from generator.config import load_agency, load_clients
from generator.periods import last_complete_month
from generator.site.resources import demo_content


def main(out: Path, today: date | None = None, only: list[str] | None = None) -> dict[str, Path]:
    """Sync and build into ``out`` every demo client, or those whose slugs ``only`` names.

    ``today`` pins the day (the sandbox's world ends the day before), as ``campaign-report
    demo --today`` does. Run it again on the same ``out`` and the sync only fetches what is
    new plus each platform's re-read window.
    """
    content = demo_content()
    agency, clients = load_agency(content), load_clients(content)
    clients = [c for c in clients if not only or c.slug in only]
    workspace = pipeline.Workspace(content=content, out=out)
    now = datetime.combine(today, time(12), UTC) if today else datetime.now(UTC)
    period = last_complete_month(now.date())
    start = pipeline.history_start(period, agency.history_months)

    # 1. sync: the real connectors against the platform sandbox on 127.0.0.1
    outcome = pipeline.sync_sandbox(clients, workspace.lake, start=start, now=now)
    for account in outcome:
        print(f"synced {account.client} {account.source} {account.account_id}: {account.status}")

    # 2. analyze and 3. build, client by client
    rates = pipeline.load_rates(content, agency)
    sites = {}
    for client in clients:
        report = pipeline.analyze(workspace.lake, client, agency, period, rates, now=now)
        report.save(workspace.results(client.slug, period))
        sites[client.slug] = pipeline.build(workspace, client, agency, period)
        print(f"{client.name}: {(sites[client.slug] / 'index.html').resolve()}")
    return sites


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build"), only=sys.argv[2:])
