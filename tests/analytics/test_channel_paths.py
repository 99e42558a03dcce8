"""Cross-channel journeys: paths and transitions of five users, counted by hand."""

import numpy as np
import pandas as pd
import pytest

from generator.analytics.channel_paths import top_paths, transitions
from generator.errors import ReportError

TOUCHES = [
    # u1: google_ads > email > email > direct, converts 2024-01-05 12:00 (4.5 days after
    # the first touch)
    ("u1", "2024-01-01T00:00:00Z", "google_ads"),
    ("u1", "2024-01-03T00:00:00Z", "email"),
    ("u1", "2024-01-04T00:00:00Z", "email"),
    ("u1", "2024-01-05T00:00:00Z", "direct"),
    # u2: google_ads > email > direct, converts 2024-01-04 (2 days); then one more google_ads
    # touch and no conversion: a non-converting journey "google_ads"
    ("u2", "2024-01-02T00:00:00Z", "google_ads"),
    ("u2", "2024-01-02T12:00:00Z", "email"),
    ("u2", "2024-01-03T00:00:00Z", "direct"),
    ("u2", "2024-01-10T00:00:00Z", "google_ads"),
    # u3: google_ads > email > direct, never converts
    ("u3", "2024-01-01T00:00:00Z", "google_ads"),
    ("u3", "2024-01-02T00:00:00Z", "email"),
    ("u3", "2024-01-03T00:00:00Z", "direct"),
    # u4: an email 31 days before the conversion (outside a 30-day lookback), then meta,
    # converting 6 hours later (0.25 days)
    ("u4", "2023-12-01T06:00:00Z", "email"),
    ("u4", "2024-01-01T00:00:00Z", "meta"),
    # u5: direct, converting a day later
    ("u5", "2024-01-06T00:00:00Z", "direct"),
]
CONVERSIONS = [
    ("u1", "2024-01-05T12:00:00Z"),
    ("u2", "2024-01-04T00:00:00Z"),
    ("u4", "2024-01-01T06:00:00Z"),
    ("u5", "2024-01-07T00:00:00Z"),
    ("u6", "2024-01-08T00:00:00Z"),  # no touch at all: unattributed, in no path
]
TOUCHPOINTS = pd.DataFrame(TOUCHES, columns=["user_id", "timestamp", "channel"])
WON = pd.DataFrame(CONVERSIONS, columns=["user_id", "timestamp"])
COLUMNS = [
    "path",
    "touches",
    "conversions",
    "share_of_conversions",
    "journeys",
    "conversion_rate",
    "median_days_to_convert",
]


def rows(frame):
    return [tuple(r) for r in frame.itertuples(index=False)]


def test_top_paths_collapse_repeats_and_count_non_converting_journeys():
    out = top_paths(TOUCHPOINTS, WON)
    assert list(out.columns) == COLUMNS
    # 4 attributed conversions (u6 has no journey). google_ads > email > direct: u1 (after
    # collapsing email > email) and u2 convert, u3 does not: 2 of 3 journeys, days (4.5, 2).
    # direct and meta tie on 1 conversion of 1 journey: by name. u2's later "google_ads"
    # journey never converts, so it is not listed.
    assert rows(out) == [
        ("google_ads > email > direct", 3, 2, 0.5, 3, 2 / 3, 3.25),
        ("direct", 1, 1, 0.25, 1, 1.0, 1.0),
        ("meta", 1, 1, 0.25, 1, 1.0, 0.25),
    ]


def test_beyond_top_the_paths_are_summed_into_other_paths():
    out = top_paths(TOUCHPOINTS, WON, top=1)
    assert out["path"].tolist() == ["google_ads > email > direct", "(other paths)"]
    other = out.iloc[1]
    # direct + meta: 2 conversions of 2 journeys, median of (1.0, 0.25) days = 0.625
    assert (other["conversions"], other["journeys"], other["conversion_rate"]) == (2, 2, 1.0)
    assert other["median_days_to_convert"] == 0.625 and pd.isna(other["touches"])
    assert out["share_of_conversions"].tolist() == [0.5, 0.5]
    assert out["share_of_conversions"].sum() == 1.0


def test_without_collapsing_a_repeat_is_its_own_path():
    out = top_paths(TOUCHPOINTS, WON, collapse=False)
    # u2 (converted) and u3 (not) share the 3-touch path; u1's 4 touches are a path alone
    assert rows(out)[0] == ("google_ads > email > direct", 3, 1, 0.25, 2, 0.5, 2.0)
    assert out["path"].tolist()[1:] == [
        "direct",
        "google_ads > email > email > direct",
        "meta",
    ]
    assert out.loc[2, "touches"] == 4 and out.loc[2, "median_days_to_convert"] == 4.5


def test_a_longer_lookback_brings_old_touches_into_the_journey():
    out = top_paths(TOUCHPOINTS, WON, lookback_days=40)
    row = out[out["path"] == "email > meta"].iloc[0]
    assert row["touches"] == 2 and row["median_days_to_convert"] == 31.0


def test_transitions_by_hand():
    out = transitions(TOUCHPOINTS, WON)
    assert list(out.columns) == ["from_channel", "to_channel", "count", "share_of_from"]
    # six journeys: u1 (converts), u2 twice (converts, then not), u3 (not), u4, u5 (convert)
    assert rows(out) == [
        ("(start)", "google_ads", 4, 4 / 6),
        ("direct", "(conversion)", 3, 3 / 4),  # u1, u2, u5; u3 stops at direct
        ("email", "direct", 3, 3 / 4),  # u1, u2, u3; u1's email -> email is the 4th
        ("google_ads", "email", 3, 3 / 4),  # u2's second journey stops at google_ads
        ("(start)", "direct", 1, 1 / 6),
        ("(start)", "meta", 1, 1 / 6),
        ("direct", "(no conversion)", 1, 1 / 4),
        ("email", "email", 1, 1 / 4),
        ("google_ads", "(no conversion)", 1, 1 / 4),
        ("meta", "(conversion)", 1, 1.0),
    ]
    into_conversion = out.loc[out["to_channel"] == "(conversion)", "count"].sum()
    assert into_conversion == 4  # every attributed conversion, once


def test_collapsed_transitions_drop_the_self_loop():
    out = transitions(TOUCHPOINTS, WON, collapse=True)
    assert not ((out["from_channel"] == "email") & (out["to_channel"] == "email")).any()
    email = out[out["from_channel"] == "email"]
    assert rows(email) == [("email", "direct", 3, 1.0)]
    shares = out.groupby("from_channel")["share_of_from"].sum()
    np.testing.assert_allclose(shares.to_numpy(), 1.0)


def test_no_touches_give_empty_tables():
    none = TOUCHPOINTS.iloc[:0]
    assert top_paths(none, WON).empty and list(top_paths(none, WON).columns) == COLUMNS
    empty = transitions(none, WON)
    assert empty.empty and list(empty.columns) == [
        "from_channel",
        "to_channel",
        "count",
        "share_of_from",
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: top_paths(TOUCHPOINTS.drop(columns="channel"), WON), "channel"),
        (lambda: top_paths(TOUCHPOINTS, WON, top=0), "top"),
        (lambda: transitions(TOUCHPOINTS, WON, lookback_days=0), "lookback"),
    ],
)
def test_bad_input_is_a_report_error(call, message):
    with pytest.raises(ReportError, match=message):
        call()
