"""A creative's versions over time, and the same image used by several creatives.

Pure functions over a DataFrame of ``creatives`` rows (the columns of ``schema.CREATIVES``,
any number of clients and platforms); inputs are never changed.

``history`` numbers each creative's versions in the order syncs first saw them and says
what changed from one to the next, in the words of someone looking at the ad: its image,
headline, body, call to action, landing page or carousel cards.

``reuse_groups`` finds one picture behind several creatives (other ads, accounts or
platforms) by its perceptual hash: two images are the same when their 64-bit ``phash``
differ in at most ``max_distance`` bits (the same drawing as PNG or JPEG, resized or
recompressed, differs in a few bits; two different pictures in about half of them). Groups
are single-linkage: an image close to any image of a group is in it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from generator.errors import ReportError

__all__ = ["HISTORY_COLUMNS", "REUSE_COLUMNS", "history", "reuse_groups"]

_CREATIVE = ("platform", "account_id", "creative_id")
_VERSION = (*_CREATIVE, "version")
#: what ``changed`` names, and the column each is read from (image and cards: see below)
_COPY = {
    "headline": "headline",
    "body": "body",
    "call to action": "call_to_action",
    "landing page": "landing_url",
}
_SHOWN = (
    "name", "format", "headline", "body", "call_to_action", "landing_url", "asset_sha256",
    "phash", "width", "height", "cards",
)  # fmt: skip
HISTORY_COLUMNS = (
    *_CREATIVE, "ad_id", "version", "version_number", "first_seen", "last_seen", "changed",
    *_SHOWN,
)  # fmt: skip
REUSE_COLUMNS = (*_VERSION, "ad_id", "phash", "image_group", "group_size")
_PHASH = re.compile(r"^[0-9a-fA-F]{16}$")
#: rows of the distance matrix computed at once: 256 x 2,000 hashes x 8 bytes = 4 MB
_BLOCK = 256
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def history(creatives: pd.DataFrame) -> pd.DataFrame:
    """Each creative's versions, numbered, with what changed from the version before.

    One row per (platform, account_id, creative_id, version), ordered by creative, then
    ``first_seen`` (ties by ``last_seen``, then version). ``version_number`` counts from 1
    per creative; ``last_seen`` is ``first_seen`` where null; ``ad_id`` is the creative's
    id where null. ``changed`` is "first" for version 1, else the differences from the
    previous version, comma-separated in the order "image", "headline", "body", "call to
    action", "landing page", "cards" ("other" when none of them differs: a change the page
    does not show, such as the display URL). An image counts as changed when both versions
    have an ``asset_sha256`` and they differ (else their ``phash``); one that could not be
    downloaded is not a change. Cards compare by their copy, landing page and image hash.

    Raises:
        ReportError: not a DataFrame, or without platform, account_id, creative_id, version
            and first_seen, or with nulls in them.
    """
    frame = _conformed(creatives, (*_VERSION, "first_seen"), (*_SHOWN, "ad_id", "last_seen"))
    frame["last_seen"] = frame["last_seen"].where(frame["last_seen"].notna(), frame["first_seen"])
    frame = _one_per_version(frame)
    frame = frame.sort_values(
        [*_CREATIVE, "first_seen", "last_seen", "version"], kind="stable", ignore_index=True
    )
    frame["version_number"] = frame.groupby(list(_CREATIVE), sort=False).cumcount() + 1
    rows = frame.to_dict("records")
    frame["changed"] = [
        "first" if row["version_number"] == 1 else _changes(rows[i - 1], row)
        for i, row in enumerate(rows)
    ]
    return frame.loc[:, list(HISTORY_COLUMNS)]


def reuse_groups(creatives: pd.DataFrame, max_distance: int = 6) -> pd.DataFrame:
    """Creative versions whose images are one picture, grouped by perceptual hash.

    Two images are one when their ``phash`` differ in at most ``max_distance`` of 64 bits;
    groups are single-linkage (the connected components of the close pairs, as a union-find
    gives them). Every pair of distinct hashes is compared, vectorised with numpy in blocks:
    O(n²) in the number of distinct hashes, which for a client's 2,000 (4 million pairs) is
    under a tenth of a second. Rows without ``phash`` are left out.

    Returns:
        REUSE_COLUMNS: one row per creative version in a group of 2 or more distinct
        creatives (platform, account_id, creative_id); ``ad_id`` is the creative's id where
        null; ``image_group`` is "img-" and the first 8 hex digits of the SHA-256 of the
        group's smallest phash (the same group gets the same id on every run, until an
        image joins it with a smaller hash); ``group_size`` counts its distinct creatives.
        Ordered by group, then creative and version.

    Raises:
        ReportError: not a DataFrame, a column missing, a ``max_distance`` outside 0..64,
            or a phash that is not 16 hex digits.
    """
    if isinstance(max_distance, bool) or not isinstance(max_distance, int | np.integer):
        raise ReportError(f"max_distance must be an integer, not {max_distance!r}")
    if not 0 <= max_distance <= 64:
        raise ReportError(f"max_distance must be between 0 and 64 bits, not {max_distance}")
    frame = _conformed(creatives, (*_VERSION, "phash"), ("ad_id",))
    frame = frame.loc[frame["phash"].notna(), list(REUSE_COLUMNS[:-2])]
    bits = _bits(frame)
    distinct, which = np.unique(bits, return_inverse=True)
    root = _components(distinct, max_distance)[which.reshape(-1)]
    frame = frame.assign(phash=[p.lower() for p in frame["phash"]], _root=root)
    size = frame.drop_duplicates([*_CREATIVE, "_root"]).groupby("_root").size()
    frame = frame.assign(group_size=frame["_root"].map(size).astype("int64"))
    frame = frame.loc[frame["group_size"] >= 2]
    frame = frame.assign(image_group=[_group_id(int(distinct[r])) for r in frame["_root"]])
    frame = frame.sort_values(["image_group", *_VERSION], kind="stable", ignore_index=True)
    return frame.loc[:, list(REUSE_COLUMNS)]


# -- history ------------------------------------------------------------------------------


def _one_per_version(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per version: the same version twice (two files, two reads) is seen from the
    first first_seen to the last last_seen."""
    keys = list(_VERSION)
    if not frame.duplicated(keys).any():
        return frame
    seen = frame.groupby(keys, sort=False).agg(
        first_seen=("first_seen", "min"), last_seen=("last_seen", "max")
    )
    rest = frame.drop_duplicates(keys).drop(columns=["first_seen", "last_seen"])
    return rest.merge(seen.reset_index(), on=keys, how="left")


def _changes(before: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    changed = [] if _same_image(before, now) else ["image"]
    changed += [
        label for label, column in _COPY.items() if _value(before[column]) != _value(now[column])
    ]
    changed += [] if _same_cards(before["cards"], now["cards"]) else ["cards"]
    return ", ".join(changed) or "other"


def _same_image(before: Mapping[str, Any], now: Mapping[str, Any]) -> bool:
    """Same bytes when both hashes are known, else the same perceptual hash, else (an image
    not downloaded) no known change."""
    for column in ("asset_sha256", "phash"):
        a, b = _value(before[column]), _value(now[column])
        if a is not None and b is not None:
            return a == b
    return True


def _same_cards(before: Any, now: Any) -> bool:
    a, b = _cards(before), _cards(now)
    if len(a) != len(b):
        return False
    return all(
        x[:3] == y[:3] and (x[3] is None or y[3] is None or x[3] == y[3])
        for x, y in zip(a, b, strict=True)
    )


def _cards(cards: Any) -> list[tuple]:
    """Each card's (headline, body, landing_url, asset_sha256); none for a null."""
    if cards is None or (not isinstance(cards, Sequence | np.ndarray) and pd.isna(cards)):
        return []
    fields = ("headline", "body", "landing_url", "asset_sha256")
    return [tuple(_value((card or {}).get(f)) for f in fields) for card in cards]


def _value(value: Any) -> Any:
    """A cell as compared: null, NaN and the empty string all are "none"."""
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        return value
    return None if value is None or value == "" or pd.isna(value) else value


# -- reuse --------------------------------------------------------------------------------


def _bits(frame: pd.DataFrame) -> np.ndarray:
    """Each row's phash as an unsigned 64-bit integer."""
    pairs = zip(frame["creative_id"], frame["phash"], strict=True)
    bad = [(creative, p) for creative, p in pairs if not _is_phash(p)]
    if bad:
        creative, value = bad[0]
        raise ReportError(
            f"creatives: creative {creative} has phash {value!r}, not 16 hex digits "
            f"(imagehash.phash's str)"
        )
    return np.array([int(p, 16) for p in frame["phash"]], dtype=np.uint64)


def _is_phash(value: Any) -> bool:
    return isinstance(value, str) and _PHASH.match(value) is not None


def _components(hashes: np.ndarray, max_distance: int) -> np.ndarray:
    """For each of the sorted distinct ``hashes``, the index of the smallest hash of its
    single-linkage group: the connected components of the graph whose edges join hashes at
    most ``max_distance`` bits apart (what a union-find over those pairs gives; scipy's
    csgraph finds them vectorised, where a Python loop over a dense group's ~10⁶ pairs would
    take seconds)."""
    n = len(hashes)
    first, second = _close_pairs(hashes, max_distance)
    edges = coo_matrix((np.ones(len(first), dtype=np.int8), (first, second)), shape=(n, n))
    count, label = connected_components(edges, directed=False)
    smallest = np.full(count, n, dtype=np.int64)
    np.minimum.at(smallest, label, np.arange(n))
    return smallest[label]


def _close_pairs(hashes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (i < j) of hashes at most ``max_distance`` bits apart: XOR and count bits,
    a block of rows of the n x n matrix at a time."""
    n, found = len(hashes), [(np.empty(0, np.int64), np.empty(0, np.int64))]
    for start in range(0, n, _BLOCK):
        distance = _bit_count(hashes[start : start + _BLOCK, None] ^ hashes[None, :])
        rows, columns = np.nonzero(distance <= max_distance)
        rows += start
        found.append((rows[rows < columns], columns[rows < columns]))
    return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


def _bit_count(words: np.ndarray) -> np.ndarray:
    """Bits set in each uint64 (numpy 2's bitwise_count, else byte by byte from a table)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    octets = words.view(np.uint8).reshape(*words.shape, 8)
    return _POPCOUNT[octets].sum(axis=-1, dtype=np.uint8)


def _group_id(smallest: int) -> str:
    return "img-" + hashlib.sha256(f"{smallest:016x}".encode()).hexdigest()[:8]


# -- input --------------------------------------------------------------------------------


def _conformed(
    creatives: pd.DataFrame, required: Sequence[str], optional: Sequence[str]
) -> pd.DataFrame:
    """A copy with the ``required`` columns checked, absent ``optional`` ones as nulls, and
    ``ad_id`` the creative's id where null."""
    if not isinstance(creatives, pd.DataFrame):
        raise ReportError(f"creatives must be a pandas DataFrame, not {type(creatives).__name__}")
    missing = [c for c in required if c not in creatives.columns]
    if missing:
        raise ReportError(f"creatives lacks column(s) {missing}; it needs {list(required)}")
    keys = [c for c in (*_VERSION, "first_seen") if c in required]
    nulls = [c for c in keys if creatives[c].isna().any()]
    if nulls:
        raise ReportError(f"creatives has nulls in {nulls}: each row needs its creative's key")
    frame = creatives.copy()
    for column in optional:
        if column not in frame.columns:
            frame[column] = None
    if "ad_id" in frame.columns:
        frame["ad_id"] = frame["ad_id"].where(frame["ad_id"].notna(), frame["creative_id"])
    return frame
