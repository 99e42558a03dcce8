"""KPI rollups at day, campaign, platform and month grain over 10 million ad-day rows.

Usage: ``uv run python bench/analytics_kpis.py [--runs 7] [--ads 27400] [--days 365]``.

The data (365 days x 27,400 ads = 10,001,000 canonical ``ad_performance`` rows in 6 platforms,
60 accounts, 600 campaigns) is written once through ``Lake.write_days`` to
``bench/out/kpi-lake`` and reused. Measured side by side, interleaved, in one process:

- over the lake (Parquet through ``Lake.query``): a plain DuckDB group-by at campaign grain
  (the floor) and ``kpis.rollups`` for the four grains together;
- in memory (the same rows, the columns a rollup reads, as one Arrow table): the same two;
- pandas ``kpis.compute`` for the four grains on the rows as a DataFrame (reference).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from generator.analytics import kpis
from generator.lake import Lake
from generator.periods import Period

OUT = Path(__file__).resolve().parent / "out" / "kpi-lake"
GRAINS = {
    "day": ["date"],
    "campaign": ["platform", "campaign_id"],
    "platform": ["platform"],
    "month": ["month"],
}
PLATFORMS = ["google_ads", "facebook", "tiktok", "linkedin", "microsoft_ads", "pinterest"]
START = date(2025, 11, 1)
ADS = 27_400
COLUMNS = [
    "date",
    "platform",
    "campaign_id",
    "currency",
    "impressions",
    "clicks",
    "spend_micros",
    "conversions",
    "value_micros",
    "video_views",
]
PLAIN = (
    "SELECT campaign_id, SUM(impressions), SUM(clicks), SUM(spend_micros), SUM(conversions), "
    "SUM(value_micros) FROM ad_performance GROUP BY campaign_id"
)


def account_rows(account: int, ads: np.ndarray, total: int, days: int, rng) -> pa.Table:
    """One account's canonical rows for every day and ad (600 campaigns over ``total`` ads)."""
    n = len(ads) * days
    ad = np.tile(ads, days)
    campaign = ad * 600 // total
    day = np.repeat(np.arange(days), len(ads))
    impressions = rng.poisson(400, n)
    clicks = rng.binomial(impressions, 0.02)
    platform = PLATFORMS[account % len(PLATFORMS)]
    columns = {
        "date": pa.array(day.astype("int32") + (START - date(1970, 1, 1)).days, pa.date32()),
        "platform": pa.array(np.full(n, platform)),
        "source": pa.array(np.full(n, platform)),
        "account_id": pa.array(np.full(n, f"acct-{account}")),
        "account_timezone": pa.array(np.full(n, "UTC")),
        "currency": pa.array(np.full(n, "USD")),
        "campaign_id": pa.array(np.char.add("cmp-", campaign.astype(str))),
        "ad_group_id": pa.array(np.char.add("grp-", (ad // 10).astype(str))),
        "ad_id": pa.array(np.char.add("ad-", ad.astype(str))),
        "impressions": impressions,
        "clicks": clicks,
        "spend_micros": clicks * rng.integers(200_000, 3_000_000, n),
        "conversions": rng.binomial(clicks, 0.05).astype(np.float64),
        "value_micros": rng.integers(0, 50_000_000, n),
        "fetched_at": pa.array(
            np.full(n, datetime(2026, 11, 1, tzinfo=UTC)), pa.timestamp("us", "UTC")
        ),
        "api_version": pa.array(np.full(n, "bench")),
    }
    return pa.table(columns)


def build_lake(ads: int, days: int) -> Lake:
    marker = OUT / f"ready-{ads}x{days}"
    lake = Lake(OUT)
    if marker.exists():
        return lake
    rng = np.random.default_rng(11)
    period = Period.between(START, START + timedelta(days=days - 1))
    for account, chunk in enumerate(np.array_split(np.arange(ads), 60)):
        table = account_rows(account, chunk, ads, days, rng)
        platform = PLATFORMS[account % len(PLATFORMS)]
        lake.write_days("ad_performance", "bench", platform, f"acct-{account}", period, table)
    marker.touch()
    return lake


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def side_by_side(cases: dict, runs: int) -> None:
    """Run the cases interleaved ``runs`` times; print median, min and max of each."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, case in cases.items():
            times[name].append(timed(case))
    for name, values in times.items():
        print(
            f"{name:45s} median {statistics.median(values):.3f} s  "
            f"(min {min(values):.3f}, max {max(values):.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--ads", type=int, default=ADS)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        build_lake(args.ads, args.days)
        return
    # building runs in a child so that its memory does not count against the measurements
    command = [sys.executable, __file__, "--build-only", f"--ads={args.ads}", f"--days={args.days}"]
    subprocess.run(command, check=True)
    lake = Lake(OUT)
    rows = lake.query("SELECT COUNT(*) AS n FROM ad_performance").column("n")[0].as_py()
    print(f"{rows:,} ad-day rows in the lake; {args.runs} interleaved runs")
    side_by_side(
        {
            "lake: plain DuckDB group-by (campaign)": lambda: lake.query(PLAIN),
            "lake: kpis.rollups, 4 grains": lambda: kpis.rollups(lake.query, GRAINS),
        },
        args.runs,
    )
    print(f"peak RSS after the lake phase: {peak_mb():.0f} MB")
    # only the columns a rollup reads: what a caller holding the rows in memory would keep
    table = lake.query(f"SELECT {', '.join(COLUMNS)} FROM ad_performance")
    side_by_side(
        {
            "memory: plain DuckDB group-by (campaign)": lambda: plain_in_memory(table),
            "memory: kpis.rollups, 4 grains": lambda: kpis.rollups(table, GRAINS),
        },
        args.runs,
    )
    print(f"peak RSS after the in-memory phase (rows held as Arrow): {peak_mb():.0f} MB")
    frame = table.to_pandas()
    pandas_time = timed(lambda: [kpis.compute(frame, by) for by in GRAINS.values()])
    print(f"{'pandas: kpis.compute, 4 grains (once)':45s} {pandas_time:.3f} s")
    check = kpis.rollups(lake.query, GRAINS, ["cpa", "roas", "ctr"])
    for name, by in GRAINS.items():
        expected = kpis.compute(frame, by, ["cpa", "roas", "ctr"])
        for kpi in ("cpa", "roas", "ctr"):
            assert np.allclose(check[name][kpi].to_numpy(float), expected[kpi].to_numpy(float))
    print(f"same numbers as pandas: yes; peak RSS with a pandas copy too: {peak_mb():.0f} MB")


def plain_in_memory(table: pa.Table) -> pa.Table:
    with duckdb.connect() as con:
        con.register("ad_performance", table)
        return con.sql(PLAIN).to_arrow_table()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
