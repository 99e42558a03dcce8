"""Markov attribution on 1 million journeys (paths form) against ChannelAttribution.

Usage (ChannelAttribution is only ever pulled in for this script, never a dependency)::

    uv run --with channelattribution --with matplotlib python bench/attribution_markov.py

The paths (``attribution_data.paths``, 1,000,000 journeys over 12 channels, several hundred
thousand distinct paths) are generated once into ``bench/out/``. Measured side by side,
interleaved, in one process: our exact first-order chain (``attribute_paths(..., "markov")``,
parsing included) and ChannelAttribution's ``markov_model`` with its default settings
(simulation, order 1). Also reported: how far ChannelAttribution's credits are from the exact
ones, the order-2 and order-3 chains, and all seven path models through ``compare_models``.
Without ChannelAttribution installed, only our side is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import statistics
import time
from pathlib import Path

import attribution_data  # a sibling: python puts bench/ first on the path
import pandas as pd

from generator.analytics.attribution import attribute_paths, compare_models

OUT = Path(__file__).resolve().parent / "out"


def load_paths(journeys: int) -> pd.DataFrame:
    path = OUT / f"paths-{journeys}.parquet"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        attribution_data.paths(journeys).to_parquet(path)
    return pd.read_parquet(path)


def channel_attribution(paths: pd.DataFrame) -> pd.DataFrame:
    import ChannelAttribution

    with contextlib.redirect_stdout(io.StringIO()):  # it prints a banner and progress
        result = ChannelAttribution.markov_model(
            paths, "path", "conversions", var_value="value", var_null="nulls", verbose=False
        )
    frame = result["result"] if isinstance(result, dict) else result
    return frame.rename(
        columns={
            "channel_name": "channel",
            "total_conversions": "conversions",
            "total_conversion_value": "value",
        }
    )


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    paths = load_paths(args.journeys)
    journeys = int(paths["conversions"].sum() + paths["nulls"].sum())
    print(f"{journeys:,} journeys, {len(paths):,} distinct paths")
    try:
        import ChannelAttribution  # noqa: F401

        have_ca = True
    except ImportError:
        have_ca = False
        print("ChannelAttribution is not installed: measuring our side only")
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(args.runs):
        seconds, exact = timed(lambda: attribute_paths(paths, "markov"))
        ours.append(seconds)
        if have_ca:
            seconds, simulated = timed(lambda: channel_attribution(paths))
            theirs.append(seconds)
    report("ours: exact markov, order 1", ours)
    if have_ca:
        report("ChannelAttribution markov_model (defaults)", theirs)
        compare = exact.merge(simulated, on="channel", suffixes=("", "_ca"))
        for column in ("conversions", "value"):
            error = (compare[f"{column}_ca"] / compare[column] - 1).abs()
            print(
                f"ChannelAttribution vs exact, {column}: max {error.max():.1%}, "
                f"mean {error.mean():.1%} off"
            )
    for order in (2, 3):
        seconds, _ = timed(lambda order=order: attribute_paths(paths, "markov", order=order))
        print(f"{'ours: exact markov, order ' + str(order):45s} {seconds:.3f} s (once)")
    seconds, _ = timed(lambda: compare_models(paths))
    print(f"{'ours: compare_models, 7 path models':45s} {seconds:.3f} s (once)")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def report(name: str, values: list[float]) -> None:
    print(
        f"{name:45s} median {statistics.median(values):.3f} s  "
        f"(min {min(values):.3f}, max {max(values):.3f})"
    )


if __name__ == "__main__":
    main()
