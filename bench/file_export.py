"""Peak memory of reading a large file export (issue 13, item 8).

Usage: ``uv run python bench/file_export.py [--rows 1500000] [--runs 1] [--sync]``

Writes a newsletter export in the demo vendor's real format (two preamble lines, US dates,
dollar amounts with thousands separators, a totals line; ``content/northwind/client.yml``
maps it) with ``--rows`` data rows, every (day, campaign, segment, email) distinct so nothing
folds, to a temporary folder. Then, each in a fresh process, whose own peak RSS
(``resource.getrusage``) is reported:

- ``read``: the file connector as a sync drives it: account info, coverage, then
  ``fetch_performance`` and ``fetch_actions`` for every month the export covers;
- ``sync`` (with ``--sync``): ``pipeline.sync`` of the account into an empty lake, which adds
  the lake's writes and the pipeline's imports;
- ``read-baseline`` and ``sync-baseline``: the same imports, no reading (what the interpreter,
  pyarrow, the pandas that pyarrow loads on its first conversion of anything, and the package
  cost before any row is read).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
ADS_PER_DAY = 4000  # 40 campaigns x 10 segments x 10 emails

CHILD = r"""
import asyncio, json, resource, sys, time
from datetime import UTC, date, datetime
from pathlib import Path
from generator.config import load_client
from generator.connectors.files import FileSource
from generator.connectors.incremental import sync_windows
from generator.lake.state import AccountState

mode, folder = sys.argv[1], Path(sys.argv[2])
if mode.startswith("sync"):
    from generator import pipeline
    from generator.lake import Lake
client = load_client(folder / "clients" / "northwind" / "client.yml")
account = client.accounts[0]
env = {"CAMPAIGN_EXPORTS": str(folder)}


async def read():
    source = FileSource({})
    source.configure(client, account, env)
    rows = 0
    async with source:
        await source.account_info(account.account_id)
        start, end = await source.coverage(account.account_id)
        state = AccountState(client.slug, "file", account.account_id)
        for window in sync_windows(state, start=start, end=end, lookback_days=0, full=True):
            perf = await source.fetch_performance(account.account_id, window.start, window.end)
            await source.fetch_actions(account.account_id, window.start, window.end)
            rows += perf.num_rows
    return rows


async def sync():
    lake = Lake(folder / f"lake-{time.monotonic_ns()}")
    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    (outcome,) = await pipeline.sync([client], lake, start=date(2000, 1, 1), env=env, now=now)
    assert outcome.status == "ok", outcome.message
    return outcome.rows


import pyarrow as pa
pa.array([0])  # pyarrow imports pandas on its first conversion, whatever converts
started = time.perf_counter()
rows = 0 if mode.endswith("baseline") else asyncio.run(read() if mode == "read" else sync())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started, "peak_mb": peak}))
"""


def write_export(folder: Path, rows: int, seed: int = 13) -> Path:
    """The newsletter export with ``rows`` data rows and its client.yml; returns the CSV."""
    rng = random.Random(seed)
    target = folder / "northwind" / "newsletter.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    day, written = date(2025, 1, 1), 0
    with target.open("w", newline="", encoding="utf-8-sig") as stream:
        stream.write(
            "Northwind Outfitters — newsletter performance\nExported 2027-01-01 06:00 UTC\n"
        )
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(
            ["Send date", "Campaign", "Segment", "Email", "Opens", "Clicks", "Cost", "Orders",
             "Revenue"]
        )  # fmt: skip
        while written < rows:
            for ad in range(min(ADS_PER_DAY, rows - written)):
                opens = rng.randrange(50, 3000)
                orders = rng.randrange(0, 3)
                writer.writerow(
                    [f"{day:%m/%d/%Y}", f"C{ad // 100}", f"S{ad // 10 % 10}", f"E{ad % 10}",
                     opens, opens // 20, f"${opens * 7 / 100:,.2f}", orders,
                     f"${orders * 54.5:,.2f}"]
                )  # fmt: skip
            written += min(ADS_PER_DAY, rows - written)
            day += timedelta(days=1)
        writer.writerow(["Total", "", "", "", "", "", "", "", ""])
    data = yaml.safe_load((REPO / "content" / "northwind" / "client.yml").read_text())
    data["accounts"] = [a for a in data["accounts"] if a["platform"] == "file"]
    (folder / "clients" / "northwind").mkdir(parents=True, exist_ok=True)
    (folder / "clients" / "northwind" / "client.yml").write_text(
        yaml.safe_dump(data, allow_unicode=True)
    )
    return target


def measure(mode: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(folder)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode:
        raise RuntimeError(f"{mode} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--sync", action="store_true", help="also sync it into a lake")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-file-") as tmp:
        export = write_export(Path(tmp), args.rows)
        size = export.stat().st_size / 1e6
        print(f"export: {args.rows:,} rows, {size:.1f} MB ({export.name})")
        modes = ["read-baseline", "read"] + (["sync-baseline", "sync"] if args.sync else [])
        for mode in modes:
            results = [measure(mode, Path(tmp)) for _ in range(args.runs)]
            peaks = [r["peak_mb"] for r in results]
            seconds = [r["seconds"] for r in results]
            print(
                f"{mode}: peak RSS {statistics.median(peaks):.0f} MB (max {max(peaks):.0f}), "
                f"{statistics.median(seconds):.1f} s, {results[0]['rows']:,} rows out"
            )


if __name__ == "__main__":
    main()
