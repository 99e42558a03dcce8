"""A content-addressed store for creative assets: a file's name is the SHA-256 of its bytes.

Names never come from platform IDs or URLs, so nothing a platform sends can choose a path.
Writing the same bytes twice stores them once; writes are atomic.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from generator.lake.files import atomic_write_bytes

__all__ = ["AssetStore"]

_SHA = re.compile(r"^[0-9a-f]{64}$")
_SUFFIX = re.compile(r"^\.[a-z0-9]{2,5}(\.[a-z0-9]{2,5})?$")


class AssetStore:
    """Files under ``root/<sha[:2]>/<sha><suffix>``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

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
