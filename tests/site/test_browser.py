"""Open a built demo site in headless Chromium: charts draw, search works, nothing leaves."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError(f"REQUIRE_BROWSER is set but {CHROMIUM} is missing")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def visit(browser, path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.resolve().as_uri())
    page.wait_for_function(
        "document.querySelectorAll('div.vega-chart[data-drawn]').length > 0 || "
        "document.querySelectorAll('div.vega-chart').length === 0"
    )
    return page, errors, requests


@pytest.mark.parametrize("client", ["northwind", "brightline", "harbor"])
def test_pages_draw_their_charts_offline(browser, demo_run, client):
    _, out = demo_run
    site = next((out / "sites" / client).iterdir())
    for page_file in sorted(site.rglob("*.html")):
        if "search" in page_file.parts or page_file.name == "404.html":
            continue
        page, errors, requests = visit(browser, page_file)
        charts = page.locator("div.vega-chart")
        for i in range(charts.count()):
            charts.nth(i).locator("svg, canvas").first.wait_for(timeout=10_000)
        assert errors == [], (page_file, errors)
        assert all(r.startswith("file://") for r in requests), (page_file, requests)
        page.close()


def test_hostile_names_show_as_text(browser, demo_run):
    _, out = demo_run
    index = next((out / "sites" / "northwind").iterdir()) / "index.html"
    page, _, _ = visit(browser, index)
    cell = page.get_by_text('Performance Max — Summer <script>alert("xss")</script> Sale')
    assert cell.count() == 1
    assert page.evaluate("window.__xss === undefined")
    page.close()


def test_search_finds_a_campaign(browser, demo_run):
    _, out = demo_run
    index = next((out / "sites" / "harbor").iterdir()) / "index.html"
    page, errors, requests = visit(browser, index)
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator("input.md-search__input").press_sequentially("Invisalign", delay=20)
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10_000)
    assert "Invisalign" in page.locator(".md-search-result").inner_text()
    assert errors == [] and all(r.startswith("file://") for r in requests)
    page.close()
