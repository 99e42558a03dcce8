"""Portfolio peers: eligibility, outliers, and the cohort relaxation, on hand-built portfolios."""

import math

import numpy as np
import pandas as pd
import pytest

from generator.analytics.benchmarks import cohort_summary, empirical_percentile
from generator.analytics.peers import (
    METRICS,
    SPEND_BANDS,
    PeerSpec,
    Profile,
    Rules,
    account_values,
    cohort,
    spend_band,
)
from generator.errors import ReportError

DENTAL = ("local/dental", "health", "all")
CLINIC = ("local/clinic", "health", "all")
RETAIL = ("retail/apparel", "retail", "all")


def account(client, spend=5000.0, cpc=2.0, *, platform="google_ads", account_id=None, **sums):
    """One account's window sums: clicks from the CPC, 40 impressions per click."""
    clicks = spend / cpc
    row = {
        "client": client,
        "platform": platform,
        "account_id": account_id or f"{client}-{platform}",
        "spend": spend,
        "impressions": 40 * clicks,
        "clicks": clicks,
        "conversions": clicks / 20,
        "value": 3 * spend,
    }
    return row | sums


def frame(*rows):
    return pd.DataFrame(list(rows))


# --- account values ----------------------------------------------------------------------------


def test_account_values_are_ratios_of_window_sums():
    accounts = frame(
        account("a", spend=500.0, impressions=20_000, clicks=400, conversions=20, value=1500.0)
    )
    out = account_values(accounts)
    assert list(out.columns) == ["client", "platform", "account_id", "metric", "value", "spend"]
    got = dict(zip(out["metric"], out["value"], strict=True))
    # ctr 400/20000, cpc 500/400, cpm 1000*500/20000, cvr 20/400, cpa 500/20, roas 1500/500
    assert got == pytest.approx(
        {"ctr": 0.02, "cpc": 1.25, "cpm": 25.0, "cvr": 0.05, "cpa": 25.0, "roas": 3.0}
    )
    assert set(out["spend"]) == {500.0}


def test_repeated_keys_are_summed_before_the_ratio():
    days = frame(
        account("a", spend=100.0, impressions=1000, clicks=10),
        account("a", spend=300.0, impressions=1000, clicks=90),
    )
    cpc = account_values(days).query("metric == 'cpc'")
    assert cpc["value"].tolist() == [pytest.approx(4.0)]  # 400 / 100, not mean(10, 3.33)


@pytest.mark.parametrize(
    ("spend", "impressions", "eligible"),
    [(100.0, 1000, True), (99.99, 50_000, False), (10_000.0, 999, False)],
)
def test_ineligible_accounts_are_excluded(spend, impressions, eligible):
    accounts = frame(account("a", spend=spend, impressions=impressions))
    assert (not account_values(accounts).empty) is eligible


@pytest.mark.parametrize(
    ("overrides", "absent"),
    [
        ({"value": 60 * 5000.0}, {"roas"}),  # ROAS 60 > 50: an outlier
        ({"value": 50 * 5000.0}, set()),  # ROAS 50 is at the cap: kept
        ({"clicks": 2000.0, "impressions": 3000.0}, {"ctr"}),  # CTR 67%
        ({"conversions": 3000.0}, {"cvr"}),  # more conversions than clicks
        ({"conversions": 0.0}, {"cpa"}),  # no conversions: no CPA (CVR is 0)
        ({"clicks": 0.0}, {"cpc", "cvr"}),
    ],
)
def test_outliers_and_zero_denominators_are_dropped(overrides, absent):
    out = account_values(frame(account("a", **overrides)))
    assert set(METRICS) - set(out["metric"]) == absent


def test_caps_are_configurable():
    rules = Rules(caps={"roas": 10.0})
    out = account_values(frame(account("a", value=20 * 5000.0)), rules)
    assert "roas" not in set(out["metric"])


def test_account_values_leaves_its_input_alone():
    accounts = frame(account("a"), account("a"), account("b", spend=10.0))
    before = accounts.copy()
    account_values(accounts)
    pd.testing.assert_frame_equal(accounts, before)


def test_account_values_names_missing_columns():
    with pytest.raises(ReportError, match=r"accounts lacks column\(s\) \['value'\]"):
        account_values(frame(account("a")).drop(columns="value"))
    with pytest.raises(ReportError, match="DataFrame"):
        account_values([account("a")])


# --- spend bands and rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("monthly", "band"),
    [(0.0, "under 10k"), (9_999.99, "under 10k"), (10_000.0, "10k–50k"),
     (50_000.0, "50k–250k"), (250_000.0, "250k+"), (1e9, "250k+")],
)  # fmt: skip
def test_spend_band(monthly, band):
    assert spend_band(monthly) == band
    assert band in [name for name, _, _ in SPEND_BANDS]


@pytest.mark.parametrize("monthly", [-1.0, math.nan])
def test_spend_band_refuses_nonsense(monthly):
    with pytest.raises(ReportError, match="monthly spend"):
        spend_band(monthly)


def test_rules_are_frozen_and_checked():
    caps = {"roas": 20.0}
    rules = Rules(caps=caps)
    caps["roas"] = 1.0
    assert rules.caps["roas"] == 20.0
    with pytest.raises(ReportError, match="unknown metrics"):
        Rules(caps={"reach": 1.0})
    for bad in ({"k_median": 12}, {"max_share": 0.0}, {"window_days": 0}, {"n0": 0.0}):
        with pytest.raises(ReportError, match="benchmark rules"):
            Rules(**bad)


# --- cohorts -----------------------------------------------------------------------------------


def build(members):
    """(values, profiles) from (client, industries, region, window spend, cpc) tuples."""
    rows = [account(name, spend=spend, cpc=cpc) for name, _, _, spend, cpc in members]
    profiles = {name: Profile(name, chain, region) for name, chain, region, _, _ in members}
    return account_values(frame(*rows)), profiles


CLIENT = ("smile", DENTAL, "us", 5000.0, 2.0)


def dental_cpc(i):
    """1.00, 1.34, 1.76, 2.26, 2.84, 3.50, ...: not evenly spaced, so no cohort is symmetric
    about one peer (its median would be that peer's own number, and withheld)."""
    return 1.0 + 0.3 * i + 0.04 * i * i


def dental(i, region="us", spend=5000.0):
    return (f"dental{i}", DENTAL, region, spend, dental_cpc(i))


def clinic(i):
    return (f"clinic{i}", CLINIC, "us", 5000.0, 1.1 + 0.29 * i)


def test_a_niche_industry_falls_back_to_its_parent_and_says_so():
    values, profiles = build([CLIENT, *map(dental, range(2)), *map(clinic, range(4))])
    got = cohort(values, profiles, client="smile", spec=PeerSpec("local/dental"),
                 platform="google_ads", metric="cpc", own=2.0)  # fmt: skip
    assert got.level == "health"
    assert got.relaxed == ("industry: local/dental → health",)
    assert (got.n, got.size) == (6, "5–10 companies")
    assert got.summary["median"] is not None
    assert got.percentile is None  # quartiles need 10 companies


def test_the_client_itself_is_never_counted():
    # The client has five accounts of its own; none of them may enter its cohort.
    own_accounts = [account("smile", cpc=9.0, account_id=f"s{i}") for i in range(5)]
    peers = [account(f"dental{i}", cpc=dental_cpc(i)) for i in range(10)]
    values = account_values(frame(*own_accounts, *peers))
    profiles = {name: Profile(name, DENTAL, "us") for name in {r["client"] for r in peers}}
    profiles["smile"] = Profile("smile", DENTAL, "us")
    got = cohort(values, profiles, client="smile", spec=PeerSpec("local/dental"),
                 platform="google_ads", metric="cpc", own=9.0)  # fmt: skip
    peer_cpcs = [dental_cpc(i) for i in range(10)]
    expected = cohort_summary({f"dental{i}": [v] for i, v in enumerate(peer_cpcs)})
    assert got.n == 10
    assert got.summary == pytest.approx(expected)
    assert got.summary["p25"] is not None
    # CPC 9 is dearer than every peer: percentile 0 for a lower-is-better metric.
    assert got.percentile == 0.0


def test_spend_band_then_region_are_relaxed_in_order():
    # Over 90 days, 20,000 is 20000 / (90 / 30.44) = 6,764 a month ("under 10k") and 35,000 is
    # 11,838 ("10k–50k"); no peer holds over 30% of the six's spend (35 / 135 = 26%).
    small, big = 20_000.0, 35_000.0
    members = [CLIENT, *(dental(i, spend=small) for i in range(3)), dental(3, spend=big),
               dental(4, "eu", small), dental(5, "eu", small)]  # fmt: skip
    values, profiles = build(members)
    spec = PeerSpec("local/dental", region="us", spend_band="under 10k")
    got = cohort(values, profiles, client="smile", spec=spec, platform="google_ads",
                 metric="cpc", own=2.0)  # fmt: skip
    assert (got.level, got.relaxed, got.n) == ("local/dental", ("spend band", "region"), 6)


def test_dropping_the_spend_band_alone_can_be_enough():
    small, big = 20_000.0, 35_000.0  # as above; the five in the US: 35 / 130 = 27% at most
    members = [CLIENT, *(dental(i, spend=small) for i in range(3)), dental(3, spend=big),
               dental(4, spend=big), dental(5, "eu", small)]  # fmt: skip
    values, profiles = build(members)
    spec = PeerSpec("local/dental", region="us", spend_band="under 10k")
    got = cohort(values, profiles, client="smile", spec=spec, platform="google_ads",
                 metric="cpc", own=2.0)  # fmt: skip
    assert (got.relaxed, got.n) == (("spend band",), 5)


def test_every_relaxation_fails_and_the_last_attempt_says_why():
    values, profiles = build([CLIENT, *map(dental, range(2)), ("shop", RETAIL, "eu", 5e3, 1.0)])
    spec = PeerSpec("local/dental", region="us", spend_band="under 10k")
    got = cohort(values, profiles, client="smile", spec=spec, platform="google_ads",
                 metric="cpc", own=2.0)  # fmt: skip
    assert got.level == "all"
    assert got.relaxed == ("spend band", "region", "industry: local/dental → health",
                           "industry: health → all")  # fmt: skip
    assert (got.n, got.size) == (3, "fewer than 5 companies")
    assert got.summary["suppressed"] == "fewer than 5 other companies (3)"
    assert got.summary["median"] is None
    assert got.percentile is None


def test_a_cohort_asked_at_all_industries_relaxes_only_region():
    members = [CLIENT, *map(dental, range(3)), ("shop0", RETAIL, "eu", 5e3, 1.5),
               ("shop1", RETAIL, "eu", 5e3, 1.9)]  # fmt: skip
    values, profiles = build(members)
    got = cohort(values, profiles, client="smile", spec=PeerSpec("all", region="us"),
                 platform="google_ads", metric="cpc", own=2.0)  # fmt: skip
    assert (got.level, got.relaxed, got.n) == ("all", ("region",), 5)
    alone = cohort(values[values["client"] != "shop0"], profiles, client="smile",
                   spec=PeerSpec("all", region="us"), platform="google_ads", metric="cpc",
                   own=2.0)  # fmt: skip
    assert (alone.level, alone.relaxed, alone.n) == ("all", ("region",), 4)


def test_a_dominant_peer_makes_the_cohort_widen():
    # Six dentists, one spending 4x the others on Google (4 / 9 = 44%); with the four clinics
    # its share is 4 / 13 = 31%, still too much; at "all" with the shops it is 4 / 17 = 24%.
    members = [
        CLIENT,
        *(dental(i) for i in range(5)),
        dental(5, spend=20_000.0),
        *map(clinic, range(4)),
        *((f"shop{i}", RETAIL, "us", 5e3, 1.5) for i in range(4)),
    ]
    values, profiles = build(members)
    got = cohort(values, profiles, client="smile", spec=PeerSpec("local/dental"),
                 platform="google_ads", metric="cpc", own=2.0)  # fmt: skip
    assert got.level == "all"
    assert got.relaxed == ("industry: local/dental → health", "industry: health → all")
    assert got.summary["suppressed"] is None
    assert got.n == 14


def test_dominance_weighs_spend_on_the_platform_only():
    members = [CLIENT, *(dental(i) for i in range(6))]
    values, profiles = build(members)
    # dental0 spends heavily on Facebook, which does not make it dominant on Google.
    facebook = account_values(frame(account("dental0", spend=1e6, platform="facebook")))
    spec = PeerSpec("local/dental")
    got = cohort(pd.concat([values, facebook]), profiles, client="smile", spec=spec,
                 platform="google_ads", metric="cpc", own=2.0)  # fmt: skip
    assert (got.relaxed, got.n) == ((), 6)


def test_percentile_is_direction_aware_when_quartiles_are_released():
    values, profiles = build([CLIENT, *map(dental, range(10))])
    peer_cpcs = [dental_cpc(i) for i in range(10)]  # 1.00, 1.34, 1.76, 2.26, ..., 6.94
    got = cohort(values, profiles, client="smile", spec=PeerSpec("local/dental"),
                 platform="google_ads", metric="cpc", own=2.0)  # fmt: skip
    # CPC 2.0 is cheaper than the 7 peers from 2.26 up: (7 + 0) / 10 = 70th percentile.
    assert got.percentile == pytest.approx(70.0)
    assert got.percentile == empirical_percentile(2.0, peer_cpcs, higher_is_better=False)
    ctr = cohort(values, profiles, client="smile", spec=PeerSpec("local/dental"),
                 platform="google_ads", metric="ctr", own=0.025)  # fmt: skip
    # Every account has CTR 1/40: any median would be each peer's own number, at every level.
    assert ctr.summary["suppressed"] == "the median would equal one company's own value"
    assert (ctr.level, ctr.percentile) == ("all", None)


def test_ineligible_peers_and_unprofiled_clients_are_not_counted():
    members = [CLIENT, *map(dental, range(5))]
    values, profiles = build(members)
    extra = account_values(frame(account("tiny", spend=50.0), account("stranger")))
    profiles["tiny"] = Profile("tiny", DENTAL, "us")
    spec = PeerSpec("local/dental")
    got = cohort(pd.concat([values, extra]), profiles, client="smile", spec=spec,
                 platform="google_ads", metric="cpc", own=None)  # fmt: skip
    assert got.n == 5
    assert got.percentile is None


def test_cohort_leaves_its_inputs_alone():
    values, profiles = build([CLIENT, *map(dental, range(10))])
    before = values.copy()
    cohort(values, profiles, client="smile", spec=PeerSpec("local/dental"),
           platform="google_ads", metric="cpc", own=2.0)  # fmt: skip
    pd.testing.assert_frame_equal(values, before)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metric": "reach"}, "unknown benchmark metric"),
        ({"client": "nobody"}, "has no profile"),
        ({"spec": PeerSpec("retail")}, "not in 'smile'"),
        ({"spec": PeerSpec("health", spend_band="huge")}, "unknown spend band"),
    ],
)
def test_cohort_refuses_bad_requests(kwargs, match):
    values, profiles = build([CLIENT, *map(dental, range(5))])
    call = {"client": "smile", "spec": PeerSpec("health"), "platform": "google_ads",
            "metric": "cpc", "own": 1.0} | kwargs  # fmt: skip
    with pytest.raises(ReportError, match=match):
        cohort(values, profiles, **call)


def test_cohort_names_missing_columns():
    values, profiles = build([CLIENT])
    with pytest.raises(ReportError, match=r"values lacks column\(s\) \['spend'\]"):
        cohort(values.drop(columns="spend"), profiles, client="smile",
               spec=PeerSpec("health"), platform="google_ads", metric="cpc", own=1.0)  # fmt: skip


def test_profile_needs_a_chain():
    with pytest.raises(ReportError, match="industries"):
        Profile("a", "health")
    assert Profile("a", ["x", "all"]).industries == ("x", "all")
    assert np.isclose(METRICS["cpm"].scale, 1000.0)
