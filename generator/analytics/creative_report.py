"""The creatives part of a report: each ad's creative with its tags, versions, image reuse
and fatigue, and the creative A/B tests.

A test is an ad group in which two or more ads served in the period, or a test declared in
client.yml. An ad group's ads are compared only on the days all of them served (an ad that
started in the period's last week would otherwise be compared with its siblings' first
weeks, and seasonality would pass for a creative effect); when that overlap is shorter than
``MIN_OVERLAP_DAYS`` the ad with the fewest days is left out until it is long enough. Each
test is compared on CTR and on conversion rate (``creative_tests.compare_arms``), and the
client's tags split all ads into "with the tag" and "without" on both metrics.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, timedelta

import numpy as np
import pandas as pd

from generator.analytics import creative_tags, creative_tests
from generator.analytics.creative_fatigue import fatigue
from generator.config import Client
from generator.creatives import versions
from generator.errors import ReportError
from generator.periods import Period
from generator.tag_rules import TagRule

__all__ = ["METRIC_LABELS", "MIN_OVERLAP_DAYS", "TEST_METRICS", "declared_id", "section"]

#: the metrics every test is compared on, in the order pages show them
TEST_METRICS = ("ctr", "cvr")
#: how a sentence names each metric
METRIC_LABELS = {"ctr": "CTR", "cvr": "conversion rate"}
#: days an ad group's ads must have served together to be compared
MIN_OVERLAP_DAYS = 7
#: days with impressions an ad needs for the fatigue fit, and the days before the period's end
#: it reads (fatigue is a creative wearing out now, not a slow drift over its lifetime)
FATIGUE_MIN_DAYS = 14
FATIGUE_WINDOW_DAYS = 56
#: the weekly fall in CTR that makes a significant decline worth a flag
FATIGUE_MIN_WEEKLY_DROP = 0.02
_GROUP = ["platform", "account_id", "campaign_id", "ad_group_id"]


def section(
    performance: pd.DataFrame,
    current: pd.DataFrame,
    ads: pd.DataFrame,
    creatives: pd.DataFrame,
    client: Client,
    period: Period,
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """The summary and tables of the creatives part.

    Args:
        performance: the client's daily ad rows up to the period's end (fatigue and declared
            tests read days before the period too).
        current: the period's rows.
        ads: one row per ad of the period with its latest creative (``report._ads``).
        creatives: the client's creative versions as stored (may be empty).

    Returns:
        ``summary`` with ``tests`` (one dict per test for the pages), ``tags`` (the client's
        tag names), ``fatigued``, ``changed`` and ``reused`` counts; tables ``ads`` (with
        ``tags``, ``tag_<name>``, ``versions``, ``image_group_size``,
        ``fatigued``, ``fatigue_note`` and ``verdict``), ``creative_tests`` (one row per arm
        and metric), ``creative_test_daily`` (cumulative rates for the charts),
        ``creative_splits``, ``creative_history`` and ``creative_fatigue``.
    """
    rules = client.creatives.rules()
    ads = creative_tags.tag(ads, rules)
    history, reuse = _versions(creatives)
    ads = _with_versions(ads, history, reuse)
    flagged = _fatigue(performance, ads, period)
    ads = _with_fatigue(ads, flagged)
    group_tests, group_daily = _group_tests(current, ads)
    declared, declared_daily = _declared(performance, client)
    tests = pd.concat([t for t in (group_tests, declared) if not t.empty] or [group_tests])
    ads = _with_verdicts(ads, group_tests)
    splits = _splits(ads, rules)
    summary = {
        "tests": _test_summaries(tests, ads),
        "tags": sorted(rules),
        "fatigued": int(ads["fatigued"].sum()),
        "changed": int((ads["versions"] > 1).sum()),
        "reused": int((ads["image_group_size"] > 1).sum()),
    }
    frames = {
        "ads": ads,
        "creative_tests": tests.reset_index(drop=True),
        "creative_test_daily": pd.concat([group_daily, declared_daily], ignore_index=True),
        "creative_splits": splits,
        "creative_history": history,
        "creative_fatigue": flagged,
    }
    return summary, frames


# -- the creatives ------------------------------------------------------------------------


#: what the version history needs (a table made by hand may hold only the copy)
_VERSIONED = {"platform", "account_id", "creative_id", "version", "first_seen"}


def _versions(creatives: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    if creatives.empty or not set(creatives) >= _VERSIONED:
        return pd.DataFrame(columns=["ad_id", "version_number"]), pd.DataFrame(
            columns=["account_id", "ad_id", "image_group", "group_size"]
        )
    return versions.history(creatives), versions.reuse_groups(creatives)


def _with_versions(ads: pd.DataFrame, history: pd.DataFrame, reuse: pd.DataFrame) -> pd.DataFrame:
    """The number of versions of each ad's creative, and how many ads show its image."""
    counts = history.groupby(history["ad_id"].astype(str))["version_number"].max()
    ads = ads.assign(versions=ads["ad_id"].astype(str).map(counts).fillna(1).astype(int))
    sizes = reuse.groupby(reuse["ad_id"].astype(str))["group_size"].max()
    return ads.assign(image_group_size=ads["ad_id"].astype(str).map(sizes).fillna(1).astype(int))


def _fatigue(performance: pd.DataFrame, ads: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The fatigue fit of every ad of the period over its last ``FATIGUE_WINDOW_DAYS`` days;
    ``fatigued`` only where CTR falls by at least ``FATIGUE_MIN_WEEKLY_DROP`` a week."""
    first = period.end - timedelta(days=FATIGUE_WINDOW_DAYS - 1)
    dates = performance["date"]
    mine = performance[
        performance["ad_id"].isin(set(ads["ad_id"])) & (dates >= first) & (dates <= period.end)
    ]
    fits = fatigue(mine[["date", "ad_id", "impressions", "clicks"]], min_days=FATIGUE_MIN_DAYS)
    return fits.assign(
        fatigued=fits["fatigued"] & (fits["weekly_change"] <= -FATIGUE_MIN_WEEKLY_DROP)
    )


def _with_fatigue(ads: pd.DataFrame, flagged: pd.DataFrame) -> pd.DataFrame:
    tired = flagged[flagged["fatigued"]].set_index("ad_id")
    notes = {
        ad: f"CTR falls {abs(row.weekly_change):.0%} a week over its {row.days} days live "
        f"(p = {row.p_value:.3g})"
        for ad, row in tired.iterrows()
    }
    ids = ads["ad_id"].astype(str)
    return ads.assign(fatigued=ids.isin(set(notes)), fatigue_note=ids.map(notes))


# -- the tests ----------------------------------------------------------------------------


def _group_tests(current: pd.DataFrame, ads: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every ad group's ads compared over the days they served together."""
    served = current[current["impressions"] > 0]
    days = _overlap(served)
    if days.empty:
        return pd.DataFrame(columns=["test", "metric", "ad_id"]), pd.DataFrame()
    window = days.merge(served.astype(dict.fromkeys(_GROUP, str)), on=[*_GROUP, "ad_id", "date"])
    sums = window.groupby([*_GROUP, "ad_id"], as_index=False).agg(
        impressions=("impressions", "sum"),
        clicks=("clicks", "sum"),
        conversions=("conversions", "sum"),
        ad_name=("ad_name", "last"),
    )
    sums["ad_name"] = sums["ad_name"].fillna(sums["ad_id"])
    spans = window.groupby(_GROUP)["date"].agg(["min", "max", "nunique"])
    results = [creative_tests.ad_group_tests(sums, metric=m) for m in TEST_METRICS]
    tests = pd.concat(results, ignore_index=True)
    tests = tests.join(
        spans.rename(columns={"min": "start", "max": "end", "nunique": "days"}), on=_GROUP
    )
    tests["kind"] = "ad group"
    return tests, _running(window, tests)


def _running(window: pd.DataFrame, tests: pd.DataFrame) -> pd.DataFrame:
    """``creative_tests.cumulative`` for every arm of every ad group test at once (the window
    holds only each group's compared ads and shared days): one pass, not one per test."""
    counts = ["impressions", "clicks", "conversions"]
    per_day = window.groupby([*_GROUP, "ad_id", "date"], as_index=False)[counts].sum()
    per_day = per_day.merge(tests.drop_duplicates(_GROUP)[[*_GROUP, "test"]], on=_GROUP)
    per_day = per_day.sort_values(["test", "ad_id", "date"], ignore_index=True)
    running = per_day.groupby(["test", "ad_id"])[counts].cumsum()
    frames = []
    for metric in TEST_METRICS:
        succ, trial = creative_tests.METRICS[metric]
        frame = per_day[["date", "ad_id", "test"]].assign(
            successes=running[succ].astype("float64"),
            trials=running[trial].astype("float64"),
            metric=metric,
        )
        frame["rate"] = frame["successes"] / frame["trials"].where(frame["trials"] > 0)
        arms = tests.loc[tests["metric"] == metric, ["test", "ad_id"]]
        frames.append(frame.merge(arms, on=["test", "ad_id"]))
    columns = ["date", "ad_id", "successes", "trials", "rate", "test", "metric"]
    return pd.concat(frames, ignore_index=True)[columns]


def _overlap(served: pd.DataFrame) -> pd.DataFrame:
    """(group keys, ad_id, date) of the days each group's compared ads all served."""
    keys = [*_GROUP, "ad_id", "date"]
    rows = served[keys].astype(dict.fromkeys(_GROUP, str)).drop_duplicates()
    kept = []
    for _, group in rows.groupby(_GROUP, sort=True):
        ads = group.groupby("ad_id")["date"].apply(set)
        while len(ads) >= 2:
            shared = set.intersection(*ads)
            if len(shared) >= MIN_OVERLAP_DAYS:
                kept.append(group[group["ad_id"].isin(ads.index) & group["date"].isin(shared)])
                break
            ads = ads.drop(ads.map(len).idxmin())
    return pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=keys)


def _declared(performance: pd.DataFrame, client: Client) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tests declared in client.yml, each over its own window."""
    declared = [
        creative_tests.DeclaredTest(t.name, tuple(t.variants), t.metric, t.start, t.end)
        for t in client.creatives.tests
    ]
    if not declared or performance.empty:
        return pd.DataFrame(columns=["test", "metric", "ad_id"]), pd.DataFrame()
    daily = performance.groupby(["date", "ad_id"], as_index=False).agg(
        ad_name=("ad_name", "last"),
        impressions=("impressions", "sum"),
        clicks=("clicks", "sum"),
        conversions=("conversions", "sum"),
    )
    daily["ad_id"] = daily["ad_id"].astype(str)
    results, curves = [], []
    for test in declared:
        ident = declared_id(test.name)
        last = test.end or daily["date"].max()
        for metric in TEST_METRICS:
            one = creative_tests.DeclaredTest(
                test.name, test.variants, metric, test.start, test.end
            )
            result = creative_tests.declared_tests(daily, [one])
            days = daily[(daily["date"] >= test.start) & (daily["date"] <= last)]
            result = result.assign(
                test=ident,
                name=test.name,
                declared_metric=test.metric,
                days=days["date"].nunique(),
                start=test.start,
                end=last,
            )
            results.append(result)
            curve = creative_tests.cumulative(
                daily, test.variants, metric, start=test.start, end=last
            )
            curves.append(curve.assign(test=ident, metric=metric))
    tests = pd.concat(results, ignore_index=True).assign(kind="declared")
    return tests, pd.concat(curves, ignore_index=True)


def declared_id(name: str) -> str:
    """The page name of a declared test (from a hash: names come from client.yml)."""
    return "t-" + hashlib.sha256(name.encode()).hexdigest()[:10]


def _with_verdicts(ads: pd.DataFrame, tests: pd.DataFrame) -> pd.DataFrame:
    """Each ad's standing in its ad group's test: a win or a loss on conversion rate first,
    then on CTR, else what the conversion-rate test says (not yet significant, too little)."""
    if tests.empty:
        return ads.assign(verdict=None)
    verdicts: dict[str, str] = {}
    for metric in ("cvr", "ctr"):
        rows = tests[tests["metric"] == metric]
        for ad, verdict in zip(rows["ad_id"].astype(str), rows["verdict"], strict=True):
            if verdict in ("winner", "loser") and ad not in verdicts:
                verdicts[ad] = f"{verdict} on {METRIC_LABELS[metric]}"
    for ad, verdict in zip(tests["ad_id"], tests["verdict"], strict=True):
        if str(ad) not in verdicts and verdict in ("not yet significant", "too little data"):
            verdicts[str(ad)] = verdict
    return ads.assign(verdict=ads["ad_id"].astype(str).map(verdicts))


def _splits(ads: pd.DataFrame, rules: Mapping[str, TagRule]) -> pd.DataFrame:
    """Ads with each of the client's tags against the ads without it, on both metrics."""
    frames = []
    for name in sorted(rules):
        for metric in TEST_METRICS:
            try:
                split = creative_tests.split_by_tag(ads, f"tag_{name}", metric=metric)
            except ReportError:
                split = None
            if split is not None:
                counts = ads[f"tag_{name}"].astype(bool)
                split = split.assign(
                    arm=[name, f"not {name}"],
                    tag=name,
                    ads=[int(counts.sum()), int((~counts).sum())],
                )
                frames.append(split)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _test_summaries(tests: pd.DataFrame, ads: pd.DataFrame) -> list[dict]:
    """What the pages say of each test: its arms, the verdict per metric, its window."""
    if tests.empty:
        return []
    # an ad of Meta shows on Facebook and Instagram: one row each, the same names
    by_ad = ads.drop_duplicates("ad_id").set_index(ads["ad_id"].drop_duplicates().astype(str))
    out = []
    for test, rows in tests.groupby("test", sort=False):
        first = rows.iloc[0]
        arms = list(dict.fromkeys(rows["ad_id"].astype(str)))
        campaign = _campaign_row(ads, by_ad, first, arms)
        results = {}
        for metric in TEST_METRICS:
            part = rows[rows["metric"] == metric]
            results[metric] = _result(part, by_ad)
        kind = first["kind"]
        out.append(
            {
                "id": test,
                "kind": kind,
                "name": first.get("name") if kind == "declared" else _group_name(campaign),
                "campaign_slug": None if campaign is None else campaign.get("campaign_slug"),
                "campaign_name": None if campaign is None else campaign.get("campaign_name"),
                "platform": first.get("platform")
                if kind != "declared"
                else None
                if campaign is None
                else campaign.get("platform"),
                "arms": arms,
                "start": _day(first.get("start")),
                "end": _day(first.get("end")),
                "days": int(first.get("days") or 0),
                "metric": first.get("declared_metric") if kind == "declared" else "cvr",
                "results": results,
                "headline": "winner"
                if any(r["verdict"] == "winner" for r in results.values())
                else results["cvr"]["verdict"],
            }
        )
    order = {"winner": 0, "loser": 0, "not yet significant": 1, "too little data": 2}
    return sorted(out, key=lambda t: (t["kind"] != "declared", order.get(t["headline"], 3)))


def _campaign_row(ads: pd.DataFrame, by_ad: pd.DataFrame, first, arms: list[str]):
    """The ads row naming a test's campaign: its own platform's for an ad group test."""
    platform = first.get("platform")
    if first["kind"] != "declared" and isinstance(platform, str):
        mine = ads[(ads["platform"] == platform) & ads["ad_id"].astype(str).isin(arms)]
        if not mine.empty:
            return mine.iloc[0]
    shown = [a for a in arms if a in by_ad.index]
    return by_ad.loc[shown[0]] if shown else None


def _result(part: pd.DataFrame, by_ad: pd.DataFrame) -> dict:
    """One metric's outcome: the winner (if any) and each arm's numbers."""
    arms = []
    for row in part.to_dict("records"):
        ad = str(row["ad_id"])
        arms.append(
            {
                "ad_id": ad,
                "name": str(by_ad["ad_name"].get(ad, row.get("ad_name")) or ad)
                if ad in by_ad.index
                else str(row.get("ad_name") or ad),
                **{k: _plain(row.get(k)) for k in creative_tests.ARM_COLUMNS if k != "arm"},
            }
        )
    winners = [a for a in arms if a["verdict"] == "winner"]
    return {
        "arms": arms,
        "winner": winners[0]["ad_id"] if winners else None,
        "verdict": "winner"
        if winners
        else "too little data"
        if all(a["verdict"] in ("too little data", "no data") for a in arms)
        else "not yet significant",
    }


def _group_name(ad) -> str:
    """ "Campaign · ad group": ad group names ("Core", "Broad") repeat across campaigns."""
    if ad is None:
        return "Ad group"
    group = str(ad.get("ad_group_name") or ad.get("ad_group_id") or "Ad group")
    campaign = ad.get("campaign_name")
    return f"{campaign} · {group}" if isinstance(campaign, str) and campaign else group


def _day(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return (
        pd.Timestamp(value).date().isoformat() if not isinstance(value, date) else value.isoformat()
    )


def _plain(value):
    """A JSON-able number (the summary is written as JSON)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if np.isnan(value) else float(value)
    return value
