"""What the agency writes into a report, made safe for the page it lands on.

A commentary page is Markdown that may call the report macros. Three rules keep whatever it
contains from running as script, while Markdown stays Markdown:

- ``escape_headings``: a heading is a title (of the page, in the navigation, in the browser's
  tab), so HTML written in one shows as written (``#`` headings; an underlined heading's HTML
  is sanitised like the body's).
- ``sanitize``: the page's HTML passes an allow-list (nh3, the Rust ammonia sanitiser):
  formatting such as ``<b>``, ``<br>``, ``<sup>``, ``<details>``, tables and images (from
  the site itself: a remote ``src`` is dropped) stays;
  scripts, styles, event handlers, ``javascript:`` links, frames, forms and the element ids
  the theme and the charts look up are removed.
- ``Fragments``: what the macros return (tables, charts, scorecards) is our own HTML, escaped
  where it was built, and holds what the allow-list refuses (a chart's data is a
  ``<script type="application/json">``). The macros hand the page a placeholder; the fragment
  is put back after the page was sanitised. The placeholder carries a random per-build
  nonce, so text in a page cannot pose as one.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable
from typing import Any

import nh3
from markupsafe import Markup

__all__ = ["Fragments", "escape_headings", "first_heading", "sanitize"]

#: tags and attributes a commentary page may use (nh3's defaults, plus what Markdown and its
#: extensions write: heading ids, classes of admonitions and code, table alignment)
_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "details": {"open"},
    "th": {*nh3.ALLOWED_ATTRIBUTES["th"], "style"},
    "td": {*nh3.ALLOWED_ATTRIBUTES["td"], "style"},
}
#: ids the page's scripts look up (Material's ``__config``, ``__search``..., a chart's data):
#: an element of the page with one of them would stand in for the real one
_RESERVED_ID = re.compile(r"^(__|chart-)", re.IGNORECASE)

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
#: what in a heading line is not text: code spans and template expressions (the macros
#: render ``{{ client.name }}`` in a title too, escaped)
_NOT_TEXT = re.compile(r"(`+).*?(?<!`)\1(?!`)|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.DOTALL | re.IGNORECASE)
_HEADERLINK = re.compile(r"<a\b[^>]*\bclass=\"headerlink\"[^>]*>.*?</a>", re.DOTALL)


def escape_headings(markdown: str) -> str:
    """``markdown`` with ``<`` and ``>`` in ATX headings (outside code) written as entities."""
    lines, fence = markdown.split("\n"), None
    for i, line in enumerate(lines):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened[1][0] == fence[0] and len(opened[1]) >= len(fence):
                fence = None
        elif opened:
            fence = opened[1]
        elif _ATX.match(line):
            lines[i] = _escape_text(line)
    return "\n".join(lines)


def _escape_text(line: str) -> str:
    parts, start = [], 0
    for match in _NOT_TEXT.finditer(line):
        parts += [_angles(line[start : match.start()]), match[0]]
        start = match.end()
    return "".join([*parts, _angles(line[start:])])


def _angles(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


#: a URL with a scheme (http:, data:, ...) or a host (//host/...): not a file of the site
_REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*:|//|\\\\)", re.IGNORECASE)


def sanitize(html: str) -> str:
    """``html`` with only the allow-listed tags, attributes and URL schemes left."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_attribute,
        filter_style_properties={"text-align"},
        url_schemes={"http", "https", "mailto", "tel"},
    )


def _attribute(tag: str, name: str, value: str) -> str | None:
    if name == "id" and _RESERVED_ID.match(value):
        return None
    if name == "src" and _REMOTE.match(value.strip()):
        return None  # a page loads nothing from elsewhere: an image is a file of the site
    return value


def first_heading(html: str) -> str | None:
    """The plain text of the first ``<h1>`` of ``html`` (its permalink left out), or None."""
    match = _H1.search(html)
    if match is None:
        return None
    text = Markup(_HEADERLINK.sub("", match[1])).striptags()
    return text or None


class Fragments:
    """The macros' HTML fragments of one build, each standing in a page as a placeholder."""

    def __init__(self) -> None:
        self._nonce = secrets.token_hex(8)
        self._stored: list[Markup] = []
        self._placeholder = re.compile(rf"(<p>)?crfragment{self._nonce}n(\d+)z(</p>)?")

    def put(self, fragment: Markup) -> Markup:
        """A placeholder for ``fragment``: plain letters, which Markdown and nh3 keep."""
        self._stored.append(Markup(fragment))
        return Markup(f"crfragment{self._nonce}n{len(self._stored) - 1}z")

    def wrap(self, macro: Callable[..., Markup]) -> Callable[..., Markup]:
        """``macro``, returning a placeholder for its fragment."""

        @functools.wraps(macro)
        def placed(*args: Any, **kwargs: Any) -> Markup:
            return self.put(macro(*args, **kwargs))

        return placed

    def restore(self, html: str) -> str:
        """``html`` with every placeholder replaced by its fragment (a paragraph of its own
        becomes the fragment alone: tables and charts are blocks)."""

        def fragment(match: re.Match) -> str:
            index = int(match[2])
            if index >= len(self._stored):
                return ""
            opened, closed = match[1] or "", match[3] or ""
            if opened and closed:
                opened = closed = ""
            return f"{opened}{self._stored[index]}{closed}"

        return self._placeholder.sub(fragment, html)
