"""Open built demo sites in headless Chromium, served from 127.0.0.1 and from disk.

Every page loads without console errors, every chart draws an SVG, nothing is requested from
anywhere but 127.0.0.1, search finds a campaign, the version selector lists the months, and
hostile names from the platforms show as text.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
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


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        return None


@pytest.fixture(scope="module")
def server(demo_run):
    _, out = demo_run
    handler = functools.partial(_Quiet, directory=str(out / "sites"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def visit(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    charts = page.locator("div.vega-chart")
    for i in range(charts.count()):
        charts.nth(i).locator("svg").first.wait_for(timeout=15_000)
    return page, errors, requests


def pages_of(out: Path, client: str) -> list[str]:
    site = out / "sites" / client / "2026-10"
    return sorted(
        str(p.relative_to(site))
        for p in site.rglob("*.html")
        if p.name != "404.html" and "search" not in p.parts
    )


@pytest.mark.parametrize("client", ["northwind", "brightline", "harbor"])
def test_every_page_draws_its_charts_and_stays_local(browser, server, demo_run, client):
    _, out = demo_run
    drawn = set()
    for name in pages_of(out, client):
        page, errors, requests = visit(browser, f"{server}/{client}/2026-10/{name}")
        assert errors == [], (name, errors)
        assert all(r.startswith(server) for r in requests), (name, requests)
        drawn |= set(
            page.eval_on_selector_all(
                "div.vega-chart", "els => els.map(e => e.getAttribute('data-spec').split('-')[1])"
            )
        )
        page.close()
    assert len(drawn) >= 15, drawn


def test_a_page_works_straight_from_disk(browser, demo_run):
    _, out = demo_run
    index = out / "sites" / "northwind" / "2026-10" / "index.html"
    failed = []
    page = browser.new_page()
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.close()
    page, _, requests = visit(browser, index.resolve().as_uri())
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.reload()
    page.locator("div.vega-chart svg").first.wait_for()
    assert page.locator("div.vega-chart svg").count() >= 4
    assert all(r.startswith("file://") for r in requests)
    # only the month list fails from disk: browsers refuse to fetch files for a page
    assert {u.rsplit("/", 1)[-1] for u in failed} <= {"versions.json"}
    page.close()


def test_hostile_names_show_as_text(browser, server):
    page, errors, _ = visit(browser, f"{server}/northwind/2026-10/index.html")
    cell = page.get_by_text('Performance Max — Summer <script>alert("xss")</script> Sale')
    assert cell.count() >= 1
    assert page.evaluate("window.__xss === undefined") and errors == []
    page.close()


def test_search_finds_a_campaign(browser, server):
    page, errors, _ = visit(browser, f"{server}/harbor/2026-10/index.html")
    page.locator("input.md-search__input").press_sequentially("Invisalign", delay=20)
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10_000)
    assert "Invisalign" in page.locator(".md-search-result").inner_text()
    assert errors == []
    page.close()


def test_the_version_selector_lists_the_months(browser, server):
    page, _, _ = visit(browser, f"{server}/brightline/2026-10/index.html")
    selector = page.locator(".md-version")
    selector.wait_for(timeout=10_000)
    assert "October 2026" in selector.inner_text()
    links = page.locator(".md-version__list .md-version__link")
    items = [links.nth(i).text_content() for i in range(links.count())]
    assert any("October 2026" in i for i in items) and any("September 2026" in i for i in items)
    page.close()
