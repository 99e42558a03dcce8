"""What a client site shows of stored creatives: only its own, a reason where an image is not
there, and no invitation to search engines (issue 16)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from generator.config import Agency, Client
from generator.creatives import THUMBNAIL
from generator.creatives.manifest import removed
from generator.pipeline import Workspace
from generator.site.build import build_site
from generator.site.report import Report

from ..report_data import make_report

HOSTILE_REASON = 'asset not available (HTTP 404) <script>alert("x")</script> {{ 7*7 }}'
ROBOTS_META = '<meta name="robots" content="noindex, nofollow">'


def sha(n: int) -> str:
    return f"{n:02x}" * 32


#: ad -> the asset its creative names: in the old shared store, removed by retention, in no
#: store (another client's holds it), in the client's own store; a2 has none (refused)
ASSETS = {"a4": sha(1), "a5": sha(2), "a3": sha(3), "a6": sha(4), "a2": None}


def client(folder: Path) -> Client:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.md").write_text("# Notes\n\n{{ creative_gallery() }}\n")
    return Client.model_validate(
        {
            "slug": folder.name, "name": "Acme", "industry": "retail", "currency": "USD",
            "timezone": "UTC", "accounts": [{"platform": "google_ads", "account_id": "1"}],
            "folder": folder,
        }
    )  # fmt: skip


def report() -> Report:
    made = make_report()
    ads = made.frames["ads"].copy()
    ads["asset_sha256"] = [ASSETS.get(ad) for ad in ads["ad_id"]]
    ads.loc[ads["ad_id"] == "a2", "format"] = "image"
    return Report(made.summary, {**made.frames, "ads": ads})


def build(root: Path, agency: Agency) -> Path:
    workspace = Workspace(root / "content", root / "out")
    mine, theirs = workspace.assets_of("acme"), workspace.assets_of("rival")
    workspace.shared_assets.put_derived(sha(1), THUMBNAIL, b"legacy thumbnail")
    mine.put_manifest(
        sha(2), removed(None, sha=sha(2), on=date(2027, 1, 1), retention_days=400, last_ran=None)
    )
    theirs.put_derived(sha(3), THUMBNAIL, b"the rival's image")
    mine.put_derived(sha(4), THUMBNAIL, b"our own thumbnail")
    mine.put_missing("google_ads", "acc-G", {"a2": HOSTILE_REASON})
    results = workspace.out / "results" / "acme"
    report().save(results)
    c = client(workspace.content / "acme")
    return build_site(Report.load(results), c, agency, workspace.out, results, mine)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("site"), Agency(name="Lighthouse"))


def cards(page: Path) -> list[str]:
    return re.findall(r'<figure class="cg-card[^"]*"[^>]*>(.*?)</figure>', page.read_text())


def title(card: str) -> str:
    """A card's headline (a text ad shows its copy in the frame, its name below)."""
    found = re.search(r'<strong class="cg-headline">(.*?)</strong>', card)
    text = (found or re.search(r'<span class="cg-name">(.*?)</span>', card)).group(1)
    return re.sub(r"<[^>]+>", "", text)  # the headline links to the landing page


def test_a_site_holds_its_own_images_and_those_older_runs_shared(site):
    copied = {p.name: p.read_bytes() for p in (site / "assets" / "creatives").iterdir()}
    assert copied == {
        f"{sha(1)}.webp": b"legacy thumbnail",  # the lake names it; the old shared store has it
        f"{sha(4)}.webp": b"our own thumbnail",
    }  # never the rival's, though the lake (wrongly) names it


def test_an_ad_without_its_image_says_why(site):
    shown = {title(card): card for page in site.glob("campaigns/c-*.html") for card in cards(page)}
    assert f'<img src="../assets/creatives/{sha(1)}.webp"' in shown["Video"]  # a4: old store
    assert f'<img src="../assets/creatives/{sha(4)}.webp"' in shown["Story"]  # a6: its own
    assert (
        '<div class="cg-placeholder">asset removed after 400 days (retention policy)</div>'
        in shown["Carousel"]
    )  # a5
    assert "image missing from the asset store" in shown["Sale ad"]  # a3: the rival's image
    assert (
        '<div class="cg-placeholder">image not stored: asset not available (HTTP 404) '
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &#123;&#123; 7*7 &#125;&#125;</div>"
        in shown["Brand — B"]
    )  # a2: refused at download; the reason is the platform's text, escaped
    assert "cg-frame-text" in shown["Brand — A"] and "<img" not in shown["Brand — A"]


def test_an_authored_page_gallery_says_the_same(site):
    notes = (site / "commentary" / "notes.html").read_text()
    assert "asset removed after 400 days (retention policy)" in notes
    assert "image missing from the asset store" in notes
    assert "image not stored: asset not available (HTTP 404) &lt;script&gt;" in notes
    assert sha(2) + ".webp" not in notes and sha(3) + ".webp" not in notes


def test_every_page_asks_search_engines_to_stay_away(site):
    pages = list(site.rglob("*.html"))
    assert len(pages) > 5
    for page in pages:
        assert page.read_text().count(ROBOTS_META) == 1, page
    assert (site / "robots.txt").read_text() == "User-agent: *\nDisallow: /\n"


def test_noindex_can_be_turned_off(tmp_path):
    site = build(tmp_path, Agency(name="Lighthouse", site={"noindex": False}))
    assert not (site / "robots.txt").exists()
    for page in site.rglob("*.html"):
        assert 'name="robots"' not in page.read_text(), page
