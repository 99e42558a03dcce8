"""Fetch creatives' assets into the content-addressed store, bounded and concurrent.

Each creative row with an ``asset_url`` is downloaded (http/https only, at most
``max_bytes``, read as a stream so a huge body is cut off early), checked as an image
(``images.inspect``), stripped of embedded metadata (``scrub``), stored by the hash of the
clean bytes with a web thumbnail and a manifest (``manifest``), and the row gets
``asset_sha256``, ``width``, ``height``, ``asset_bytes`` and what the image looks like:
``phash`` and ``colours`` (``images.examine``, in the worker thread that makes the
thumbnail, from one decoding). A missing or refused asset leaves those empty, yields a
warning that names the creative, never a failure of the sync, and is recorded in the store's
``missing.json`` so that the report can say why the image is not shown.

A carousel's cards (``cards``) each have an image of their own: stored the same way, the
card's ``asset_sha256`` filled; a card whose image is missing is a warning naming the
creative and the card's number.

A row whose asset is stored already (``asset_sha256`` set) is not downloaded again; what it
lacks of ``phash``, ``colours`` and ``asset_bytes`` is read from the asset's manifest.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pyarrow as pa

from generator.creatives.images import ImageFeatures, ImageInfo, ImageRejected, examine, inspect
from generator.creatives.manifest import with_source
from generator.creatives.scrub import strip_metadata
from generator.creatives.store import AssetStore
from generator.schema import CREATIVES, validate

__all__ = ["THUMBNAIL", "Limits", "retrieve_assets"]

THUMBNAIL = ".thumb.webp"
_THUMBNAIL_SIDE = 640
_PHASH = re.compile(r"^[0-9a-f]{16}$")
_COLOUR = re.compile(r"^#[0-9a-f]{6}$")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 36_000_000
    timeout: float = 30.0
    concurrency: int = 8


@dataclass(frozen=True)
class _Stored:
    """An asset in the store: its hash, what it is and looks like, and its size in bytes."""

    sha: str
    info: ImageInfo
    features: ImageFeatures
    size: int


@dataclass(frozen=True)
class _Done:
    """One creative after retrieval: the row filled in, why its image is missing (or None),
    and the warnings about it and its cards."""

    row: dict[str, Any]
    reason: str | None
    notes: list[str]


@dataclass(frozen=True)
class _Shared:
    """What every download shares: where to, through what, within which limits."""

    store: AssetStore
    http: httpx.AsyncClient
    limits: Limits
    gate: asyncio.Semaphore
    rights: str | None


async def retrieve_assets(
    creatives: pa.Table,
    store: AssetStore,
    http: httpx.AsyncClient,
    limits: Limits = Limits(),
    *,
    rights: str | None = None,
) -> tuple[pa.Table, list[str]]:
    """Download every creative's asset (and its cards'); returns the table with hashes and
    image features filled, and warnings.

    Args:
        rights: the client's rights note, written into each asset's manifest.
    """
    shared = _Shared(store, http, limits, asyncio.Semaphore(limits.concurrency), rights)
    done = await asyncio.gather(*(_one(row, shared) for row in creatives.to_pylist()))
    missing: dict[tuple[str, str], dict[str, str]] = {}
    for item in done:
        reasons = missing.setdefault((item.row["source"], item.row["account_id"]), {})
        if item.reason:  # by the ad it shows in (the report's key), else the creative
            reasons[item.row.get("ad_id") or item.row["creative_id"]] = item.reason
    for (source, account_id), reasons in missing.items():
        store.put_missing(source, account_id, reasons)  # one at a time: no await between
    table = pa.Table.from_pylist([item.row for item in done], schema=CREATIVES)
    return validate(table, CREATIVES), [note for item in done for note in item.notes]


async def _one(row: dict[str, Any], shared: _Shared) -> _Done:
    """The row with its asset and its cards' assets stored."""
    (filled, reason), (cards, notes) = await asyncio.gather(
        _asset(row, shared), _cards(row, shared)
    )
    if reason:
        notes = [f"{row['platform']} creative {row['creative_id']}: {reason}", *notes]
    return _Done({**filled, "cards": cards}, reason, notes)


async def _asset(row: dict[str, Any], shared: _Shared) -> tuple[dict[str, Any], str | None]:
    """The row with its own asset's columns filled, and why they could not be (or None)."""
    url = row.get("asset_url")
    if row.get("asset_sha256"):
        return {**row, **_recorded(shared.store, row)}, None
    if not url:
        return row, None
    stored = await _fetch(url, row, shared)
    if isinstance(stored, str):
        return row, stored
    return {
        **row,
        "asset_sha256": stored.sha,
        "width": stored.info.width,
        "height": stored.info.height,
        "phash": stored.features.phash,
        "colours": list(stored.features.colours),
        "asset_bytes": stored.size,
    }, None


async def _cards(row: dict[str, Any], shared: _Shared) -> tuple[list | None, list[str]]:
    """The row's cards with their images stored, and a warning per card whose is missing."""
    cards = row.get("cards")
    if not cards:
        return cards, []
    done = await asyncio.gather(*(_card(card, row, shared) for card in cards))
    notes = [
        f"{row['platform']} creative {row['creative_id']} card {number}: {reason}"
        for number, (_, reason) in enumerate(done, start=1)
        if reason
    ]
    return [card for card, _ in done], notes


async def _card(card: dict, row: dict, shared: _Shared) -> tuple[dict, str | None]:
    url = card.get("asset_url")
    if not url or card.get("asset_sha256"):
        return card, None
    stored = await _fetch(url, row, shared)  # its manifest names the creative it is a card of
    if isinstance(stored, str):
        return card, stored
    return {**card, "asset_sha256": stored.sha}, None


async def _fetch(url: str, row: dict[str, Any], shared: _Shared) -> _Stored | str:
    """Download, clean and store the image at ``url`` (shown by ``row``) with its thumbnail
    and manifest; returns it, or why it could not be stored."""
    if not url.startswith(("https://", "http://")):
        return "asset URL is not http(s); skipped"
    store, limits = shared.store, shared.limits
    async with shared.gate:
        try:
            data = await _download(shared.http, url, limits)
            clean, info = await asyncio.to_thread(_clean, data, limits.max_pixels)
            sha = store.put(clean, info.suffix)
            features = await _examined(store, sha, clean, limits)
        except ImageRejected as exc:
            return f"image refused ({exc})"
        except _Missing as exc:
            return str(exc)
    image = {
        "format": info.format,
        "width": info.width,
        "height": info.height,
        "phash": features.phash,
        "colours": list(features.colours),
    }
    manifest = with_source(  # read and written with no await between: no update is lost
        store.manifest(sha),
        sha=sha,
        size=len(clean),
        image=image,
        row={**row, "asset_url": url},
        rights=shared.rights,
    )
    store.put_manifest(sha, manifest)
    return _Stored(sha, info, features, len(clean))


async def _examined(store: AssetStore, sha: str, clean: bytes, limits: Limits) -> ImageFeatures:
    """The stored asset's features, its thumbnail made: both from one decoding in a worker
    thread, or (an asset examined before) the features from its manifest."""
    features = _features(store.manifest(sha))
    has_thumbnail = store.has(sha, THUMBNAIL)
    if features is not None and has_thumbnail:
        return features
    seen = await asyncio.to_thread(
        examine,
        clean,
        max_pixels=limits.max_pixels,
        max_side=None if has_thumbnail else _THUMBNAIL_SIDE,
    )
    if seen.thumbnail is not None:
        store.put_derived(sha, THUMBNAIL, seen.thumbnail)
    return seen.features


def _features(manifest: dict[str, Any] | None) -> ImageFeatures | None:
    """The features a manifest recorded (an asset examined before), if it has them whole."""
    phash, colours = (manifest or {}).get("phash"), (manifest or {}).get("colours")
    if not isinstance(phash, str) or not _PHASH.match(phash) or not isinstance(colours, list):
        return None
    if not all(isinstance(c, str) and _COLOUR.match(c) for c in colours):
        return None
    return ImageFeatures(phash, tuple(colours))


def _recorded(store: AssetStore, row: dict[str, Any]) -> dict[str, Any]:
    """What the manifest of the row's stored asset says that the row lacks (phash, colours,
    asset_bytes): a stored asset is not downloaded again."""
    if all(row.get(k) is not None for k in ("phash", "colours", "asset_bytes")):
        return {}
    manifest = store.manifest(row["asset_sha256"]) or {}
    size = manifest.get("bytes")
    features = _features(manifest)
    known = {
        "asset_bytes": size if isinstance(size, int) and size >= 0 else None,
        "phash": features.phash if features else None,
        "colours": list(features.colours) if features else None,
    }
    return {k: v for k, v in known.items() if row.get(k) is None and v is not None}


def _clean(data: bytes, max_pixels: int) -> tuple[bytes, ImageInfo]:
    """The image without its metadata, and what it is (its size after turning upright)."""
    clean = strip_metadata(data, max_pixels=max_pixels)
    return clean, inspect(clean, max_pixels=max_pixels)


class _Missing(Exception):
    pass


async def _download(http: httpx.AsyncClient, url: str, limits: Limits) -> bytes:
    try:
        async with http.stream("GET", url, timeout=limits.timeout) as response:
            if response.status_code != 200:
                raise _Missing(f"asset not available (HTTP {response.status_code})")
            declared = int(response.headers.get("content-length") or 0)
            if declared > limits.max_bytes:
                raise ImageRejected(f"{declared:,} bytes is more than {limits.max_bytes:,}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limits.max_bytes:
                    raise ImageRejected(f"more than {limits.max_bytes:,} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise _Missing(f"asset could not be downloaded ({type(exc).__name__})") from None
    return b"".join(chunks)
