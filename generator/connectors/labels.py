"""Names for report rows, degrading instead of failing when an entity is gone.

Reports of several platforms carry ids only; the names of campaigns, ad groups and ads come from
entity listings read beside them. A listing can miss an entity that still has numbers: it was
deleted or archived, or it falls outside a finder's status filter. Such metadata matters only
for labels, so it must never cost the account: the row keeps its numbers, the id stands in for
the missing name, and the entity is recorded as *unresolved* so that the sync summary and the
report's data warnings can say which names are missing.

``Directory`` holds what the listings returned (campaign > ad group > ad, each with its parent)
and ``Directory.resolve`` labels one row from whatever ids the report gave, walking up the
parents it knows. A parent that cannot be known at all (the ad is gone, and with it the link to
its ad group) gets ``UNKNOWN_ID`` so that the numbers still land in one visible place.
``Unresolved`` collects the misses per account; ``fill_names`` applies the same rule to a
normalized table whose report carried names itself but left some empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from generator.schema import UNKNOWN_ID

__all__ = [
    "LEVELS",
    "UNKNOWN_ID",
    "Directory",
    "Entity",
    "Unresolved",
    "fill_names",
]

#: the canonical hierarchy, top down; ``{level}_id`` and ``{level}_name`` are its columns
LEVELS = ("campaign", "ad_group", "ad")
#: how many unresolved ids an account keeps per level (a broken listing must not flood state)
MAX_KEPT = 200

_NOUNS = {"campaign": "campaign", "ad_group": "ad group", "ad": "ad"}


@dataclass(frozen=True)
class Entity:
    """One campaign, ad group or ad as a listing returned it."""

    id: str
    name: str | None = None
    parent: str | None = None  # the id of the entity one level up


@dataclass
class Unresolved:
    """Entities of one account that had numbers but no listing entry, by level."""

    ids: dict[str, set[str]] = field(default_factory=dict)

    def add(self, level: str, entity_id: str) -> None:
        kept = self.ids.setdefault(level, set())
        if len(kept) < MAX_KEPT:
            kept.add(entity_id)

    def update(self, other: Mapping[str, Iterable[str]]) -> None:
        for level, ids in other.items():
            for entity_id in ids:
                self.add(level, entity_id)

    def __bool__(self) -> bool:
        return any(self.ids.values())

    def as_dict(self) -> dict[str, list[str]]:
        """Sorted ids per level, top level first (for state files and messages)."""
        return {level: sorted(self.ids[level]) for level in LEVELS if self.ids.get(level)}

    def describe(self, platform: str) -> list[str]:
        """One line per level: what is unresolved and that its numbers are kept."""
        lines = []
        for level, ids in self.as_dict().items():
            shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
            noun = _NOUNS[level] + ("s" if len(ids) > 1 else "")
            lines.append(
                f"{platform}: {len(ids)} {noun} without a name from the API ({shown}); "
                "their numbers are kept under their ids"
            )
        return lines


class Directory:
    """An account's campaigns, ad groups and ads by id, as its listings returned them."""

    def __init__(
        self,
        campaigns: Iterable[Entity] = (),
        ad_groups: Iterable[Entity] = (),
        ads: Iterable[Entity] = (),
    ) -> None:
        self.entities: dict[str, dict[str, Entity]] = {
            "campaign": {e.id: e for e in campaigns},
            "ad_group": {e.id: e for e in ad_groups},
            "ad": {e.id: e for e in ads},
        }

    def knows(self, level: str, entity_id: Any) -> bool:
        return str(entity_id) in self.entities[level]

    def resolve(self, unresolved: Unresolved | None = None, **ids: Any) -> dict[str, str | None]:
        """``{level}_id`` and ``{level}_name`` for every level, from the ids a row carries.

        Keyword arguments are ``campaign``, ``ad_group`` and ``ad`` (any may be missing or
        None). Walking up from the lowest id given, each parent id comes from the row or else
        from the child's listing entry; an entity the listings do not hold keeps its id as its
        name and is added to ``unresolved``; a parent nobody names is ``UNKNOWN_ID``.
        """
        given = {level: _text(ids.get(level)) for level in LEVELS}
        lowest = max((i for i, level in enumerate(LEVELS) if given[level]), default=-1)
        out: dict[str, str | None] = {}
        child: Entity | None = None
        for index in range(len(LEVELS) - 1, -1, -1):
            level = LEVELS[index]
            if index > lowest:  # below what the row reports (a campaign-level row)
                out[f"{level}_id"] = out[f"{level}_name"] = None
                continue
            entity_id = given[level] or (_text(child.parent) if child else None)
            entity = self.entities[level].get(entity_id) if entity_id else None
            if entity is None:
                if entity_id is None:
                    entity_id = UNKNOWN_ID
                    name = f"Unknown {_NOUNS[level]}"
                else:
                    name = entity_id
                if unresolved is not None:
                    unresolved.add(level, entity_id)
            else:
                name = entity.name if entity.name not in (None, "") else entity_id
            out[f"{level}_id"], out[f"{level}_name"] = entity_id, name
            child = entity
        return out


def fill_names(
    table: pa.Table, unresolved: Unresolved | None = None, levels: Iterable[str] = LEVELS[:2]
) -> pa.Table:
    """``table`` with each empty ``{level}_name`` replaced by its ``{level}_id``.

    For reports that carry names themselves (a deleted campaign may come back unnamed). Only
    ``levels`` are checked: by default campaigns and ad groups, which every platform names;
    many ads are legitimately nameless (responsive search ads). Ids so used are recorded.
    """
    for level in levels:
        id_col, name_col = f"{level}_id", f"{level}_name"
        if id_col not in table.column_names or name_col not in table.column_names:
            continue
        names, ids = table[name_col], table[id_col]
        empty = pc.and_(pc.fill_null(pc.equal(names, ""), True), pc.is_valid(ids))
        if not pc.any(empty).as_py():
            continue
        if unresolved is not None:
            for entity_id in pc.unique(pc.filter(ids, empty)).to_pylist():
                unresolved.add(level, entity_id)
        index = table.schema.get_field_index(name_col)
        filled = pc.if_else(empty, ids, names)
        table = table.set_column(index, table.schema.field(index), filled)
    return table


def _text(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return str(int(value)) if isinstance(value, int) else str(value)
