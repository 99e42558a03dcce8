"""The creatives part of a report: which ads each test compares and over which days, the
verdicts, declared tests, tag splits, versions and fatigue (issue 16)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from generator.analytics.creative_report import declared_id, section
from generator.config import Client
from generator.periods import Period

OCTOBER = Period.month("2026-10")
DAY = timedelta(days=1)


def client(**creatives) -> Client:
    return Client.model_validate(
        {
            "slug": "acme", "name": "Acme", "industry": "retail", "currency": "USD",
            "timezone": "UTC", "accounts": [{"platform": "meta", "account_id": "1"}],
            "creatives": creatives,
        }
    )  # fmt: skip


def rows(ad: str, days: range, impressions: int, clicks, conversions=0, group="g1") -> list[dict]:
    """Daily rows of one ad on October's days ``days`` (1-based); ``clicks`` a number per
    day or a function of the day's index."""
    out = []
    for i, day in enumerate(days):
        n_clicks = clicks(i) if callable(clicks) else clicks
        out.append(
            {
                "date": date(2026, 10, day), "platform": "Facebook", "account_id": "1",
                "campaign_id": "c1", "campaign_name": "Spring", "ad_group_id": group,
                "ad_group_name": f"Group {group}", "ad_id": ad, "ad_name": f"Ad {ad}",
                "impressions": impressions, "clicks": n_clicks, "conversions": conversions,
                "spend": 10.0, "value": 0.0,
            }
        )  # fmt: skip
    return out


def ads_of(daily: pd.DataFrame, **extra) -> pd.DataFrame:
    keys = ["platform", "account_id", "campaign_id", "ad_group_id", "ad_id"]
    ads = daily.groupby(keys, as_index=False).agg(
        ad_name=("ad_name", "last"),
        ad_group_name=("ad_group_name", "last"),
        campaign_name=("campaign_name", "last"),
        impressions=("impressions", "sum"),
        clicks=("clicks", "sum"),
        conversions=("conversions", "sum"),
        spend=("spend", "sum"),
    )
    ads["campaign_slug"] = "c-000000000000"
    for column, values in extra.items():
        ads[column] = ads["ad_id"].map(values)
    return ads


def run(daily: pd.DataFrame, creatives=None, ads=None, **config):
    ads = ads_of(daily) if ads is None else ads
    current = daily[(daily["date"] >= OCTOBER.start) & (daily["date"] <= OCTOBER.end)]
    creatives = pd.DataFrame() if creatives is None else creatives
    return section(daily, current, ads, creatives, client(**config), OCTOBER)


def test_an_ad_group_is_compared_on_the_days_its_ads_all_served():
    # a and b serve all month; c only its last three days: with c, the ads would share three
    # days, so c is left out and a and b are compared over all 31
    daily = pd.DataFrame(
        rows("a", range(1, 32), 1000, 30) + rows("b", range(1, 32), 1000, 20)
        + rows("c", range(29, 32), 1000, 90)
    )  # fmt: skip
    summary, frames = run(daily)
    (test,) = summary["tests"]
    assert test["arms"] == ["a", "b"] and test["days"] == 31
    assert (test["start"], test["end"]) == ("2026-10-01", "2026-10-31")
    ctr = frames["creative_tests"].query("metric == 'ctr'").set_index("ad_id")
    assert ctr.loc["a", "trials"] == 31_000 and ctr.loc["b", "successes"] == 620
    # by hand: pooled 1,550 of 62,000 = 2.5%; se = sqrt(.025 x .975 x 2 / 31,000)
    se = np.sqrt(0.025 * 0.975 * 2 / 31_000)
    assert ctr.loc["b", "p_value"] == pytest.approx(2 * stats.norm.sf(0.01 / se), rel=1e-9)
    assert ctr.loc["b", "diff"] == pytest.approx(-0.01)
    assert (ctr.loc["a", "verdict"], ctr.loc["b", "verdict"]) == ("winner", "loser")
    assert test["results"]["ctr"]["winner"] == "a" and test["headline"] == "winner"
    ads = frames["ads"].set_index("ad_id")
    assert ads.loc["a", "verdict"] == "winner on CTR" and ads.loc["b", "verdict"] == "loser on CTR"
    assert pd.isna(ads.loc["c", "verdict"])
    cumulative = frames["creative_test_daily"].query("metric == 'ctr' and ad_id == 'b'")
    assert len(cumulative) == 31 and cumulative["rate"].iloc[-1] == pytest.approx(0.02)


def test_a_group_whose_ads_never_served_together_long_enough_is_no_test():
    daily = pd.DataFrame(rows("a", range(1, 11), 1000, 30) + rows("b", range(8, 32), 1000, 20))
    summary, frames = run(daily)
    assert summary["tests"] == [] and frames["creative_tests"].empty


def test_a_declared_test_uses_its_own_window_and_first_variant_as_control():
    daily = pd.DataFrame(
        rows("a", range(1, 32), 1000, 30, group="g1")
        + rows("b", range(1, 32), 1000, 30, group="g2")
    )
    config = {"tests": [{"name": "Hero image", "variants": ["b", "a"], "metric": "ctr",
                         "start": "2026-10-10", "end": "2026-10-19"}]}  # fmt: skip
    summary, frames = run(daily, **config)
    (test,) = summary["tests"]  # a and b are in different ad groups: only the declared test
    assert test["id"] == declared_id("Hero image") and test["kind"] == "declared"
    assert (test["name"], test["metric"], test["days"]) == ("Hero image", "ctr", 10)
    ctr = frames["creative_tests"].query("metric == 'ctr'").set_index("ad_id")
    assert ctr.loc["b", "is_control"] and ctr.loc["a", "trials"] == 10_000
    assert ctr.loc["a", "p_value"] == pytest.approx(1.0)  # the same rate
    assert test["results"]["ctr"]["verdict"] == "not yet significant"


def test_tags_split_the_ads_and_fatigue_is_flagged():
    falling = rows("tired", range(1, 32), 5000, lambda i: 150 - 4 * i, group="g1")
    steady = rows("fresh", range(1, 32), 5000, 100, group="g2")
    daily = pd.DataFrame(falling + steady)
    ads = ads_of(daily, headline={"tired": "Summer sale", "fresh": "New arrivals"})
    summary, frames = run(daily, ads=ads, tags={"discount": "headline contains 'sale' or '%'"})
    assert summary["tags"] == ["discount"] and summary["fatigued"] == 1
    tagged = frames["ads"].set_index("ad_id")
    assert tagged.loc["tired", "tag_discount"] and not tagged.loc["fresh", "tag_discount"]
    assert "discount" in tagged.loc["tired", "tags"]
    assert tagged.loc["tired", "fatigued"] and not tagged.loc["fresh", "fatigued"]
    assert tagged.loc["tired", "fatigue_note"].startswith("CTR falls ")
    split = frames["creative_splits"].query("metric == 'ctr'").set_index("arm")
    # the tired ad's clicks: 150 + 146 + ... + 30 = 31 x 90
    assert split.loc["discount", "successes"] == 31 * 90
    assert split.loc["not discount", "successes"] == 3100
    assert list(split["ads"]) == [1, 1]


def test_versions_and_reused_images_are_counted_per_ad():
    daily = pd.DataFrame(rows("a", range(1, 32), 1000, 30) + rows("b", range(1, 32), 1000, 20))
    base = {
        "platform": "facebook",
        "source": "meta",
        "account_id": "1",
        "format": "image",
        "headline": "Spring",
        "first_seen": date(2026, 9, 1),
        "phash": "ff00ff00ff00ff00",
    }
    creatives = pd.DataFrame(
        [
            {**base, "creative_id": "ca", "ad_id": "a", "version": "v1"},
            {**base, "creative_id": "ca", "ad_id": "a", "version": "v2", "headline": "Spring!",
             "first_seen": date(2026, 10, 5)},
            {**base, "creative_id": "cb", "ad_id": "b", "version": "v1",
             "phash": "ff00ff00ff00ff01"},
        ]
    )  # fmt: skip
    summary, frames = run(daily, creatives=creatives)
    ads = frames["ads"].set_index("ad_id")
    assert (ads.loc["a", "versions"], ads.loc["b", "versions"]) == (2, 1)
    assert (ads.loc["a", "image_group_size"], ads.loc["b", "image_group_size"]) == (2, 2)
    assert (summary["changed"], summary["reused"]) == (1, 2)
    history = frames["creative_history"].query("ad_id == 'a'")
    assert list(history["version_number"]) == [1, 2]
    assert "headline" in history["changed"].iloc[1]
