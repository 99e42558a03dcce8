"""Publishing built report sites to a static host's folder, the way mike lays them out.

``publish(sites, dest)`` copies ``out/sites/<client>/<period>/`` to, per client::

    dest/<client>/<period>/          one report (frozen once final, see below)
    dest/<client>/latest/            a copy of the newest period: mike's alias as a copy, so
                                     every page of latest/ works and finds ../versions.json
    dest/<client>/versions.json      mike's list, newest first, aliased ``latest``; with
    dest/<client>/versions.js        the same list for file:// pages, and the redirecting
    dest/<client>/index.html         page (all three written by ``generator.site.archive``)
    dest/<client>/publish-log.json   every publication: period, action, reason, time, hash

Frozen months: what a client has been shown must not change under them. Once a period has
been published *after it ended*, its folder is kept as it is even when the local build
differs (a new benchmark edition, a late conversion); the result says "kept (frozen)". Only
``rebuild={(client, period): reason}`` replaces it, and the reason goes into the log.

Month-to-date previews are not frozen: a period not yet over when it was published (its last
day is ``now``'s day or later) is refreshed by every publish, so the daily run keeps it
current, and the first publish after it ended replaces it with the final report, frozen from
then on. The log's ``complete`` flag records which a publication was, and decides; a
published folder that the log does not know (copied in by hand) counts as frozen.

A folder is replaced by copying the new tree to a hidden sibling and swapping it in with two
renames, so a reader sees the old tree or the new one (for an instant, none), never half of
one. Nothing is followed through a symlink, and a client is only a folder named by a slug.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from generator.errors import PublishError
from generator.lake.files import atomic_write_bytes, locked
from generator.periods import Period
from generator.site import archive

__all__ = ["LOG_NAME", "PeriodOutcome", "PublishError", "PublishResult", "publish"]

log = logging.getLogger("generator.distribute")

Action = Literal["published", "refreshed", "rebuilt", "unchanged", "kept (frozen)"]

#: the rule of ``generator.config`` for a client's slug (fullmatch: "$" would allow a "\n")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
#: the staging and trash siblings of ``_replace_tree``; a killed publish may leave them
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{32}\.(?P<kind>tmp|old)")
LOG_NAME = "publish-log.json"


@dataclass(frozen=True)
class PeriodOutcome:
    """What publishing did with one period of one client.

    ``frozen``: whether the published folder is final now (later publishes keep it).
    ``reason``: the reason given for a rebuild, if any.
    """

    client: str
    period: str
    action: Action
    frozen: bool
    reason: str | None = None

    @property
    def local_differs(self) -> bool:
        """Whether the local build differs from what stays published (only when kept)."""
        return self.action == "kept (frozen)"

    def describe(self) -> str:
        text = f"{self.client} {self.period}: {self.action}"
        if self.local_differs:
            text += "; the local build differs (rebuild it with a reason to replace it)"
        return text + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class PublishResult:
    """Every period published, in client then newest-first order; ``commit`` is the
    branch's new commit when publishing to git (None: nothing to commit)."""

    dest: Path
    outcomes: tuple[PeriodOutcome, ...]
    commit: str | None = None

    @property
    def changed(self) -> bool:
        return any(o.action in ("published", "refreshed", "rebuilt") for o in self.outcomes)


def publish(
    sites: Path,
    dest: Path,
    *,
    now: datetime,
    clients: Iterable[str] | None = None,
    rebuild: Mapping[tuple[str, str], str] | None = None,
    noindex: bool = True,
) -> PublishResult:
    """Lay out the built sites under ``dest`` for a static host (see the module docstring).

    Args:
        sites: the built sites, ``<out>/sites``.
        dest: the host's folder; created if missing. Neither may lie inside the other.
        now: the publishing time: it decides which periods are month-to-date previews and
            is written to the log.
        clients: slugs to publish (default: every client built under ``sites``).
        rebuild: ``(client, period) -> reason`` for frozen periods to replace.
        noindex: whether the redirect pages ask search engines to stay away.

    Raises:
        PublishError: the paths overlap, a client or a period to rebuild has no build, a
            rebuild has no reason, a publish log is unreadable, or the copy failed.
    """
    _check_paths(sites, dest)
    chosen = _clients(sites, clients)
    reasons = _check_rebuild(sites, chosen, rebuild or {})
    outcomes: list[PeriodOutcome] = []
    try:
        dest.mkdir(parents=True, exist_ok=True)
        with locked(dest.parent / f".{dest.name}.publish.lock"):
            for client in chosen:
                outcomes += _publish_client(sites / client, dest / client, reasons, now, noindex)
    except OSError as exc:
        raise PublishError(f"could not publish to {dest}: {exc}") from exc
    return PublishResult(dest, tuple(outcomes))


def _check_paths(sites: Path, dest: Path) -> None:
    if not sites.is_dir():
        raise PublishError(f"{sites} holds no built sites; run `campaign-report build` first")
    src, out = sites.resolve(), dest.resolve()
    if src == out or src in out.parents or out in src.parents:
        raise PublishError(
            f"the destination {dest} and the built sites {sites} overlap; publish to a "
            "folder outside the output folder (and not containing it)"
        )


def _clients(sites: Path, wanted: Iterable[str] | None) -> list[str]:
    """The clients to publish: real folders (no symlinks) named by a valid slug."""
    if wanted is None:
        found = [p for p in sites.iterdir() if p.is_dir() and not p.is_symlink()]
        for folder in found:
            if not _SLUG.fullmatch(folder.name):
                log.warning("skipping %r under %s: not a client slug", folder.name, sites)
        return sorted(p.name for p in found if _SLUG.fullmatch(p.name))
    chosen = sorted(set(wanted))
    for slug in chosen:
        if not _SLUG.fullmatch(slug):
            raise PublishError(f"{slug!r} is not a client slug (lowercase letters, digits, -)")
        folder = sites / slug
        if not folder.is_dir() or folder.is_symlink():
            raise PublishError(f"no built site for {slug} under {sites}; build it first")
    return chosen


def _check_rebuild(
    sites: Path, clients: list[str], rebuild: Mapping[tuple[str, str], str]
) -> dict[tuple[str, str], str]:
    """Every rebuild names a client being published, a built period and a reason."""
    for (client, label), reason in rebuild.items():
        if client not in clients:
            raise PublishError(f"cannot rebuild {client} {label}: {client} is not published now")
        if label not in _local_periods(sites / client):
            raise PublishError(f"cannot rebuild {client} {label}: it is not built; build it")
        if not isinstance(reason, str) or not reason.strip():
            raise PublishError(f"rebuilding {client} {label} needs a reason, for the log")
    return {key: reason.strip() for key, reason in rebuild.items()}


def _publish_client(
    source: Path, target: Path, reasons: dict, now: datetime, noindex: bool
) -> list[PeriodOutcome]:
    _refuse_symlink(target)
    target.mkdir(exist_ok=True)
    _sweep_leftovers(target)
    history = _read_log(target)
    last = {entry["period"]: entry for entry in history}
    outcomes, entries = [], []
    for label in _local_periods(source):
        reason = reasons.get((target.name, label))
        outcome, entry = _publish_period(
            source / label, target / label, last.get(label), reason, now
        )
        outcomes.append(outcome)
        entries += [entry] if entry else []
    if entries:
        atomic_write_bytes(target / LOG_NAME, json.dumps(history + entries, indent=2).encode())
    _follow_latest(target)
    _write_versions(target, noindex)
    return outcomes


def _publish_period(
    src: Path, final: Path, last: dict | None, reason: str | None, now: datetime
) -> tuple[PeriodOutcome, dict | None]:
    """Publish one period unless frozen; returns the outcome and the log entry to add."""
    client, label = final.parent.name, final.name
    _refuse_symlink(final)
    complete = _end(label) < now.date()
    local = _tree_hash(src)
    present = final.is_dir()
    frozen = present and (last is None or bool(last.get("complete", True)))
    if present and _tree_hash(final) == local:
        if frozen or not complete:
            return PeriodOutcome(client, label, "unchanged", frozen), None
        # a preview that already is the final report: logging it as complete freezes it
    elif present and frozen and reason is None:
        return PeriodOutcome(client, label, "kept (frozen)", True), None
    else:
        _replace_tree(src, final)
    action: Action = (
        "rebuilt" if frozen else "refreshed" if present and not complete else "published"
    )
    entry = {
        "period": label,
        "action": action,
        "reason": reason,
        "time": now.isoformat(),
        "sha256": local,
        "complete": complete,
    }
    return PeriodOutcome(client, label, action, complete, reason), entry


def _follow_latest(target: Path) -> None:
    """Make ``latest/`` a copy of the newest published period (if it is not already)."""
    labels = archive.periods(target)
    latest = target / "latest"
    _refuse_symlink(latest)
    if labels and (not latest.is_dir() or _tree_hash(latest) != _tree_hash(target / labels[0])):
        _replace_tree(target / labels[0], latest)


def _write_versions(target: Path, noindex: bool) -> None:
    """archive's versions.json, versions.js and index.html, rewriting only what changes.

    ``archive.update`` always writes; it runs here on a skeleton of the published periods
    and only files whose bytes differ are copied in, so a second publish touches nothing.
    """
    with tempfile.TemporaryDirectory(prefix="campaign-versions-") as scratch:
        skeleton = Path(scratch)
        for label in archive.periods(target):
            (skeleton / label).mkdir()
            (skeleton / label / "index.html").touch()
        archive.update(skeleton, noindex=noindex)
        for name in ("versions.json", "versions.js", "index.html"):
            made = skeleton / name
            if made.exists():
                _write_if_changed(target / name, made.read_bytes())


def _write_if_changed(path: Path, data: bytes) -> None:
    if not path.is_file() or path.is_symlink() or path.read_bytes() != data:
        atomic_write_bytes(path, data)


def _read_log(target: Path) -> list[dict]:
    """The client's publish log; unreadable is an error, since it decides what is frozen."""
    path = target / LOG_NAME
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PublishError(f"{path} cannot be read ({exc}); restore it from a backup") from None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("period"), str) for e in entries
    ):
        raise PublishError(f"{path} is not a publish log (a list of entries); restore it")
    return entries


def _local_periods(client_root: Path) -> list[str]:
    """Built periods, newest first; a symlinked period folder is never followed."""
    return [p for p in archive.periods(client_root) if not (client_root / p).is_symlink()]


def _end(label: str) -> date:
    return date.fromisoformat(label.split("_")[1]) if "_" in label else Period.month(label).end


def _refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise PublishError(f"{path} is a symlink; publishing never writes through one")


def _plain_entries(directory: str, names: list[str]) -> set[str]:
    """copytree's ignore: symlinks and special files, so that nothing outside is copied."""
    ignored = set()
    for name in names:
        mode = Path(directory, name).lstat().st_mode
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            ignored.add(name)
            log.warning("not publishing %s: not a plain file or folder", Path(directory, name))
    return ignored


def _replace_tree(src: Path, final: Path) -> None:
    """Copy ``src`` to a hidden sibling of ``final``, then swap it in with two renames."""
    token = uuid.uuid4().hex
    staged = final.with_name(f".{final.name}.{token}.tmp")
    old = final.with_name(f".{final.name}.{token}.old")
    try:
        shutil.copytree(src, staged, ignore=_plain_entries)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    if final.exists():
        final.rename(old)
    try:
        staged.rename(final)
    except BaseException:
        if old.exists():
            old.rename(final)  # put the previous tree back: never leave the period missing
        shutil.rmtree(staged, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _sweep_leftovers(target: Path) -> None:
    """Clean up after a publish that was killed (we hold the lock): a previous tree moved
    aside whose replacement never arrived goes back in place; the rest is removed."""
    for entry in sorted(target.iterdir()):
        found = _LEFTOVER.fullmatch(entry.name)
        if not found or not entry.is_dir() or entry.is_symlink():
            continue
        final = target / found["name"]
        if found["kind"] == "old" and not final.exists() and not final.is_symlink():
            entry.rename(final)
        else:
            shutil.rmtree(entry, ignore_errors=True)


def _tree_hash(root: Path) -> str:
    """SHA-256 over every plain file under ``root`` (relative path and content), symlinks
    skipped as the copy skips them: two trees with the same hash publish the same site."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            with path.open("rb") as handle:
                content = hashlib.file_digest(handle, "sha256").hexdigest()
            digest.update(f"{path.relative_to(root).as_posix()}\0{content}\n".encode())
    return digest.hexdigest()
