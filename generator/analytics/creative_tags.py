"""Tags for each ad's creative: what its metadata says, and the client's own rules.

Automatic tags are ``prefix:value`` and come only where the data gives them:

- ``format:<format>``, ``platform:<platform>``, ``language:<language>``, ``cta:<call to action>``
  (values lowercased);
- ``orientation:landscape|portrait|square`` (square: the long side within 5% of the short one),
  ``aspect:<class>`` (the nearest of ``ASPECT_CLASSES`` when within ``ASPECT_TOLERANCE`` in
  log ratio, else ``aspect:other``) and ``size:<width>x<height>``;
- ``copy:short|medium|long`` (headline and body together up to 60, up to 150, more characters);
- ``video:<=15s|15-30s|>30s`` from ``duration_ms``;
- ``colour:<name>``: the first dominant colour named as one of ``COLOUR_NAMES``.

The client's tags (client.yml ``creatives.tags``, parsed by ``generator.tag_rules``) are their
bare names, which never hold a ``:``.
"""

from __future__ import annotations

import colorsys
import math
import re
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from generator.analytics._columns import require
from generator.errors import ReportError
from generator.tag_rules import TagRule, field_values

__all__ = [
    "ASPECT_CLASSES",
    "ASPECT_TOLERANCE",
    "COLOUR_NAMES",
    "colour_name",
    "tag",
    "tag_labels",
]

#: aspect class -> width / height
ASPECT_CLASSES = {
    "1.91:1": 1.91,
    "16:9": 16 / 9,
    "4:3": 4 / 3,
    "1:1": 1.0,
    "4:5": 4 / 5,
    "2:3": 2 / 3,
    "9:16": 9 / 16,
}
#: how far (|ln(ratio / class)|) a creative's ratio may be from its nearest class
ASPECT_TOLERANCE = 0.08
#: the long side may exceed the short one by this fraction for a square
SQUARE_TOLERANCE = 0.05
COLOUR_NAMES = (
    "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown", "black",
    "white", "grey",
)  # fmt: skip
#: upper bounds of copy lengths (characters) and of video lengths (seconds), with their tags
COPY_LENGTHS = ((60, "copy:short"), (150, "copy:medium"), (math.inf, "copy:long"))
VIDEO_LENGTHS = ((15, "video:<=15s"), (30, "video:15-30s"), (math.inf, "video:>30s"))

#: hue (degrees) where each chromatic name ends, in order (red wraps around 360)
_HUES = ((15, "red"), (45, "orange"), (70, "yellow"), (160, "green"), (200, "teal"),
         (260, "blue"), (320, "purple"), (345, "pink"), (360, "red"))  # fmt: skip
_HEX = re.compile(r"#([0-9a-fA-F]{6})")
_TAG_NAME = re.compile(r"[a-z0-9_-]{1,40}")
_LABELS: dict[str, Callable[[str], str]] = {
    "format": lambda v: _words(v),
    "platform": lambda v: _words(v),
    "orientation": lambda v: v.capitalize(),
    "aspect": lambda v: "Other aspect" if v == "other" else v,
    "size": lambda v: v,
    "cta": lambda v: f"CTA: {_words(v)}",
    "language": lambda v: f"Language: {v.upper()}",
    "copy": lambda v: f"{v.capitalize()} copy",
    "video": lambda v: "Video " + v.replace("<=", "≤ ").replace(">", "> ").replace("-", "–"),
    "colour": lambda v: f"Mostly {v}",
}


def tag(ads: pd.DataFrame, rules: Mapping[str, TagRule] | None = None) -> pd.DataFrame:
    """``ads`` with its tags: a new frame, the input is not changed.

    Args:
        ads: one row per ad with any of the creatives' columns (``format``, ``platform``,
            ``width``, ``height``, ``call_to_action``, ``language``, ``headline``, ``body``,
            ``duration_ms``, ``colours``, and whatever the rules read); a missing column
            counts as missing values.
        rules: the client's tags, name -> parsed rule.

    Returns:
        ``ads`` with ``tags`` (a sorted list of strings per ad: the automatic tags of the
        module docstring and the names of the rules the ad matches) and a bool column
        ``tag_<name>`` per rule.

    Raises:
        ReportError: ``ads`` is not a DataFrame, or a rule's name is not a tag name
            (1-40 of a-z, 0-9, ``_``, ``-``) or its rule not a ``TagRule``.
    """
    require(ads, (), "ads")
    rules = dict(rules or {})
    for name, rule in rules.items():
        if not isinstance(name, str) or not _TAG_NAME.fullmatch(name):
            raise ReportError(f"tag name {name!r} must be 1-40 of a-z, 0-9, '_' and '-'")
        if not isinstance(rule, TagRule):
            raise ReportError(f"tag {name!r} needs a rule from tag_rules.parse, not {rule!r}")
    automatic = _automatic(ads)
    matched = {f"tag_{name}": rule.evaluate(ads).to_numpy() for name, rule in rules.items()}
    names = [np.where(matched[f"tag_{name}"], name, None) for name in rules]
    rows = zip(*automatic, *names, strict=True)
    tags = [sorted(t for t in row if t is not None) for row in rows]
    return ads.assign(tags=pd.Series(tags, index=ads.index, dtype=object), **matched)


def tag_labels(tag: str, *, platform_label: Callable[[str], str] | None = None) -> str:
    """How a page names a tag: "format:video" -> "Video", "aspect:9:16" -> "9:16",
    "copy:long" -> "Long copy", a client's tag -> its name.

    Args:
        tag: a tag of ``tag``'s ``tags`` column.
        platform_label: how the report names a platform (default: its id as words).
    """
    prefix, _, value = tag.partition(":")
    if not value:
        return tag
    if prefix == "platform" and platform_label is not None:
        return platform_label(value)
    label = _LABELS.get(prefix)
    return label(value) if label else tag


def colour_name(hex_colour: str) -> str | None:
    """The basic name (one of ``COLOUR_NAMES``) of a "#rrggbb" colour; None if not one."""
    match = _HEX.fullmatch(hex_colour) if isinstance(hex_colour, str) else None
    if match is None:
        return None
    red, green, blue = (int(match[1][i : i + 2], 16) / 255 for i in (0, 2, 4))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    brightest, chroma = max(red, green, blue), max(red, green, blue) - min(red, green, blue)
    if brightest < 0.18:
        return "black"
    if chroma < 0.12:  # no hue to speak of
        return "white" if lightness > 0.85 else "grey" if lightness > 0.2 else "black"
    degrees = hue * 360
    name = next(n for end, n in _HUES if degrees < end)
    dark_or_dull = brightest < 0.65 or (saturation < 0.5 and lightness < 0.8)  # tan is brown
    if name in ("orange", "red") and 10 <= degrees < 50 and dark_or_dull:
        return "brown"
    if name == "red" and lightness >= 0.75:
        return "pink"
    return name


# -- automatic tags -------------------------------------------------------------------------


def _automatic(ads: pd.DataFrame) -> list[np.ndarray]:
    """One array per kind of automatic tag: the tag of each ad, or None."""
    width = field_values(ads, "width").to_numpy(dtype="float64", na_value=np.nan)
    height = field_values(ads, "height").to_numpy(dtype="float64", na_value=np.nan)
    sized = (width > 0) & (height > 0)
    ratio = np.where(sized, width / np.where(sized, height, 1.0), np.nan)
    copy_length = field_values(ads, "copy_length").to_numpy(dtype="float64", na_value=np.nan)
    duration = field_values(ads, "duration").to_numpy(dtype="float64", na_value=np.nan)
    return [
        *(_valued(ads, column, prefix) for column, prefix in _VALUED),
        _orientations(width, height, ratio),
        _aspects(ratio),
        _sizes(width, height, sized),
        _banded(copy_length, COPY_LENGTHS),
        _banded(np.where(duration > 0, duration, np.nan), VIDEO_LENGTHS),
        np.array([_first_colour(c) for c in _column(ads, "colours")], dtype=object),
    ]


_VALUED = (
    ("format", "format"),
    ("platform", "platform"),
    ("call_to_action", "cta"),
    ("language", "language"),
)


def _valued(ads: pd.DataFrame, column: str, prefix: str) -> np.ndarray:
    """``prefix:value`` with the column's value stripped and lowercased, where it has one."""
    values = field_values(ads, column).str.strip().str.lower()
    tags = (prefix + ":" + values).where((values.str.len() > 0).fillna(False))
    return tags.astype(object).where(tags.notna(), None).to_numpy()


def _orientations(width: np.ndarray, height: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        long_by_short = np.maximum(width, height) / np.minimum(width, height)
    return np.select(
        [np.isnan(ratio), long_by_short <= 1 + SQUARE_TOLERANCE, ratio > 1],
        [None, "orientation:square", "orientation:landscape"],
        "orientation:portrait",
    )


def _aspects(ratio: np.ndarray) -> np.ndarray:
    classes = np.array(list(ASPECT_CLASSES))
    with np.errstate(invalid="ignore"):
        distance = np.abs(np.log(ratio)[:, None] - np.log(list(ASPECT_CLASSES.values())))
    nearest = classes[np.argmin(np.nan_to_num(distance, nan=np.inf), axis=1)]
    close = np.min(np.nan_to_num(distance, nan=np.inf), axis=1) <= ASPECT_TOLERANCE
    return np.select(
        [np.isnan(ratio), close],
        [None, np.char.add("aspect:", nearest).astype(object)],
        "aspect:other",
    )


def _sizes(width: np.ndarray, height: np.ndarray, sized: np.ndarray) -> np.ndarray:
    pairs = zip(width, height, sized, strict=True)
    return np.array([f"size:{w:.0f}x{h:.0f}" if s else None for w, h, s in pairs], dtype=object)


def _banded(values: np.ndarray, bands: tuple[tuple[float, str], ...]) -> np.ndarray:
    """The tag of the first band whose upper bound a value does not exceed; None for NaN."""
    with np.errstate(invalid="ignore"):
        conditions = [np.isnan(values), *(values <= bound for bound, _ in bands)]
    return np.select(conditions, [None, *(name for _, name in bands)], None)


def _first_colour(colours) -> str | None:
    if not isinstance(colours, list | tuple | np.ndarray) or len(colours) == 0:
        return None
    name = colour_name(colours[0])
    return None if name is None else f"colour:{name}"


def _column(ads: pd.DataFrame, column: str) -> pd.Series:
    return ads[column] if column in ads else pd.Series(None, index=ads.index, dtype=object)


def _words(value: str) -> str:
    return value.replace("_", " ").capitalize()
