"""The report's own MkDocs plugin: text from configuration and commentary reaches HTML escaped.

MkDocs renders the theme with Jinja autoescaping off, and Material prints ``site_name``,
``copyright``, page, section and table-of-contents titles as they are (``copyright`` is meant
to be HTML). Client and agency names, commentary titles and front matter come from
``content/`` and must show as text wherever the theme prints them. So each of those values is
turned into ``Markup`` of its escaped text: printed raw it shows the text, and the theme's own
``| e`` leaves it alone (no double escaping). The one filter that un-escapes, ``striptags`` in
``<title>``, is overridden in ``site_templates/overrides/main.html``. And Material's
``content.tooltips`` feature turns every ``title`` attribute of the header and the content into
HTML (``innerHTML``): the name in the logo's ``title`` would run there even escaped, so the
plugin switches that feature off (the browser's own tooltip shows the same text).

Commentary pages (``commentary/`` in the docs) also get ``generator.site.commentary``'s rules:
headings escaped, HTML sanitised, the macros' fragments put back.

``build_site`` adds the plugin to the loaded configuration under ``NAME``; the macros module
finds it there (``fragments``).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.nav import Link, Section

from generator.site import commentary

__all__ = ["NAME", "ReportPlugin"]

NAME = "campaign-report"
_COMMENTARY = "commentary/"
#: Material features that render ``title`` attributes as HTML
_HTML_TOOLTIPS = {"content.tooltips"}


class ReportPlugin(BasePlugin):
    """Escapes configuration and commentary text for the theme (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.fragments = commentary.Fragments()

    def on_config(self, config):
        for key in ("site_name", "site_description", "copyright"):
            if config[key] is not None:
                config[key] = _text(config[key])
        features = config.theme.get("features") or []
        config.theme["features"] = [f for f in features if f not in _HTML_TOOLTIPS]
        return config

    def on_nav(self, nav, *, config, files):
        for item in _walk(nav.items):
            if isinstance(item, (Section, Link)):
                item.title = _text(item.title)
        return nav

    @event_priority(100)  # before the macros render the page
    def on_page_markdown(self, markdown, *, page, config, files):
        if not _is_commentary(page):
            return markdown
        page.meta = _escaped(page.meta)
        return commentary.escape_headings(markdown)

    @event_priority(-100)  # after every other plugin changed the page
    def on_page_content(self, html, *, page, config, files):
        if _is_commentary(page):
            html = self.fragments.restore(commentary.sanitize(html))
            page.title = _commentary_title(page, html)
        else:
            page.title = _text(page.title)
        for item in _walk(page.toc.items):
            item.title = _text(Markup(item.title).striptags())
        return html


def _is_commentary(page) -> bool:
    return page.file.src_uri.startswith(_COMMENTARY)


def _text(value: Any) -> Markup | None:
    """Plain text as Markup of its escaped self; what is Markup already stays."""
    return None if value is None else escape(value)


def _escaped(value: Any) -> Any:
    """Every string in front matter (nested in lists and mappings too) escaped."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


def _commentary_title(page, html: str) -> Markup:
    """Front matter's title, else the page's first heading, else its file name (the macros
    may have rendered a title from the unescaped source: it is worked out again here)."""
    if page.meta.get("title"):
        return _text(page.meta["title"])
    heading = commentary.first_heading(html)
    if heading:
        return _text(heading)
    name = page.file.name.replace("-", " ").replace("_", " ")
    return _text(name.capitalize() if name.lower() == name else name)


def _walk(items):
    for item in items:
        yield item
        yield from _walk(getattr(item, "children", None) or [])
