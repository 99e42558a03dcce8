"""A content-addressed store for creative assets: a file's name is the SHA-256 of its bytes.

Names never come from platform IDs or URLs, so nothing a platform sends can choose a path.
Writing the same bytes twice stores them once; writes are atomic.

Each client has its own store, ``<out>/assets/<client>/``: one client's images are never
copied into another client's site, and retention is applied client by client. Next to each
asset lie its thumbnail and its manifest (``<sha>.json``, see ``manifest``); ``missing.json``
at the store's root says why a creative's image is not there (refused, not downloadable).

Before stores were per client, every asset went to one shared store, ``<out>/assets/``. A
client's store reads through to it (``fallback``), so a lake whose rows name assets stored
there still builds; nothing is written to it again but retention's removals (``retention``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.lake.files import atomic_write_bytes

__all__ = ["AssetStore", "StoredAsset"]

_SHA = re.compile(r"^[0-9a-f]{64}$")
_SUFFIX = re.compile(r"^\.[a-z0-9]{2,5}(\.[a-z0-9]{2,5})?$")
_FILE = re.compile(r"^([0-9a-f]{64})(\.[a-z0-9]{2,5}(?:\.[a-z0-9]{2,5})?)$")
MANIFEST = ".json"
_MISSING = "missing.json"


@dataclass(frozen=True)
class StoredAsset:
    """One asset's files in a store: its hash, and each file (original, thumbnail, manifest)."""

    sha: str
    files: tuple[Path, ...]

    @property
    def images(self) -> tuple[Path, ...]:
        """The files but the manifest (none left once retention removed the asset)."""
        return tuple(f for f in self.files if not f.name.endswith(MANIFEST))

    @property
    def image_bytes(self) -> int:
        return sum(_size(f) for f in self.images)


class AssetStore:
    """Files under ``root/<sha[:2]>/<sha><suffix>``, reading through to ``fallback``."""

    def __init__(self, root: Path, fallback: AssetStore | None = None) -> None:
        self.root = Path(root)
        self.fallback = fallback

    def put(self, data: bytes, suffix: str) -> str:
        """Store ``data``; returns its SHA-256 (hex)."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.path(sha, suffix)
        if not path.exists():
            atomic_write_bytes(path, data)
        return sha

    def put_derived(self, sha: str, suffix: str, data: bytes) -> None:
        """Store a file derived from the asset ``sha`` (its thumbnail, say)."""
        path = self.path(sha, suffix)
        if not path.exists():
            atomic_write_bytes(path, data)

    def path(self, sha: str, suffix: str) -> Path:
        if not _SHA.match(sha) or not _SUFFIX.match(suffix):
            raise ValueError(f"not a stored asset name: {sha!r}{suffix!r}")
        return self.root / sha[:2] / f"{sha}{suffix}"

    def has(self, sha: str, suffix: str) -> bool:
        return self.path(sha, suffix).exists()

    def find(self, sha: str, suffix: str) -> Path | None:
        """The file, here or in the fallback store; None when neither has it."""
        path = self.path(sha, suffix)
        if path.exists():
            return path
        return self.fallback.find(sha, suffix) if self.fallback else None

    # -- manifests ------------------------------------------------------------------------

    def manifest(self, sha: str) -> dict[str, Any] | None:
        """The asset's manifest (here, else in the fallback store), or None."""
        path = self.find(sha, MANIFEST)
        if path is None:
            return None
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # a damaged manifest says nothing; the asset itself is still there
        return body if isinstance(body, dict) else None

    def put_manifest(self, sha: str, body: Mapping[str, Any]) -> None:
        """Write (replace) the asset's manifest."""
        text = json.dumps(dict(body), indent=2, sort_keys=True, ensure_ascii=False, default=str)
        atomic_write_bytes(self.path(sha, MANIFEST), text.encode())

    # -- why an image is missing ----------------------------------------------------------

    def missing(self) -> dict[str, dict[str, dict[str, str]]]:
        """source -> account -> ad (or creative) id -> why its image is not stored."""
        try:
            body = json.loads((self.root / _MISSING).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return body if isinstance(body, dict) else {}

    def put_missing(self, source: str, account_id: str, reasons: Mapping[str, str]) -> None:
        """Replace what the store says about one account's missing images (none: forgotten)."""
        body = self.missing()
        accounts = body.setdefault(source, {})
        if reasons:
            accounts[account_id] = dict(sorted(reasons.items()))
        elif accounts.pop(account_id, None) is None:
            return  # nothing recorded, nothing to record: no write
        text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False)
        atomic_write_bytes(self.root / _MISSING, text.encode())

    # -- listing and removing -------------------------------------------------------------

    def assets(self) -> Iterator[StoredAsset]:
        """Every asset stored here (not in the fallback), by hash."""
        found: dict[str, list[Path]] = {}
        for folder in sorted(self.root.glob("[0-9a-f][0-9a-f]")):
            for path in sorted(folder.iterdir()) if folder.is_dir() else ():
                match = _FILE.match(path.name)
                if match and match.group(1).startswith(folder.name) and path.is_file():
                    found.setdefault(match.group(1), []).append(path)
        for sha, files in found.items():
            yield StoredAsset(sha, tuple(files))

    def remove_images(self, asset: StoredAsset) -> int:
        """Delete the asset's image and thumbnail (its manifest stays); returns bytes freed."""
        freed = 0
        for path in asset.images:
            size = _size(path)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                freed += size
        return freed


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
