"""How the Benchmarks section scales with the agency's portfolio.

Writes a lake of N synthetic advertisers (the sandbox's peer generator, 150 days each, with
their profiles) plus Harbor's own numbers, then times, for Harbor's October report, what the
analysis adds for benchmarks: reading the portfolio from the lake (``benchmark_inputs``) and
computing the section (``benchmark_report.section``). Each size is a fresh lake under
bench/out/ (kept between runs).

    uv run python bench/benchmarks.py --clients 40 200 1000
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from datetime import date
from pathlib import Path

from generator.analytics import benchmark_report
from generator.analytics.benchmark_seed import seed_rows
from generator.config import load_agency, load_client
from generator.lake import Lake
from generator.periods import Period
from generator.pipeline import load_rates
from generator.pipeline.benchmark_inputs import benchmark_inputs
from generator.pipeline.demo import write_peers
from generator.sandbox.peers import PEERS, Peer

ROOT = Path(__file__).resolve().parent
CONTENT = ROOT.parent / "content"
END = date(2026, 11, 23)
DAYS = 150


def build_lake(clients: int) -> Lake:
    folder = ROOT / "out" / f"benchmarks-{clients}"
    if not (folder / "done").exists():
        harbor = Peer("harbor", "local/dental", "us_west", "USD", ("google_ads", "facebook"), 60.0)
        cast = [harbor] + [
            dataclasses.replace(PEERS[i % len(PEERS)], slug=f"bench-{i:04d}")
            for i in range(clients)
        ]
        write_peers(folder / "lake", END, cast, days=DAYS)
        (folder / "done").touch()
    return Lake(folder / "lake")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[40, 200])
    args = parser.parse_args()
    agency = load_agency(CONTENT)
    client = load_client(CONTENT / "harbor")
    rates = load_rates(CONTENT, agency)
    october = Period.month("2026-10")
    published = seed_rows()
    for clients in args.clients:
        started = time.perf_counter()
        lake = build_lake(clients)
        built = time.perf_counter() - started
        started = time.perf_counter()
        inputs, _ = benchmark_inputs(
            lake, client, agency, october, rates, published, trend_start=date(2026, 5, 1)
        )
        read = time.perf_counter() - started
        started = time.perf_counter()
        _, frames = benchmark_report.section(inputs, client.slug, october)
        computed = time.perf_counter() - started
        rows = frames["benchmarks"]
        google_cpc = rows[(rows["platform"] == "google_ads") & (rows["metric"] == "cpc")]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{clients:>5} other clients ({len(inputs.portfolio):,} accounts): lake "
            f"{built:.1f} s, read {read:.2f} s, section {computed:.2f} s, "
            f"{len(rows)} rows, peers on Google CPC: {google_cpc['peer_size'].item()}, "
            f"peak RSS {peak:.0f} MB"
        )


if __name__ == "__main__":
    main()
