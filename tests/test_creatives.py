import functools
import io
from datetime import UTC, date, datetime

import httpx
import pytest
from PIL import Image

from generator import schema
from generator.creatives import (
    THUMBNAIL,
    AssetStore,
    ImageRejected,
    Limits,
    inspect,
    retrieve_assets,
    thumbnail,
)


def png(width=120, height=60, mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), "teal").save(out, format="PNG")
    return out.getvalue()


def bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")
    return out.getvalue()


def creative(creative_id, url):
    return {
        "platform": "meta",
        "source": "meta",
        "account_id": "act_1",
        "creative_id": creative_id,
        "version": "v1",
        "format": "image",
        "asset_url": url,
        "first_seen": date(2026, 11, 1),
        "fetched_at": datetime(2026, 11, 1, tzinfo=UTC),
        "api_version": "v25.0",
    }


@functools.cache
def cdn_bodies() -> dict[str, bytes]:
    """The CDN's files, drawn once (the bomb alone takes a second to encode)."""
    return {
        "ok.png": png(),
        "again.png": png(),
        "bomb.png": bomb(),
        "text.png": b"<html>",
        "huge.png": b"x" * 100_000,
        "gif.png": _gif(),
    }


def cdn(request: httpx.Request) -> httpx.Response:
    name = request.url.path.rsplit("/", 1)[-1]
    bodies = cdn_bodies()
    if name == "down.png":
        raise httpx.ConnectError("refused", request=request)
    if name == "stream.png":  # no content-length: the size is only known while reading
        return httpx.Response(200, content=_chunks())
    if name not in bodies:
        return httpx.Response(404, text="Not Found")
    return httpx.Response(200, content=bodies[name], headers={"content-type": "image/png"})


async def _chunks():
    for _ in range(2):
        yield b"x" * 40_000


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, format="GIF")
    return out.getvalue()


async def test_assets_are_stored_by_hash_with_thumbnails(tmp_path):
    store = AssetStore(tmp_path)
    rows = [
        creative("1", "https://cdn.test/ok.png"),
        creative("2", "https://cdn.test/again.png"),
        creative("3", None),
        creative("4", "https://cdn.test/gone.png"),
        creative("5", "https://cdn.test/bomb.png"),
        creative("6", "javascript:alert(1)"),
        creative("7", "https://cdn.test/text.png"),
        creative("8", "https://cdn.test/huge.png"),
        creative("9", "https://cdn.test/down.png"),
        creative("10", "https://cdn.test/gif.png"),
        creative("11", "https://cdn.test/stream.png"),
    ]
    table = schema.from_rows(rows, schema.CREATIVES)
    async with httpx.AsyncClient(transport=httpx.MockTransport(cdn)) as http:
        out, notes = await retrieve_assets(table, store, http, Limits(max_bytes=65_536))
    result = {r["creative_id"]: r for r in out.to_pylist()}
    sha = result["1"]["asset_sha256"]
    assert sha == result["2"]["asset_sha256"] and len(sha) == 64  # same bytes, stored once
    assert (result["1"]["width"], result["1"]["height"]) == (120, 60)
    assert store.path(sha, ".png").read_bytes() == png()
    with Image.open(store.path(sha, THUMBNAIL)) as thumb:
        assert thumb.format == "WEBP"
    assert result["10"]["asset_sha256"] is not None
    for missing in ("3", "4", "5", "6", "7", "8", "9", "11"):
        assert result[missing]["asset_sha256"] is None
    text = "\n".join(notes)
    assert "creative 4: asset not available (HTTP 404)" in text
    assert "creative 5: image refused" in text and "creative 6: asset URL is not http(s)" in text
    assert "creative 7: image refused (not a readable image" in text
    assert "creative 8: image refused (100,000 bytes is more than 65,536)" in text
    assert "creative 11: image refused (more than 65,536 bytes)" in text
    assert "creative 5: image refused (the image has far too many pixels" in text
    assert "creative 9: asset could not be downloaded (ConnectError)" in text
    names = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert all(n.startswith(sha[:8]) or n[:64].isalnum() for n in names)


def test_inspect_and_thumbnail_limits():
    assert inspect(png(), max_pixels=10_000).suffix == ".png"
    with pytest.raises(ImageRejected, match="more than 100 pixels"):
        inspect(png(), max_pixels=100)
    with pytest.raises(ImageRejected, match="decompression bomb"):
        inspect(bomb(), max_pixels=10**9)
    small = thumbnail(png(2000, 1000, "RGBA"), max_side=100, max_pixels=10**7)
    with Image.open(io.BytesIO(small)) as image:
        assert max(image.size) == 100
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="BMP")
    with pytest.raises(ImageRejected, match="format BMP is not accepted"):
        inspect(out.getvalue(), max_pixels=100)


def test_store_paths_come_from_hashes_only(tmp_path):
    store = AssetStore(tmp_path)
    with pytest.raises(ValueError, match="not a stored asset name"):
        store.path("../../etc/passwd", ".png")
    with pytest.raises(ValueError):
        store.path("a" * 64, "/../x")
    sha = store.put(b"abc", ".png")
    assert store.put(b"abc", ".png") == sha and store.has(sha, ".png")
