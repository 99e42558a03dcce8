"""The Benchmarks page, the overview's card and the sentences, from tests/report_data's
handmade Benchmarks section (hostile publisher and title, a stale and a provisional edition,
withheld peer medians, a parent industry level)."""

import html
import re

import pandas as pd
import pytest

from generator.site import benchmark_tables, narrative
from generator.site.render import render_pages

from ..report_data import EVIL


@pytest.fixture(scope="module")
def pages(built_report, tmp_path_factory):
    """The rendered pages of a report that has the Benchmarks section (rendered once: the
    tests only read them)."""
    folder = tmp_path_factory.mktemp("pages")
    nav = render_pages(built_report, folder, "campaign-report")
    return nav, folder


def text_of(page) -> str:
    """What a reader sees: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page.read_text()))


def test_the_page_is_in_the_navigation_before_methods(pages):
    nav, _ = pages
    titles = [next(iter(entry)) for entry in nav]
    assert titles[-2:] == ["Benchmarks", "Methods & data"]
    assert nav[-2] == {"Benchmarks": "benchmarks.md"}


def test_the_page_says_who_the_client_is_compared_with(pages):
    _, docs = pages
    shown = " ".join(text_of(docs / "benchmarks.md").split())
    assert "the agency's other clients in Retail in North America" in shown
    assert "over their last 90 days to 2026-10-31" in shown
    assert f'(peer group "Retail peers {EVIL}")' in shown
    assert "a broader level is used and the table says so. Used here: All industries." in shown


def test_the_table_formats_each_row_by_its_unit(pages):
    _, docs = pages
    shown = " ".join(text_of(docs / "benchmarks.md").split())
    # a rate, money, a ratio: each with its 95% interval
    assert "CTR higher is better 2.50% 2.40% – 2.60% 3.17%" in shown
    assert "CPC lower is better $1.25 $1.20 – $1.30 $2.69" in shown
    assert "ROAS higher is better 3.10x 2.80x – 3.40x — no published figure" in shown
    assert "Top 25% 82nd percentile significantly better" in shown
    assert "Middle 40th percentile significantly worse" in shown  # among peers
    assert "$2.50" not in shown and "2.50x 10–20 companies" in shown
    assert "blended with published: 3.10%" in shown


def test_withheld_peers_say_why_without_the_exact_count(pages):
    _, docs = pages
    shown = " ".join(text_of(docs / "benchmarks.md").split())
    assert "— withheld: fewer than 5 other companies" in shown
    assert "quartiles need at least 10 companies" in shown
    assert "(4)" not in shown and "(7)" not in shown  # sizes are shown as bands only
    # ROAS's peers are every industry in any region: the cohort as shown says so
    assert "2.50x 10–20 companies (industry level: All industries) any region" in shown


def test_provisional_stale_and_parent_levels_are_marked(pages):
    _, docs = pages
    page = (docs / "benchmarks.md").read_text()
    assert '<span class="kpi-status kpi-at_risk">provisional</span>' in page
    assert '<span class="kpi-status kpi-off_track">stale: 112 months old</span>' in page
    assert '<span class="kpi-status kpi-off_track">stale edition</span>' in page
    shown = " ".join(text_of(docs / "benchmarks.md").split())
    assert "(industry level: All industries)" in shown
    assert "median estimated from a mean" in shown
    assert "(industry level: Retail)" not in shown  # the client's own level goes unsaid


def test_sources_are_cited_and_escaped(pages):
    _, docs = pages
    page = (docs / "benchmarks.md").read_text()
    assert "<script>" not in page.replace('<script type="application/json"', "")
    assert "&lt;script&gt;alert(&#34;bench&#34;)&lt;/script&gt;" in page
    # the URL's quote and angle brackets cannot leave the attribute
    assert (
        '<a href="https://www.wordstream.com/blog?a=1&amp;b=&#34;&lt;x&gt;" '
        'rel="noopener noreferrer" target="_blank">www.wordstream.com</a>'
    ) in page
    assert "javascript:" not in page  # Databox's link is not http(s): no link at all
    shown = " ".join(text_of(docs / "benchmarks.md").split())
    assert (
        f"WordStream {EVIL} , Search {EVIL} : edition 2024 · published 2024-05-13 · "
        "data Apr 2023 – Mar 2024 · sample 17,000 campaigns · grade B provisional figures"
    ) in shown
    assert "Databox , Facebook Ads : edition 2025 · published 2025-01-01 · sample 256 accounts" in (
        shown
    )
    for words in ("Grades", "provisional", "Harrell–Davis", "n / (n + 10)", "30%", "$100"):
        assert words in shown, words


def test_the_box_and_the_overview_tell_the_story(pages):
    _, docs = pages
    box = " ".join(text_of(docs / "benchmarks.md").split())
    assert "Of 4 metrics with a benchmark, 1 stands in the top 25%, 3 in the middle" in box
    assert "Strongest: Google Ads CPC at $1.25 (top 25%, 82nd percentile)." in box
    assert "Weakest: Google Ads CTR at 2.50% (middle, 38th percentile)." in box
    assert "2 peer medians are withheld" in box
    overview = (docs / "index.md").read_text()
    shown = " ".join(text_of(docs / "index.md").split())
    assert "## Against the industry" in overview
    assert "(benchmarks.md)" in overview
    assert re.search(r"Top 25%\s+1\s+metrics\s+Middle\s+3\s+metrics\s+Bottom 25%\s+0", shown)
    assert (
        "Against the industry, 1 of 4 metrics with a benchmark stands in the top 25% and 0 in "
        "the bottom 25%; the strongest is Google Ads CPC, the weakest Google Ads CTR."
    ) in shown


def test_a_report_without_the_section_has_no_page_card_or_sentence(report, tmp_path):
    report.summary["sections"] = [s for s in report.summary["sections"] if s != "benchmarks"]
    render_pages(report, tmp_path, "campaign-report")
    assert not (tmp_path / "benchmarks.md").exists()
    assert "Against the industry" not in (tmp_path / "index.md").read_text()
    assert narrative.benchmarks({"currency": "USD"}) == []


def test_a_section_with_peers_only(report, tmp_path):
    """No published figure anywhere: the analysis leaves out the pub_* columns, the sources
    are empty and the trend has no percentile."""
    bench = report.frames["benchmarks"]
    peers_only = bench[[c for c in bench if not c.startswith(("pub_", "blend_", "sigma"))]]
    report.frames = {
        **report.frames,
        "benchmarks": peers_only.assign(pub_median=None),
        "benchmark_sources": pd.DataFrame(),
        "benchmark_trend": report.frames["benchmark_trend"].assign(pub_pct=None),
    }
    render_pages(report, tmp_path, "campaign-report")
    shown = " ".join(text_of(tmp_path / "benchmarks.md").split())
    assert "No published figure applies to these platforms this period." in shown
    assert "Month by month" not in shown
    assert "chart-benchmark-trend" not in (tmp_path / "benchmarks.md").read_text()
    assert "chart-benchmark-standing" in (tmp_path / "benchmarks.md").read_text()
    assert "CTR higher is better 2.50% 2.40% – 2.60% — no published figure — 3.00%" in shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(61.3, "61st percentile"), (12, "12th percentile"), (22, "22nd percentile"),
     (3, "5th percentile or below"), (95, "95th percentile or above"), (None, "")],
)  # fmt: skip
def test_percentile_words(value, shown):
    assert benchmark_tables.percentile(value) == shown


def test_region_names():
    assert benchmark_tables.region_name("north_america") == "North America"
    assert benchmark_tables.region_name("us_west") == "US West"
    assert benchmark_tables.region_name(None) == ""
