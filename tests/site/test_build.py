import re
from pathlib import Path

import pytest

from generator.config import Agency, Client
from generator.errors import BuildError
from generator.site import build as build_module
from generator.site.build import build_site
from generator.site.report import Report

from ..report_data import make_report


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("out")  # shared, so the Vega bundle is made once


def client(folder: Path, **extra) -> Client:
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "slug": folder.name,
        "name": "Acme & Sons",
        "industry": "retail",
        "currency": "USD",
        "timezone": "UTC",
        "accounts": [{"platform": "google_ads", "account_id": "1"}],
        "folder": folder,
        **extra,
    }
    return Client.model_validate(data)


def built(out: Path, c: Client, report: Report | None = None) -> Path:
    report = report or make_report()
    results = out / "results" / c.slug
    report.save(results)
    return build_site(Report.load(results), c, Agency(name="Lighthouse"), out, results)


@pytest.fixture(scope="module")
def acme(out, tmp_path_factory) -> Path:
    """A site with a logo, a brand colour and a commentary page, built once for the tests
    that only read it."""
    folder = tmp_path_factory.mktemp("content") / "acme"
    c = client(folder, branding={"logo": "logo.svg", "primary_color": "#123456"})
    (folder / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (folder / "notes.md").write_text(
        '# Our notes\n\nROAS was {{ metric("roas") }}.\n\n{{ table("campaigns", 1) }}\n'
    )
    return built(out, c)


def test_a_site_is_built_offline_with_commentary(out, acme):
    site = acme
    assert site == out / "sites" / "acme" / "2026-10"
    index = (site / "index.html").read_text()
    assert (site / "assets" / "vega.js").stat().st_size > 500_000
    assert "assets/logo.svg" in index and "Acme &amp; Sons" in index
    assert "--md-primary-fg-color: #123456" in (site / "assets" / "brand.css").read_text()
    notes = (site / "commentary" / "notes.html").read_text()
    assert re.search(r"ROAS was \d+\.\d\dx\.", notes) and '<table class="report">' in notes
    assert "Our notes" in index  # in the navigation
    for page in site.rglob("*.html"):
        html = page.read_text()
        assert not re.search(r"(src|href)=\"https?://", html), page
        assert "fonts.googleapis" not in html and "unpkg.com" not in html
        assert "<script>alert" not in html
    assert not list(out.glob("sites/acme/.build-*"))


def test_pages_carry_the_selector_for_file_urls(acme):
    site = acme
    index = (site / "index.html").read_text()
    config, ours, bundle = (
        index.index('id="__config"'),
        index.index('src="assets/javascripts/file-versions.js"'),
        index.index('src="assets/javascripts/bundle.'),
    )
    assert config < ours < bundle  # it edits the configuration before the bundle reads it
    assert '"provider": "mike"' in index[config:ours]
    assert (site / "assets" / "javascripts" / "file-versions.js").is_file()
    nested = next(site.glob("campaigns/*.html")).read_text()
    assert 'src="../assets/javascripts/file-versions.js"' in nested
    # the site is archived as it is published, so its pages find ../versions.js from disk
    assert (site.parent / "versions.js").read_text().startswith("window.__reportVersions = [")


def test_a_missing_logo_is_a_visible_warning(out, tmp_path):
    site = built(out, client(tmp_path / "nologo", branding={"logo": "gone.png"}))
    assert (
        "The logo &#39;gone.png&#39; named in client.yml was not found"
        in (site / "index.html").read_text()
        or "gone.png" in (site / "index.html").read_text()
    )


def test_a_broken_commentary_page_fails_and_keeps_the_old_site(out, tmp_path):
    folder = tmp_path / "broken"
    c = client(folder)
    site = built(out, c)
    marker = site / "index.html"
    before = marker.read_text()
    (folder / "notes.md").write_text('{{ metric("nope") }}\n')
    with pytest.raises(BuildError, match="building the broken 2026-10 site failed") as err:
        built(out, c)
    assert f"{folder}/notes.md" in str(err.value) and "metric('nope')" in str(err.value)
    assert marker.read_text() == before
    assert not list(out.glob("sites/broken/.build-*"))


def test_a_report_without_an_analysis(tmp_path):
    with pytest.raises(BuildError, match="no analysis"):
        Report.load(tmp_path)
    with pytest.raises(BuildError, match="has no table 'nope'"):
        make_report().frame("nope")


def test_publish_swaps_folders(tmp_path):
    final, new = tmp_path / "final", tmp_path / "new"
    final.mkdir()
    (final / "old.txt").write_text("old")
    new.mkdir()
    (new / "new.txt").write_text("new")
    build_module._publish(new, final)
    assert [p.name for p in final.iterdir()] == ["new.txt"]
    assert not (tmp_path / ".old-final").exists()
