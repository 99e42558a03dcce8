"""The industry taxonomy of benchmarks, and which platforms a published figure covers.

A client names its industry with one of our ids (``local/dental``, ``ecommerce/apparel``,
``b2b/saas``); every id has an explicit parent, so its *chain* leads to the root ``all``::

    local/dental -> health -> all          ecommerce/furniture -> ecommerce/home -> ecommerce -> all

A benchmark walks the chain from the most specific id and uses the first level that has a
figure. Each id also lists the labels every source publishes for it (WordStream's "Dentists &
Dental Services", Mailchimp's "Legal", ...), so a seed row keeps the source's own wording
beside our id. The taxonomy ships as ``benchmark_data/industries.yml`` (read once, validated:
one root ``all``, every parent known, no cycles, a source label in one id only).

A seed row's ``platform`` is one of our platform ids or a group that a source blends:
``search`` (Google Ads + Microsoft Advertising, as WordStream/LocaliQ report it), ``meta``
(Facebook + Instagram) and ``email`` (an email channel, which is no ad platform).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from generator.errors import ConfigError
from generator.schema import PLATFORMS

__all__ = [
    "PLATFORM_GROUPS",
    "ROOT",
    "SEED_PLATFORMS",
    "Industry",
    "Taxonomy",
    "UnknownIndustry",
    "covers",
    "taxonomy",
]

#: the root of every chain
ROOT = "all"
#: seed platforms that stand for several of ours
PLATFORM_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "search": ("google_ads", "microsoft_ads"),
        "meta": ("facebook", "instagram"),
        "email": ("email",),
    }
)
#: every value a seed row's ``platform`` may take
SEED_PLATFORMS: tuple[str, ...] = (*PLATFORMS, *PLATFORM_GROUPS)

_FILE = "benchmark_data/industries.yml"
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*$")


def covers(seed_platform: str, platform: str) -> bool:
    """Whether a figure published for ``seed_platform`` applies to ``platform``.

    A platform covers itself; a group covers its members (``covers("search", "google_ads")``).
    """
    return seed_platform == platform or platform in PLATFORM_GROUPS.get(seed_platform, ())


class UnknownIndustry(ConfigError):
    """An industry id that the taxonomy does not know; names the closest known ids."""

    def __init__(self, industry: str, suggestions: tuple[str, ...]) -> None:
        self.industry = industry
        self.suggestions = suggestions
        hint = (
            f"did you mean {' or '.join(repr(s) for s in suggestions)}?"
            if suggestions
            else "see generator/analytics/benchmark_data/industries.yml for the known ids"
        )
        super().__init__(f"unknown industry {industry!r}; {hint}")
        self.field, self.value = "industry", industry


@dataclass(frozen=True)
class Industry:
    """One id of the taxonomy: its display name, parent (None for the root) and the labels
    each source publishes for it (source_id -> labels)."""

    id: str
    name: str
    parent: str | None
    labels: Mapping[str, tuple[str, ...]]


class Taxonomy:
    """A validated tree of industries (build it with ``taxonomy()``)."""

    def __init__(self, industries: Mapping[str, Industry]) -> None:
        self._industries = MappingProxyType(dict(industries))
        self._chains = {key: _walk(self._industries, key) for key in self._industries}
        self._by_label = _label_index(self._industries)

    def chain(self, industry: str) -> tuple[str, ...]:
        """``(industry, parent, ..., "all")``, most specific first.

        Raises:
            UnknownIndustry: an id that is not in the taxonomy (naming close matches).
        """
        try:
            return self._chains[industry]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(industry), list(self._industries), n=3)
            raise UnknownIndustry(str(industry), tuple(close)) from None

    def industry(self, industry: str) -> Industry:
        """The ``Industry`` of an id. Raises ``UnknownIndustry`` like ``chain``."""
        return self._industries[self.chain(industry)[0]]

    def name(self, industry: str) -> str:
        """The display name of an id (``"Dentists & dental services"``)."""
        return self.industry(industry).name

    def ids(self) -> tuple[str, ...]:
        """Every id, in the file's order (the root first)."""
        return tuple(self._industries)

    def by_label(self, source_id: str, label: str) -> str | None:
        """Our id for a label a source publishes (case and spacing ignored), or None."""
        return self._by_label.get((source_id, _fold(label)))


@functools.cache
def taxonomy() -> Taxonomy:
    """The packaged taxonomy, read and validated once.

    Raises:
        ConfigError: the packaged file is broken (a programming error, named precisely).
    """
    text = resources.files("generator.analytics").joinpath(_FILE).read_text(encoding="utf-8")
    return parse_taxonomy(yaml.safe_load(text), file=_FILE)


def parse_taxonomy(data: Any, *, file: str = "industries.yml") -> Taxonomy:
    """Build a ``Taxonomy`` from the YAML structure ``{industries: [{id, name, parent,
    labels}]}``.

    Raises:
        ConfigError: a malformed entry, a duplicate id, an unknown parent, a cycle, a root
            other than ``all``, or a (source, label) pair given to two ids.
    """
    entries = data.get("industries") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError("expected 'industries:' with a list of entries", file=file)
    industries: dict[str, Industry] = {}
    for index, entry in enumerate(entries):
        item = _entry(entry, f"industries[{index}]", file)
        if item.id in industries:
            raise ConfigError("is listed twice", file=file, field=f"industries[{index}].id")
        industries[item.id] = item
    roots = [i.id for i in industries.values() if i.parent is None]
    if roots != [ROOT]:
        raise ConfigError(f"the one root must be {ROOT!r}, found {roots}", file=file)
    for item in industries.values():
        if item.parent is not None and item.parent not in industries:
            raise ConfigError(
                f"parent {item.parent!r} of {item.id!r} is not an industry", file=file
            )
    for key in industries:
        _walk(industries, key, file=file)
    _label_index(industries, file=file)
    return Taxonomy(industries)


def _entry(entry: Any, where: str, file: str) -> Industry:
    if not isinstance(entry, dict) or set(entry) - {"id", "name", "parent", "labels"}:
        raise ConfigError("needs id, name, parent and labels only", file=file, field=where)
    key, name, parent = entry.get("id"), entry.get("name"), entry.get("parent")
    if not isinstance(key, str) or not _ID.match(key):
        raise ConfigError(
            "an id is lower-case words joined by '-' and '/'",
            file=file,
            field=f"{where}.id",
            value=str(key),
        )
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("needs a name", file=file, field=f"{where}.name")
    if (parent is None) != (key == ROOT) or (parent is not None and not isinstance(parent, str)):
        raise ConfigError(
            f"every id but {ROOT!r} needs a parent", file=file, field=f"{where}.parent"
        )
    labels = entry.get("labels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(s, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
        for s, v in labels.items()
    ):
        raise ConfigError(
            "labels map a source_id to a list of names", file=file, field=f"{where}.labels"
        )
    frozen = MappingProxyType({s: tuple(v) for s, v in labels.items()})
    return Industry(id=key, name=name.strip(), parent=parent, labels=frozen)


def _walk(industries: Mapping[str, Industry], key: str, *, file: str = "") -> tuple[str, ...]:
    chain = [key]
    while (parent := industries[chain[-1]].parent) is not None:
        if parent in chain:
            raise ConfigError(f"the parents of {key!r} form a cycle: {chain}", file=file)
        chain.append(parent)
    return tuple(chain)


def _label_index(industries: Mapping[str, Industry], *, file: str = "") -> dict:
    index: dict[tuple[str, str], str] = {}
    for item in industries.values():
        for source, labels in item.labels.items():
            for label in labels:
                other = index.setdefault((source, _fold(label)), item.id)
                if other != item.id:
                    raise ConfigError(
                        f"{source} label {label!r} is given to both {other!r} and {item.id!r}",
                        file=file,
                    )
    return index


def _fold(label: str) -> str:
    return " ".join(label.casefold().split())
