"""Where rotated refresh tokens are kept between runs (never in the lake, logs or site).

Some platforms (Reddit, Snapchat, LinkedIn on request) issue a new refresh token with every
access token and retire the old one. The environment still holds the original, so the newest
one is recorded here, keyed by a hash of the original: the next run finds it and uses it.
The file is written atomically with owner-only permissions.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from generator.lake.files import atomic_write_bytes

__all__ = ["TokenStore", "default_path"]


def default_path() -> Path:
    """``$CAMPAIGN_REPORTER_STATE`` or ``$XDG_STATE_HOME/campaign-reporter`` /tokens.json."""
    root = (
        os.environ.get("CAMPAIGN_REPORTER_STATE")
        or Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
        / "campaign-reporter"
    )
    return Path(root) / "tokens.json"


def _key(platform: str, original: str) -> str:
    return f"{platform}:{hashlib.sha256(original.encode()).hexdigest()[:24]}"


class TokenStore:
    """Maps (platform, original refresh token) to the newest refresh token."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._lock = threading.Lock()

    def current(self, platform: str, original: str) -> str:
        """The newest refresh token of the chain that started with ``original``."""
        return self._read().get(_key(platform, original), original)

    def rotated(self, platform: str, original: str, newest: str) -> None:
        with self._lock:
            data = self._read()
            data[_key(platform, original)] = newest
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write_bytes(self.path, json.dumps(data, indent=1).encode(), mode=0o600)

    def _read(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
