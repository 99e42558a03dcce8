"""The demo's synthetic peer advertisers: a cast shaped for every case of the Benchmarks page,
in the canonical schema, the same in every run."""

from collections import Counter
from datetime import date

import pyarrow.compute as pc

from generator.analytics.industries import taxonomy
from generator.sandbox.peers import PEERS, performance
from generator.schema import AD_PERFORMANCE, validate


def test_the_cast_fills_one_cohort_and_leaves_a_niche_to_fall_back():
    apparel = [
        p for p in PEERS if p.industry == "ecommerce/apparel" and p.region == "north_america"
    ]
    assert sum("google_ads" in p.platforms for p in apparel) >= 10  # full quartiles
    dental = [p for p in PEERS if p.industry == "local/dental"]
    assert 0 < len(dental) < 5  # too few: dental falls back to health
    health = [p for p in PEERS if "health" in taxonomy().chain(p.industry)]
    assert len(health) >= 5
    assert len({p.slug for p in PEERS}) == len(PEERS)
    for peer in PEERS:
        taxonomy().chain(peer.industry)  # every industry is known


def test_a_peers_days_are_canonical_and_reproducible():
    peer = next(p for p in PEERS if p.currency == "EUR")
    table = performance(peer, date(2026, 8, 1), date(2026, 8, 31))
    validate(table, AD_PERFORMANCE)
    assert table.num_rows == 31 * len(peer.platforms)
    assert set(table["currency"].to_pylist()) == {"EUR"}
    sources = Counter(zip(table["platform"].to_pylist(), table["source"].to_pylist(), strict=True))
    assert all(s == ("meta" if p in ("facebook", "instagram") else p) for p, s in sources)
    assert pc.min(table["impressions"]).as_py() > 0
    clicks, impressions = pc.sum(table["clicks"]).as_py(), pc.sum(table["impressions"]).as_py()
    assert 0 < clicks < impressions
    assert performance(peer, date(2026, 8, 1), date(2026, 8, 31)).equals(table)
    other = performance(peer, date(2026, 8, 1), date(2026, 8, 31), seed=8)
    assert not other.equals(table)
