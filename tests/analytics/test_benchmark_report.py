"""The Benchmarks section: the client's value, its interval and its standing against a
published figure and the portfolio, with known answers and the anonymity rules."""

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from generator.analytics import benchmark_report, peers
from generator.analytics import benchmarks as bm
from generator.analytics.benchmark_seed import BenchmarkRow
from generator.periods import Period

OCTOBER = Period.month("2026-10")


def published(metric: str, value: float, unit: str, **changes) -> BenchmarkRow:
    fields = {
        "source_id": "test-source",
        "publisher": "Test Publisher",
        "report_title": "Search benchmarks",
        "url": "https://example.org/benchmarks",
        "grade": "B",
        "edition": "2026",
        "published": date(2026, 6, 1),
        "window_start": date(2025, 4, 1),
        "window_end": date(2026, 3, 31),
        "platform": "search",
        "network": "search",
        "industry": "all",
        "metric": metric,
        "statistic": "median",
        "value": value,
        "unit": unit,
    }
    return BenchmarkRow(**(fields | changes))


def own_days(platform: str = "google_ads", days: int = 31, **daily) -> pd.DataFrame:
    """Identical days: each with the given sums."""
    sums = {"spend": 100.0, "impressions": 10_000, "clicks": 500, "conversions": 25.0} | daily
    sums.setdefault("value", 300.0)
    first = OCTOBER.start
    return pd.DataFrame(
        [{"date": first + timedelta(days=i), "platform": platform, **sums} for i in range(days)]
    )


def portfolio(n: int, *, cpc=lambda i: 1.0 + i**2 / 10, spend=lambda i: 1000.0) -> pd.DataFrame:
    """``n`` other clients with one Google account each (CPC set per client) plus the client."""
    rows = [
        {
            "client": f"other-{i}",
            "platform": "google_ads",
            "account_id": f"acct-{i}",
            "spend": spend(i),
            "impressions": 100_000 + 1000 * i,
            "clicks": spend(i) / cpc(i),
            "conversions": 20.0,
            "value": 2 * spend(i),
        }
        for i in range(n)
    ]
    rows.append({**rows[0], "client": "me", "account_id": "mine", "clicks": 10.0})
    return pd.DataFrame(rows)


def profiles(frame: pd.DataFrame) -> dict[str, peers.Profile]:
    return {c: peers.Profile(c, ("all",)) for c in frame["client"]}


def inputs(own, folio, rows=(), **changes) -> benchmark_report.Inputs:
    return benchmark_report.Inputs(
        own=own,
        portfolio=folio,
        profiles=profiles(folio),
        published=list(rows),
        industries=("all",),
        spec=peers.PeerSpec("all"),
        **changes,
    )


def row(frame: pd.DataFrame, platform: str, metric: str) -> pd.Series:
    found = frame[(frame["platform"] == platform) & (frame["metric"] == metric)]
    assert len(found) == 1, (platform, metric)
    return found.iloc[0]


def test_values_intervals_and_the_modelled_standing_are_known_answers():
    rows = [published("cpc", 0.25, "USD"), published("ctr", 4.0, "%")]
    summary, frames = benchmark_report.section(
        inputs(own_days(), portfolio(12), rows), "me", OCTOBER
    )
    table = frames["benchmarks"]
    ctr = row(table, "google_ads", "ctr")
    assert ctr["value"] == pytest.approx(0.05)  # 500 / 10,000 a day, every day
    assert (ctr["low"], ctr["high"]) == pytest.approx(bm.wilson(31 * 500, 31 * 10_000))
    sigma = ctr["sigma"]  # no second point in the source: the family default
    expected = 100 * stats.norm.cdf(math.log(0.05 / 0.04) / sigma)
    assert ctr["pub_pct"] == pytest.approx(min(expected, 95))
    assert ctr["pub_vs"] == "better"  # the whole interval lies above 4%
    cpc = row(table, "google_ads", "cpc")
    assert cpc["value"] == pytest.approx(0.2)  # 100 / 500, every day: no spread at all
    assert cpc["low"] == pytest.approx(0.2) and cpc["high"] == pytest.approx(0.2)
    # lower is better: a CPC below the median stands above the 50th percentile
    assert cpc["pub_pct"] > 50 and cpc["pub_vs"] == "better"
    assert cpc["pub_p25"] > cpc["pub_median"] > cpc["pub_p75"]  # worse, median, better
    assert summary["rated"] >= 2 and summary["group"]["industry"] == "all"


def test_published_costs_are_converted_to_the_reporting_currency():
    rows = [published("cpc", 0.25, "USD")]
    _, frames = benchmark_report.section(
        inputs(own_days(), portfolio(3), rows, usd=0.9, currency="EUR"), "me", OCTOBER
    )
    assert row(frames["benchmarks"], "google_ads", "cpc")["pub_median"] == pytest.approx(0.225)


def test_peer_medians_need_five_other_companies_and_quartiles_ten():
    for n, median, quartiles in ((4, False, False), (5, True, False), (10, True, True)):
        _, frames = benchmark_report.section(inputs(own_days(), portfolio(n)), "me", OCTOBER)
        cpc = row(frames["benchmarks"], "google_ads", "cpc")
        assert (cpc["peer_median"] is not None and not pd.isna(cpc["peer_median"])) == median, n
        assert (not pd.isna(cpc["peer_p25"])) == quartiles, n
        assert (cpc["peer_pct"] is not None and not pd.isna(cpc["peer_pct"])) == quartiles, n
        if not median:
            assert "fewer than 5" in cpc["peer_suppressed"]


def test_no_peer_value_reaches_the_section():
    """Whatever the cohort size, no number of the section is one peer's own number."""
    for n in (5, 9, 10, 11):
        folio = portfolio(n, cpc=lambda i: 0.5 + 0.37 * i**1.5, spend=lambda i: 900.0 + 10 * i)
        summary, frames = benchmark_report.section(inputs(own_days(), folio), "me", OCTOBER)
        values = peers.account_values(folio)
        secret = values[values["client"] != "me"]["value"].to_numpy()
        for frame in frames.values():
            numbers = frame.select_dtypes("number").to_numpy(dtype=float).ravel()
            numbers = numbers[np.isfinite(numbers)]
            close = np.isclose(numbers[:, None], secret[None, :], rtol=1e-9, atol=0)
            assert not close.any(), (n, numbers[close.any(axis=1)])
        assert not any(f"other-{i}" in str(summary) for i in range(n))


def test_a_dominant_peer_withholds_the_cohort():
    folio = portfolio(10, spend=lambda i: 50_000.0 if i == 0 else 1000.0)
    _, frames = benchmark_report.section(inputs(own_days(), folio), "me", OCTOBER)
    cpc = row(frames["benchmarks"], "google_ads", "cpc")
    assert pd.isna(cpc["peer_median"]) and "30%" in cpc["peer_suppressed"]


def test_only_ad_platforms_and_the_peer_groups_platforms_are_rated():
    own = pd.concat([own_days(), own_days("newsletter"), own_days("linkedin")])
    _, frames = benchmark_report.section(inputs(own, portfolio(3)), "me", OCTOBER)
    assert set(frames["benchmarks"]["platform"]) == {"google_ads", "linkedin"}
    chosen = inputs(own, portfolio(3), platforms=("linkedin",))
    _, frames = benchmark_report.section(chosen, "me", OCTOBER)
    assert set(frames["benchmarks"]["platform"]) == {"linkedin"}
    assert (
        benchmark_report.section(inputs(own_days("newsletter"), portfolio(3)), "me", OCTOBER)
        is None
    )


def test_the_trend_uses_the_edition_in_force_each_month():
    old = published("cpc", 0.25, "USD", edition="2025", published=date(2025, 6, 1),
                    window_start=date(2024, 4, 1), window_end=date(2025, 3, 31))  # fmt: skip
    new = published("cpc", 0.40, "USD")  # published 2026-06-01
    own = pd.concat(
        [
            own_days().assign(date=lambda f, k=k: f["date"] - timedelta(days=31 * k))
            for k in range(6)
        ]
    )
    _, frames = benchmark_report.section(inputs(own, portfolio(3), [old, new]), "me", OCTOBER)
    trend = frames["benchmark_trend"]
    cpc = trend[(trend["metric"] == "cpc")].set_index("month")
    assert cpc.loc["2026-05", "pub_edition"] == "2025"
    assert cpc.loc["2026-06", "pub_edition"] == "2026"
    assert cpc.loc["2026-10", "pub_median"] == pytest.approx(0.40)
    assert set(frames["benchmark_sources"]["edition"]) == {"2026"}  # what the table cites


def test_a_withheld_cohort_says_why_without_its_exact_size():
    _, frames = benchmark_report.section(inputs(own_days(), portfolio(7)), "me", OCTOBER)
    cpc = row(frames["benchmarks"], "google_ads", "cpc")
    assert cpc["peer_size"] == "5–10 companies"
    assert cpc["peer_suppressed"] == "quartiles need at least 10 companies"
