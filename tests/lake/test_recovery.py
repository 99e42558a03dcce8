"""Crash recovery and temp-file cleanup next to live writers (issue 13, item 2)."""

import json
import subprocess
import sys
import threading
import time

import pytest

from generator.errors import LakeError
from generator.lake import AccountState, Lake, files
from generator.lake import state as state_module
from tests.conftest import REPO
from tests.lake.test_store import OCT, SPAN, days, perf, totals

#: Another process that opens the lake and queries it in a loop, like ``build`` next to ``sync``.
OPENER = """
import sys
from pathlib import Path
from generator.lake import Lake
root, ready, stop = (Path(a) for a in sys.argv[1:4])
opens = 0
while not stop.exists():
    Lake(root).query("SELECT count(*) FROM ad_performance")
    opens += 1
    ready.touch()
print(opens)
"""


def write_window(lake, client, window, impressions):
    """What a sync does for one window: the data, then the state that says it is stored."""
    table = perf(days(window.start, window.end), impressions=impressions)
    lake.write_days("ad_performance", client, "google_ads", "111", window, table)
    state = lake.state.get(client, "google_ads", "111")
    lake.state.put(state.with_covered(window.start, window.end))


def test_a_sync_runs_to_success_while_another_process_opens_the_lake(tmp_path):
    root, ready, stop = tmp_path / "lake", tmp_path / "ready", tmp_path / "stop"
    lake = Lake(root)
    write_window(lake, "other", OCT, 1)  # a second client: its lock is free for the opener
    opener = subprocess.Popen(
        [sys.executable, "-c", OPENER, str(root), str(ready), str(stop)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and opener.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists(), opener.stderr.read() if opener.poll() is not None else "no start"
        started, commits = time.monotonic(), 0
        while time.monotonic() - started < 1.5 or commits < 20:
            commits += 1
            write_window(lake, "acme", SPAN, commits)  # two months: a multi-file commit
    finally:
        stop.touch()
        out, err = opener.communicate(timeout=30)
    assert opener.returncode == 0, err
    assert int(out) > 1  # the opener really ran next to the writer
    assert totals(lake, "WHERE client = 'acme'") == (42, 42 * commits)
    covered = lake.state.get("acme", "google_ads", "111").covered
    assert covered == ((SPAN.start, SPAN.end),)
    assert not list(root.rglob("*.tmp")) and not list(root.glob("_journal/*/*.json"))


def test_opening_sweeps_nothing_of_a_client_whose_writer_is_live(tmp_path):
    lake = Lake(tmp_path)
    for client in ("acme", "beta"):
        write_window(lake, client, OCT, 1)
    folder = tmp_path / "ad_performance" / "client=acme" / "month=2026-10"
    live = files.temp_path(folder / "google_ads--111.parquet")
    state_tmp = files.temp_path(tmp_path / "_state" / "acme" / "google_ads--111.json")
    other = files.temp_path(tmp_path / "ad_performance" / "client=beta" / "x.parquet")
    for tmp in (live, state_tmp, other):
        tmp.write_bytes(b"being written")
    with files.locked(tmp_path / "_locks" / "acme.lock"):  # acme's writer is at work
        opener = threading.Thread(target=Lake, args=(tmp_path,), daemon=True)
        opener.start()
        opener.join(timeout=10)
        assert not opener.is_alive(), "opening the lake waited for a writer"
        assert live.exists() and state_tmp.exists()
    assert not other.exists()  # beta's lock was free: its leftovers were abandoned


def test_abandoned_temporaries_of_a_dead_writer_are_swept_on_the_next_open(tmp_path):
    lake = Lake(tmp_path)
    write_window(lake, "acme", OCT, 1)
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from generator.lake import files\n"
        "with files.locked(Path(sys.argv[1]) / '_locks' / 'acme.lock'):\n"
        "    for final in sys.argv[2:]:\n"
        "        files.temp_path(Path(final)).write_bytes(b'half')\n"
        "    os._exit(9)  # killed while holding the lock\n"
    )
    finals = [
        tmp_path / "ad_performance" / "client=acme" / "month=2026-10" / "google_ads--111.parquet",
        tmp_path / "creatives" / "client=acme" / "google_ads--111.parquet",
        tmp_path / "_state" / "acme" / "google_ads--111.json",
        tmp_path / "_journal" / "acme" / "0123.json",
    ]
    for final in finals:
        final.parent.mkdir(parents=True, exist_ok=True)
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path), *map(str, finals)], cwd=REPO)
    assert run.returncode == 9
    assert len(list(tmp_path.rglob(".*.tmp"))) == 4
    Lake(tmp_path)
    assert not list(tmp_path.rglob(".*.tmp"))
    assert totals(lake) == (62, 62)


def _journal(tmp_path, renames):
    folder = tmp_path / "_journal" / "acme"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "0001.json"
    body = {"renames": [[str(t), str(f), ino] for t, f, ino in renames], "deletes": []}
    path.write_text(json.dumps(body))
    return path


def _staged(final, data):
    tmp = files.temp_path(final)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(data)
    return tmp, final, tmp.stat().st_ino


def test_a_journal_whose_temporary_vanished_is_an_error(tmp_path):
    lake = Lake(tmp_path)
    final = tmp_path / "ad_performance" / "client=acme" / "month=2026-10" / "g--1.parquet"
    tmp, _, ino = _staged(final, b"new")
    final.write_bytes(b"old")  # the file it replaces is there, but it is not the staged one
    journal = _journal(tmp_path, [(tmp, final, ino)])
    tmp.unlink()
    message = r"cannot be finished.*g--1\.parquet.*sync --client acme --full"
    with pytest.raises(LakeError, match=message):  # a writer refuses to write over it
        lake.write_days("ad_performance", "acme", "g", "1", OCT, perf([], source="g"))
    with pytest.raises(LakeError, match=message):  # and so does the next open
        Lake(tmp_path)
    assert journal.exists() and final.read_bytes() == b"old"  # nothing guessed, nothing lost


def test_a_commit_whose_temporary_vanished_is_undone_with_an_error(tmp_path):
    lake = Lake(tmp_path)
    write_window(lake, "acme", SPAN, 1)
    commit = files.Commit(tmp_path / "_journal" / "acme")
    finals = sorted((tmp_path / "ad_performance").rglob("*.parquet"))
    for final in finals:
        commit.stage(final, lambda tmp: tmp.write_bytes(b"new"))
    next(tmp_path.rglob(".*.tmp")).unlink()
    with pytest.raises(LakeError, match=r"vanished.*not applied"):
        commit.apply()
    assert totals(lake) == (42, 42)  # no file of the commit was put in place
    assert not list(tmp_path.rglob("*.tmp")) and not list(tmp_path.glob("_journal/*/*.json"))


def test_rolling_forward_twice_finishes_a_half_applied_commit(tmp_path):
    (tmp_path / "_state" / "acme").mkdir(parents=True)
    month = tmp_path / "ad_performance" / "client=acme"
    first = _staged(month / "month=2026-09" / "g--1.parquet", b"new september")
    second = _staged(month / "month=2026-10" / "g--1.parquet", b"new october")
    journal = _journal(tmp_path, [first, second])
    first[0].replace(first[1])  # the first roll-forward died after one rename
    Lake(tmp_path)
    assert first[1].read_bytes() == b"new september"
    assert second[1].read_bytes() == b"new october"
    assert not journal.exists() and not list(tmp_path.rglob("*.tmp"))


def test_the_state_is_written_under_the_clients_lock(tmp_path, monkeypatch):
    lake, held = Lake(tmp_path), []

    def spy(final, data, mode=0o644):
        with files.locked(tmp_path / "_locks" / "acme.lock", wait=False) as free:
            held.append(not free)
        write(final, data, mode)

    write = files.atomic_write_bytes
    monkeypatch.setattr(state_module, "atomic_write_bytes", spy)
    lake.state.put(AccountState("acme", "g", "1").with_covered(OCT.start, OCT.end))
    assert held == [True]
    assert lake.state.get("acme", "g", "1").synced_through == OCT.end
