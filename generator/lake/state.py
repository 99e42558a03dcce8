"""Sync state per (client, source, account), committed only after the data it describes.

The state says which days are stored (``covered``, merged inclusive ranges), when the account
last synced successfully, whether it is stale (the platform was down past the retry bound) and
any work a platform left pending (an async report to resume), and which campaigns, ad groups or
ads are stored under their ids because the platform no longer named them (``unresolved``, for
the report's data warnings). It never holds a credential.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from generator.lake.files import account_file, atomic_write_bytes

__all__ = ["AccountState", "StateStore"]

Status = Literal["never", "ok", "stale", "failed"]


@dataclass(frozen=True)
class AccountState:
    """What the lake holds for one connector account."""

    client: str
    source: str
    account_id: str
    covered: tuple[tuple[date, date], ...] = ()
    status: Status = "never"
    message: str = ""
    last_success: datetime | None = None
    last_attempt: datetime | None = None
    api_version: str = ""
    pending: dict[str, Any] = field(default_factory=dict)
    #: level -> ids of entities stored under their ids because the API gave no name
    unresolved: dict[str, list[str]] = field(default_factory=dict)

    @property
    def synced_through(self) -> date | None:
        """The last stored day, or None before the first sync."""
        return max((end for _, end in self.covered), default=None)

    def with_covered(self, start: date, end: date) -> AccountState:
        """A copy whose covered ranges include ``start..end`` (merged with neighbours)."""
        spans = sorted([*self.covered, (start, end)])
        merged: list[tuple[date, date]] = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1] + timedelta(days=1):
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        return replace(self, covered=tuple(merged))

    def missing(self, start: date, end: date) -> list[tuple[date, date]]:
        """The sub-ranges of ``start..end`` not covered yet, oldest first."""
        gaps, cursor = [], start
        for lo, hi in self.covered:
            if hi < cursor or lo > end:
                continue
            if lo > cursor:
                gaps.append((cursor, lo - timedelta(days=1)))
            cursor = max(cursor, hi + timedelta(days=1))
        if cursor <= end:
            gaps.append((cursor, end))
        return gaps

    def succeeded(self, api_version: str, now: datetime | None = None) -> AccountState:
        now = now or datetime.now(UTC)
        return replace(
            self,
            status="ok",
            message="",
            last_success=now,
            last_attempt=now,
            api_version=api_version,
        )

    def with_unresolved(self, found: dict[str, list[str]], keep: int = 200) -> AccountState:
        """A copy that also lists ``found`` (level -> ids), at most ``keep`` ids a level."""
        merged = {level: list(ids) for level, ids in self.unresolved.items()}
        for level, ids in found.items():
            known = merged.setdefault(level, [])
            known.extend(i for i in ids if i not in known)
            merged[level] = known[-keep:]
        return replace(self, unresolved=merged)

    def failed(self, status: Status, message: str, now: datetime | None = None) -> AccountState:
        return replace(self, status=status, message=message, last_attempt=now or datetime.now(UTC))


class StateStore:
    """JSON files under ``root``, one per account, each written atomically.

    ``lock(client)``, if given, is held while a client's file is written, so that whoever
    holds it may sweep the client's abandoned temporary files (see ``files``).
    """

    def __init__(
        self, root: Path, lock: Callable[[str], AbstractContextManager[object]] | None = None
    ) -> None:
        self.root = Path(root)
        self._lock = lock or (lambda client: contextlib.nullcontext())

    def get(self, client: str, source: str, account_id: str) -> AccountState:
        path = self._path(client, source, account_id)
        if not path.exists():
            return AccountState(client, source, account_id)
        return _decode(json.loads(path.read_text(encoding="utf-8")))

    def put(self, state: AccountState) -> None:
        body = json.dumps(_encode(state), indent=2, sort_keys=True)
        with self._lock(state.client):
            path = self._path(state.client, state.source, state.account_id)
            atomic_write_bytes(path, body.encode())

    def all(self, client: str) -> list[AccountState]:
        folder = self.root / client
        return [
            _decode(json.loads(p.read_text(encoding="utf-8")))
            for p in sorted(folder.glob("*.json"))
        ]

    def _path(self, client: str, source: str, account_id: str) -> Path:
        return self.root / client / account_file(source, account_id, ".json")


def _encode(state: AccountState) -> dict[str, Any]:
    body = asdict(state)
    body["covered"] = [[lo.isoformat(), hi.isoformat()] for lo, hi in state.covered]
    for key in ("last_success", "last_attempt"):
        body[key] = body[key].isoformat() if body[key] else None
    return body


def _decode(body: dict[str, Any]) -> AccountState:
    body = dict(body)
    body["covered"] = tuple(
        (date.fromisoformat(lo), date.fromisoformat(hi)) for lo, hi in body["covered"]
    )
    for key in ("last_success", "last_attempt"):
        body[key] = datetime.fromisoformat(body[key]) if body[key] else None
    return AccountState(**body)
