"""Labels from entity listings: a missing entity degrades to its id, never fails the row."""

from __future__ import annotations

import pyarrow as pa
import pytest

from generator.connectors.labels import (
    MAX_KEPT,
    UNKNOWN_ID,
    Directory,
    Entity,
    Unresolved,
    fill_names,
)

DIRECTORY = Directory(
    campaigns=[Entity("c1", "Brand"), Entity("c2", "")],
    ad_groups=[Entity("g1", "Core", "c1"), Entity("g2", "Orphan", "c9")],
    ads=[Entity("a1", "Hero", "g1"), Entity("a2", None, "g1"), Entity("a3", "Lost", "g8")],
)


def labels(campaign, campaign_name, ad_group, ad_group_name, ad, ad_name):
    return {
        "campaign_id": campaign,
        "campaign_name": campaign_name,
        "ad_group_id": ad_group,
        "ad_group_name": ad_group_name,
        "ad_id": ad,
        "ad_name": ad_name,
    }


@pytest.mark.parametrize(
    ("ids", "expected", "missing"),
    [
        # everything listed: names from the listings, parents from the children
        ({"ad": "a1"}, labels("c1", "Brand", "g1", "Core", "a1", "Hero"), {}),
        # a nameless ad or campaign shows its id
        ({"ad": "a2"}, labels("c1", "Brand", "g1", "Core", "a2", "a2"), {}),
        ({"campaign": "c2"}, labels("c2", "c2", None, None, None, None), {}),
        # the ad is gone: its parents cannot be known, its numbers land under "unknown"
        (
            {"ad": 77},
            labels(UNKNOWN_ID, "Unknown campaign", UNKNOWN_ID, "Unknown ad group", "77", "77"),
            {"campaign": [UNKNOWN_ID], "ad_group": [UNKNOWN_ID], "ad": ["77"]},
        ),
        # ... unless the row itself names them
        (
            {"ad": "77", "ad_group": "g1", "campaign": "c1"},
            labels("c1", "Brand", "g1", "Core", "77", "77"),
            {"ad": ["77"]},
        ),
        # the ad is listed but its ad group is not (archived): the group's id stands in
        (
            {"ad": "a3"},
            labels(UNKNOWN_ID, "Unknown campaign", "g8", "g8", "a3", "Lost"),
            {"campaign": [UNKNOWN_ID], "ad_group": ["g8"]},
        ),
        # LinkedIn's case: creative and campaign listed, the campaign group outside the finder
        ({"ad_group": "g2"}, labels("c9", "c9", "g2", "Orphan", None, None), {"campaign": ["c9"]}),
    ],
)
def test_resolve_degrades_to_ids(ids, expected, missing):
    unresolved = Unresolved()
    assert DIRECTORY.resolve(unresolved, **ids) == expected
    assert unresolved.as_dict() == missing


def test_unresolved_is_bounded_and_described():
    unresolved = Unresolved()
    for i in range(MAX_KEPT + 50):
        unresolved.add("ad", f"{i:04d}")
    unresolved.add("campaign", "c9")
    assert len(unresolved.as_dict()["ad"]) == MAX_KEPT
    assert list(unresolved.as_dict()) == ["campaign", "ad"]  # top level first
    first, second = unresolved.describe("linkedin")
    assert first.startswith("linkedin: 1 campaign without a name from the API (c9)")
    assert f"{MAX_KEPT} ads" in second and "and 195 more" in second
    assert not Unresolved() and unresolved


def test_fill_names_uses_ids_for_empty_campaign_and_ad_group_names():
    table = pa.table(
        {
            "campaign_id": ["1", "2", "3"],
            "campaign_name": ["Brand", None, ""],
            "ad_group_id": ["10", "20", None],
            "ad_group_name": [None, "Core", None],
            "ad_id": ["100", "200", "300"],
            "ad_name": [None, None, None],
            "clicks": [1, 2, 3],
        }
    )
    unresolved = Unresolved()
    filled = fill_names(table, unresolved)
    assert filled["campaign_name"].to_pylist() == ["Brand", "2", "3"]
    assert filled["ad_group_name"].to_pylist() == ["10", "Core", None]
    assert filled["ad_name"].to_pylist() == [None, None, None]  # nameless ads are normal
    assert filled["clicks"].to_pylist() == [1, 2, 3]
    assert unresolved.as_dict() == {"campaign": ["2", "3"], "ad_group": ["10"]}
    assert table["campaign_name"].to_pylist() == ["Brand", None, ""]  # input untouched
    named = fill_names(filled, Unresolved())
    assert named is filled  # nothing left to fill: the same table back


def test_fill_names_leaves_tables_without_names_alone():
    table = pa.table({"campaign_id": ["1"], "count": [1.0]})
    assert fill_names(table, Unresolved()) is table
