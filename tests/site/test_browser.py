"""Open built demo sites in headless Chromium, served from 127.0.0.1 and from disk.

Every page loads without console errors or failed loads, every chart draws an SVG, nothing is
requested from anywhere but 127.0.0.1, search finds a campaign, the version selector lists the
months (Material's over HTTP, ours from disk), and hostile names from the platforms show as
text.
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

from generator.site import archive  # noqa: E402

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
    """One browser context for the module: pages share its cache (Vega is parsed once), as
    a reader's tabs do."""
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = instance.new_context(viewport={"width": 1280, "height": 900})
        yield context
        context.close()
        instance.close()


class Tab:
    """One tab, reused from page to page as a reader does (a new tab per page costs a
    renderer process). Console errors, page errors and failed loads of the latest visit are
    collected in ``errors``, every URL it requested in ``requests``."""

    def __init__(self, browser):
        self.page = browser.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"{r.url}: {r.failure}"))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, url):
        self.errors.clear()
        self.requests.clear()
        self.page.goto(url)
        draws(self.page)
        return self.page


def visit(browser, url):
    """Open ``url`` in a new tab: the page, its errors and its requests."""
    tab = Tab(browser)
    return tab.open(url), tab.errors, tab.requests


def draws(page):
    charts = page.locator("div.vega-chart")
    for i in range(charts.count()):
        charts.nth(i).locator("svg").first.wait_for(timeout=15_000)


def months(page) -> dict[str, str]:
    """The version selector's entries: title (alias included) -> link."""
    page.locator(".md-version").wait_for(timeout=10_000)
    links = page.locator(".md-version__list .md-version__link")
    return {
        links.nth(i).text_content(): links.nth(i).get_attribute("href")
        for i in range(links.count())
    }


def pages_of(out: Path, client: str) -> list[str]:
    """Every page but search and 404; of the A/B test pages (one template, dozens of pages)
    the index and the first two."""
    site = out / "sites" / client / "2026-10"
    pages = sorted(
        str(p.relative_to(site))
        for p in site.rglob("*.html")
        if p.name != "404.html" and "search" not in p.parts
    )
    tests = [p for p in pages if p.startswith("tests/") and p != "tests/index.html"]
    return [p for p in pages if p not in tests[2:]]


@pytest.mark.parametrize("client", ["northwind", "brightline", "harbor"])
def test_every_page_draws_its_charts_and_stays_local(browser, server, demo_run, client):
    _, out = demo_run
    drawn, tab = set(), Tab(browser)
    for name in pages_of(out, client):
        page = tab.open(f"{server}/{client}/2026-10/{name}")
        assert tab.errors == [], (name, tab.errors)
        assert all(r.startswith(server) for r in tab.requests), (name, tab.requests)
        drawn |= set(
            page.eval_on_selector_all(
                "div.vega-chart", "els => els.map(e => e.getAttribute('data-spec').split('-')[1])"
            )
        )
    tab.page.close()
    assert len(drawn) >= 15, drawn


@pytest.mark.parametrize("page_of", ["index.html", "campaigns/*.html"])
def test_a_page_works_straight_from_disk(browser, demo_run, page_of):
    _, out = demo_run
    client = out / "sites" / "northwind"
    name = sorted(p.relative_to(client / "2026-10") for p in (client / "2026-10").glob(page_of))[0]
    page, errors, requests = visit(browser, (client / "2026-10" / name).resolve().as_uri())
    assert page.locator("div.vega-chart svg").count() >= 1
    # the selector comes from versions.js: Material's fetch of versions.json would fail here
    assert months(page) == {
        "October 2026latest": (client / "2026-10" / "index.html").resolve().as_uri(),
        "September 2026": (client / "2026-09" / "index.html").resolve().as_uri(),
    }
    assert page.locator(".md-version").count() == 1
    assert page.locator(".md-version__current").inner_text() == "October 2026latest"
    assert page.locator(".md-version__link[aria-current]").text_content() == "October 2026latest"

    page.locator(".md-version__current").hover(force=True, position={"x": 5, "y": 5})
    page.locator(".md-version__link", has_text="September 2026").click()
    page.wait_for_url("**/northwind/2026-09/index.html")
    draws(page)
    assert page.locator(".md-version__current").inner_text() == "September 2026"
    assert "September 2026" in page.title()
    assert errors == []
    assert all(r.startswith("file://") for r in requests), requests
    assert not any(r.endswith("versions.json") for r in requests)
    page.close()


def test_hostile_month_titles_show_as_text_from_disk(browser, demo_run, tmp_path):
    _, out = demo_run
    site = tmp_path / "client" / "2026-10"
    shutil.copytree(out / "sites" / "northwind" / "2026-10", site)
    hostile = '<img src=x onerror="window.__xss=1">'
    versions = [
        {"version": "2026-10", "title": f"{hostile}October", "aliases": ["latest"]},
        {"version": '"><script>window.__xss=2</script>', "title": "</script>", "aliases": []},
    ]
    (site.parent / "versions.js").write_text(archive._script(versions))
    page, errors, _ = visit(browser, (site / "index.html").as_uri())
    assert list(months(page)) == [f"{hostile}Octoberlatest", "</script>"]
    assert page.locator(".md-version img, .md-version script").count() == 0
    assert page.evaluate("window.__xss === undefined") and errors == []
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
    page, errors, requests = visit(browser, f"{server}/brightline/2026-10/index.html")
    # Material's own selector, fed by versions.json; the file:// one stays out of the way
    assert months(page) == {
        "October 2026latest": f"{server}/brightline/2026-10/",
        "September 2026": f"{server}/brightline/2026-09/",
    }
    assert "October 2026" in page.locator(".md-version__current").inner_text()
    assert page.locator(".md-version").count() == 1
    assert f"{server}/brightline/versions.json" in requests
    assert not any(r.endswith("/versions.js") for r in requests)
    assert errors == []
    page.close()


@pytest.mark.parametrize("name", ["index.html", "commentary/notes.html", "commentary/plan.html"])
def test_hostile_configuration_runs_nothing_and_shows_as_text(browser, hostile_site, name):
    from .conftest import AGENCY, CLIENT, FRONT_TITLE, TITLE_SHOWN

    tab = Tab(browser)
    dialogs = []
    tab.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page = tab.open((hostile_site.site / name).resolve().as_uri())
    page.wait_for_load_state("load")
    site_name = f"{CLIENT} · October 2026"
    assert page.evaluate("window.__xss") is None and dialogs == []
    assert page.locator("[onerror], [onclick], [onmouseover]").count() == 0
    assert page.title().endswith(site_name)
    assert page.locator(".md-header__topic .md-ellipsis").first.inner_text().strip() == site_name
    assert page.locator(".md-copyright__highlight").inner_text().strip() == f"Prepared by {AGENCY}"
    nav = page.locator("nav.md-nav--primary").first.text_content()
    assert TITLE_SHOWN in nav and FRONT_TITLE in nav
    if name == "commentary/notes.html":
        assert page.locator("article h1").first.inner_text().strip().rstrip("¶") == TITLE_SHOWN
        assert f"Written for {CLIENT} by {AGENCY}." in page.locator("article").inner_text()
        assert page.locator("article div.vega-chart svg").count() == 1
        assert page.locator("article table.report").count() == 1
    # the body's <img src=x onerror=...> stays an image, without its handler; it fails to load
    missing = "net::ERR_FILE_NOT_FOUND"
    image = {f"{page.url.rsplit('/', 1)[0]}/x: {missing}", f"Failed to load resource: {missing}"}
    assert set(tab.errors) <= (image if name == "commentary/notes.html" else set())
    page.close()


def test_hostile_titles_show_as_text_in_search_results(browser, hostile_site):
    from .conftest import TITLE_SHOWN

    page, errors, _ = visit(browser, (hostile_site.site / "index.html").resolve().as_uri())
    page.locator("input.md-search__input").press_sequentially("Notes", delay=20)
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10_000)
    assert TITLE_SHOWN in page.locator(".md-search-result").inner_text()
    assert page.locator(".md-search-result img, .md-search-result script").count() == 0
    assert page.evaluate("window.__xss") is None and errors == []
    page.close()


@pytest.mark.parametrize("client", ["northwind", "harbor"])
def test_the_funnel_drills_down_without_a_server(browser, server, demo_run, client):
    """Choosing a breakdown, clicking a step and clicking a segment each visibly change the
    explorer: the segments' title names the step and breakdown, the funnel's its segment."""
    _, out = demo_run
    pages = sorted((out / "sites" / client / "2026-10" / "funnels").glob("f-*.html"))
    assert pages, "no funnel page"
    tab = Tab(browser)
    page = tab.open(f"{server}/{client}/2026-10/funnels/{pages[0].name}")
    explorer = page.locator("div.vega-chart[data-spec^='chart-funnel-explorer']")

    def titles():
        return [t for t in explorer.locator("svg text").all_text_contents() if " · " in t]

    assert titles()[0] == "Users at each step · everyone"
    assert titles()[1].endswith("· by channel")
    explorer.locator("select").select_option("Device")
    page.wait_for_timeout(200)
    assert titles()[1].endswith("· by device")
    before = titles()[1]  # "Into <the step where most drop> · by device"
    steps = explorer.locator("path[aria-label^='Users: ']")
    labels = steps.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    other = next(i for i, a in enumerate(labels[1:], 1) if f"step: {before[5:-12]};" not in a)
    steps.nth(other).click()
    page.wait_for_timeout(200)
    assert titles()[1] != before and titles()[1].startswith("Into ")
    segment = explorer.locator("path[aria-label*='segment: ']").first
    name = segment.get_attribute("aria-label").split("segment: ")[1].split(";")[0]
    segment.click()
    page.wait_for_timeout(200)
    assert titles()[0] == f"Users at each step · {name}"
    assert tab.errors == [], tab.errors
    tab.page.close()
