"""Fetch creatives' assets into the content-addressed store, bounded and concurrent.

Each creative row with an ``asset_url`` is downloaded (http/https only, at most
``max_bytes``, read as a stream so a huge body is cut off early), checked as an image
(``images.inspect``), stripped of embedded metadata (``scrub``), stored by the hash of the
clean bytes with a web thumbnail and a manifest (``manifest``), and the row gets
``asset_sha256``, ``width`` and ``height``. A missing or refused asset leaves those empty,
yields a warning that names the creative, never a failure of the sync, and is recorded in the
store's ``missing.json`` so that the report can say why the image is not shown.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pyarrow as pa

from generator.creatives.images import ImageInfo, ImageRejected, inspect, thumbnail
from generator.creatives.manifest import with_source
from generator.creatives.scrub import strip_metadata
from generator.creatives.store import AssetStore
from generator.schema import CREATIVES, validate

__all__ = ["THUMBNAIL", "Limits", "retrieve_assets"]

THUMBNAIL = ".thumb.webp"


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 36_000_000
    timeout: float = 30.0
    concurrency: int = 8


async def retrieve_assets(
    creatives: pa.Table,
    store: AssetStore,
    http: httpx.AsyncClient,
    limits: Limits = Limits(),
    *,
    rights: str | None = None,
) -> tuple[pa.Table, list[str]]:
    """Download every creative's asset; returns the table with hashes filled, and warnings.

    Args:
        rights: the client's rights note, written into each asset's manifest.
    """
    rows = creatives.to_pylist()
    gate = asyncio.Semaphore(limits.concurrency)
    results = await asyncio.gather(*(_one(row, store, http, limits, gate, rights) for row in rows))
    missing: dict[tuple[str, str], dict[str, str]] = {}
    for row, reason in zip(rows, results, strict=True):
        reasons = missing.setdefault((row["source"], row["account_id"]), {})
        if reason:  # by the ad it shows in (the report's key), else the creative
            reasons[row.get("ad_id") or row["creative_id"]] = reason
    for (source, account_id), reasons in missing.items():
        store.put_missing(source, account_id, reasons)  # one at a time: no await between
    messages = [
        f"{row['platform']} creative {row['creative_id']}: {reason}"
        for row, reason in zip(rows, results, strict=True)
        if reason
    ]
    return validate(pa.Table.from_pylist(rows, schema=CREATIVES), CREATIVES), messages


async def _one(row, store: AssetStore, http, limits: Limits, gate, rights) -> str | None:
    """Store one row's asset and fill in the row; returns why it could not, or None."""
    url = row.get("asset_url")
    if not url or row.get("asset_sha256"):
        return None
    if not url.startswith(("https://", "http://")):
        return "asset URL is not http(s); skipped"
    async with gate:
        try:
            data = await _download(http, url, limits)
            clean, info = await asyncio.to_thread(_clean, data, limits.max_pixels)
            sha = store.put(clean, info.suffix)
            if not store.has(sha, THUMBNAIL):
                small = await asyncio.to_thread(thumbnail, clean, max_pixels=limits.max_pixels)
                store.put_derived(sha, THUMBNAIL, small)
        except ImageRejected as exc:
            return f"image refused ({exc})"
        except _Missing as exc:
            return str(exc)
    image = {"format": info.format, "width": info.width, "height": info.height}
    manifest = with_source(
        store.manifest(sha), sha=sha, size=len(clean), image=image, row=row, rights=rights
    )
    store.put_manifest(sha, manifest)
    row.update(asset_sha256=sha, width=info.width, height=info.height)
    return None


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
