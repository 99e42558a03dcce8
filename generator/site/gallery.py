"""The creative gallery: one card per ad, whatever its format, in one uniform grid.

Every card has a media frame of one fixed aspect in which the creative is letterboxed, never
cropped: a picture, a video's poster with a play badge and its length, a carousel as a
horizontally scrolling strip, a text ad laid out like a search result, or the copy of a
message in a neutral box. Below the frame: the copy, badges, tags and how the ad performed.

Above the grid, toggle chips for the tags present and a search box; ``assets/gallery.js``
filters the cards in the page (without JavaScript every card shows and the bar stays hidden).

Everything from the data is untrusted: text is HTML-escaped with braces and line breaks as
entities (so no template engine or Markdown reads it later), links are kept only when they are
http(s), and an asset is addressed only by a well-formed sha256.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from markupsafe import Markup

from generator.charts import PLATFORM_LABELS
from generator.site import formatting
from generator.site.escape import safe_url

__all__ = ["creative_gallery", "history_id"]

_SHA = re.compile(r"^[0-9a-f]{64}$")
_KINDS = ("image", "video", "carousel", "text", "message", "product", "other")
_PLATFORMS = PLATFORM_LABELS
#: filter groups shown first, in this order; other ``prefix:`` groups follow, plain tags last
_GROUPS = {
    "format": "Format",
    "platform": "Platform",
    "aspect": "Aspect",
    "orientation": "Orientation",
}
#: the other automatic groups' titles (creative_tags' prefixes)
_TITLES = {
    "cta": "Call to action",
    "colour": "Colour",
    "copy": "Copy length",
    "video": "Video length",
    "size": "Pixel size",
    "language": "Language",
}
_PLAIN = "tags"
_TEXT = (
    "ad_id", "ad_name", "platform", "format", "headline", "body", "display_url", "landing_url",
    "call_to_action", "asset_note", "verdict", "fatigue_note",
)  # fmt: skip
_VERDICTS = {"winner": "good", "loser": "bad"}
_NOFOLLOW = 'rel="nofollow noopener noreferrer"'
#: markupsafe's five characters, plus braces and line breaks: text stays on one line and inert
#: to a template engine that reads the page later (one table: 2,000 cards have ~40,000 texts)
_ENTITIES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&#34;",
        "'": "&#39;",
        "{": "&#123;",
        "}": "&#125;",
        "\n": "&#10;",
        "\r": "",
    }
)
_SPECIAL = re.compile("[&<>\"'{}\n\r]")


def creative_gallery(
    ads: pd.DataFrame,
    *,
    currency: str = "USD",
    limit: int | None = 24,
    root: str = "",
    filters: bool = True,
    gallery_id: str = "gallery",
) -> Markup:
    """Cards of the ads' creatives, one per row of ``ads`` in its order.

    Args:
        ads: one row per ad. Every column is optional and may be null: ``ad_id``,
            ``ad_name``, ``platform``, ``format`` (image, video, carousel, text, message,
            product, other), ``headline``, ``body``, ``display_url``, ``landing_url``,
            ``call_to_action``, ``asset_sha256``, ``width``, ``height``, ``duration_ms``,
            ``cards`` (dicts with ``headline``, ``asset_sha256``, ``landing_url``),
            ``asset_note`` (why there is no image), ``tags``, ``tag_labels`` (tag -> label),
            ``spend``, ``impressions``, ``clicks``, ``ctr``, ``conversions``, ``cpa``,
            ``versions``, ``fatigued``, ``fatigue_note``, ``verdict``, ``image_group_size``.
        currency: the currency of ``spend`` and ``cpa``.
        limit: cards shown before a "Show all" button (``None`` or 0: all); every card is in
            the page, so filters and search reach all of them, and without JavaScript all show.
        root: the way back to the site root from the page ("" or "../").
        filters: whether to add the filter bar (shown only when the cards carry tags).
        gallery_id: the gallery's element id, unique on the page.

    Returns:
        The gallery as one line of HTML.
    """
    gid = re.sub(r"[^a-z0-9_-]", "-", str(gallery_id).lower()) or "gallery"
    records = [] if ads is None else ads.to_dict("records")
    if not records:
        return Markup('<p class="cg-empty">No creatives to show.</p>')
    limit = limit if limit and limit > 0 and len(records) > limit else 0
    names = _labels(records)
    cards, counts, labels = [], Counter(), {}
    for index, row in enumerate(records):
        record = _read(row)
        tags = _tags(record, names)
        counts.update(token for token, _ in tags)
        labels.update(tags)
        cards.append(_card(record, tags, currency, root, over=bool(limit) and index >= limit))
    bar = _filter_bar(gid, counts, labels, len(records)) if filters and counts else ""
    more = (
        f'<button type="button" class="cg-more" aria-controls="{gid}-grid" hidden>'
        f"Show all {len(records)}</button>"
        if limit
        else ""
    )
    return Markup(
        f'<div class="cg" id="{gid}" data-limit="{limit}">{bar}'
        f'<div class="cg-grid" id="{gid}-grid">{"".join(cards)}</div>'
        f'<p class="cg-none" hidden>No creative matches these filters.</p>{more}</div>'
    )


def history_id(ad_id: Any) -> str:
    """The element id of an ad's version history, which a card's "N versions" links to."""
    return "history-" + re.sub(r"[^A-Za-z0-9_-]", "-", str(ad_id))


# -- reading a row: any column may be missing, null or NaN ----------------------------------


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _read(row: dict) -> dict:
    """The row with its text columns as stripped strings ("" when missing)."""
    return {**row, **{key: _str(row, key) for key in _TEXT}}


def _str(record: Mapping, key: str) -> str:
    value = record.get(key)
    return "" if _missing(value) else str(value).strip()


def _int(record: Mapping, key: str) -> int | None:
    value = record.get(key)
    if _missing(value) or isinstance(value, str | bytes):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _num(record: Mapping, key: str) -> float | None:
    value = record.get(key)
    if _missing(value) or isinstance(value, str | bytes):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _flag(record: Mapping, key: str) -> bool:
    value = record.get(key)
    if _missing(value):
        return False
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value)


def _items(value: Any) -> list:
    """A list from a list, tuple or numpy array (what pandas gives for list cells)."""
    if isinstance(value, str | bytes | Mapping) or _missing(value):
        return []
    try:
        return list(value)
    except TypeError:
        return []


def _sha(value: Any) -> str | None:
    return value if isinstance(value, str) and _SHA.match(value) else None


def _esc(value: Any) -> str:
    """HTML-escaped text with braces and line breaks as entities."""
    text = value if type(value) is str else str(value)
    return text.translate(_ENTITIES) if _SPECIAL.search(text) else text


def _kind(record: Mapping) -> str:
    """The format the card is drawn as (an unknown format draws as ``other``)."""
    fmt = record["format"].lower()
    if fmt in _KINDS:
        return fmt
    if not fmt and _items(record.get("cards")):
        return "carousel"
    if not fmt and _sha(record.get("asset_sha256")):
        return "image"
    return "other"


# -- tags ------------------------------------------------------------------------------------


def _tags(record: Mapping, names: Mapping[str, str]) -> list[tuple[str, str]]:
    """(token, label) for the ad's tags, its format and platform included; a token is the tag
    with whitespace as ``_`` so that ``data-tags`` can be split on spaces."""
    raw = record.get("tags")
    tags = [raw] if isinstance(raw, str) else [str(t) for t in _items(raw) if not _missing(t)]
    fmt, platform = record["format"].lower(), record["platform"]
    implicit = []
    given = {t.split(":", 1)[0] for t in tags if ":" in t}  # the analysis's own win
    if fmt and "format" not in given:
        implicit.append((f"format:{fmt}", fmt.capitalize()))
    if platform and "platform" not in given:
        implicit.append((f"platform:{platform}", _PLATFORMS.get(platform, platform)))
    found: dict[str, str] = {}
    for tag, default in [*implicit, *((t, t) for t in tags)]:
        token = re.sub(r"\s+", "_", tag.strip())
        if token and token not in found:
            found[token] = names.get(tag.strip()) or default
    return list(found.items())


def _labels(records: list[dict]) -> dict[str, str]:
    """Every row's ``tag_labels`` merged: a label given on one row names the tag on all."""
    names: dict[str, str] = {}
    seen: set[int] = set()
    for record in records:
        value = record.get("tag_labels")
        if id(value) in seen:  # usually one dict shared by every row
            continue
        seen.add(id(value))
        if isinstance(value, Mapping):
            pairs: Iterable = value.items()
        else:  # a Parquet map comes back as a list of (key, value) pairs
            pairs = (p for p in _items(value) if isinstance(p, tuple | list) and len(p) == 2)
        names.update((str(k).strip(), str(v)) for k, v in pairs if not _missing(v) and str(v))
    return names


def _group(token: str) -> str:
    prefix, colon, _ = token.partition(":")
    return prefix if colon and prefix else _PLAIN


def _group_order(group: str) -> tuple[int, str]:
    known = list(_GROUPS)
    if group in known:
        return (known.index(group), "")
    return (len(known) + (group == _PLAIN), group)


def _filter_bar(gid: str, counts: Counter, labels: dict[str, str], total: int) -> str:
    groups: dict[str, list[str]] = {}
    for token in counts:
        groups.setdefault(_group(token), []).append(token)
    rows = []
    for group in sorted(groups, key=_group_order):
        title = (
            _GROUPS.get(group)
            or _TITLES.get(group)
            or ("Tags" if group == _PLAIN else group.replace("_", " "))
        )
        title = title[:1].upper() + title[1:]
        chips = "".join(
            f'<button type="button" class="cg-toggle" data-group="{_esc(group)}" '
            f'data-tag="{_esc(token)}" aria-pressed="false">{_esc(_chip_label(token, labels))}'
            f' <span class="cg-n">{counts[token]}</span></button>'
            for token in sorted(groups[group], key=lambda t: (-counts[t], labels[t].lower()))
        )
        rows.append(
            f'<div class="cg-group" role="group" aria-label="{_esc(title)}">'
            f'<span class="cg-group-label">{_esc(title)}</span>{chips}</div>'
        )
    return (
        f'<div class="cg-filters" hidden><div class="cg-search">'
        f'<label for="{gid}-q">Search creatives</label>'
        f'<input type="search" id="{gid}-q" class="cg-q" autocomplete="off" '
        f'placeholder="Headline, copy, URL"></div>{"".join(rows)}'
        f'<div class="cg-status"><span class="cg-count" aria-live="polite">{total} '
        f"creative{'s' if total != 1 else ''}</span>"
        '<button type="button" class="cg-reset">Reset filters</button></div></div>'
    )


def _chip_label(token: str, labels: dict[str, str]) -> str:
    """In the bar a chip sits under its group's title, so ``aspect:9:16`` reads ``9:16``."""
    label = labels[token]
    group = _group(token)
    if group != _PLAIN and label == token:
        return token.partition(":")[2]
    return label


# -- a card ----------------------------------------------------------------------------------


def _card(
    record: Mapping, tags: list[tuple[str, str]], currency: str, root: str, *, over: bool
) -> str:
    kind = _kind(record)
    frame, copy_in_frame = _frame(record, kind, root)
    words = [record[k] for k in ("headline", "body", "ad_name", "display_url")]
    words += [record[k] for k in ("call_to_action", "platform", "format")]
    words += [_str(c, "headline") for c in _items(record.get("cards")) if isinstance(c, Mapping)]
    text = " ".join(" ".join(w for w in words if w).lower().split())
    return (
        f'<figure class="cg-card cg-{kind}{" cg-over" if over else ""}" '
        f'data-tags="{_esc(" ".join(t for t, _ in tags))}" data-text="{_esc(text)}">'
        f"{frame}<figcaption>{_caption(record, kind, tags, copy_in_frame)}"
        f"{_stats(record, currency)}</figcaption></figure>"
    )


def _frame(record: Mapping, kind: str, root: str) -> tuple[str, bool]:
    """The media frame's HTML, and whether it already shows the copy."""
    note = record["asset_note"]
    sha = _sha(record.get("asset_sha256"))
    slides = [c for c in _items(record.get("cards")) if isinstance(c, Mapping)]
    if kind == "text":
        return _frame_html("text", _search_result(record)), True
    if kind == "carousel" and slides and not note:
        return _frame_html("carousel", _strip(record, slides, root)), False
    if kind == "video":
        return _frame_html("video", _picture(record, sha, note, root) + _video_marks(record)), False
    if note or sha or kind in ("image", "carousel"):
        return _frame_html("image", _picture(record, sha, note, root)), False
    return _frame_html("copy", _copy_box(record)), True


def _frame_html(kind: str, inner: str) -> str:
    return f'<div class="cg-frame cg-frame-{kind}">{inner}</div>'


def _alt(record: Mapping) -> str:
    return record["headline"] or record["ad_name"] or "Ad creative"


def _picture(record: Mapping, sha: str | None, note: str, root: str) -> str:
    if note or not sha:
        return f'<div class="cg-placeholder">{_esc(note or "Image unavailable")}</div>'
    return _img(sha, _alt(record), root, _int(record, "width"), _int(record, "height"))


def _img(sha: str, alt: str, root: str, width: int | None, height: int | None) -> str:
    size = (
        f' width="{width}" height="{height}"'
        if width and height and width > 0 and height > 0
        else ""
    )
    return (
        f'<img src="{_esc(root)}assets/creatives/{sha}.webp" alt="{_esc(alt)}"{size} '
        'loading="lazy" decoding="async">'
    )


def _video_marks(record: Mapping) -> str:
    marks = '<span class="cg-play" aria-hidden="true"></span>'
    ms = _int(record, "duration_ms")
    if ms is not None and ms >= 0:
        seconds = round(ms / 1000)
        hours, rest = divmod(seconds, 3600)
        clock = (
            f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
            if hours
            else f"{rest // 60}:{rest % 60:02d}"
        )
        marks += f'<span class="cg-duration" title="Video length">{clock}</span>'
    return marks


def _strip(record: Mapping, slides: list[Mapping], root: str) -> str:
    """A carousel's cards in order, scrolled sideways (CSS scroll-snap, no JavaScript)."""
    total = len(slides)
    items = []
    for number, slide in enumerate(slides, 1):
        headline = _str(slide, "headline")
        sha = _sha(slide.get("asset_sha256"))
        alt = headline or f"{_alt(record)}, card {number}"
        media = (
            _img(sha, alt, root, _int(slide, "width"), _int(slide, "height"))
            if sha
            else '<div class="cg-placeholder">Image unavailable</div>'
        )
        title = _link(headline, _str(slide, "landing_url")) if headline else ""
        items.append(
            f'<li class="cg-slide"><div class="cg-slide-media">{media}</div>'
            f'<span class="cg-slide-caption"><span class="cg-counter">{number}/{total}</span>'
            f" {title}</span></li>"
        )
    return (
        f'<ol class="cg-strip" tabindex="0" aria-label="Carousel of {total} cards">'
        f"{''.join(items)}</ol>"
    )


def _search_result(record: Mapping) -> str:
    """A text ad as a search engine shows it: label, URL, blue headline, description."""
    landing = safe_url(record["landing_url"])
    shown = record["display_url"] or (urlsplit(landing).hostname or "" if landing else "")
    headline = record["headline"] or record["ad_name"]
    return (
        f'<div class="cg-serp"><span class="cg-serp-top"><span class="cg-sponsored">Sponsored'
        f'</span> <span class="cg-serp-url">{_esc(shown)}</span></span>'
        f'<span class="cg-serp-title">{_link(headline, landing)}</span>'
        f'<span class="cg-serp-desc">{_esc(record["body"])}</span></div>'
    )


def _copy_box(record: Mapping) -> str:
    cta = record["call_to_action"]
    return (
        f'<div class="cg-copy"><strong>{_esc(record["headline"])}</strong>'
        f'<span class="cg-copy-body">{_esc(record["body"])}</span>'
        + (f'<span class="cg-cta">{_esc(cta)}</span>' if cta else "")
        + "</div>"
    )


def _link(text: str, url: str | None) -> str:
    url = safe_url(url)
    if not url:
        return _esc(text)
    return f'<a href="{_esc(url)}" {_NOFOLLOW}>{_esc(text)}</a>'


# -- below the frame -------------------------------------------------------------------------


def _caption(record: Mapping, kind: str, tags: list[tuple[str, str]], copy_in_frame: bool) -> str:
    headline, name = record["headline"], record["ad_name"]
    parts = []
    if not copy_in_frame:
        if headline:
            parts.append(
                f'<strong class="cg-headline">{_link(headline, record["landing_url"])}</strong>'
            )
        if record["body"]:
            parts.append(f'<span class="cg-body">{_esc(record["body"])}</span>')
    if name and (name != headline or copy_in_frame):
        parts.append(f'<span class="cg-name">{_esc(name)}</span>')
    parts.append(_badges(record, kind))
    chips = "".join(
        f'<span class="cg-chip">{_esc(label)}</span>'
        for token, label in tags
        if _group(token) not in ("format", "platform")  # the badges say these
    )
    if chips:
        parts.append(f'<span class="cg-chips">{chips}</span>')
    parts.append(_notes(record))
    return "".join(parts)


def _badges(record: Mapping, kind: str) -> str:
    platform = record["platform"]
    fmt = record["format"] or (kind if kind != "other" else "")
    badges = []
    if platform:
        badges.append(f'<span class="cg-badge">{_esc(_PLATFORMS.get(platform, platform))}</span>')
    if fmt:
        badges.append(f'<span class="cg-badge cg-badge-format">{_esc(fmt.capitalize())}</span>')
    verdict = record["verdict"]
    if verdict:
        # "winner on CTR": the analysis says on which metric
        tone = _VERDICTS.get(verdict.lower().split(" on ")[0], "neutral")
        badges.append(
            f'<span class="cg-badge cg-verdict cg-{tone}" title="A/B test verdict">'
            f"{_esc(verdict[:1].upper() + verdict[1:])}</span>"
        )
    if _flag(record, "fatigued"):
        note = record["fatigue_note"] or "Performance is wearing off"
        badges.append(f'<span class="cg-badge cg-fatigue" title="{_esc(note)}">Fatigue</span>')
    return f'<span class="cg-badges">{"".join(badges)}</span>'


def _notes(record: Mapping) -> str:
    notes = []
    shared = _int(record, "image_group_size")
    if shared and shared > 1:
        notes.append(f"<span>image used in {shared} ads</span>")
    versions = _int(record, "versions")
    ad_id = record["ad_id"]
    if versions and versions > 1:
        label = f"{versions} versions"
        notes.append(f'<a href="#{history_id(ad_id)}">{label}</a>' if ad_id else label)
    return f'<span class="cg-notes">{" · ".join(notes)}</span>' if notes else ""


def _stats(record: Mapping, currency: str) -> str:
    clicks, shown = _num(record, "clicks"), _num(record, "impressions")
    volume = (
        f' title="{formatting.number(clicks)} clicks of {formatting.number(shown)} impressions"'
        if clicks is not None or shown is not None
        else ""
    )
    cells = (
        ("CTR", formatting.percent(_num(record, "ctr")), volume),
        ("Conv.", formatting.number(_num(record, "conversions"), 0), ""),
        ("CPA", formatting.money(_num(record, "cpa"), currency), ""),
        ("Spend", formatting.money(_num(record, "spend"), currency), ""),
    )
    return (
        '<dl class="cg-stats">'
        + "".join(f"<div{title}><dt>{k}</dt><dd>{_esc(v)}</dd></div>" for k, v, title in cells)
        + "</dl>"
    )
