"""Retention: images of ads that have not run for ``retention_days`` go, the lake stays
(issue 16)."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image
from typer.testing import CliRunner

from generator import schema
from generator.cli import app
from generator.config import load_agency, load_client
from generator.creatives import THUMBNAIL, AssetStore, last_ran, prune
from generator.creatives.manifest import with_source
from generator.errors import ConfigError
from generator.lake import Lake
from generator.periods import Period
from generator.pipeline import AccountSync, Workspace
from generator.pipeline.syncing import _retain, prune_assets

TODAY = date(2027, 12, 31)  # 400 days back: 2026-11-26
CLIENT, OTHER = "northwind", "ab"  # "ab" also names a folder of the old shared store


def image(n: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (n, 2 * n % 256, 3 * n % 256)).save(out, format="PNG")
    return out.getvalue()


def store_asset(store: AssetStore, n: int, fetched: date | None = None) -> str:
    sha = store.put(image(n), ".png")
    store.put_derived(sha, THUMBNAIL, b"thumb" * n)
    if fetched is not None:
        row = {"platform": "meta", "account_id": "act_1", "creative_id": f"x{n}",
               "fetched_at": datetime.combine(fetched, datetime.min.time(), UTC)}  # fmt: skip
        store.put_manifest(sha, with_source(None, sha=sha, size=1, image={}, row=row, rights=None))
    return sha


def creative(creative_id: str, sha: str, first_seen: date) -> dict:
    return {
        "platform": "meta", "source": "meta", "account_id": "act_1", "creative_id": creative_id,
        "version": "v1", "ad_id": "a" + creative_id[1:], "format": "image",
        "asset_url": f"https://cdn.test/{creative_id}.png", "asset_sha256": sha,
        "first_seen": first_seen, "fetched_at": datetime(2027, 12, 30, tzinfo=UTC),
        "api_version": "v25.0",
    }  # fmt: skip


def impressions(ad_id: str, day: date, count: int = 100) -> dict:
    return {
        "date": day, "platform": "facebook", "source": "meta", "account_id": "act_1",
        "account_timezone": "UTC", "currency": "USD", "campaign_id": "c", "ad_id": ad_id,
        "impressions": count, "clicks": 1, "spend_micros": 1, "conversions": 0.0,
        "value_micros": 0, "fetched_at": datetime(2027, 12, 30, tzinfo=UTC),
        "api_version": "v25.0",
    }  # fmt: skip


def write(lake: Lake, client: str, creatives: list[dict], days: list[dict]) -> None:
    lake.merge("creatives", client, "meta", "act_1", schema.from_rows(creatives, schema.CREATIVES))
    period = Period.between(date(2025, 1, 1), date(2027, 12, 30))
    table = schema.from_rows(days, schema.AD_PERFORMANCE)
    lake.write_days("ad_performance", client, "meta", "act_1", period, table)


@pytest.fixture
def stores(tmp_path: Path) -> dict:
    """A client's store and lake: ads that ran lately, long ago, both, never, and files no
    ad names; another client's; and the old shared store."""
    workspace = Workspace(tmp_path / "content", tmp_path / "out")
    store, lake = workspace.assets_of(CLIENT), workspace.lake
    sha = {
        "recent": store_asset(store, 1),
        "old": store_asset(store, 2),
        "shared": store_asset(store, 3),
        "new": store_asset(store, 4),
        "idle": store_asset(store, 5),
        "orphan_old": store_asset(store, 6, fetched=date(2025, 5, 1)),
        "orphan_new": store_asset(store, 7, fetched=date(2027, 12, 20)),
    }
    creatives = [
        creative("c1", sha["recent"], date(2025, 1, 1)),
        creative("c2", sha["old"], date(2025, 1, 1)),
        creative("c3", sha["shared"], date(2025, 1, 1)),
        creative("c4", sha["shared"], date(2025, 1, 1)),
        creative("c5", sha["new"], date(2027, 10, 1)),  # never ran: counts from first seen
        creative("c6", sha["idle"], date(2025, 3, 1)),
    ]
    write(lake, CLIENT, creatives, [
        impressions("a1", date(2027, 12, 1)),
        impressions("a2", date(2026, 6, 30)),
        impressions("a3", date(2026, 1, 1)),
        impressions("a4", date(2027, 11, 1)),
        impressions("a6", date(2025, 3, 5)),
        impressions("a6", date(2027, 12, 1), count=0),  # served nothing: did not run
    ])  # fmt: skip
    other = workspace.assets_of(OTHER)
    sha["other_old"] = store_asset(other, 8)
    shared = workspace.shared_assets
    sha["legacy_recent"], sha["legacy_old"] = store_asset(shared, 9), store_asset(shared, 10)
    write(lake, OTHER, [
        creative("c8", sha["other_old"], date(2025, 1, 1)),
        creative("c9", sha["legacy_recent"], date(2025, 1, 1)),
        creative("c10", sha["legacy_old"], date(2025, 1, 1)),
    ], [impressions("a9", date(2027, 12, 29))])  # fmt: skip
    return {"workspace": workspace, "store": store, "lake": lake, "sha": sha}


GONE = ("old", "idle", "orphan_old")


def present(store: AssetStore, sha: str) -> bool:
    return store.has(sha, ".png") and store.has(sha, THUMBNAIL)


def test_the_last_day_an_asset_ran(stores):
    ran = last_ran(stores["lake"], CLIENT)
    sha = stores["sha"]
    assert ran == {
        sha["recent"]: date(2027, 12, 1),
        sha["old"]: date(2026, 6, 30),
        sha["shared"]: date(2027, 11, 1),
        sha["new"]: date(2027, 10, 1),
        sha["idle"]: date(2025, 3, 5),
    }


def test_images_of_ads_idle_past_the_window_go_and_nothing_else(stores):
    store, lake, sha = stores["store"], stores["lake"], stores["sha"]
    lake_before = lake.read("creatives").to_pylist()
    ran = last_ran(lake, CLIENT)
    sizes = sum(len(image(n)) + len(b"thumb" * n) for n in (2, 5, 6))

    dry = prune(store, ran, retention_days=400, today=TODAY, dry_run=True)
    assert (dry.assets, dry.files, dry.bytes, dry.kept, dry.dry_run) == (3, 6, sizes, 4, True)
    assert all(present(store, s) for s in sha.values() if store.has(s, ".png"))
    assert all(present(store, sha[name]) for name in GONE)

    done = prune(store, ran, retention_days=400, today=TODAY)
    assert (done.assets, done.files, done.bytes, done.kept) == (3, 6, sizes, 4)
    for name in ("recent", "shared", "new", "orphan_new"):
        assert present(store, sha[name]), name
    for name in GONE:
        assert not store.has(sha[name], ".png") and not store.has(sha[name], THUMBNAIL)
        note = json.loads(store.path(sha[name], ".json").read_text())["removed"]
        assert note["reason"] == "retention" and note["retention_days"] == 400
        assert note["on"] == "2027-12-31"
    assert store.manifest(sha["old"])["removed"]["last_ran"] == "2026-06-30"
    assert store.manifest(sha["orphan_old"])["sources"][0]["creative_id"] == "x6"
    assert lake.read("creatives").to_pylist() == lake_before  # the lake is never touched
    again = prune(store, ran, retention_days=400, today=TODAY)
    assert (again.assets, again.bytes, again.kept) == (0, 0, 4)
    # a window that still holds the old ad: it would have stayed
    assert prune(store, ran, retention_days=600, today=TODAY, dry_run=True).assets == 0


def test_the_shared_store_of_older_runs_is_pruned_by_every_clients_ads(stores):
    workspace, sha = stores["workspace"], stores["sha"]
    done = prune_assets(
        stores["lake"], workspace.assets_of, [CLIENT], 400, TODAY, shared=workspace.shared_assets
    )
    assert [(name, p.assets) for name, p in done] == [(CLIENT, 3), ("shared", 1)]
    shared, other = workspace.shared_assets, workspace.assets_of(OTHER)
    assert present(shared, sha["legacy_recent"]) and not shared.has(sha["legacy_old"], ".png")
    assert present(other, sha["other_old"])  # another client's store: not asked, not touched


def outcome(client: str, status: str) -> AccountSync:
    return AccountSync(client, "meta", "act_1", status)


@pytest.mark.parametrize(
    ("statuses", "other", "pruned"),
    [
        (["ok", "skipped"], "ok", True),
        (["ok", "stale"], "ok", False),
        (["failed"], "ok", False),
        ([], "ok", False),
        (["ok"], "failed", True),
    ],
)
def test_a_sync_prunes_a_client_only_when_all_its_accounts_synced(stores, statuses, other, pruned):
    workspace, sha = stores["workspace"], stores["sha"]
    done = [outcome(CLIENT, s) for s in statuses] + [outcome(OTHER, other)]
    clients = [SimpleNamespace(slug=CLIENT), SimpleNamespace(slug=OTHER)]
    after = _retain(done, clients, stores["lake"], workspace.assets_of, 400, TODAY)
    assert present(stores["store"], sha["old"]) is not pruned
    assert workspace.assets_of(OTHER).has(sha["other_old"], ".png") is (other != "ok")
    # the old shared store: an image only OTHER shows goes when OTHER synced
    shared = workspace.shared_assets
    assert shared.has(sha["legacy_old"], ".png") is (other != "ok")
    assert present(shared, sha["legacy_recent"])  # OTHER's ad ran two days ago
    notes = [n for o in after if o.client == CLIENT for n in o.notes]
    if pruned:
        removed = sum(len(image(n)) + 5 * n for n in (2, 5, 6))
        assert notes[0] == (
            f"retention: 3 creative image(s) ({removed:,} bytes) of ads that last ran more "
            f"than 400 days ago removed from {stores['store'].root}"
        )
    else:
        assert notes == []


def test_creatives_prune_says_what_goes_and_where(stores, content):
    out = stores["workspace"].out
    runner = CliRunner()
    common = ["--out", str(out), "--content", str(content), "--today", "2027-12-31"]
    dry = runner.invoke(app, ["creatives", "prune", "--client", CLIENT, "--dry-run", *common])
    assert dry.exit_code == 0, dry.output
    text = " ".join(dry.output.split())
    assert "would remove 3 asset(s), 6 file(s)" in text and "4 kept" in text
    assert str(stores["store"].root.resolve()) in dry.output.replace("\n", "")
    assert "2026-11-26 (400 days)" in text
    assert present(stores["store"], stores["sha"]["old"])
    done = runner.invoke(app, ["creatives", "prune", *common])  # every client, and shared
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert "removed 3 asset(s)" in text and "shared" in text and "removed 4 asset(s)" in text
    assert not stores["store"].has(stores["sha"]["old"], ".png")


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("creatives: {retention_days: 10}", "greater than or equal to 30"),
        ("creatives: {retention_days: 4000}", "less than or equal to 3650"),
        ("site: {noindex: maybe}", "site.noindex"),
        ("creatives: {keep: forever}", "creatives.keep"),
    ],
)
def test_retention_and_noindex_settings_are_checked(content, setting, fragment):
    path = content / "agency.yml"
    path.write_text(path.read_text() + f"\n{setting}\n")
    with pytest.raises(ConfigError, match=fragment):
        load_agency(content)


def test_retention_and_noindex_defaults_and_the_rights_note(content):
    agency = load_agency(content)
    assert agency.creatives.retention_days == 400 and agency.site.noindex is True
    path = content / "agency.yml"
    path.write_text(path.read_text() + "\ncreatives: {retention_days: 30}\n")
    path.write_text(path.read_text() + "site: {noindex: false}\n")
    agency = load_agency(content)
    assert agency.creatives.retention_days == 30 and agency.site.noindex is False
    client = content / "harbor" / "client.yml"
    original = client.read_text()
    client.write_text(original + '\ncreatives: {rights: "Own photos, ours to 2027"}\n')
    assert load_client(client).creatives.rights == "Own photos, ours to 2027"
    client.write_text(original + f"\ncreatives: {{rights: {'x' * 501}}}\n")
    with pytest.raises(ConfigError, match="creatives.rights"):
        load_client(client)


def test_a_workspace_never_makes_a_store_outside_its_assets(tmp_path):
    workspace = Workspace(tmp_path, tmp_path / "out")
    assert workspace.assets_of("acme").root == tmp_path / "out" / "assets" / "acme"
    assert workspace.assets_of("acme").fallback.root == tmp_path / "out" / "assets"
    with pytest.raises(ValueError, match="not a client slug"):
        workspace.assets_of("../etc")
