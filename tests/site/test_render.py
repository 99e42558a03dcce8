import html
import re

import pytest

from generator.errors import BuildError
from generator.site import render
from generator.site.render import render_pages

from ..report_data import HOSTILE


def test_generated_pages(built_report, tmp_path, snapshot):
    nav = render_pages(built_report, tmp_path, "campaign-report")
    assert [next(iter(entry)) for entry in nav] == [
        "Overview",
        "Channels",
        "Campaigns",
        "A/B tests",
        "Funnels",
        "Trends",
        "Attribution",
        "Customer value",
        "Benchmarks",
        "Methods & data",
    ]
    campaigns = nav[2]["Campaigns"]
    (funnel,) = nav[4]["Funnels"]
    assert funnel == {
        "Checkout": f"funnels/{built_report.summary['funnel']['funnels'][0]['slug']}.md"
    }
    assert campaigns[0] == "campaigns/index.md" and len(campaigns) == 1 + 3
    titles = [next(iter(entry)) for entry in campaigns[1:]]
    hostile_title = next(t for t in titles if "script" in t)
    assert not set('<>&"{}') & set(hostile_title) and hostile_title.startswith("Summer script")
    for page in sorted(tmp_path.rglob("*.md")):
        text = page.read_text()
        assert text.startswith("---\nrender_macros: false\n")
        assert "<script>" not in text.replace('<script type="application/json"', "")
        assert HOSTILE not in text and "{{" not in text
        assert text == snapshot(name=str(page.relative_to(tmp_path)))


def test_sections_without_data_are_left_out(report, tmp_path):
    report.summary["sections"] = ["overview", "channels", "campaigns", "trends"]
    nav = render_pages(report, tmp_path, "campaign-report")
    assert [next(iter(e)) for e in nav] == [
        "Overview",
        "Channels",
        "Campaigns",
        "Trends",
        "Methods & data",
    ]
    assert not (tmp_path / "attribution.md").exists()


def test_the_story_names_what_changed(built_report, tmp_path):
    render_pages(built_report, tmp_path, "campaign-report")
    overview = html.unescape((tmp_path / "index.md").read_text())
    assert "Spend was $" in overview and "September 2026" in overview
    assert "What went well" in overview and "What to watch" in overview
    assert re.search(r"On Oct 14, conversions on Google Ads were \d+% of a usual day", overview)


def test_a_broken_template_names_itself(report, tmp_path, monkeypatch):
    del report.summary["freshness"]
    with pytest.raises(BuildError, match="methods.md.j2"):
        render.render_pages(report, tmp_path, "campaign-report")
    monkeypatch.setattr(render, "PAGES", [])
    assert render.render_pages(report, tmp_path, "x") == []


def test_the_funnel_page_words_its_health(built_report, tmp_path):
    """tests/report_data's funnel: 244 people entered in October, 83 bought (34.0%), against
    21.7% in September; mobile adds to cart less often than desktop."""
    render_pages(built_report, tmp_path, "campaign-report")
    (page,) = (tmp_path / "funnels").glob("f-*.md")
    text = html.unescape(page.read_text())
    assert text.startswith("---\nrender_macros: false\n---\n") and "# Checkout" in text
    assert "34.0% of the 244 people who started reached purchase (83)." in text
    assert "The biggest loss: 56 people (40.3%) left between add_to_cart and purchase." in text
    assert "In September 2026, 21.7% completed it: +12.3 points, a real change at 95%" in text
    assert (
        "If mobile (device) users moved from view_item to add_to_cart at the desktop rate" in text
    )
    for chart in ("funnel_explorer", "funnel_compare", "funnel_cohorts", "channel_flow"):
        assert f'data-spec="chart-{chart.replace("_", "-")}' in text, chart
    channels = html.unescape((tmp_path / "channels.md").read_text())
    assert f"(../funnels/{page.stem}.html)" in channels


@pytest.mark.parametrize("as_of", ["2026-10-10", "2026-10-31"], ids=["running", "finished"])
def test_the_overview_paces_budgets_or_says_what_they_came_to(report, tmp_path, as_of):
    from datetime import date

    from generator.analytics import pacing_report
    from generator.config import BudgetConfig
    from generator.periods import Period

    rows = report.frame("campaign_daily").assign(currency="USD")
    rows["spend_micros"] = (rows["spend"] * 1_000_000).round().astype("int64")
    rows = rows.drop(columns=["spend", "value"]).assign(value_micros=0)
    day = date.fromisoformat(as_of)
    budgets = pacing_report.scoped(
        [BudgetConfig(amount=5000, label=HOSTILE)], Period.month_to_date("2026-10", day)
    )
    rows = rows[rows["date"] <= day]
    report.summary["pacing"], tables = pacing_report.section(rows, budgets, day, 0.1)
    report.frames.update(tables)
    report.summary["sections"] = [*report.summary["sections"], "pacing"]
    render_pages(report, tmp_path, "campaign-report")
    overview = (tmp_path / "index.md").read_text()
    assert "## Budget pacing" in overview and "<script>" not in overview
    spent = report.summary["pacing"]["budgets"][0]["spent"]
    assert f"${spent:,.0f}" in html.unescape(overview)
    running = as_of == "2026-10-10"
    assert report.summary["pacing"]["running"] is running
    assert ("At even pace" in overview) is running and ("Share spent" in overview) is not running
