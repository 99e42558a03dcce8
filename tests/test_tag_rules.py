import dataclasses

import pandas as pd
import pytest

from generator import tag_rules
from generator.tag_rules import TagRuleError, field_values, parse

#: four ads: a video, a search-like image, a carousel without headline, a text ad with nothing
ADS = pd.DataFrame(
    {
        "headline": ["Summer SALE", "New arrivals", None, None],
        "body": ["Up to 50% off everything", None, "Free shipping, 20% OFF", None],
        "name": ["Summer - v1", "New", "Free", None],
        "format": ["video", "image", "carousel", "text"],
        "platform": ["facebook", "google_ads", "instagram", "google_ads"],
        "call_to_action": ["SHOP_NOW", "LEARN_MORE", None, None],
        "landing_url": ["https://shop.example/sale", "https://shop.example/new", None, None],
        "display_url": [None, None, None, "shop.example/Deals"],
        "language": ["en", "de", None, None],
        "width": [1080, 1200, 1080, None],
        "height": [1920, 628, 1080, None],
        "duration_ms": [15000, None, None, None],
    }
)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("headline contains 'sale' or '%'", [True, False, False, False]),
        ("copy contains '%'", [True, False, True, False]),
        ("copy starts with 'summer'", [True, False, False, False]),
        ("copy starts with 'free'", [False, False, True, False]),  # a body alone is the copy
        ("copy ends with 'everything'", [True, False, False, False]),
        ("body ends with '% OFF'", [False, False, True, False]),
        ("format is 'VIDEO'", [True, False, False, False]),
        ("format is 'video' or 'image'", [True, True, False, False]),
        (r"name matches '^summer\s*-\s*v\d$'", [True, False, False, False]),
        ("landing_url matches 'sale$'", [True, False, False, False]),
        ("display_url contains 'deals'", [False, False, False, True]),
        ("call_to_action is 'shop_now'", [True, False, False, False]),
        ("language is 'en' or 'de'", [True, True, False, False]),
        ("platform starts with 'google'", [False, True, False, True]),
        ("duration >= 15", [True, False, False, False]),
        ("duration > 15", [False, False, False, False]),
        ("width = 1080", [True, False, True, False]),
        ("width = 1080 or 1200", [True, True, True, False]),
        ("aspect > 1", [False, True, False, False]),
        ("aspect = 1", [False, False, True, False]),
        ("aspect < 0.6", [True, False, False, False]),
        ("headline_length > 11", [False, True, False, False]),  # "Summer SALE" is 11
        ("copy_length <= 22", [False, True, True, False]),  # 35, 12, 22, missing
        ("height <= 628.0", [False, True, False, False]),
        ("not format is 'video'", [False, True, True, True]),
        ("not not format is 'video'", [True, False, False, False]),
        ("NOT Format IS 'video' AND Headline Starts With 'new'", [False, True, False, False]),
        # and binds tighter than or; brackets change that
        ("format is 'video' or format is 'image' and width = 1200", [True, True, False, False]),
        ("(format is 'video' or format is 'image') and width = 1200", [False, True, False, False]),
        ("headline contains 'sale' or body contains 'free'", [True, False, True, False]),
    ],
)
def test_rules_match_the_ads_they_describe(rule, expected):
    assert parse(rule).evaluate(ADS).tolist() == expected


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # unknown (a missing headline) never matches, negated or not
        ("headline contains 'x'", [False, False, False, False]),
        ("not headline contains 'x'", [True, True, False, False]),
        # three-valued: unknown or true is true, unknown and false is false
        ("headline contains 'x' or width = 1080", [True, False, True, False]),
        ("headline contains 'x' and width = 1080", [False, False, False, False]),
        ("not (headline contains 'x' and width = 1200)", [True, True, True, False]),
        ("not (headline contains 'x' or width = 1200)", [True, False, False, False]),
    ],
)
def test_missing_values_never_match(rule, expected):
    assert parse(rule).evaluate(ADS).tolist() == expected


def test_a_missing_column_is_all_missing():
    old_lake = ADS.drop(columns=["headline", "duration_ms", "height"])
    for rule in ("headline is 'new'", "not headline is 'new'", "duration < 100", "aspect > 0"):
        assert parse(rule).evaluate(old_lake).tolist() == [False] * 4, rule
    assert parse("copy starts with 'up'").evaluate(old_lake).tolist() == [True, False, False, False]


def test_the_result_is_a_bool_series_on_the_frames_index():
    frame = pd.DataFrame({"format": ["video", None]}, index=[10, 20])
    result = parse("format is 'video'").evaluate(frame)
    assert result.dtype == bool and result.index.tolist() == [10, 20]
    assert result.tolist() == [True, False]
    assert parse("width > 1").evaluate(pd.DataFrame()).tolist() == []


def test_a_rule_keeps_its_text_and_the_fields_it_reads():
    rule = parse("Copy contains 'sale' and (aspect < 1 or not FORMAT is 'image')")
    assert rule.text == "Copy contains 'sale' and (aspect < 1 or not FORMAT is 'image')"
    assert rule.fields == {"copy", "aspect", "format"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.text = "width > 1"


@pytest.mark.parametrize(
    ("rule", "headline", "matches"),
    [
        (r"headline is 'it\'s'", "It's", True),
        (r'headline is "say \"hi\""', 'say "hi"', True),
        (r"headline is 'a\\b'", "a\\b", True),
        (r"headline matches '\d+ ?%'", "Save 20 %", True),  # other backslashes are kept
        (r"headline contains '\d'", "\\d", True),
        ('headline is "it\'s"', "it's", True),
        ("headline contains ''", "anything", True),
    ],
)
def test_strings_take_either_quote_and_backslash_escapes(rule, headline, matches):
    assert parse(rule).evaluate(pd.DataFrame({"headline": [headline]})).tolist() == [matches]


def test_matches_searches_the_first_characters_only():
    frame = pd.DataFrame({"body": ["x" * tag_rules.MAX_MATCH_TEXT + "sale"]})
    assert parse("body matches 'sale'").evaluate(frame).tolist() == [False]
    assert parse("body contains 'sale'").evaluate(frame).tolist() == [True]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("headline", "at character 9: expected an operator after 'headline'"),
        ("headline contians 'x'", "at character 10: expected an operator after 'headline'"),
        (
            "headlin contains 'x'",
            "at character 1: unknown field 'headlin'; did you mean 'headline'?",
        ),
        ("width contains 'x'", "at character 7: 'width' is a number; compare it with >"),
        ("headline > 3", "at character 10: 'headline' is text; compare it with contains"),
        ("headline is 3", "at character 13: headline is needs a quoted text, not '3'"),
        (
            "width > '3'",
            "at character 9: width > needs a number (without quotes), not the text '3'",
        ),
        ("(headline is 'a'", "at character 17: expected ')' to close the '(' at character 1"),
        ("headline is 'a", "at character 13: the text opened with ' is never closed"),
        ("headline is 'a' 'b'", "at character 17: expected 'and', 'or' or the end, not the text"),
        (
            "headline is 'a' and",
            "at character 20: expected a field or '(', not the end of the rule",
        ),
        ("and width > 1", "at character 1: expected a field or '(', not 'and'"),
        ("headline starts 'x'", "at character 17: expected 'with' after 'starts'"),
        ("width ! 3", "at character 7: unexpected character '!'"),
        ("width > 1)", "at character 10: expected 'and', 'or' or the end, not ')'"),
        ("copy matches '('", "at character 14: the pattern is not a valid regular expression"),
        ("copy matches '(a+)+$'", "at character 14: the pattern repeats a group"),
    ],
)
def test_errors_quote_the_rule_and_say_where(rule, message):
    with pytest.raises(TagRuleError) as err:
        parse(rule)
    assert message in str(err.value)
    assert repr(rule) in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("bad", [None, 3, ["width > 1"]])
def test_a_rule_must_be_text(bad):
    with pytest.raises(TagRuleError, match="is empty"):
        parse(bad)


@pytest.mark.parametrize(
    ("pattern", "refused"),
    [
        ("(a+)+", True),
        ("(a|b)*", True),
        ("(?:x*)+y", True),
        ("((ab)+)*", True),
        ("(a+){2,}", True),
        ("(ab)+", False),
        ("^(sale|deal)s?$", False),
        ("(a+)?", False),
        ("[(a+)]+", False),  # brackets in a class are characters
        (r"\(a+\)+", False),
        ("[]a+)]+b", False),  # a "]" first in a class is a character too
        (r"\d+ ?% off", False),
    ],
)
def test_patterns_that_can_backtrack_forever_are_refused(pattern, refused):
    rule = f"copy matches '{pattern}'"
    if refused:
        with pytest.raises(TagRuleError, match="repeats a group"):
            parse(rule)
    else:
        assert parse(rule).fields == {"copy"}


def test_limits_on_length_depth_and_patterns():
    longest = "headline is '" + "x" * (tag_rules.MAX_LENGTH - 14) + "'"
    assert len(longest) == 300 and parse(longest).fields == {"headline"}
    with pytest.raises(TagRuleError, match="is 301 characters long; a rule may have at most 300"):
        parse(longest + " ")
    deepest = "(" * 20 + "width > 1" + ")" * 20
    assert parse(deepest).evaluate(pd.DataFrame({"width": [2]})).tolist() == [True]
    with pytest.raises(
        TagRuleError, match="at character 21: brackets and 'not's nest more than 20"
    ):
        parse("(" + deepest + ")")
    with pytest.raises(TagRuleError, match="at character 81: brackets and 'not's nest more"):
        parse("not " * 21 + "width > 1")
    assert parse("copy matches '" + "a" * 200 + "'").fields == {"copy"}
    with pytest.raises(TagRuleError, match="the pattern is 201 characters long; a pattern may"):
        parse("copy matches '" + "a" * 201 + "'")


def test_field_values_derive_copy_lengths_duration_and_aspect():
    copy = field_values(ADS, "copy")
    assert copy.tolist()[:3] == ["Summer SALE\nUp to 50% off everything", "New arrivals",
                                 "Free shipping, 20% OFF"]  # fmt: skip
    assert copy.isna().tolist() == [False, False, False, True]
    assert field_values(ADS, "copy_length").tolist()[:3] == [35.0, 12.0, 22.0]
    assert field_values(ADS, "headline_length").isna().tolist() == [False, False, True, True]
    assert field_values(ADS, "duration").tolist()[0] == 15.0
    frame = pd.DataFrame({"width": [1200, 100, None], "height": [600, 0, 100]})
    aspect = field_values(frame, "aspect")
    assert aspect[0] == 2.0 and aspect.isna().tolist() == [False, True, True]
    with pytest.raises(TagRuleError, match="unknown field 'colour'"):
        field_values(frame, "colour")
