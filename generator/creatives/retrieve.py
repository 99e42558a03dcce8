"""Fetch creatives' assets into the content-addressed store, bounded and concurrent.

Each creative row with an ``asset_url`` is downloaded (http/https only, at most
``max_bytes``, read as a stream so a huge body is cut off early), checked as an image
(``images.inspect``), stored by hash with a web thumbnail, and the row gets
``asset_sha256``, ``width`` and ``height``. A missing or refused asset leaves those empty and
yields a warning that names the creative, never a failure of the sync.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pyarrow as pa

from generator.creatives.images import ImageRejected, inspect, thumbnail
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
    creatives: pa.Table, store: AssetStore, http: httpx.AsyncClient, limits: Limits = Limits()
) -> tuple[pa.Table, list[str]]:
    """Download every creative's asset; returns the table with hashes filled, and warnings."""
    rows = creatives.to_pylist()
    gate = asyncio.Semaphore(limits.concurrency)
    results = await asyncio.gather(*(_one(row, store, http, limits, gate) for row in rows))
    messages = [m for m in results if m]
    return validate(pa.Table.from_pylist(rows, schema=CREATIVES), CREATIVES), messages


async def _one(row, store: AssetStore, http, limits: Limits, gate) -> str | None:
    url = row.get("asset_url")
    if not url or row.get("asset_sha256"):
        return None
    label = f"{row['platform']} creative {row['creative_id']}"
    if not url.startswith(("https://", "http://")):
        return f"{label}: asset URL is not http(s); skipped"
    async with gate:
        try:
            data = await _download(http, url, limits)
            info = inspect(data, max_pixels=limits.max_pixels)
            sha = store.put(data, info.suffix)
            if not store.has(sha, THUMBNAIL):
                small = await asyncio.to_thread(thumbnail, data, max_pixels=limits.max_pixels)
                store.put_derived(sha, THUMBNAIL, small)
        except ImageRejected as exc:
            return f"{label}: image refused ({exc})"
        except _Missing as exc:
            return f"{label}: {exc}"
    row.update(asset_sha256=sha, width=info.width, height=info.height)
    return None


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
