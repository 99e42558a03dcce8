import markdown
import pytest
from markupsafe import Markup

from generator.site.escape import md, safe_url, script_json

from ..report_data import HOSTILE


@pytest.mark.parametrize(
    "text",
    [
        HOSTILE,
        "<img src=x onerror=alert(1)>",
        "**bold** _it_ `code` # head",
        "a | b",
        "{: .x }",
        "عرض خاص — 🔥",
        "x" * 300,
        "line\nbreak",
    ],
)
def test_md_renders_as_the_same_text(text):
    html = markdown.markdown(f"Name: {md(text)}", extensions=["attr_list", "md_in_html", "tables"])
    assert "<script" not in html and "<img" not in html and "<strong>" not in html
    assert "<a " not in html and "<code>" not in html
    from html import unescape

    assert unescape(html.removeprefix("<p>").removesuffix("</p>")) == "Name: " + text.replace(
        "\n", " "
    )


def test_md_passes_markup_and_none():
    assert md(Markup("<b>ok</b>")) == Markup("<b>ok</b>")
    assert md(None) == ""


def test_script_json_cannot_close_the_tag():
    text = script_json({"name": "</script><script>alert(1)</script>", "sep": "\u2028"})
    assert "</" not in text and "<" not in text and "\u2028" not in text
    assert "\\u003c/script\\u003e" in text


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://a.example/x?y=1", True),
        ("http://a.example", True),
        ("javascript:alert(1)", False),
        ("data:text/html,hi", False),
        ("/relative", False),
        (None, False),
        (" https://a.example ", True),
    ],
)
def test_safe_url(url, safe):
    assert (safe_url(url) is not None) is safe
