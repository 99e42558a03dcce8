"""Publishing built sites to a host folder, to a gh-pages branch, and previewing them.

The sites are tiny fake builds (an index page and an asset per period, the archive's
versions files beside them), never real mkdocs builds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from generator.distribute import gh_pages, hosting, preview
from generator.distribute.hosting import LOG_NAME, PublishError, publish
from generator.site import archive

#: 2026-09 and 2026-10 are over; 2026-11 is month to date
NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
AFTER_NOVEMBER = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def build(sites: Path, client: str, label: str, text: str = "") -> Path:
    """A fake built site, as ``build_site`` leaves it (archive files updated)."""
    folder = sites / client / label
    (folder / "assets").mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(f"<h1>{client} {label}</h1>{text}", encoding="utf-8")
    (folder / "assets" / "app.js").write_text(f"// {label}", encoding="utf-8")
    archive.update(sites / client)
    return folder


def files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def actions(result) -> dict[tuple[str, str], str]:
    return {(o.client, o.period): o.action for o in result.outcomes}


def log_of(dest: Path, client: str = "northwind") -> list[dict]:
    return json.loads((dest / client / LOG_NAME).read_text())


@pytest.fixture
def sites(tmp_path) -> Path:
    root = tmp_path / "out" / "sites"
    for label in ("2026-09", "2026-10"):
        build(root, "northwind", label)
    build(root, "harbor", "2026-10")
    return root


@pytest.fixture
def dest(tmp_path) -> Path:
    return tmp_path / "public"


def test_the_layout_follows_mike(sites, dest):
    result = publish(sites, dest, now=NOW)

    assert actions(result) == {
        ("harbor", "2026-10"): "published",
        ("northwind", "2026-10"): "published",
        ("northwind", "2026-09"): "published",
    }
    assert result.changed and all(o.frozen for o in result.outcomes)
    client = dest / "northwind"
    assert files(client / "2026-09") == files(sites / "northwind" / "2026-09")
    assert files(client / "latest") == files(sites / "northwind" / "2026-10")
    versions = json.loads((client / "versions.json").read_text())
    assert versions == [
        {"version": "2026-10", "title": "October 2026", "aliases": ["latest"]},
        {"version": "2026-09", "title": "September 2026", "aliases": []},
    ]
    assert "window.__reportVersions" in (client / "versions.js").read_text()
    assert 'url=2026-10/index.html"' in (client / "index.html").read_text()
    assert [(e["period"], e["action"], e["complete"]) for e in log_of(dest)] == [
        ("2026-10", "published", True),
        ("2026-09", "published", True),
    ]
    assert log_of(dest)[0]["time"] == NOW.isoformat() and len(log_of(dest)[0]["sha256"]) == 64


def test_a_second_publish_changes_nothing(sites, dest):
    publish(sites, dest, now=NOW)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in dest.rglob("*") if p.is_file()}

    again = publish(sites, dest, now=NOW)

    assert set(actions(again).values()) == {"unchanged"} and not again.changed
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in dest.rglob("*") if p.is_file()}
    assert after == before


def test_a_published_month_is_frozen_until_rebuilt_with_a_reason(sites, dest):
    publish(sites, dest, now=NOW)
    build(sites, "northwind", "2026-09", "new benchmark edition")
    old = files(dest / "northwind" / "2026-09")

    kept = publish(sites, dest, now=NOW, clients=["northwind"])

    outcome = next(o for o in kept.outcomes if o.period == "2026-09")
    assert outcome.action == "kept (frozen)" and outcome.local_differs
    assert "local build differs" in outcome.describe()
    assert files(dest / "northwind" / "2026-09") == old

    rebuilt = publish(sites, dest, now=NOW, rebuild={("northwind", "2026-09"): "late conversions"})

    assert actions(rebuilt)[("northwind", "2026-09")] == "rebuilt"
    assert files(dest / "northwind" / "2026-09") == files(sites / "northwind" / "2026-09")
    last = log_of(dest)[-1]
    assert (last["period"], last["action"], last["reason"]) == (
        "2026-09",
        "rebuilt",
        "late conversions",
    )
    assert files(dest / "northwind" / "latest") == files(dest / "northwind" / "2026-10")


def test_latest_follows_a_rebuilt_newest_month(sites, dest):
    publish(sites, dest, now=NOW)
    build(sites, "northwind", "2026-10", "corrected")

    publish(sites, dest, now=NOW, rebuild={("northwind", "2026-10"): "typo in commentary"})

    assert b"corrected" in (dest / "northwind" / "latest" / "index.html").read_bytes()


def test_the_month_to_date_preview_is_refreshed_then_frozen_once_over(sites, dest):
    build(sites, "northwind", "2026-11", "day 19")
    first = publish(sites, dest, now=NOW, clients=["northwind"])
    assert actions(first)[("northwind", "2026-11")] == "published"
    assert not next(o for o in first.outcomes if o.period == "2026-11").frozen
    assert files(dest / "northwind" / "latest") == files(sites / "northwind" / "2026-11")

    build(sites, "northwind", "2026-11", "day 20")
    refreshed = publish(sites, dest, now=NOW, clients=["northwind"])
    assert actions(refreshed)[("northwind", "2026-11")] == "refreshed"
    assert b"day 20" in (dest / "northwind" / "latest" / "index.html").read_bytes()

    build(sites, "northwind", "2026-11", "final")
    final = publish(sites, dest, now=AFTER_NOVEMBER, clients=["northwind"])
    assert actions(final)[("northwind", "2026-11")] == "published"
    assert b"final" in (dest / "northwind" / "2026-11" / "index.html").read_bytes()

    build(sites, "northwind", "2026-11", "late data")
    assert (
        actions(publish(sites, dest, now=AFTER_NOVEMBER, clients=["northwind"]))[
            ("northwind", "2026-11")
        ]
        == "kept (frozen)"
    )
    assert [e["action"] for e in log_of(dest) if e["period"] == "2026-11"] == [
        "published",
        "refreshed",
        "published",
    ]


def test_a_preview_already_final_is_frozen_without_a_copy(sites, dest):
    build(sites, "northwind", "2026-11")
    publish(sites, dest, now=NOW, clients=["northwind"])

    result = publish(sites, dest, now=AFTER_NOVEMBER, clients=["northwind"])

    outcome = next(o for o in result.outcomes if o.period == "2026-11")
    assert (outcome.action, outcome.frozen) == ("published", True)
    assert log_of(dest)[-1]["complete"] is True


@pytest.mark.parametrize(
    ("rebuild", "message"),
    [
        ({("northwind", "2026-09"): "  "}, "needs a reason"),
        ({("northwind", "2025-01"): "why"}, "not built"),
        ({("nobody", "2026-09"): "why"}, "not published"),
    ],
)
def test_a_rebuild_names_a_built_period_and_a_reason(sites, dest, rebuild, message):
    with pytest.raises(PublishError, match=message):
        publish(sites, dest, now=NOW, rebuild=rebuild)
    assert not dest.exists()


def test_symlinks_are_never_followed(sites, dest, tmp_path):
    secret = tmp_path / "secret"
    (secret / "2026-10").mkdir(parents=True)
    (secret / "2026-10" / "index.html").write_text("SECRET")
    (secret / "key.txt").write_text("SECRET")
    period = sites / "northwind" / "2026-10"
    (period / "key.txt").symlink_to(secret / "key.txt")
    (period / "leak").symlink_to(secret)
    (sites / "northwind" / "2026-08").symlink_to(secret / "2026-10")
    (sites / "evil").symlink_to(secret)

    result = publish(sites, dest, now=NOW)

    assert "evil" not in {o.client for o in result.outcomes}
    assert "2026-08" not in {o.period for o in result.outcomes}
    assert not any(b"SECRET" in data for data in files(dest).values())
    assert not any(p.is_symlink() for p in dest.rglob("*"))


def test_only_client_slugs_are_published(sites, dest):
    for hostile in ("Bad Name", "<script>", "a\nb", ".hidden", "-x"):
        build(sites, hostile, "2026-10")

    result = publish(sites, dest, now=NOW)

    assert {o.client for o in result.outcomes} == {"harbor", "northwind"}
    assert sorted(p.name for p in dest.iterdir()) == ["harbor", "northwind"]
    for wanted in (["../northwind"], ["a\nb"], ["missing"]):
        with pytest.raises(PublishError):
            publish(sites, dest, now=NOW, clients=wanted)


def test_a_range_period_gets_an_escaped_title_in_the_archive_files(sites, dest):
    build(sites, "northwind", "2026-10-05_2026-10-18")

    publish(sites, dest, now=NOW, clients=["northwind"])

    versions = json.loads((dest / "northwind" / "versions.json").read_text())
    assert versions[1] == {
        "version": "2026-10-05_2026-10-18",
        "title": "2026-10-05 – 2026-10-18",
        "aliases": [],
    }
    assert "\\u2013" in (dest / "northwind" / "versions.js").read_text(encoding="ascii")


@pytest.mark.parametrize("where", ["inside", "outside", "same"])
def test_overlapping_sites_and_destination_are_refused(sites, where):
    target = {"inside": sites / "public", "outside": sites.parent, "same": sites}[where]
    with pytest.raises(PublishError, match="overlap"):
        publish(sites, target, now=NOW)


def test_missing_sites_are_refused(tmp_path, dest):
    with pytest.raises(PublishError, match="build"):
        publish(tmp_path / "nothing", dest, now=NOW)


def test_a_failed_copy_leaves_the_published_month_whole(sites, dest, monkeypatch):
    publish(sites, dest, now=NOW)
    build(sites, "northwind", "2026-09", "changed")
    old = files(dest / "northwind" / "2026-09")

    def broken(src, dst, **kwargs):
        Path(dst).mkdir()
        (Path(dst) / "index.html").write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(hosting.shutil, "copytree", broken)
    with pytest.raises(PublishError, match="disk full"):
        publish(sites, dest, now=NOW, rebuild={("northwind", "2026-09"): "fix"})

    assert files(dest / "northwind" / "2026-09") == old
    assert sorted(p.name for p in (dest / "northwind").iterdir() if p.name.startswith(".")) == []


def test_leftovers_of_a_killed_publish_are_swept(sites, dest):
    publish(sites, dest, now=NOW)
    leftover = dest / "northwind" / f".2026-09.{'a' * 32}.tmp"
    (leftover / "assets").mkdir(parents=True)

    publish(sites, dest, now=NOW)

    assert not leftover.exists()


def test_a_month_moved_aside_by_a_killed_swap_is_put_back(sites, dest):
    publish(sites, dest, now=NOW)
    published = files(dest / "northwind" / "2026-09")
    build(sites, "northwind", "2026-09", "changed")
    # killed between the two renames: the frozen month is aside, the new copy staged
    token = "b" * 32
    (dest / "northwind" / "2026-09").rename(dest / "northwind" / f".2026-09.{token}.old")
    shutil.copytree(sites / "northwind" / "2026-09", dest / "northwind" / f".2026-09.{token}.tmp")

    result = publish(sites, dest, now=NOW)

    assert actions(result)[("northwind", "2026-09")] == "kept (frozen)"
    assert files(dest / "northwind" / "2026-09") == published
    assert not [p for p in (dest / "northwind").iterdir() if p.name.startswith(".")]


def test_a_month_the_log_does_not_know_counts_as_frozen(sites, dest):
    shutil.copytree(sites / "northwind" / "2026-09", dest / "northwind" / "2026-09")
    (dest / "northwind" / "2026-09" / "index.html").write_text("published by hand")

    result = publish(sites, dest, now=NOW, clients=["northwind"])

    assert actions(result)[("northwind", "2026-09")] == "kept (frozen)"
    assert (dest / "northwind" / "2026-09" / "index.html").read_text() == "published by hand"


def test_an_unreadable_publish_log_stops_the_publish(sites, dest):
    publish(sites, dest, now=NOW)
    (dest / "northwind" / LOG_NAME).write_text("{not json")

    with pytest.raises(PublishError, match="restore"):
        publish(sites, dest, now=NOW)


# --- gh-pages -----------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A repository with one commit on main and no identity configured anywhere."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("AUTHOR", "COMMITTER"):
        for part in ("NAME", "EMAIL"):
            monkeypatch.delenv(f"GIT_{name}_{part}", raising=False)
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / "README.md").write_text("project\n")
    git(root, "add", "README.md")
    git(root, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-qm", "init")
    return root


def tree_files(repo: Path, ref: str = "gh-pages") -> set[str]:
    return set(git(repo, "ls-tree", "-r", "--name-only", ref).splitlines())


def assert_untouched(repo: Path) -> None:
    assert git(repo, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "ls-files") == "README.md"


def test_commit_tree_writes_the_branch_only(repo, tmp_path):
    tree = tmp_path / "tree"
    (tree / "a" / "_b").mkdir(parents=True)
    (tree / "index.html").write_text("hi")
    (tree / "a" / "_b" / "c.css").write_text("body{}")

    sha = gh_pages.commit_tree(repo, tree, message="Publish")

    assert sha == git(repo, "rev-parse", "gh-pages")
    assert tree_files(repo) == {"index.html", "a/_b/c.css", ".nojekyll"}
    assert git(repo, "log", "-1", "--format=%an <%ae>|%s", "gh-pages") == (
        "Campaign Reporter <campaign-reporter@localhost>|Publish"
    )
    assert not (tree / ".nojekyll").exists()
    assert_untouched(repo)
    assert gh_pages.commit_tree(repo, tree, message="again") is None

    (tree / "index.html").write_text("changed")
    second = gh_pages.commit_tree(repo, tree, message="Change")
    assert git(repo, "rev-parse", f"{second}^") == sha


def test_commit_tree_uses_the_repository_identity(repo, tmp_path):
    git(repo, "config", "user.name", "Diego")
    git(repo, "config", "user.email", "diego@agency.example")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "index.html").write_text("hi")

    gh_pages.commit_tree(repo, tree, message="Publish")

    assert git(repo, "log", "-1", "--format=%an", "gh-pages") == "Diego"


def test_commit_tree_refusals(repo, tmp_path, monkeypatch):
    tree = tmp_path / "tree"
    tree.mkdir()
    with pytest.raises(PublishError, match="not a git repository"):
        gh_pages.commit_tree(tmp_path / "tree", tree, message="x")
    with pytest.raises(PublishError, match="checked out"):
        gh_pages.commit_tree(repo, tree, branch="main", message="x")
    with pytest.raises(PublishError, match="not a valid branch"):
        gh_pages.commit_tree(repo, tree, branch="a..b", message="x")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(PublishError, match="git is not installed"):
        gh_pages.commit_tree(repo, tree, message="x")


def test_publish_to_git_keeps_frozen_months(sites, repo):
    first = gh_pages.publish_to_git(sites, repo, now=NOW)

    assert first.commit == git(repo, "rev-parse", "gh-pages") and first.dest == repo
    assert {
        ".nojekyll",
        "northwind/2026-09/index.html",
        "northwind/latest/index.html",
        "northwind/versions.json",
        "northwind/versions.js",
        "northwind/index.html",
        f"northwind/{LOG_NAME}",
        "harbor/2026-10/assets/app.js",
    } <= tree_files(repo)
    assert "northwind 2026-09: published" in git(repo, "log", "-1", "--format=%B", "gh-pages")
    assert_untouched(repo)

    again = gh_pages.publish_to_git(sites, repo, now=NOW)
    assert again.commit is None and not again.changed

    build(sites, "northwind", "2026-09", "changed locally")
    kept = gh_pages.publish_to_git(sites, repo, now=NOW)
    assert kept.commit is None
    assert actions(kept)[("northwind", "2026-09")] == "kept (frozen)"
    assert "changed" not in git(repo, "show", "gh-pages:northwind/2026-09/index.html")

    rebuilt = gh_pages.publish_to_git(
        sites, repo, now=NOW, rebuild={("northwind", "2026-09"): "client asked"}
    )
    assert rebuilt.commit is not None
    assert "changed locally" in git(repo, "show", "gh-pages:northwind/2026-09/index.html")
    assert_untouched(repo)


def test_publish_to_git_keeps_months_no_longer_built_locally(sites, repo):
    gh_pages.publish_to_git(sites, repo, now=NOW)
    shutil.rmtree(sites / "northwind" / "2026-09")
    build(sites, "northwind", "2026-11")

    gh_pages.publish_to_git(sites, repo, now=NOW)

    versions = json.loads(git(repo, "show", "gh-pages:northwind/versions.json"))
    assert [v["version"] for v in versions] == ["2026-11", "2026-10", "2026-09"]


# --- preview ------------------------------------------------------------------------------


def test_the_preview_serves_the_published_tree(sites, dest):
    publish(sites, dest, now=NOW)
    server = preview.make_server(dest, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            versions = client.get("northwind/versions.json")
            latest = client.get("northwind/latest/index.html")
            missing = client.get("northwind/2030-01/")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    assert server.url.startswith("http://127.0.0.1:")
    assert versions.json()[0]["aliases"] == ["latest"]
    assert latest.status_code == 200 and "northwind 2026-10" in latest.text
    assert latest.headers["cache-control"] == "no-store"
    assert missing.status_code == 404


def test_the_preview_does_not_serve_through_a_symlink(tmp_path, dest):
    (tmp_path / "secret.txt").write_text("SECRET")
    dest.mkdir()
    (dest / "leak.txt").symlink_to(tmp_path / "secret.txt")
    server = preview.make_server(dest, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = httpx.get(server.url + "leak.txt", timeout=10)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert response.status_code == 404


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_the_preview_binds_to_loopback_only(dest, host):
    dest.mkdir()
    with pytest.raises(PublishError, match="loopback"):
        preview.make_server(dest, host=host, port=0)


def test_the_preview_needs_a_folder(tmp_path):
    with pytest.raises(PublishError, match="not a folder"):
        preview.make_server(tmp_path / "nothing", port=0)
