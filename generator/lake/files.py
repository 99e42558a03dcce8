"""Atomic file writes and multi-file commits for the lake.

A single file is written to a hidden temporary name in its final directory, flushed to disk and
renamed over the target, so a reader sees the old file or the new one, never half of either.
A change that spans several files (a date range crossing months) is a *commit*: every new file
is first written under a temporary name, then a journal listing the renames is written
atomically, then the renames happen and the journal is deleted. A crash before the journal
exists leaves the previous state (its temporaries are abandoned); a crash after it is rolled
forward by ``roll_forward``. Either way no reader ever sees a half-written partition.

Who may delete a temporary file (the invariant that makes cleanup safe):

- Every temporary file in a directory guarded by a lock is created, and renamed or deleted,
  by a writer that holds that lock the whole time (``Commit`` and ``atomic_write_bytes`` are
  only called under it). A journal written under the lock may name temporaries that outlive
  their writer; nothing else does.
- So whoever holds the lock sees only temporaries that no live writer will touch again: first
  ``roll_forward`` the journals (which consumes every temporary a journal names), then every
  temporary left is abandoned and ``sweep`` may delete it. ``recover`` does both, and must
  only be called while holding the lock, for the directories that lock guards and no others.
- A journal entry records the inode of its staged file. Rolling forward is idempotent: an
  entry whose temporary is gone is done if its final file has that inode (an earlier roll
  forward renamed it), and otherwise cannot be finished: that is an error naming the files,
  never a rename skipped in silence.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import LakeError

__all__ = [
    "Commit",
    "account_file",
    "atomic_write_bytes",
    "locked",
    "recover",
    "roll_forward",
    "sweep",
    "temp_path",
]

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
def locked(lock_file: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive advisory lock on ``lock_file`` (threads and processes alike).

    Yields True while the lock is held. With ``wait=False`` it does not wait for another
    holder: it yields False, holding nothing, if the lock is taken.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@dataclass
class Commit:
    """Replace and delete several files as one step (see the module docstring).

    Use ``stage(final, write)`` for each new file, ``delete(final)`` for each file to remove,
    then ``apply()``, all while holding the lock of the directories written. ``write``
    receives the temporary path to write to.
    """

    journal_dir: Path
    _renames: list[tuple[Path, Path, int]] = field(default_factory=list)
    _deletes: list[Path] = field(default_factory=list)

    def stage(self, final: Path, write: Callable[[Path], None]) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(final)
        try:
            write(tmp)
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
                inode = os.fstat(handle.fileno()).st_ino
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._renames.append((tmp, final, inode))

    def delete(self, final: Path) -> None:
        self._deletes.append(final)

    def discard(self) -> None:
        """Forget the staged files (used when something fails before ``apply``)."""
        for tmp, _, _ in self._renames:
            tmp.unlink(missing_ok=True)
        self._renames.clear()
        self._deletes.clear()

    def apply(self) -> None:
        """Put every staged file in place and delete the deleted ones, as one step.

        Raises:
            LakeError: a staged temporary file vanished; nothing was applied.
        """
        if not self._renames and not self._deletes:
            return
        journal = self.journal_dir / f"{uuid.uuid4().hex}.json"
        body = {
            "renames": [[str(tmp), str(final), inode] for tmp, final, inode in self._renames],
            "deletes": [str(p) for p in self._deletes],
        }
        atomic_write_bytes(journal, json.dumps(body).encode())
        staged = self._renames
        self._renames, self._deletes = [], []  # the journal owns them now: never discarded
        try:
            _roll_forward(journal)
        except _Unfinishable as exc:
            # Checked before any rename, and a fresh commit has none done: undo it whole.
            journal.unlink(missing_ok=True)
            for tmp, _, _ in staged:
                tmp.unlink(missing_ok=True)
            raise LakeError(
                f"the staged file {exc.lost[0][0]} vanished before it replaced "
                f"{exc.lost[0][1]}; the commit was not applied and the previous files are "
                "intact. Something outside the lake's writers deletes its temporary files."
            ) from None


def roll_forward(journal_dir: Path) -> int:
    """Finish every journalled commit in ``journal_dir``; returns how many there were.

    Call it while holding the lock that writers of the journal's files hold.

    Raises:
        LakeError: a journal names a staged file that is gone and not in place; the journal
            is kept, and the message says what to do.
    """
    journals = sorted(journal_dir.glob("*.json")) if journal_dir.exists() else []
    for journal in journals:
        try:
            _roll_forward(journal)
        except _Unfinishable as exc:
            tmp, final = exc.lost[0]
            raise LakeError(
                f"the interrupted commit {journal} cannot be finished: its staged file {tmp} "
                f"is gone and {final} is not the file it staged. Delete {journal}, then run "
                f"`campaign-report sync --client {journal_dir.name} --full` to rewrite the "
                "months it touched."
            ) from None
    return len(journals)


def sweep(directories: Iterable[Path]) -> int:
    """Delete every temporary file under ``directories``; returns how many.

    Only for abandoned temporaries: call it holding the lock of these directories, after
    ``roll_forward`` (see the module docstring).
    """
    swept = 0
    for directory in directories:
        for tmp in directory.rglob(f".*{_TMP_SUFFIX}") if directory.exists() else ():
            tmp.unlink(missing_ok=True)
            swept += 1
    return swept


def recover(journal_dir: Path, data_dirs: Iterable[Path]) -> int:
    """``roll_forward`` the journals, then ``sweep`` ``journal_dir`` and ``data_dirs``.

    Call it while holding the lock that writers of exactly these directories hold. Returns
    how many commits were rolled forward.
    """
    done = roll_forward(journal_dir)
    sweep([journal_dir, *data_dirs])
    return done


class _Unfinishable(Exception):
    """A journal names staged files that are neither present nor in place (never escapes)."""

    def __init__(self, lost: list[tuple[Path, Path]]) -> None:
        super().__init__(lost)
        self.lost = lost


def _roll_forward(journal: Path) -> None:
    try:
        body = json.loads(journal.read_text())
    except (OSError, ValueError):
        journal.unlink(missing_ok=True)  # never completed its own atomic write
        return
    renames = [(Path(e[0]), Path(e[1]), e[2] if len(e) > 2 else None) for e in body["renames"]]
    pending, lost = [], []
    for tmp, final, inode in renames:
        if tmp.exists():
            pending.append((tmp, final))
        elif not _in_place(final, inode):
            lost.append((tmp, final))
    if lost:
        raise _Unfinishable(lost)  # before any rename, so the caller may still undo
    for tmp, final in pending:
        tmp.replace(final)
    for final in body["deletes"]:
        Path(final).unlink(missing_ok=True)
    touched = [final for _, final, _ in renames] + [Path(final) for final in body["deletes"]]
    for directory in {final.parent for final in touched}:
        _fsync_dir(directory)
    journal.unlink(missing_ok=True)


def _in_place(final: Path, inode: int | None) -> bool:
    """Whether an earlier roll forward already renamed the staged file to ``final``.

    A rename keeps the inode, and no other file can take ``final`` while the journal exists
    (writers roll journals forward first). Journals written before inodes were recorded
    (``inode`` None) can only be trusted on the final file existing.
    """
    try:
        found = final.stat().st_ino
    except FileNotFoundError:
        return False
    return inode is None or found == inode


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
