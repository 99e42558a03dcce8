"""Monthly archives of a client's report, the way mike lays out versioned MkDocs sites.

``<sites>/<client>/<period>/`` holds one built report each; ``versions.json`` (mike's format:
``[{"version", "title", "aliases"}]``, newest first, the newest aliased ``latest``) feeds
Material's version selector in every one of them, and ``index.html`` sends a visitor to the
newest. ``versions.js`` carries the same list for pages opened from disk, where a browser
refuses to fetch ``versions.json`` but still runs a script (``overrides/main.html`` in the
site templates reads it). Publishing a period rewrites only these three small files: older
reports are never rebuilt.
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


def update(client_root: Path, *, noindex: bool = True) -> list[dict]:
    """Rewrite ``versions.json``, ``versions.js`` and the redirecting ``index.html`` (which,
    like every page of the sites, asks search engines to stay away unless ``noindex`` is
    off).

    Returns:
        the versions, newest first, as written to ``versions.json``.
    """
    labels = periods(client_root)
    versions = [
        {"version": label, "title": _title(label), "aliases": ["latest"] if i == 0 else []}
        for i, label in enumerate(labels)
    ]
    atomic_write_bytes(client_root / "versions.json", json.dumps(versions, indent=2).encode())
    atomic_write_bytes(client_root / "versions.js", _script(versions).encode())
    if labels:
        target = html.escape(f"{labels[0]}/index.html", quote=True)
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            + ('<meta name="robots" content="noindex, nofollow">' if noindex else "")
            + f'<meta http-equiv="refresh" content="0; url={target}">'
            + f'<title>Latest report</title></head><body><a href="{target}">Latest report</a>'
            + "</body></html>\n"
        )
        atomic_write_bytes(client_root / "index.html", page.encode())
    return versions


#: characters that could end a script element (or, before ES2019, a line of JavaScript)
_UNSAFE_IN_SCRIPT = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def _script(versions: list[dict]) -> str:
    """``versions`` as a script that sets ``window.__reportVersions``.

    ASCII only (a script loaded from disk has no charset header), and escaped so that no
    title can close a script element even if the text is ever inlined in a page; the values
    read back are unchanged.
    """
    data = json.dumps(versions, indent=2).translate(_UNSAFE_IN_SCRIPT)
    return f"window.__reportVersions = {data};\n"


def _end(label: str) -> date:
    if "_" in label:
        return date.fromisoformat(label.split("_")[1])
    return Period.month(label).end


def _title(label: str) -> str:
    if "_" in label:
        start, end = label.split("_")
        return f"{start} – {end}"
    return Period.month(label).start.strftime("%B %Y")
