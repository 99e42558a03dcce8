import math

import numpy as np
import pandas as pd
import pytest

from generator.analytics import creative_tags
from generator.analytics.creative_tags import colour_name, tag, tag_labels
from generator.errors import ReportError
from generator.tag_rules import parse

ADS = pd.DataFrame(
    {
        "ad_id": ["1", "2", "3"],
        "format": ["VIDEO", "image", None],
        "platform": ["facebook", "google_ads", None],
        "width": [1080, 1200, None],
        "height": [1920, 628, None],
        "call_to_action": ["SHOP_NOW", "", None],
        "headline": ["Big sale", "50% off", None],
        "body": ["x" * 100, None, None],
        "duration_ms": [20_000, None, None],
        "colours": [["#ff0000", "#ffffff"], np.array(["#1877f2"]), None],
        "language": ["EN", None, None],
    },
    index=[7, 8, 9],
)
RULES = {"discount": parse("headline contains 'sale' or '%'"), "long-video": parse("duration > 25")}


def test_every_automatic_tag_and_the_clients_tags():
    out = tag(ADS, RULES)
    assert out["tags"].tolist() == [
        [
            "aspect:9:16", "colour:red", "copy:medium", "cta:shop_now", "discount",
            "format:video", "language:en", "orientation:portrait", "platform:facebook",
            "size:1080x1920", "video:15-30s",
        ],
        [
            "aspect:1.91:1", "colour:blue", "copy:short", "discount", "format:image",
            "orientation:landscape", "platform:google_ads", "size:1200x628",
        ],
        [],
    ]  # fmt: skip
    assert out["tag_discount"].tolist() == [True, True, False]
    assert out["tag_long-video"].tolist() == [False, False, False]
    assert out["tag_discount"].dtype == bool
    assert out.index.tolist() == [7, 8, 9]


def test_the_input_is_not_changed_and_no_rules_add_no_columns():
    before = ADS.copy()
    out = tag(ADS)
    pd.testing.assert_frame_equal(ADS, before)
    assert list(out.columns) == [*ADS.columns, "tags"]


def test_an_older_lake_without_the_columns_gets_no_tags():
    out = tag(pd.DataFrame({"ad_id": ["1", "2"]}), RULES)
    assert out["tags"].tolist() == [[], []]
    assert out["tag_discount"].tolist() == [False, False]
    assert tag(pd.DataFrame(), RULES)["tags"].tolist() == []


def test_nullable_and_arrow_columns_as_a_lake_reads_them():
    ads = pd.DataFrame(
        {
            "width": pd.array([1080, None], dtype="Int32"),
            "height": pd.array([1080, None], dtype="Int32"),
            "duration_ms": pd.array([None, 40_000], dtype="Int64"),
            "format": pd.array(["video", None], dtype="string[pyarrow]"),
        }
    )
    assert tag(ads)["tags"].tolist() == [
        ["aspect:1:1", "format:video", "orientation:square", "size:1080x1080"],
        ["video:>30s"],
    ]


def _aspect(ratio: float) -> str:
    ads = pd.DataFrame({"width": [ratio * 1e6], "height": [1e6]})
    return next(t for t in tag(ads)["tags"][0] if t.startswith("aspect:"))


@pytest.mark.parametrize(
    ("width", "height", "aspect"),
    [
        (1200, 628, "1.91:1"),
        (1920, 1080, "16:9"),
        (1024, 768, "4:3"),
        (1080, 1080, "1:1"),
        (1080, 1350, "4:5"),
        (1000, 1500, "2:3"),
        (1080, 1920, "9:16"),
        (728, 90, "other"),
        (300, 250, "other"),  # 1.2: 0.18 from 1:1 and 0.11 from 4:3
    ],
)
def test_common_sizes_fall_in_their_aspect_class(width, height, aspect):
    ads = pd.DataFrame({"width": [width], "height": [height]})
    assert f"aspect:{aspect}" in tag(ads)["tags"][0]


# the classes' far sides: 1.91:1 and 16:9 are 0.072 apart, so each has one side of its own
OUTER = [(name, side) for name in creative_tags.ASPECT_CLASSES for side in (-1, 1)
         if (name, side) not in {("1.91:1", -1), ("16:9", 1)}]  # fmt: skip


@pytest.mark.parametrize(("name", "side"), OUTER)
def test_an_aspect_class_reaches_8_percent_in_log_ratio(name, side):
    ratio = creative_tags.ASPECT_CLASSES[name]
    assert _aspect(ratio * math.exp(side * 0.0799)) == f"aspect:{name}"
    assert _aspect(ratio * math.exp(side * 0.0801)) == "aspect:other"


def test_between_1_91_and_16_9_the_nearer_class_wins():
    middle = math.sqrt(1.91 * 16 / 9)
    assert _aspect(middle * 1.0001) == "aspect:1.91:1"
    assert _aspect(middle * 0.9999) == "aspect:16:9"


@pytest.mark.parametrize(
    ("width", "height", "orientation"),
    [
        (1000, 1050, "square"),
        (1050, 1000, "square"),
        (1000, 1051, "portrait"),
        (1051, 1000, "landscape"),
        (1080, 1920, "portrait"),
    ],
)
def test_square_is_within_5_percent(width, height, orientation):
    tags = tag(pd.DataFrame({"width": [width], "height": [height]}))["tags"][0]
    assert f"orientation:{orientation}" in tags
    assert f"size:{width}x{height}" in tags


def test_no_size_tags_without_both_sides():
    ads = pd.DataFrame({"width": [1080, 0, None], "height": [None, 1080, 1080]})
    assert tag(ads)["tags"].tolist() == [[], [], []]


@pytest.mark.parametrize(
    ("headline", "body", "band"),
    [
        ("x" * 60, None, "copy:short"),
        ("x" * 30, "y" * 31, "copy:medium"),
        (None, "y" * 150, "copy:medium"),
        ("x" * 100, "y" * 51, "copy:long"),
        ("", "", "copy:short"),
        (None, None, None),
    ],
)
def test_copy_length_bands(headline, body, band):
    tags = tag(pd.DataFrame({"headline": [headline], "body": [body]}))["tags"][0]
    assert tags == ([band] if band else [])


@pytest.mark.parametrize(
    ("duration_ms", "band"),
    [
        (1, "video:<=15s"),
        (15_000, "video:<=15s"),
        (15_001, "video:15-30s"),
        (30_000, "video:15-30s"),
        (30_001, "video:>30s"),
        (0, None),
        (None, None),
    ],
)
def test_video_length_bands(duration_ms, band):
    tags = tag(pd.DataFrame({"duration_ms": [duration_ms]}))["tags"][0]
    assert tags == ([band] if band else [])


@pytest.mark.parametrize(
    ("hex_colour", "name"),
    [
        ("#ff0000", "red"),
        ("#800000", "red"),
        ("#ff8000", "orange"),
        ("#e07a1f", "orange"),
        ("#ffff00", "yellow"),
        ("#ffd700", "yellow"),
        ("#00ff00", "green"),
        ("#008080", "teal"),
        ("#40e0d0", "teal"),
        ("#0000ff", "blue"),
        ("#1877F2", "blue"),
        ("#1f3a5f", "blue"),
        ("#800080", "purple"),
        ("#ff00ff", "purple"),
        ("#ffc0cb", "pink"),
        ("#ff69b4", "pink"),
        ("#8b4513", "brown"),
        ("#a0522d", "brown"),
        ("#d2b48c", "brown"),  # tan: dull orange
        ("#000000", "black"),
        ("#202020", "black"),
        ("#ffffff", "white"),
        ("#f5f5f5", "white"),
        ("#808080", "grey"),
        ("#fff", None),
        ("#ff0000\n", None),
        ("red", None),
        ("#gggggg", None),
        (None, None),
    ],
)
def test_colour_names(hex_colour, name):
    assert colour_name(hex_colour) == name
    assert name is None or name in creative_tags.COLOUR_NAMES


def test_the_first_dominant_colour_names_the_ad():
    ads = pd.DataFrame({"colours": [["#808080", "#ff0000"], [], ["nonsense"], None]})
    assert tag(ads)["tags"].tolist() == [["colour:grey"], [], [], []]


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("format:video", "Video"),
        ("format:responsive_search", "Responsive search"),
        ("platform:google_ads", "Google ads"),
        ("orientation:square", "Square"),
        ("aspect:9:16", "9:16"),
        ("aspect:1.91:1", "1.91:1"),
        ("aspect:other", "Other aspect"),
        ("size:1080x1920", "1080x1920"),
        ("cta:shop_now", "CTA: Shop now"),
        ("language:en", "Language: EN"),
        ("copy:long", "Long copy"),
        ("copy:short", "Short copy"),
        ("video:<=15s", "Video ≤ 15s"),
        ("video:15-30s", "Video 15–30s"),
        ("video:>30s", "Video > 30s"),
        ("colour:teal", "Mostly teal"),
        ("discount", "discount"),
        ("odd:thing", "odd:thing"),
    ],
)
def test_tag_labels(value, label):
    assert tag_labels(value) == label


def test_a_report_may_name_platforms_itself():
    names = {"google_ads": "Google Ads"}.get
    assert tag_labels("platform:google_ads", platform_label=names) == "Google Ads"
    assert tag_labels("format:video", platform_label=names) == "Video"


@pytest.mark.parametrize(
    ("ads", "rules", "message"),
    [
        ([{"format": "video"}], None, "ads must be a pandas DataFrame"),
        (ADS, {"Bad Name": RULES["discount"]}, "tag name 'Bad Name'"),
        (ADS, {"format:x": RULES["discount"]}, "tag name 'format:x'"),
        (ADS, {"sale\n": RULES["discount"]}, r"tag name 'sale\\n'"),
        (ADS, {"discount": "headline contains 'sale'"}, "needs a rule from tag_rules.parse"),
    ],
)
def test_bad_input_is_refused(ads, rules, message):
    with pytest.raises(ReportError, match=message):
        tag(ads, rules)


def test_two_thousand_ads_are_tagged_row_for_row():
    many = pd.concat([ADS] * 700, ignore_index=True)
    out = tag(many, RULES)
    assert len(out) == 2100
    assert out["tags"].iloc[3:6].tolist() == tag(ADS, RULES)["tags"].tolist()
    assert out["tag_discount"].sum() == 1400
