"""Time a full sync and a daily incremental sync of the demo clients against the sandbox.

Usage: ``uv run python bench/sync.py [--runs 3] [--platforms google_ads,meta,...]`` (default:
every platform of the demo content: eleven ad platforms, GA4 and the file exports).

The sandbox runs on 127.0.0.1 in its own process with rate limits on (each platform's
throttle at its default, plus the connectors' own limiters); the real connectors sync every
account of the demo content from another process, whose peak RSS is the one reported.
"Full" is a first sync of six months plus the month to date into an empty lake; "daily" is
the next morning's run (the sandbox clock and world one day later), which re-reads each
platform's lookback window. Reported: wall time of the sync, requests the sandbox served,
and the sync process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SANDBOX = r"""
import json, sys
from datetime import UTC, date, datetime, timedelta
from generator.sandbox import Faults, World, create_app, serve
days_later = int(sys.argv[1])
now = datetime(2026, 11, 24, 6, tzinfo=UTC) + timedelta(days=days_later)
app = create_app(World(end=date(2026, 11, 23) + timedelta(days=days_later)), Faults(), now=now)
_ = app.state.sandbox.world.journeys  # built before the sync starts, as in a running sandbox
with serve(app) as sandbox:
    print(sandbox.url, flush=True)
    sys.stdin.readline()
    print(json.dumps(dict(app.state.sandbox.requests)), flush=True)
"""
SYNC = r"""
import asyncio, json, sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from generator import pipeline
from generator.config import load_agency, load_clients
from generator.periods import last_complete_month
from generator.pipeline.syncing import download_exports
from generator.sandbox import DEMO_ENVIRONMENT, PLATFORMS

url, out, days_later, keep = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
now = datetime(2026, 11, 24, 6, tzinfo=UTC) + timedelta(days=days_later)
content = Path("content")
clients = load_clients(content)
if keep != "all":
    for c in clients:
        object.__setattr__(c, "accounts", [a for a in c.accounts if a.platform in keep.split(",")])
months = load_agency(content).history_months
start = pipeline.history_start(last_complete_month(now.date()), months)
endpoints = {name: f"{url}/{name}" for name in PLATFORMS}
started = time.perf_counter()
exports = (out / "exports").resolve()  # the vendors' files, saved as the demo saves them
download_exports(clients, endpoints["file"], exports)
env = {**DEMO_ENVIRONMENT, "CAMPAIGN_EXPORTS": str(exports)}
outcome = asyncio.run(pipeline.sync(clients, pipeline.Workspace(content, out).lake, start=start,
                                    env=env, endpoints=endpoints, now=now))
print(json.dumps({"seconds": time.perf_counter() - started,
                  "statuses": sorted({o.status for o in outcome}),
                  "accounts": len(outcome),
                  "rows": sum(o.rows for o in outcome)}))
"""


def run(out: Path, days_later: int, platforms: str) -> tuple[dict, float]:
    """One sync in its own process against a sandbox in another; the sync's own peak RSS."""
    sandbox = subprocess.Popen(
        [sys.executable, "-c", SANDBOX, str(days_later)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = sandbox.stdout.readline().strip()
    sync = subprocess.Popen(
        [sys.executable, "-c", SYNC, url, str(out), str(days_later), platforms],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    output = sync.stdout.read()
    _, status, usage = os.wait4(sync.pid, 0)
    requests = json.loads(sandbox.communicate("stop\n")[0].strip().splitlines()[-1])
    if status:
        raise RuntimeError(f"the sync failed ({status})")
    result = json.loads(output.strip().splitlines()[-1])
    result.update(requests=sum(requests.values()), by_platform=requests)
    return result, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--platforms", default="all")
    args = parser.parse_args()
    results: dict[str, list] = {"full": [], "daily": []}
    for _ in range(args.runs):
        out = Path(tempfile.mkdtemp(prefix="bench-sync-"))
        for kind, days_later in (("full", 0), ("daily", 1)):
            result, peak = run(out, days_later, args.platforms)
            results[kind].append((result, peak))
            print(
                f"{kind}: {result['seconds']:.1f} s, {result['accounts']} accounts, "
                f"{result['requests']} requests, "
                f"{result['rows']:,} rows, {result['statuses']}, peak RSS {peak:.0f} MB"
            )
    for kind, items in results.items():
        seconds = [r["seconds"] for r, _ in items]
        print(
            f"{kind}: median {statistics.median(seconds):.1f} s, max {max(seconds):.1f} s, "
            f"requests {items[0][0]['by_platform']}, peak RSS {max(p for _, p in items):.0f} MB"
        )


if __name__ == "__main__":
    main()
