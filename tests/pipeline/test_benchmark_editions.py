"""The benchmark edition store: seed plus imports, refusals that leave it untouched, and a
replacement history."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from generator import pipeline
from generator.analytics.benchmark_seed import (
    BenchmarkFileError,
    seed_rows,
    select,
)
from generator.analytics.industries import taxonomy
from generator.errors import ReportError
from generator.pipeline.benchmark_editions import EditionStore, ImportResult

NOW = datetime(2027, 6, 20, 9, 30, tzinfo=UTC)

ROW = {
    "source_id": "acme-search",
    "publisher": "Acme",
    "report_title": "Acme search benchmarks 2027",
    "url": "https://acme.example/2027",
    "grade": "B",
    "edition": "2027",
    "published": "2027-06-01",
    "window_start": "2026-04-01",
    "window_end": "2027-03-31",
    "platform": "search",
    "network": "search",
    "industry_label": "Dentists",
    "industry": "local/dental",
    "metric": "cpc",
    "statistic": "median",
    "value": "8.40",
    "unit": "USD",
    "provisional": "false",
}


def write_edition(path: Path, rows: list[dict]) -> Path:
    """A benchmark CSV of ``ROW`` with each dict's changes."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ROW))
        writer.writeheader()
        writer.writerows({**ROW, **r} for r in rows)
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def store(tmp_path) -> EditionStore:
    return EditionStore.at(tmp_path / "out")


def test_an_empty_store_is_the_seed_and_writes_nothing(store):
    assert store.root.name == "benchmarks"
    assert store.rows() == seed_rows()
    assert store.history() == []
    editions = {(e.source_id, e.edition): e for e in store.editions(date(2026, 12, 7))}
    ws = editions[("wordstream-search", "2026")]
    assert (ws.origin, ws.published, ws.window_end) == ("seed", date(2026, 6, 1), date(2026, 3, 31))
    assert ws.grade == "C" and ws.provisional_rows > 0 and ws.rows > 30
    assert (ws.age_months, ws.stale) == (6, False)
    old = editions[("wordstream-search", "2018")]
    assert old.stale and old.age_months == 102 and old.window_end is None
    assert sum(e.rows for e in editions.values()) == len(seed_rows())
    assert not store.root.exists()


def test_importing_a_new_edition(store, tmp_path):
    path = write_edition(
        tmp_path / "acme.csv", [{}, {"metric": "cvr", "unit": "%", "value": "9.9"}]
    )
    result = store.import_file(path, now=NOW)
    assert result == ImportResult(added=(("acme-search", "2027"),), replaced=(), rows=2)
    imported = [r for r in store.rows() if r.source_id == "acme-search"]
    assert [(r.metric, r.value) for r in imported] == [("cpc", 8.4), ("cvr", 9.9)]
    assert len(store.rows()) == len(seed_rows()) + 2
    (stored,) = (store.root / "editions").iterdir()
    assert "acme" not in stored.name and stored.suffix == ".csv"
    info = next(e for e in store.editions(date(2027, 7, 1)) if e.source_id == "acme-search")
    assert (info.origin, info.rows, info.grade, info.age_months) == ("imported", 2, "B", 1)
    assert store.history() == []


def test_the_imported_edition_is_used_from_its_publication_day(store, tmp_path):
    store.import_file(write_edition(tmp_path / "acme.csv", [{}]))
    chain = taxonomy().chain("local/dental")
    options = {"platform": "google_ads", "metric": "cpc", "industries": chain}
    before = select(store.rows(), as_of=date(2027, 5, 31), **options)
    after = select(store.rows(), as_of=date(2027, 6, 1), **options)
    assert (before.row.source_id, before.median) == ("wordstream-search", 8.00)
    assert (after.row.source_id, after.median) == ("acme-search", 8.40)


def test_a_file_may_hold_several_editions(store, tmp_path):
    path = write_edition(
        tmp_path / "two.csv", [{}, {"edition": "2028", "published": "2028-06-01"}, {"value": "9"}]
    )
    result = store.import_file(path)
    assert result.added == (("acme-search", "2027"), ("acme-search", "2028")) and result.rows == 3
    assert len(list((store.root / "editions").iterdir())) == 2


@pytest.mark.parametrize("origin", ["imported", "seed"])
def test_an_existing_edition_is_refused_and_the_store_is_unchanged(store, tmp_path, origin):
    first = write_edition(tmp_path / "acme.csv", [{}])
    store.import_file(first)
    before = snapshot(store.root)
    changes = {"value": "9.10"}
    if origin == "seed":
        changes = {"source_id": "wordstream-search", "edition": "2026", "published": "2026-06-01",
                   "window_start": "2025-04-01", "window_end": "2026-03-31"}  # fmt: skip
    with pytest.raises(ReportError) as caught:
        store.import_file(write_edition(tmp_path / "again.csv", [changes]))
    message = str(caught.value)
    assert "--replace --reason" in message and "Nothing was imported" in message
    named = (
        "acme-search 2027 (imported)" if origin == "imported" else "wordstream-search 2026 (seed)"
    )
    assert named in message
    assert snapshot(store.root) == before


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_replace_needs_a_reason(store, tmp_path, reason):
    path = write_edition(tmp_path / "acme.csv", [{}])
    with pytest.raises(ReportError, match='--reason "..."'):
        store.import_file(path, replace=True, reason=reason)
    assert not store.root.exists()


def test_a_bad_file_never_touches_the_store(store, tmp_path):
    store.import_file(write_edition(tmp_path / "acme.csv", [{}]))
    before = snapshot(store.root)
    bad = write_edition(tmp_path / "bad.csv", [{"edition": "2028"}, {"value": "lots"}])
    with pytest.raises(BenchmarkFileError, match="line 3, column 'value': 'lots'"):
        store.import_file(bad, replace=True, reason="fix")
    assert snapshot(store.root) == before


def test_replacing_a_seed_edition_is_logged(store, tmp_path):
    seed_2026 = [r for r in seed_rows() if r.edition_key == ("wordstream-search", "2026")]
    path = write_edition(
        tmp_path / "ws-2026-corrected.csv",
        [{"source_id": "wordstream-search", "edition": "2026", "published": "2026-06-01",
          "window_start": "2025-04-01", "window_end": "2026-03-31", "value": "8.10"}],
    )  # fmt: skip
    result = store.import_file(path, replace=True, reason="WordStream corrected the CPC", now=NOW)
    assert result.replaced == (("wordstream-search", "2026"),) and result.added == ()
    assert store.history() == [
        {
            "time": "2027-06-20T09:30:00+00:00",
            "source_id": "wordstream-search",
            "edition": "2026",
            "reason": "WordStream corrected the CPC",
            "old_rows": len(seed_2026),
            "new_rows": 1,
            "old_origin": "seed",
            "file": "ws-2026-corrected.csv",
        }
    ]
    now_2026 = [r for r in store.rows() if r.edition_key == ("wordstream-search", "2026")]
    assert [r.value for r in now_2026] == [8.10]
    assert len(store.rows()) == len(seed_rows()) - len(seed_2026) + 1
    editions = {(e.source_id, e.edition): e for e in store.editions(date(2027, 1, 1))}
    assert editions[("wordstream-search", "2026")].origin == "imported"


def test_replacing_an_import_appends_to_the_history_and_drops_the_old_file(store, tmp_path):
    store.import_file(write_edition(tmp_path / "a.csv", [{}]))
    store.import_file(write_edition(tmp_path / "b.csv", [{}, {}]), replace=True, reason="one")
    store.import_file(
        write_edition(tmp_path / "c.csv", [{"value": "7"}]), replace=True, reason="two"
    )
    history = store.history()
    assert [(h["reason"], h["old_rows"], h["new_rows"], h["file"]) for h in history] == [
        ("one", 1, 2, "b.csv"),
        ("two", 2, 1, "c.csv"),
    ]
    assert len(list((store.root / "editions").iterdir())) == 1
    assert [r.value for r in store.rows() if r.source_id == "acme-search"] == [7.0]
    lines = (store.root / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["reason"] for x in lines] == ["one", "two"]


def test_a_file_the_manifest_does_not_name_is_ignored(store, tmp_path):
    store.import_file(write_edition(tmp_path / "a.csv", [{}]))
    stray = store.root / "editions" / "0123456789abcdef-000000000000.csv"
    stray.write_text("left by an interrupted import", encoding="utf-8")
    assert len([r for r in store.rows() if r.source_id == "acme-search"]) == 1
    store.import_file(write_edition(tmp_path / "b.csv", [{"edition": "2028"}]))
    assert not stray.exists()


def test_a_damaged_manifest_is_named(store, tmp_path):
    store.import_file(write_edition(tmp_path / "a.csv", [{}]))
    (store.root / "manifest.json").write_text("{", encoding="utf-8")
    with pytest.raises(ReportError, match="manifest is damaged"):
        store.rows()


def test_an_import_does_not_shadow_a_seed_edition_it_did_not_replace(store, tmp_path):
    """A later seed may ship an edition imported earlier; without --replace the seed's wins."""
    store.import_file(write_edition(tmp_path / "a.csv", [{}]))
    manifest = json.loads((store.root / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = manifest["editions"]
    entry.update(source_id="wordstream-search", edition="2026")
    (store.root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    ws = [r for r in store.rows() if r.edition_key == ("wordstream-search", "2026")]
    assert ws == [r for r in seed_rows() if r.edition_key == ("wordstream-search", "2026")]


def test_the_pipeline_exports_the_store():
    assert pipeline.EditionStore is EditionStore
    assert "EditionStore" in pipeline.__all__
