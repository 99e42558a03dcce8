import os
import re
import shutil
import signal
import subprocess
import sys
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
        # nothing is loaded from elsewhere (a link the reader may follow loads nothing)
        assert not re.search(r"(src=|<link[^>]*href=)\"https?://", html), page
        assert "fonts.googleapis" not in html and "unpkg.com" not in html
        assert "<script>alert" not in html
    assert hidden(out / "sites") == [] and list((out / ".scratch").iterdir()) == []


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
    assert hidden(out / "sites") == [] and list((out / ".scratch").iterdir()) == []


def test_a_report_without_an_analysis(tmp_path):
    with pytest.raises(BuildError, match="no analysis"):
        Report.load(tmp_path)
    with pytest.raises(BuildError, match="has no table 'nope'"):
        make_report().frame("nope")


def test_publish_swaps_folders(tmp_path):
    final, new, trash = tmp_path / "final", tmp_path / "new", tmp_path / "scratch" / "previous"
    final.mkdir()
    (final / "old.txt").write_text("old")
    new.mkdir()
    (new / "new.txt").write_text("new")
    trash.parent.mkdir()
    build_module._publish(new, final, trash)
    assert [p.name for p in final.iterdir()] == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final", "scratch"]
    assert not trash.exists()


def hidden(sites: Path) -> list[str]:
    """Anything among the published sites that is not a site or the archive's index."""
    return sorted(str(p.relative_to(sites)) for p in sites.rglob(".*"))


KILLED = """
import os, signal, sys
from pathlib import Path
from generator.site.build import _scratch
with _scratch(Path(sys.argv[1]), "build-gone-2026-10-") as work:
    (work / "docs").mkdir()
    (work / "docs" / "index.md").write_text("half done")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_scratch_stays_outside_the_sites_and_a_killed_builds_is_swept(out, tmp_path, monkeypatch):
    scratch = out / ".scratch"
    killed = subprocess.run([sys.executable, "-c", KILLED, str(scratch)], check=False)
    assert killed.returncode == -signal.SIGKILL
    left = [p for p in scratch.iterdir() if p.name.startswith("build-gone-")]
    assert len(left) == 1 and (left[0] / "docs" / "index.md").exists()
    # a build running at the same time (another client's) holds its folder: it stays
    running = scratch / "build-other-2026-10-abc"
    running.mkdir()
    lock = os.open(running, os.O_RDONLY)
    build_module.fcntl.flock(lock, build_module.fcntl.LOCK_EX)
    # killed between making its folder and naming it: swept once surely stale
    stale, fresh = scratch / ".claim-stale", scratch / ".claim-fresh"
    stale.mkdir()
    fresh.mkdir()
    os.utime(stale, (0, 0))
    seen = []

    def mkdocs_build(config, label, commentary):
        seen.append((hidden(out / "sites"), sorted(p.name for p in scratch.iterdir())))
        (config.parent / "site").mkdir()
        (config.parent / "site" / "index.html").write_text("<p>ok</p>")

    monkeypatch.setattr(build_module, "_mkdocs_build", mkdocs_build)
    try:
        site = built(out, client(tmp_path / "swept"))
        [(published, working)] = seen
        assert published == []  # nothing of the build among the published sites meanwhile
        assert ".claim-fresh" in working and ".claim-stale" not in working
        assert "build-other-2026-10-abc" in working
        assert any(name.startswith("build-swept-2026-10-") for name in working)
        assert not left[0].exists()  # the killed build's folder went with the next build
        assert sorted(p.name for p in scratch.iterdir()) == [
            ".claim-fresh",
            "build-other-2026-10-abc",
        ]
        assert (site / "index.html").read_text() == "<p>ok</p>" and hidden(out / "sites") == []
    finally:
        os.close(lock)
        shutil.rmtree(running)
        fresh.rmdir()


def test_what_older_builds_left_among_the_sites_is_cleared(out, tmp_path):
    c = client(tmp_path / "legacy")
    sites = out / "sites" / "legacy"
    (sites / ".build-legacy-2026-10-x1y2" / "docs").mkdir(parents=True)
    (sites / ".old-2026-09").mkdir()  # killed between its two renames: 2026-09 is missing
    (sites / ".old-2026-09" / "index.html").write_text("september")
    built(out, c)
    assert hidden(sites) == []
    assert (sites / "2026-09" / "index.html").read_text() == "september"
