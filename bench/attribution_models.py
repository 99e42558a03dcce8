"""All eight attribution models over 1 million journeys in the events form.

Usage: ``uv run python bench/attribution_models.py [--journeys 1000000] [--runs 3]``.

The events (``attribution_data.events``: one user per journey, about 5 million touchpoints
and 60,000 conversions over a year) are generated once into ``bench/out/``. Measured:
``compare_models(touchpoints, conversions)`` (the journeys are built once, then all eight
models run), the same at campaign grain, and each model alone through ``attribute_events``
(every call rebuilding the journeys), the way a report asking for one model pays for it.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

import attribution_data  # a sibling: python puts bench/ first on the path
import pandas as pd

from generator.analytics.attribution import MODELS, attribute_events, compare_models

OUT = Path(__file__).resolve().parent / "out"


def load_events(journeys: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    touch_path = OUT / f"touchpoints-{journeys}.parquet"
    conv_path = OUT / f"conversions-{journeys}.parquet"
    if not touch_path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        touchpoints, conversions = attribution_data.events(journeys)
        touchpoints.to_parquet(touch_path)
        conversions.to_parquet(conv_path)
    return pd.read_parquet(touch_path), pd.read_parquet(conv_path)


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    touchpoints, conversions = load_events(args.journeys)
    print(f"{len(touchpoints):,} touchpoints, {len(conversions):,} conversions")
    together = [timed(lambda: compare_models(touchpoints, conversions)) for _ in range(args.runs)]
    print(
        f"{'compare_models, 8 models, channel grain':45s} median "
        f"{statistics.median(together):.2f} s (min {min(together):.2f}, max {max(together):.2f})"
    )
    campaign = timed(lambda: compare_models(touchpoints, conversions, grain="campaign"))
    print(f"{'compare_models, 8 models, campaign grain':45s} {campaign:.2f} s (once)")
    alone = {m: timed(lambda m=m: attribute_events(touchpoints, conversions, m)) for m in MODELS}
    for model, seconds in alone.items():
        print(f"  attribute_events {model:28s} {seconds:.2f} s")
    print(f"{'8 separate attribute_events calls':45s} {sum(alone.values()):.2f} s in total")
    out = compare_models(touchpoints, conversions)
    sums = out[list(MODELS)].sum()
    assert (sums - len(conversions)).abs().max() < 1e-6, sums
    print(f"credits sum to the {len(conversions):,} conversions under every model")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
