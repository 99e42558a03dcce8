"""Atomic file writes and multi-file commits for the lake.

A single file is written to a hidden temporary name in its final directory, flushed to disk and
renamed over the target, so a reader sees the old file or the new one, never half of either.
A change that spans several files (a date range crossing months) is a *commit*: every new file
is first written under a temporary name, then a journal listing the renames is written
atomically, then the renames happen and the journal is deleted. A crash before the journal
exists leaves the previous state (orphan temporaries are swept); a crash after it is rolled
forward by ``recover``. Either way no reader ever sees a half-written partition.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Commit", "account_file", "atomic_write_bytes", "locked", "recover", "temp_path"]

_TMP_SUFFIX = ".tmp"
_SAFE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")


def account_file(source: str, account_id: str, suffix: str) -> str:
    """``<source>--<account><suffix>``; a name part that is not path-safe is hashed.

    IDs come from config and platforms, so they never become path components unchecked.
    """
    parts = [
        p if _SAFE.match(p) and ".." not in p else "h" + hashlib.sha256(p.encode()).hexdigest()[:16]
        for p in (source, account_id)
    ]
    return f"{parts[0]}--{parts[1]}{suffix}"


def temp_path(final: Path) -> Path:
    """A hidden temporary sibling of ``final`` that no reader's glob matches."""
    return final.with_name(f".{final.name}.{uuid.uuid4().hex}{_TMP_SUFFIX}")


def atomic_write_bytes(final: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``final`` atomically (temp file, fsync, rename) with ``mode``."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(final)
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(final)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(final.parent)


@contextlib.contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_file`` (threads and processes alike)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@dataclass
class Commit:
    """Replace and delete several files as one step (see the module docstring).

    Use ``stage(final, write)`` for each new file, ``delete(final)`` for each file to remove,
    then ``apply()``. ``write`` receives the temporary path to write to.
    """

    journal_dir: Path
    _renames: list[tuple[Path, Path]] = field(default_factory=list)
    _deletes: list[Path] = field(default_factory=list)

    def stage(self, final: Path, write: Callable[[Path], None]) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(final)
        try:
            write(tmp)
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._renames.append((tmp, final))

    def delete(self, final: Path) -> None:
        self._deletes.append(final)

    def discard(self) -> None:
        """Forget the staged files (used when something fails before ``apply``)."""
        for tmp, _ in self._renames:
            tmp.unlink(missing_ok=True)
        self._renames.clear()
        self._deletes.clear()

    def apply(self) -> None:
        if not self._renames and not self._deletes:
            return
        journal = self.journal_dir / f"{uuid.uuid4().hex}.json"
        body = {
            "renames": [[str(tmp), str(final)] for tmp, final in self._renames],
            "deletes": [str(p) for p in self._deletes],
        }
        atomic_write_bytes(journal, json.dumps(body).encode())
        _roll_forward(journal)


def recover(journal_dir: Path, data_dir: Path) -> int:
    """Finish every journalled commit, then sweep orphan temporaries under ``data_dir``.

    Call it while holding the lock that writers of ``data_dir`` hold. Returns how many
    commits were rolled forward.
    """
    journals = sorted(journal_dir.glob("*.json")) if journal_dir.exists() else []
    for journal in journals:
        _roll_forward(journal)
    if data_dir.exists():
        for tmp in data_dir.rglob(f".*{_TMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)
    return len(journals)


def _roll_forward(journal: Path) -> None:
    try:
        body = json.loads(journal.read_text())
    except (OSError, ValueError):
        journal.unlink(missing_ok=True)  # never completed its own atomic write
        return
    touched = set()
    for tmp, final in body["renames"]:
        if Path(tmp).exists():
            Path(tmp).replace(final)
        touched.add(Path(final).parent)
    for final in body["deletes"]:
        Path(final).unlink(missing_ok=True)
        touched.add(Path(final).parent)
    for directory in touched:
        _fsync_dir(directory)
    journal.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
