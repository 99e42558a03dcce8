"""The creative gallery: every format's card, escaping, missing data, limit, filters, badges."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from generator.site.gallery import creative_gallery, history_id

ROOT = Path(__file__).resolve().parents[2]
SHA = "ab" * 32
SHA2 = "cd" * 32


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text, in document order."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, cls: str | None = None) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and (cls is None or cls in (a.get("class") or ""))
        ]


def ad(**fields) -> dict:
    return {"ad_id": "1", "platform": "facebook", "headline": "Spring sale", **fields}


def render(*rows: dict, **kwargs) -> str:
    return str(creative_gallery(pd.DataFrame(list(rows)), **kwargs))


# -- one card per format -----------------------------------------------------------------------

FORMATS = [
    pytest.param(
        ad(format="image", asset_sha256=SHA, width=1080, height=1920),
        [
            f'src="../assets/creatives/{SHA}.webp"',
            'width="1080" height="1920"',
            'loading="lazy"',
            'alt="Spring sale"',
            "cg-frame-image",
        ],
        ["cg-play", "<video"],
        id="image",
    ),
    pytest.param(
        ad(format="video", asset_sha256=SHA, duration_ms=15_000),
        [f"{SHA}.webp", 'class="cg-play"', '<span class="cg-duration" title="Video length">0:15'],
        ["<video", "<source"],
        id="video",
    ),
    pytest.param(
        ad(format="video", asset_sha256=SHA, duration_ms=3_723_000),
        ["1:02:03"],
        [],
        id="video-hours",
    ),
    pytest.param(
        ad(
            format="text",
            headline="Running shoes",
            body="Free delivery.",
            landing_url="https://shop.example.com/shoes?x=1",
        ),
        [
            'class="cg-serp"',
            "Sponsored",
            '<span class="cg-serp-url">shop.example.com</span>',
            '<a href="https://shop.example.com/shoes?x=1"',
            "Free delivery.",
        ],
        ["<img", "cg-headline"],
        id="text-host",
    ),
    pytest.param(
        ad(format="text", display_url="example.com/shoes", landing_url="https://x.example/"),
        ['<span class="cg-serp-url">example.com/shoes</span>'],
        [],
        id="text-display-url",
    ),
    pytest.param(
        ad(format="message", body="Hi {first_name}!", call_to_action="Reply"),
        ['class="cg-copy"', '<span class="cg-cta">Reply</span>', "Hi &#123;first_name&#125;!"],
        ["<img", "cg-placeholder"],
        id="message",
    ),
    pytest.param(
        ad(format="other", body="Copy only"),
        ['class="cg-copy"', "Copy only"],
        ["<img"],
        id="other",
    ),
    pytest.param(
        ad(format="product", asset_sha256=SHA),
        [f"{SHA}.webp", "cg-frame-image"],
        ["cg-copy"],
        id="product-with-image",
    ),
    pytest.param(
        ad(format="image", asset_note="Removed after 13 months (retention)", asset_sha256=SHA),
        ['<div class="cg-placeholder">Removed after 13 months (retention)</div>'],
        ["<img"],
        id="asset-note",
    ),
    pytest.param(
        ad(format="image"),
        ['<div class="cg-placeholder">Image unavailable</div>'],
        ["<img"],
        id="image-without-asset",
    ),
]


@pytest.mark.parametrize(("row", "present", "absent"), FORMATS)
def test_each_format_draws_its_own_card(row, present, absent):
    html = render(row, root="../")
    for text in present:
        assert text in html
    for text in absent:
        assert text not in html


def test_a_carousel_is_a_strip_of_every_card_in_order():
    cards = np.array(
        [
            {"headline": "First", "asset_sha256": SHA, "landing_url": "https://a.example/1"},
            {"headline": "Second", "asset_sha256": "not-a-sha", "landing_url": "ftp://x"},
            {"headline": "Third", "asset_sha256": SHA2, "landing_url": None},
        ],
        dtype=object,
    )  # as pandas gives a list column read from Parquet
    html = render(ad(format="carousel", cards=cards))
    page = Elements(html)
    assert len(page.find("ol", "cg-strip")) == 1 and len(page.find("li", "cg-slide")) == 3
    assert [a["alt"] for a in page.find("img")] == ["First", "Third"]
    counters = re.findall(r'cg-counter">(\d/\d)</span> (?:<a [^>]*>)?(\w+)', html)
    assert counters == [("1/3", "First"), ("2/3", "Second"), ("3/3", "Third")]
    assert [a["href"] for a in page.find("a")] == ["https://a.example/1"]
    assert "Image unavailable" in html and "not-a-sha" not in html
    assert "first second third" in page.find("figure")[0]["data-text"]


def test_cards_keep_the_frames_order_and_say_the_platform_and_format():
    html = render(
        ad(ad_id="b", headline="Bee", platform="tiktok", format="video"),
        ad(ad_id="a", headline="Ay", platform="linkedin", format="image"),
    )
    assert html.index("Bee") < html.index("Ay")
    assert "TikTok" in html and "LinkedIn" in html and ">Video<" in html and ">Image<" in html


# -- untrusted data ----------------------------------------------------------------------------

XSS = '"><img src=x onerror=alert(1)><script>alert(2)</script>{{ 7*7 }}{% x %}'


def hostile() -> dict:
    return {
        "ad_id": XSS,
        "ad_name": XSS,
        "platform": XSS,
        "format": XSS,
        "headline": XSS,
        "body": f"{XSS}\n\nsecond paragraph",
        "display_url": XSS,
        "landing_url": "javascript:alert(3)",
        "call_to_action": XSS,
        "asset_sha256": "../../" + SHA,
        "asset_note": None,
        "tags": [XSS, "format:" + XSS, "a b\tc"],
        "tag_labels": {XSS: XSS},
        "verdict": XSS,
        "fatigued": True,
        "fatigue_note": XSS,
        "versions": 3,
        "image_group_size": 2,
        "cards": [{"headline": XSS, "asset_sha256": XSS, "landing_url": "data:text/html,x"}],
    }


@pytest.mark.parametrize("fmt", ["image", "video", "carousel", "text", "message", None])
def test_hostile_copy_urls_and_tags_stay_text(fmt):
    row = {**hostile(), "format": fmt if fmt else XSS}
    html = render(row, gallery_id='g" onclick="x')
    page = Elements(html)
    assert {tag for tag, _ in page.tags} <= {
        "div", "figure", "figcaption", "img", "span", "strong", "a", "ol", "li", "dl", "dt",
        "dd", "button", "input", "label", "p",
    }  # fmt: skip
    for _, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), attrs
    for text in ("<script", "<img src=x", "javascript:", "data:text", "{{", "{%", "\n", "../"):
        assert text not in html
    assert [a["href"] for a in page.find("a")] == [f"#{history_id(XSS)}"]
    assert all(re.fullmatch(r"history-[A-Za-z0-9_-]+", history_id(x)) for x in (XSS, "12 3"))
    assert page.find("div", "cg")[0]["id"] == "g--onclick--x"
    assert XSS in "".join(page.text) or fmt == "text"  # shown as text, exactly


def test_hostile_tags_are_tokens_and_labels_are_text():
    html = render(hostile())
    page = Elements(html)
    tokens = page.find("figure")[0]["data-tags"].split(" ")
    assert "a_b_c" in tokens and len(tokens) == 4  # format, platform and two tags deduplicated
    chips = [a["data-tag"] for a in page.find("button", "cg-toggle")]
    assert set(chips) == set(tokens)
    assert "&lt;script&gt;" in html and "&#123;&#123;" in html


def test_only_https_and_http_links():
    for url, linked in [
        ("https://ok.example/a", True),
        ("http://ok.example/a", True),
        ("javascript:alert(1)", False),
        ("//evil.example/x", False),
        ("/relative", False),
        ("  JAVASCRIPT:alert(1)", False),
    ]:
        page = Elements(render(ad(format="image", landing_url=url)))
        assert [a["href"] for a in page.find("a")] == ([url] if linked else [])


# -- missing data ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"ad_id": ["1", "2"]}),
        pd.DataFrame({"headline": [None, np.nan]}),
        pd.DataFrame(
            {
                "format": [None],
                "cards": [np.nan],
                "tags": [None],
                "tag_labels": [np.nan],
                "ctr": [np.nan],
                "cpa": [pd.NA],
                "versions": [np.nan],
                "fatigued": [pd.NA],
                "width": [np.nan],
                "duration_ms": [np.nan],
                "asset_sha256": [np.nan],
            }
        ),
        pd.DataFrame({"format": ["video", "carousel", "text"], "ctr": ["n/a", 0.1, None]}),
    ],
    ids=["ids-only", "null-copy", "all-null", "odd-values"],
)
def test_missing_columns_and_nulls_never_fail(frame):
    page = Elements(str(creative_gallery(frame)))
    assert len(page.find("figure", "cg-card")) == len(frame)
    assert "—" in "".join(page.text)  # stats without data show a dash


def test_no_ads_says_so():
    assert "No creatives" in creative_gallery(pd.DataFrame())
    assert "No creatives" in creative_gallery(pd.DataFrame({"ad_id": []}))


# -- letterbox, limit, filters -----------------------------------------------------------------


def test_thumbnails_are_letterboxed_never_cropped():
    css = (ROOT / "site_templates" / "assets" / "gallery.css").read_text(encoding="utf-8")
    rules = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    assert "object-fit: cover" not in rules and "object-fit: contain" in rules
    assert "aspect-ratio: var(--cg-frame-ratio)" in rules and "scroll-snap-type" in rules


def test_the_site_loads_the_gallerys_css_and_script():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert "assets/gallery.css" in config["extra_css"]
    assert "assets/gallery.js" in config["extra_javascript"]
    script = (ROOT / "site_templates" / "assets" / "gallery.js").read_text(encoding="utf-8")
    assert "document$" in script and "DOMContentLoaded" in script


@pytest.mark.parametrize(
    ("limit", "folded", "button"), [(2, 3, "Show all 5"), (5, 0, None), (None, 0, None)]
)
def test_cards_beyond_the_limit_are_in_the_page_behind_show_all(limit, folded, button):
    html = render(*(ad(ad_id=str(i)) for i in range(5)), limit=limit)
    page = Elements(html)
    assert len(page.find("figure", "cg-card")) == 5
    assert len(page.find("figure", "cg-over")) == folded
    assert [a for a in page.find("figure", "cg-over") if "hidden" in a] == []  # no JS: all show
    buttons = page.find("button", "cg-more")
    assert (len(buttons) == 1 and button in html) if button else buttons == []
    assert page.find("div", "cg")[0]["data-limit"] == str(limit if folded else 0)


def test_filter_chips_come_from_the_tags_grouped():
    html = render(
        ad(format="video", tags=["aspect:9:16", "orientation:portrait", "discount"]),
        ad(platform="google_ads", format="text", tags=np.array(["discount", "season:spring"])),
        ad(format="image", tags=["aspect:1.91:1"], tag_labels={"discount": "Discount"}),
    )
    page = Elements(html)
    groups = [a["aria-label"] for a in page.find("div", "cg-group")]
    assert groups == ["Format", "Platform", "Aspect", "Orientation", "Season", "Tags"]
    chips = {a["data-tag"]: a for a in page.find("button", "cg-toggle")}
    assert set(chips) == {
        "format:video", "format:text", "format:image", "platform:facebook",
        "platform:google_ads", "aspect:9:16", "aspect:1.91:1", "orientation:portrait",
        "discount", "season:spring",
    }  # fmt: skip
    assert all(a["type"] == "button" and a["aria-pressed"] == "false" for a in chips.values())
    assert re.search(
        r'data-tag="discount" aria-pressed="false">Discount <span class="cg-n">2<', html
    )
    assert 'data-tag="aspect:9:16" aria-pressed="false">9:16 ' in html
    assert 'data-tag="platform:google_ads" aria-pressed="false">Google Ads ' in html
    assert page.find("label")[0]["for"] == page.find("input")[0]["id"] == "gallery-q"
    assert "hidden" in page.find("div", "cg-filters")[0]  # gallery.js shows it
    assert page.find("figure")[0]["data-tags"] == (
        "format:video platform:facebook aspect:9:16 orientation:portrait discount"
    )


def test_no_filter_bar_when_asked_or_nothing_to_filter():
    assert "cg-filters" not in render(ad(tags=["x"]), filters=False)
    assert "cg-filters" not in render({"headline": "no tags, platform or format"})


def test_two_galleries_on_one_page_have_their_own_ids():
    one, two = render(ad(), gallery_id="Top ads"), render(ad(), gallery_id="fatigued")
    assert 'id="top-ads"' in one and 'for="top-ads-q"' in one
    assert 'id="fatigued"' in two and 'for="fatigued-q"' in two


# -- badges and notes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "present", "absent"),
    [
        ({"versions": 3}, ['<a href="#history-ad_7">3 versions</a>'], []),
        ({"versions": 1}, [], ["versions"]),
        ({"image_group_size": 4}, ["image used in 4 ads"], []),
        ({"image_group_size": 1}, [], ["image used"]),
        (
            {"fatigued": True, "fatigue_note": "CTR fell 40% since week 2"},
            ['<span class="cg-badge cg-fatigue" title="CTR fell 40% since week 2">Fatigue'],
            [],
        ),
        ({"fatigued": False, "fatigue_note": "x"}, [], ["Fatigue"]),
        ({"verdict": "winner"}, ["cg-verdict cg-good", ">Winner<"], []),
        ({"verdict": "loser"}, ["cg-verdict cg-bad", ">Loser<"], []),
        ({"verdict": "not yet significant"}, ["cg-neutral", ">Not yet significant<"], []),
        ({"verdict": "too little data"}, ["cg-neutral", ">Too little data<"], []),
        ({"verdict": None}, [], ["cg-verdict"]),
    ],
)
def test_versions_fatigue_and_verdict_badges(fields, present, absent):
    html = render(ad(ad_id="ad_7", **fields))
    for text in present:
        assert text in html
    for text in absent:
        assert text not in html


def test_stats_read_as_the_report_formats_them():
    html = render(
        ad(spend=1234.5, ctr=0.0123, conversions=12, cpa=102.875, clicks=50, impressions=4065),
        currency="EUR",
    )
    assert "<dt>CTR</dt><dd>1.23%</dd>" in html and "<dt>Conv.</dt><dd>12</dd>" in html
    assert "<dt>CPA</dt><dd>€102.88</dd>" in html and "<dt>Spend</dt><dd>€1,234</dd>" in html
    assert 'title="50 clicks of 4,065 impressions"' in html
