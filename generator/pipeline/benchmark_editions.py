"""The benchmark edition store: the packaged seed plus the editions an agency imports.

Publishers release a new edition every year or so (WordStream/LocaliQ about June); an agency
imports it from a CSV, XLSX or YAML file with the seed's columns, and keeps every earlier
edition, so a trend month uses the edition that was in force then. The store lives under
``<out>/benchmarks/``::

    editions/<hash>.csv     one file per imported edition (the name is a hash of the
                            source and edition and of the content, never the id itself)
    manifest.json           which file holds which edition, and whether it replaces the seed's
    history.jsonl           every replacement: when, what, why, row counts, the file imported

An edition is ``(source_id, edition)``. Importing one that exists (in the seed or the store)
is refused unless ``replace=True`` with a reason, which is logged. A bad file is rejected
whole before anything is written; the manifest is written last, so an interrupted import
leaves the previous store (its new files are unreferenced and swept by the next import).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from generator.analytics.benchmark_seed import (
    COLUMNS,
    STALE_MONTHS,
    BenchmarkRow,
    age_months,
    parse_file,
    seed_rows,
)
from generator.errors import ReportError
from generator.lake.files import atomic_write_bytes, locked

__all__ = ["STORE_DIR", "EditionInfo", "EditionStore", "ImportResult"]

#: the store's folder under the output root
STORE_DIR = "benchmarks"

EditionKey = tuple[str, str]


@dataclass(frozen=True)
class EditionInfo:
    """One edition as ``benchmarks list`` shows it."""

    source_id: str
    publisher: str
    edition: str
    published: date
    window_end: date | None
    rows: int
    origin: Literal["seed", "imported"]
    grade: str  # the worst grade of its rows
    age_months: int
    stale: bool
    provisional_rows: int


@dataclass(frozen=True)
class ImportResult:
    """What an import did: editions added and replaced, as (source_id, edition), and rows."""

    added: tuple[EditionKey, ...]
    replaced: tuple[EditionKey, ...]
    rows: int


class EditionStore:
    """Seed editions plus imported ones, under ``root`` (``<out>/benchmarks``).

    Nothing is written until the first import; reading an absent store gives the seed.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def at(cls, out: Path) -> EditionStore:
        """The store of an output root (``<out>/benchmarks``)."""
        return cls(Path(out) / STORE_DIR)

    @property
    def _manifest_file(self) -> Path:
        return self.root / "manifest.json"

    @property
    def _history_file(self) -> Path:
        return self.root / "history.jsonl"

    def rows(self) -> tuple[BenchmarkRow, ...]:
        """Every row in force: the seed's, less the editions replaced, plus the imported ones.

        Raises:
            ReportError: the store's files were edited by hand and no longer read.
        """
        return tuple(row for rows in self._editions().values() for row in rows[1])

    def editions(self, today: date) -> list[EditionInfo]:
        """Every edition in force, by source and publication date, aged at ``today``."""
        infos = [_info(rows, origin, today) for origin, rows in self._editions().values()]
        return sorted(infos, key=lambda i: (i.source_id, i.published, i.edition))

    def history(self) -> list[dict]:
        """The replacement log, oldest first.

        Raises:
            ReportError: the log was edited by hand and a line no longer reads.
        """
        if not self._history_file.exists():
            return []
        lines = self._history_file.read_text(encoding="utf-8").splitlines()
        try:
            return [json.loads(line) for line in lines if line.strip()]
        except ValueError as exc:
            raise ReportError(f"{self._history_file}: a line is not JSON ({exc})") from None

    def import_file(
        self,
        path: Path,
        *,
        replace: bool = False,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> ImportResult:
        """Add the editions in a benchmark file (CSV, XLSX or YAML with the seed's columns).

        Args:
            path: the file; it may hold several editions.
            replace: allow replacing editions that exist (in the seed or the store).
            reason: why they are replaced; required with ``replace``, kept in the history.
            now: the time recorded in the history (default: the current UTC time).

        Raises:
            BenchmarkFileError: the file cannot be read (every bad cell listed).
            ReportError: an edition exists and ``replace`` is not set, or ``replace``
                without a reason. In every case the store is left as it was.
        """
        if replace and not (reason or "").strip():
            raise ReportError('--replace needs --reason "..." saying why the edition changes')
        path = Path(path)
        incoming = _by_edition(parse_file(path))
        with locked(self.root / ".lock"):
            current = self._editions()
            existing = [key for key in incoming if key in current]
            if existing and not replace:
                raise ReportError(_refusal(existing, current))
            manifest = self._read_manifest()
            entries = self._write_editions(incoming, manifest)
            if existing:
                self._log(existing, current, incoming, reason or "", path, now)
            self._write_manifest(entries)
            self._sweep(entries)
        added = tuple(key for key in incoming if key not in current)
        rows = sum(len(r) for r in incoming.values())
        return ImportResult(added=added, replaced=tuple(existing), rows=rows)

    def _editions(self) -> dict[EditionKey, tuple[str, list[BenchmarkRow]]]:
        """(source_id, edition) -> (origin, rows), the seed's first, imported ones over them."""
        editions = {k: ("seed", rows) for k, rows in _by_edition(seed_rows()).items()}
        for entry in self._read_manifest():
            key = (entry["source_id"], entry["edition"])
            if key in editions and editions[key][0] == "seed" and not entry["replaces_seed"]:
                continue  # a later seed gained this edition; the import did not ask to replace
            rows = parse_file(self.root / "editions" / entry["file"])
            editions[key] = ("imported", rows)
        return editions

    def _read_manifest(self) -> list[dict]:
        if not self._manifest_file.exists():
            return []
        try:
            return json.loads(self._manifest_file.read_text(encoding="utf-8"))["editions"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ReportError(
                f"{self._manifest_file}: the benchmark store's manifest is damaged ({exc}); "
                "restore it from a backup or delete the folder and import the editions again"
            ) from None

    def _write_editions(
        self, incoming: dict[EditionKey, list[BenchmarkRow]], manifest: list[dict]
    ) -> list[dict]:
        """Write each incoming edition's CSV; the manifest entries that will be in force."""
        seed = set(_by_edition(seed_rows()))
        entries = {(e["source_id"], e["edition"]): e for e in manifest}
        for key, rows in incoming.items():
            data = _csv_bytes(rows)
            name = _file_name(key, data)
            atomic_write_bytes(self.root / "editions" / name, data)
            entries[key] = {"source_id": key[0], "edition": key[1], "file": name,
                            "rows": len(rows), "replaces_seed": key in seed}  # fmt: skip
        return list(entries.values())

    def _write_manifest(self, entries: list[dict]) -> None:
        body = json.dumps({"editions": entries}, indent=1, ensure_ascii=False) + "\n"
        atomic_write_bytes(self._manifest_file, body.encode("utf-8"))

    def _log(
        self,
        keys: list[EditionKey],
        current: dict[EditionKey, tuple[str, list[BenchmarkRow]]],
        incoming: dict[EditionKey, list[BenchmarkRow]],
        reason: str,
        path: Path,
        now: datetime | None,
    ) -> None:
        """Append one history line per replaced edition (the file is rewritten atomically)."""
        at = (now or datetime.now(UTC)).isoformat()
        lines = [
            json.dumps({"time": at, "source_id": k[0], "edition": k[1], "reason": reason.strip(),
                        "old_rows": len(current[k][1]), "new_rows": len(incoming[k]),
                        "old_origin": current[k][0], "file": path.name}, ensure_ascii=False)
            for k in keys
        ]  # fmt: skip
        old = self._history_file.read_bytes() if self._history_file.exists() else b""
        atomic_write_bytes(self._history_file, old + "".join(f"{x}\n" for x in lines).encode())

    def _sweep(self, entries: list[dict]) -> None:
        """Delete edition files no manifest entry names (replaced, or left by a crash)."""
        keep = {e["file"] for e in entries}
        for file in (self.root / "editions").glob("*.csv"):
            if file.name not in keep:
                file.unlink(missing_ok=True)


def _by_edition(rows: Iterable[BenchmarkRow]) -> dict[EditionKey, list[BenchmarkRow]]:
    out: dict[EditionKey, list[BenchmarkRow]] = {}
    for row in rows:
        out.setdefault(row.edition_key, []).append(row)
    return out


def _refusal(keys: list[EditionKey], current: dict) -> str:
    named = ", ".join(f"{s} {e} ({current[(s, e)][0]})" for s, e in keys)
    return (
        f"edition(s) already in the benchmark store: {named}. Nothing was imported. To replace "
        'them, import again with --replace --reason "..." (the reason is kept in the history)'
    )


def _csv_bytes(rows: list[BenchmarkRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        values = row.model_dump()
        writer.writerow(_cell(values[c]) for c in COLUMNS)
    return buffer.getvalue().encode("utf-8")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _file_name(key: EditionKey, data: bytes) -> str:
    """A name from hashes: the edition's (stable) and the content's (a new file per write)."""
    edition = hashlib.sha256("\0".join(key).encode()).hexdigest()[:16]
    content = hashlib.sha256(data).hexdigest()[:12]
    return f"{edition}-{content}.csv"


def _info(rows: list[BenchmarkRow], origin: str, today: date) -> EditionInfo:
    first = rows[0]
    ends = [r.window_end for r in rows if r.window_end]
    age = age_months(first.published, today)
    return EditionInfo(
        source_id=first.source_id,
        publisher=first.publisher,
        edition=first.edition,
        published=first.published,
        window_end=max(ends) if ends else None,
        rows=len(rows),
        origin="seed" if origin == "seed" else "imported",
        grade=max(r.grade for r in rows),
        age_months=age,
        stale=age > STALE_MONTHS,
        provisional_rows=sum(r.provisional for r in rows),
    )
