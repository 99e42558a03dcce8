"""The benchmark industry taxonomy: chains to the root, every source's labels, platform groups."""

from __future__ import annotations

import copy

import pytest

from generator.analytics.industries import (
    PLATFORM_GROUPS,
    ROOT,
    UnknownIndustry,
    covers,
    parse_taxonomy,
    taxonomy,
)
from generator.errors import ConfigError
from generator.schema import PLATFORMS

#: the ids the report's clients use (issue 15) that must exist
REQUIRED_IDS = [
    "ecommerce/apparel", "ecommerce/home", "ecommerce/beauty", "ecommerce/pets", "b2b/saas",
    "b2b/services", "local/dental", "local/physicians", "local/legal", "local/home-services",
    "health", "health/fitness", "finance/insurance", "real-estate", "travel", "education",
    "restaurants", "automotive/repair", "arts-entertainment",
]  # fmt: skip

#: WordStream/LocaliQ's 23 search categories (2021-2026), as the reference lists them
WORDSTREAM_2021 = [
    "Arts & Entertainment", "Animals & Pets", "Apparel / Fashion & Jewelry",
    "Attorneys & Legal Services", "Automotive — For Sale", "Automotive — Repair, Service & Parts",
    "Beauty & Personal Care", "Business Services", "Career & Employment",
    "Dentists & Dental Services", "Education & Instruction", "Finance & Insurance", "Furniture",
    "Health & Fitness", "Home & Home Improvement", "Industrial & Commercial",
    "Personal Services", "Physicians & Surgeons", "Real Estate", "Restaurants & Food",
    "Shopping, Collectibles & Gifts", "Sports & Recreation", "Travel",
]  # fmt: skip
#: WordStream's 2018 Google Ads table (16 industries)
WORDSTREAM_2018 = [
    "Advocacy", "Auto", "B2B", "Consumer Services", "Dating & Personals", "E-Commerce",
    "Education", "Employment Services", "Finance & Insurance", "Health & Medical", "Home Goods",
    "Industrial Services", "Legal", "Real Estate", "Technology", "Travel & Hospitality",
]  # fmt: skip
MAILCHIMP = [
    "All non-labeled accounts", "Agriculture & Food Services", "Architecture & Construction",
    "Arts & Artists", "Beauty & Personal Care", "Business & Finance", "Computers & Electronics",
    "Construction", "Consulting", "Creative Services/Agency", "Daily Deals/E-Coupons",
    "E-Commerce", "Education & Training", "Entertainment & Events", "Gambling", "Games",
    "Government", "Health & Fitness", "Hobbies", "Home & Garden", "Insurance", "Legal",
    "Manufacturing", "Marketing & Advertising", "Media & Publishing",
]  # fmt: skip
TIKTOK = ["Finance", "Insurance", "Legal", "Entertainment", "Gaming", "Lifestyle"]


@pytest.mark.parametrize(
    ("industry", "chain"),
    [
        ("local/dental", ("local/dental", "health", "all")),
        ("local/physicians", ("local/physicians", "health", "all")),
        ("ecommerce/apparel", ("ecommerce/apparel", "ecommerce", "all")),
        ("ecommerce/furniture", ("ecommerce/furniture", "ecommerce/home", "ecommerce", "all")),
        ("b2b/saas", ("b2b/saas", "b2b", "all")),
        ("finance/insurance", ("finance/insurance", "finance", "all")),
        ("local/legal", ("local/legal", "all")),
        ("all", ("all",)),
    ],
)
def test_a_chain_runs_from_the_id_to_the_root(industry, chain):
    assert taxonomy().chain(industry) == chain


def test_the_issue_ids_exist_and_every_chain_ends_at_the_root():
    tax = taxonomy()
    ids = tax.ids()
    assert len(ids) >= 30 and ids[0] == ROOT
    assert set(REQUIRED_IDS) <= set(ids)
    for industry in ids:
        chain = tax.chain(industry)
        assert chain[0] == industry and chain[-1] == ROOT
        assert len(set(chain)) == len(chain)
        assert tax.name(industry)


def test_an_unknown_id_names_the_close_ones():
    with pytest.raises(UnknownIndustry) as caught:
        taxonomy().chain("local/dentist")
    assert isinstance(caught.value, ConfigError)
    assert "local/dental" in caught.value.suggestions
    assert str(caught.value) == "unknown industry 'local/dentist'; did you mean 'local/dental'?"
    assert (caught.value.field, caught.value.value) == ("industry", "local/dentist")
    with pytest.raises(UnknownIndustry, match="industries.yml"):
        taxonomy().name("zzzz")


def test_names_are_for_reading():
    assert taxonomy().name("local/dental") == "Dentists & dental services"
    assert taxonomy().industry("b2b/saas").parent == "b2b"


@pytest.mark.parametrize(
    ("source", "labels"),
    [
        ("wordstream-search", WORDSTREAM_2021),
        ("wordstream-search", WORDSTREAM_2018),
        ("mailchimp-email", MAILCHIMP),
        ("calculatecreator-tiktok", TIKTOK),
    ],
)
def test_every_category_of_a_source_maps_to_one_id(source, labels):
    tax = taxonomy()
    for label in labels:
        assert tax.by_label(source, label) in tax.ids(), (source, label)


def test_labels_resolve_case_and_spacing_blind():
    tax = taxonomy()
    assert tax.by_label("wordstream-search", "dentists &  dental services") == "local/dental"
    assert tax.by_label("wordstream-search", "Business Services") == "b2b"
    assert tax.by_label("klaviyo-email", "All industries") == "ecommerce"
    assert tax.by_label("wordstream-search", "Underwater basket weaving") is None
    assert tax.by_label("no-such-source", "Travel") is None


def test_the_taxonomy_is_read_once():
    assert taxonomy() is taxonomy()


@pytest.mark.parametrize(
    ("seed", "platform", "expected"),
    [
        ("search", "google_ads", True),
        ("search", "microsoft_ads", True),
        ("search", "facebook", False),
        ("meta", "facebook", True),
        ("meta", "instagram", True),
        ("meta", "linkedin", False),
        ("google_ads", "google_ads", True),
        ("google_ads", "microsoft_ads", False),
        ("facebook", "instagram", False),
        ("email", "email", True),
    ],
)
def test_covers(seed, platform, expected):
    assert covers(seed, platform) is expected


def test_groups_name_only_our_platforms():
    for group, members in PLATFORM_GROUPS.items():
        assert group not in PLATFORMS
        assert group == "email" or set(members) <= set(PLATFORMS)


VALID = {
    "industries": [
        {"id": "all", "name": "All", "labels": {}},
        {"id": "health", "name": "Health", "parent": "all", "labels": {"src": ["Health"]}},
        {"id": "local/dental", "name": "Dental", "parent": "health", "labels": {}},
    ]
}


def _broken(change):
    data = copy.deepcopy(VALID)
    change(data["industries"])
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda i: i.append({"id": "health", "name": "X", "parent": "all"}), "twice"),
        (lambda i: i[2].update(parent="nowhere"), "parent 'nowhere'"),
        (lambda i: i[1].update(parent="local/dental"), "cycle"),
        (lambda i: i.append({"id": "other", "name": "Other"}), "parent"),
        (lambda i: i[0].update(id="root"), "parent"),
        (lambda i: i[2].update(labels={"src": ["Health"]}), "given to both"),
        (lambda i: i[2].update(id="Local Dental"), "lower-case"),
        (lambda i: i[2].update(name=""), "name"),
        (lambda i: i[2].update(labels={"src": "Dental"}), "list of names"),
        (lambda i: i[2].update(colour="red"), "only"),
        (lambda i: i.pop(0), "the one root must be 'all'"),
    ],
)
def test_a_broken_taxonomy_file_is_refused(change, message):
    assert parse_taxonomy(VALID).chain("local/dental") == ("local/dental", "health", "all")
    with pytest.raises(ConfigError, match=message):
        parse_taxonomy(_broken(change))


def test_a_file_without_entries_is_refused():
    with pytest.raises(ConfigError, match="industries"):
        parse_taxonomy({"industries": []})
