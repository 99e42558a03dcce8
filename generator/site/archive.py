"""Monthly archives of a client's report, the way mike lays out versioned MkDocs sites.

``<sites>/<client>/<period>/`` holds one built report each; ``versions.json`` (mike's format:
``[{"version", "title", "aliases"}]``, newest first, the newest aliased ``latest``) feeds
Material's version selector in every one of them, and ``index.html`` sends a visitor to the
newest. Publishing a period rewrites only these two small files: older reports are never
rebuilt.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path

from generator.lake.files import atomic_write_bytes
from generator.periods import Period

__all__ = ["periods", "update"]

_LABEL = re.compile(r"^\d{4}-\d{2}$|^\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}$")


def periods(client_root: Path) -> list[str]:
    """Labels of the periods built for a client, newest first."""
    found = [
        p.name
        for p in client_root.iterdir()
        if p.is_dir() and _LABEL.match(p.name) and (p / "index.html").exists()
    ]
    return sorted(found, key=_end, reverse=True)


def update(client_root: Path) -> list[dict]:
    """Rewrite ``versions.json`` and the redirecting ``index.html``; returns the versions."""
    labels = periods(client_root)
    versions = [
        {"version": label, "title": _title(label), "aliases": ["latest"] if i == 0 else []}
        for i, label in enumerate(labels)
    ]
    atomic_write_bytes(client_root / "versions.json", json.dumps(versions, indent=2).encode())
    if labels:
        target = html.escape(f"{labels[0]}/index.html", quote=True)
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0; url={target}">'
            f'<title>Latest report</title></head><body><a href="{target}">Latest report</a>'
            "</body></html>\n"
        )
        atomic_write_bytes(client_root / "index.html", page.encode())
    return versions


def _end(label: str) -> date:
    if "_" in label:
        return date.fromisoformat(label.split("_")[1])
    return Period.month(label).end


def _title(label: str) -> str:
    if "_" in label:
        start, end = label.split("_")
        return f"{start} – {end}"
    return Period.month(label).start.strftime("%B %Y")
