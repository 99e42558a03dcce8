"""Hostile configuration and commentary reach the built HTML as text, never as markup.

Read from the HTML itself, so it runs without a browser; ``test_browser`` opens the same site
in Chromium.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import pytest

from generator.site import commentary

from .conftest import AGENCY, CLIENT, FRONT_TITLE, TITLE_SHOWN


class PayloadMarkup(HTMLParser):
    """What in a page is markup (not text) and came from the payloads: elements, handler
    attributes, script links, scripts, the ids the page's own scripts look up."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") or value.startswith("javascript:window"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "id" and value in ("__config", "chart-daily-spend") and tag != "script":
                self.found.append(f"<{tag} id={value!r}>")
        if tag == "img" and dict(attrs).get("src") == "x" and "onerror" in dict(attrs):
            self.found.append("<img src=x onerror>")
        self._script = tag == "script"

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script and "__xss" in data:
            self.found.append(f"<script>{data[:40]}")


def markup_from_payloads(text: str) -> list[str]:
    parser = PayloadMarkup()
    parser.feed(text)
    return parser.found


def test_no_page_carries_the_payload_as_markup(hostile_site):
    found = {
        str(page.relative_to(hostile_site.site)): markup_from_payloads(page.read_text())
        for page in hostile_site.site.rglob("*.html")
    }
    assert {name: f for name, f in found.items() if f} == {}
    assert len(found) > 5
    # Material shows search results' titles and text as HTML
    index = (hostile_site.site / "search" / "search_index.json").read_text()
    for doc in json.loads(index)["docs"]:
        assert markup_from_payloads(doc["title"] + doc["text"]) == [], doc["location"]


@pytest.mark.parametrize("page", ["index.html", "commentary/notes.html", "channels.html"])
def test_names_show_as_text_where_the_theme_prints_them(hostile_site, page):
    text = (hostile_site.site / page).read_text()
    shown = html.unescape(re.sub(r"<[^>]+>", "", text))  # what a reader sees
    site_name = f"{CLIENT} · October 2026"
    title = re.search(r"<title>(.*?)</title>", text, re.DOTALL)[1]
    assert html.unescape(title).endswith(site_name)  # the browser's tab
    header = text[text.index('class="md-header__topic"') :]
    assert site_name in html.unescape(re.sub(r"<[^>]+>", "", header[:600]))  # the header
    assert f"Prepared by {AGENCY}" in shown  # the footer
    assert TITLE_SHOWN in shown and FRONT_TITLE in shown  # the navigation
    description = re.search(r'<meta name="description" content="([^"]*)"', text)[1]
    assert html.unescape(description) == f"{AGENCY}: performance report for {CLIENT}"


def test_commentary_is_markdown_with_its_html_sanitised(hostile_site):
    notes = (hostile_site.site / "commentary" / "notes.html").read_text()
    article = notes[notes.index("<article") : notes.index("</article>")]
    shown = html.unescape(re.sub(r"<[^>]+>", "", article))
    assert TITLE_SHOWN in shown  # the heading, as written, macro rendered
    assert f"Written for {CLIENT} by {AGENCY}." in shown
    assert "<b>bold</b> and <sup>2</sup>" in article and "<strong>Markdown</strong>" in article
    assert "<code>&lt;b&gt;Markdown&lt;/b&gt;</code>" in article
    assert '<a href="https://example.com/"' in article and ">click me</a>" in article
    assert "<abbr" in article
    assert re.search(r"ROAS was \d+\.\d\dx\.", article)
    # the macros' fragments are intact, the chart's data included
    assert '<table class="report">' in article
    assert article.count('<script type="application/json" id="chart-daily-spend">') == 1
    assert 'id="chart-daily-spend"' not in article.replace(
        '<script type="application/json" id="chart-daily-spend">', ""
    )  # the page's own element with the chart's id lost it
    assert "crfragment" not in notes


def test_no_feature_renders_title_attributes_as_html(hostile_site):
    """Material's content.tooltips sets a tooltip's innerHTML from the title attribute."""
    for page in ("index.html", "commentary/notes.html"):
        text = (hostile_site.site / page).read_text()
        config = json.loads(re.search(r'id="__config"[^>]*>(.*?)</script>', text, re.DOTALL)[1])
        assert "content.tooltips" not in config["features"] and "toc.follow" in config["features"]


def test_front_matter_strings_are_escaped(hostile_site):
    plan = (hostile_site.site / "commentary" / "plan.html").read_text()
    title = re.search(r"<title>(.*?)</title>", plan, re.DOTALL)[1]
    assert html.unescape(title).startswith(f"{FRONT_TITLE} - ")
    assert "<img" not in plan.replace('<img src="../assets', "")


def test_search_index_titles_are_escaped_html(hostile_site):
    docs = json.loads((hostile_site.site / "search" / "search_index.json").read_text())["docs"]
    titles = {html.unescape(d["title"]) for d in docs if d["location"].startswith("commentary/")}
    assert TITLE_SHOWN in titles and FRONT_TITLE in titles


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("# a <b> `<c>`", "# a &lt;b&gt; `<c>`"),
        ("## {{ x > 1 }} <i>", "## {{ x > 1 }} &lt;i&gt;"),
        ("```\n# <b>\n```\n# <b>", "```\n# <b>\n```\n# &lt;b&gt;"),
        ("    # <b>", "    # <b>"),  # indented: code, not a heading
        ("text <b>\n#hashtag <b>", "text <b>\n#hashtag <b>"),
    ],
)
def test_headings_are_escaped_outside_code_and_templates(markdown, expected):
    assert commentary.escape_headings(markdown) == expected


def test_sanitize_keeps_formatting_and_drops_script():
    dirty = (
        '<p onclick="x()">a <b>b</b> <a href="javascript:x()">c</a></p><script>x()</script>'
        '<h2 id="__search">h</h2><h2 id="ok">k</h2>'
        '<table><tr><td style="text-align: right; position: fixed">1</td></tr></table>'
    )
    clean = commentary.sanitize(dirty)
    assert clean.startswith('<p>a <b>b</b> <a rel="noopener noreferrer">c</a></p>')
    assert "script" not in clean and 'id="__search"' not in clean and 'id="ok"' in clean
    assert '<td style="text-align:right">1</td>' in clean


@pytest.mark.parametrize(
    "src", ["https://tracker.example/p.gif", "//tracker.example/p.gif", "data:image/png;base64,AA"]
)
def test_commentary_images_load_only_from_the_site(src):
    clean = commentary.sanitize(f'<img src="{src}" alt="x"><img src="../assets/logo.png">')
    assert clean == '<img alt="x"><img src="../assets/logo.png">'


def test_a_placeholder_cannot_be_forged():
    fragments = commentary.Fragments()
    token = fragments.put("<table></table>")
    other = commentary.Fragments().put("<script>x()</script>")
    assert fragments.restore(f"<p>{token}</p><p>{other}</p>") == f"<table></table><p>{other}</p>"
