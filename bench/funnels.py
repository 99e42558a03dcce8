"""Funnel engine: a 5-step funnel over 10 million GA4-like events of 1 million users.

Usage: ``uv run python bench/funnels.py [--runs 3] [--users 1000000] [--events 10000000]``.

The events are generated once (seeded) and cached as Parquet under ``bench/out/``; generating
them runs in a child process so that its memory does not count. Every measurement is a fresh
process that reads the Parquet file as the pipeline reads the lake (Arrow, then ``to_pandas``:
string columns arrive as pandas' Arrow-backed ``str``) and times ``funnels.compute`` alone.
Peak RSS is that process's ``ru_maxrss``: the loaded events plus the computation.

The data: users have 1 to ~10 sessions (mean 2.2) over 60 days, each session starting with
``session_start``; within a session ``view_item`` (50% of sessions, often repeated),
``add_to_cart`` (30% of those, and 5% of sessions without a view), ``remove_from_cart`` (15%
of carts), ``begin_checkout`` (50% of carts, less after a removal), ``purchase`` (60% of
checkouts); the rest is ``page_view``, ``user_engagement`` and ``scroll``. Times are whole
minutes (GA4's grain), so ties are common. ``device_category`` is per user, ``channel`` per
session. The funnel is session_start > view_item > add_to_cart > begin_checkout > purchase,
7 days, by ``device_category``; for information also ``strict`` and with
``remove_from_cart`` as an exclusion.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parent / "out"
STEPS = ["session_start", "view_item", "add_to_cart", "begin_checkout", "purchase"]
CASES = {
    "ordered": {},
    "strict": {"order": "strict"},
    "exclusion": {"exclusions": ["remove_from_cart"]},
}
START = np.datetime64("2026-09-01T00:00:00", "s")
DAYS = 60
DEVICES = (["mobile", "desktop", "tablet"], [0.6, 0.35, 0.05])
CHANNELS = (
    ["Organic Search", "Paid Search", "Direct", "Paid Social", "Email", "Referral"],
    [0.35, 0.2, 0.2, 0.12, 0.08, 0.05],
)
FILLER = (["page_view", "user_engagement", "scroll"], [0.6, 0.25, 0.15])
MINUTE = 60


def _sessions(rng, users: int):
    """Per session: its user and start second (from START)."""
    count = rng.geometric(0.45, users)
    user = np.repeat(np.arange(users), count)
    gap = rng.exponential(2 * 86_400, len(user)).astype(np.int64)
    first = np.r_[0, np.cumsum(count)[:-1]]
    gap[first] = rng.integers(0, DAYS * 86_400, users)
    total = np.cumsum(gap)
    start = total - np.repeat(total[first] - gap[first], count)
    return user, start


def _funnel_events(rng, n_sessions: int):
    """(session, event name, offset seconds) of the funnel's own events, one array each."""
    parts = []

    def add(sessions, name, offset):
        parts.append((sessions, np.full(len(sessions), name, dtype=object), offset))

    sessions = np.arange(n_sessions)
    add(sessions, "session_start", np.zeros(n_sessions, dtype=np.int64))
    viewed = sessions[rng.random(n_sessions) < 0.5]
    view_at = rng.exponential(240, len(viewed)).astype(np.int64)
    repeats = rng.geometric(0.6, len(viewed))
    again = np.repeat(np.arange(len(viewed)), repeats)
    add(viewed[again], "view_item", view_at[again] + rng.exponential(300, len(again)).astype(int))
    carted = rng.random(len(viewed)) < 0.3
    cart = np.r_[viewed[carted], sessions[rng.random(n_sessions) < 0.05]]
    cart_at = np.r_[view_at[carted], np.zeros(len(cart) - carted.sum(), dtype=np.int64)]
    cart_at = cart_at + rng.exponential(360, len(cart)).astype(np.int64)
    add(cart, "add_to_cart", cart_at)
    removed = rng.random(len(cart)) < 0.15
    add(cart[removed], "remove_from_cart", cart_at[removed] + 60)
    checkout = rng.random(len(cart)) < np.where(removed, 0.2, 0.55)
    checkout_at = cart_at[checkout] + rng.exponential(300, checkout.sum()).astype(np.int64)
    add(cart[checkout], "begin_checkout", checkout_at)
    paid = rng.random(checkout.sum()) < 0.6
    add(cart[checkout][paid], "purchase", checkout_at[paid] + rng.exponential(240, paid.sum()))
    return [np.concatenate(column) for column in zip(*parts, strict=True)]


def generate(users: int, events: int, seed: int = 7) -> pa.Table:
    """The events, sorted by time as the lake holds them."""
    rng = np.random.default_rng(seed)
    session_user, session_start = _sessions(rng, users)
    n_sessions = len(session_user)
    session, name, offset = _funnel_events(rng, n_sessions)
    filler = events - len(session)
    session = np.r_[session, rng.integers(0, n_sessions, filler)]
    name = np.r_[name, rng.choice(FILLER[0], filler, p=FILLER[1]).astype(object)]
    offset = np.r_[offset.astype(np.int64), rng.exponential(600, filler).astype(np.int64)]
    seconds = (session_start[session] + offset) // MINUTE * MINUTE
    order = np.argsort(seconds, kind="stable")
    session, name, seconds = session[order], name[order], seconds[order]
    user = session_user[session]
    ids = pc.binary_join_element_wise(
        pa.array(rng.integers(10**9, 10**10, users)).cast(pa.string()),
        pa.array(1_756_684_800 + rng.integers(0, 10**7, users)).cast(pa.string()),
        ".",
    )
    device = rng.choice(DEVICES[0], users, p=DEVICES[1])
    channel = rng.choice(CHANNELS[0], n_sessions, p=CHANNELS[1])
    return pa.table(
        {
            "user_id": ids.take(pa.array(user)),
            "timestamp": pa.array(START + seconds, pa.timestamp("us", tz="UTC")),
            "event_name": pa.array(name, pa.string()),
            "device_category": pa.array(device[user], pa.string()),
            "channel": pa.array(channel[session], pa.string()),
        }
    )


def measure(path: Path, case: str) -> dict:
    """Load the events as the pipeline would, then time one ``compute``."""
    from generator.analytics import funnels

    started = time.perf_counter()
    events = pq.read_table(path).to_pandas()
    loaded = time.perf_counter() - started
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    table = funnels.compute(
        events, STEPS, window=timedelta(days=7), by="device_category", **CASES[case]
    )
    seconds = time.perf_counter() - started
    users = table.groupby("position")["users"].sum().tolist()
    return {
        "case": case,
        "seconds": seconds,
        "load_seconds": loaded,
        "rss_loaded_mb": rss_loaded,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "users": users,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--case", default="ordered", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        started = time.perf_counter()
        pq.write_table(generate(args.users, args.events), args.build)
        print(f"generated in {time.perf_counter() - started:.1f} s")
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.case)))
        return
    path = OUT / f"funnel-events-{args.users}x{args.events}.parquet"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        build = [sys.executable, __file__, f"--users={args.users}", f"--events={args.events}"]
        subprocess.run([*build, f"--build={path}"], check=True)
    results: dict[str, list[dict]] = {case: [] for case in CASES}
    for run in range(args.runs):
        for case in CASES:
            child = [sys.executable, __file__, f"--measure={path}", f"--case={case}"]
            done = subprocess.run(child, check=True, capture_output=True, text=True)
            result = json.loads(done.stdout.splitlines()[-1])
            results[case].append(result)
            print(
                f"run {run + 1} {case:9s} compute {result['seconds']:.2f} s  "
                f"peak RSS {result['rss_mb']:.0f} MB (loaded: {result['rss_loaded_mb']:.0f} MB, "
                f"load {result['load_seconds']:.1f} s)  users per step {result['users']}",
                flush=True,
            )
    for case, values in results.items():
        seconds = [v["seconds"] for v in values]
        print(
            f"{case:9s} median {statistics.median(seconds):.2f} s (min {min(seconds):.2f}, "
            f"max {max(seconds):.2f}), peak RSS max {max(v['rss_mb'] for v in values):.0f} MB"
        )


if __name__ == "__main__":
    main()
