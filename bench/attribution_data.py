"""Synthetic customer journeys for the attribution benchmarks (seeded, vectorised).

``journeys(n)`` draws n journeys from a first-order Markov chain over a dozen channels, with
a conversion probability that grows with the channels touched and a log-normal order value.
``paths(n)`` aggregates them to the paths form (``path, conversions, value, nulls``);
``events(n)`` spreads them over users and time as touchpoints and conversions. With the
defaults, 1 million journeys give about 5 million touches and several hundred thousand
distinct paths.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

CHANNELS = np.array(
    [
        "google_search",
        "google_display",
        "youtube",
        "facebook",
        "instagram",
        "tiktok",
        "linkedin",
        "x",
        "pinterest",
        "email",
        "affiliate",
        "direct",
    ]
)


def journeys(n: int, *, seed: int = 7, mean_length: float = 5.0):
    """Flat journeys: (channel codes per touch, journey offsets, converted, value)."""
    rng = np.random.default_rng(seed)
    k = len(CHANNELS)
    lengths = 1 + rng.poisson(mean_length - 1, n)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    total = int(starts[-1])
    journey = np.repeat(np.arange(n), lengths)
    first = rng.choice(k, size=n, p=rng.dirichlet(np.full(k, 2.0)))
    # each next channel: stay with probability 0.2, else a channel drawn from a skewed mix
    mix = rng.dirichlet(np.full(k, 1.5))
    codes = rng.choice(k, size=total, p=mix)
    stay = rng.random(total) < 0.2
    codes[starts[:-1]] = first
    for _ in range(3):  # a few passes propagate runs of repeated channels
        previous = np.roll(codes, 1)
        codes = np.where(stay & (np.arange(total) != starts[journey]), previous, codes)
    lift = rng.uniform(0.005, 0.04, k)
    logit = -3.2 + np.bincount(journey, lift[codes] * 10, minlength=n) / np.sqrt(lengths)
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    value = np.where(converted, np.round(rng.lognormal(4.0, 0.6, n), 2), 0.0)
    return codes.astype(np.int32), starts, converted, value


def paths(n: int, *, seed: int = 7) -> pd.DataFrame:
    """The paths form of ``journeys(n)``: one row per distinct path."""
    codes, starts, converted, value = journeys(n, seed=seed)
    names = CHANNELS[codes]
    text = np.array(
        [" > ".join(names[a:b]) for a, b in itertools.pairwise(starts)],
        dtype=object,
    )
    frame = pd.DataFrame({"path": text, "conversions": converted.astype(np.int64), "value": value})
    frame["nulls"] = 1 - frame["conversions"]
    grouped = frame.groupby("path", sort=False, as_index=False).sum()
    return grouped[["path", "conversions", "value", "nulls"]]


def events(n: int, *, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(touchpoints, conversions) of ``journeys(n)``: one user per journey, over a year."""
    rng = np.random.default_rng(seed + 1)
    codes, starts, converted, value = journeys(n, seed=seed)
    lengths = np.diff(starts)
    journey = np.repeat(np.arange(n), lengths)
    begin = np.datetime64("2026-01-01T00:00:00", "s") + rng.integers(0, 330 * 86_400, n)
    gaps = rng.exponential(2.0 * 86_400, len(codes)).astype(np.int64)
    gaps[starts[:-1]] = 0
    offset = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[starts[:-1]], lengths)
    users = np.char.add("u", np.arange(n).astype(str)).astype(object)
    campaign = codes * 4 + rng.integers(0, 4, len(codes))  # four campaigns per channel
    campaigns = np.char.add("cmp-", campaign.astype(str)).astype(object)
    touchpoints = pd.DataFrame(
        {
            "user_id": users[journey],
            "timestamp": pd.to_datetime(begin[journey] + offset, utc=True),
            "channel": CHANNELS[codes].astype(object),
            "campaign_id": campaigns,
        }
    )
    last = begin + offset[starts[1:] - 1] + rng.integers(60, 3 * 86_400, n)
    conversions = pd.DataFrame(
        {
            "user_id": users[converted],
            "timestamp": pd.to_datetime(last[converted], utc=True),
            "value": value[converted],
        }
    )
    return touchpoints, conversions
