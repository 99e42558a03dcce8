"""Escaping for text that came from a platform (names, ad copy, URLs).

``md`` makes any string inert in Markdown *and* HTML: HTML-escaped, with every character
Markdown, attribute lists or Jinja could interpret written as a numeric entity, so a campaign
called ``[x](javascript:alert(1))`` or ``<script>`` or ``{{ 7*7 }}`` shows as exactly that
text. ``script_json`` serialises data for a ``<script type="application/json">`` block without
letting any string close the tag. ``safe_url`` keeps only http(s) links.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

__all__ = ["md", "safe_url", "script_json"]

_TABLE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#39;",
        **{c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~"},
        "\n": " ",
        "\r": " ",
        "\t": " ",
    }
)


def md(value: Any) -> Markup:
    """``value`` as inert text for a Markdown page (None becomes an empty string)."""
    if value is None:
        return Markup("")
    if isinstance(value, Markup):
        return value
    return Markup(str(value).translate(_TABLE))


def script_json(data: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` breakout)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in (
        ("{{", "{\\u007b"),  # only strings can hold these: keep template engines out
        ("{%", "{\\u0025"),
        ("{#", "{\\u0023"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return Markup(text)


def safe_url(value: Any) -> str | None:
    """The URL if it is an absolute http(s) URL, else None (javascript:, data:, relative)."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None
