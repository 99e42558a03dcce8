"""Stored images and thumbnails carry no embedded metadata, and keep their pixels (issue 16)."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime

import httpx
import pytest
from PIL import Image, ImageChops, ImageCms, ImageOps, ImageSequence, ImageStat

from generator import schema
from generator.creatives import (
    THUMBNAIL,
    AssetStore,
    ImageRejected,
    retrieve_assets,
    thumbnail,
)
from generator.creatives import strip_metadata as _strip

from .images import MADE, MARKERS, encode, gif, jpeg, picture, png, srgb_profile, webp

#: what Pillow may report of a clean file: how to draw it, nothing about where it came from
DRAWING = {
    "jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "adobe", "adobe_transform",
    "progressive", "progression", "transparency", "version", "background", "loop", "duration",
    "timestamp", "gamma", "srgb", "chromaticity", "interlace", "aspect", "disposal",
    "extension",  # GIF: the animation's loop count (NETSCAPE2.0)
}  # fmt: skip


def strip(data: bytes) -> bytes:
    return _strip(data, max_pixels=10**7)


def assert_clean(data: bytes) -> None:
    for marker in MARKERS:
        assert marker not in data, marker
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert not image.getexif(), dict(image.getexif())
        assert set(image.info) <= DRAWING, set(image.info) - DRAWING


def pixels(data: bytes) -> list[bytes]:
    with Image.open(io.BytesIO(data)) as image:
        return [f.convert("RGBA").tobytes() for f in ImageSequence.Iterator(image)]


@pytest.mark.parametrize("kind", sorted(MADE))
def test_every_kind_of_metadata_goes_and_every_pixel_stays(kind):
    original = MADE[kind]()
    assert sum(m in original for m in MARKERS) >= 3  # the fixture does carry metadata
    clean = strip(original)
    assert_clean(clean)
    assert pixels(clean) == pixels(original)
    assert strip(clean) == clean  # cleaning is stable: the same image, the same hash


def test_a_jpeg_keeps_its_coded_data_and_loses_its_preview_and_trailer():
    original = jpeg()
    clean = strip(original)
    assert clean[2:6] == b"\xff\xe0\x00\x10"  # JFIF without its preview image
    assert clean.endswith(b"\xff\xd9")  # nothing after the end of the image
    scan = original.index(b"\xff\xda")
    assert original[scan : original.rindex(b"\xff\xd9")] in clean  # not re-encoded


def test_a_lossy_webp_and_an_animated_gif_are_cleaned_as_they_are():
    lossy = webp(lossless=False)
    assert pixels(strip(lossy)) == pixels(lossy)
    assert_clean(strip(lossy))
    animated = gif(frames=3)
    clean = strip(animated)
    assert_clean(clean)
    with Image.open(io.BytesIO(clean)) as image:
        assert image.n_frames == 3 and image.info["loop"] == 0
    assert pixels(clean) == pixels(animated)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_an_exif_orientation_is_applied_before_the_exif_goes(orientation):
    original = png(orientation)
    clean = strip(original)
    assert_clean(clean)
    with Image.open(io.BytesIO(original)) as image:
        upright = ImageOps.exif_transpose(image)
    with Image.open(io.BytesIO(clean)) as stored:
        assert stored.size == upright.size
        assert stored.convert("RGB").tobytes() == upright.convert("RGB").tobytes()


def test_a_turned_jpeg_is_stored_upright_and_close_to_its_pixels():
    original = jpeg(orientation=6)
    clean = strip(original)
    assert_clean(clean)
    with Image.open(io.BytesIO(original)) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    with Image.open(io.BytesIO(clean)) as stored:
        assert stored.size == upright.size == (32, 48)  # 48x32, turned
        difference = ImageChops.difference(stored.convert("RGB"), upright)
    assert max(ImageStat.Stat(difference).mean) < 3  # encoded again at high quality


def test_a_profile_other_than_srgb_is_applied_then_dropped():
    wide = srgb_profile(b"Wide")
    assert (
        "srgb"
        not in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(wide))).lower()
    )
    original = encode(picture(), "PNG", icc_profile=wide)
    clean = strip(original)
    assert_clean(clean)
    difference = ImageChops.difference(
        Image.open(io.BytesIO(clean)).convert("RGB"), picture().convert("RGB")
    )
    assert max(high for _, high in difference.getextrema()) <= 2  # (the same space, converted)


@pytest.mark.parametrize("kind", sorted(MADE))
def test_a_damaged_file_is_refused_never_a_crash(kind):
    data = MADE[kind]()
    with pytest.raises(ImageRejected):
        thumbnail(strip(data[: len(data) * 2 // 3]), max_pixels=10**7)


async def test_the_store_holds_clean_files_named_by_their_hash_and_clean_thumbnails(tmp_path):
    bodies = {f"a.{kind.lower()}": make() for kind, make in MADE.items()}
    bodies["turned.png"] = png(orientation=6)

    def cdn(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies[request.url.path.strip("/")])

    rows = [creative(name, f"https://cdn.test/{name}") for name in bodies]
    store = AssetStore(tmp_path)
    async with httpx.AsyncClient(transport=httpx.MockTransport(cdn)) as http:
        table, notes = await retrieve_assets(schema.from_rows(rows, schema.CREATIVES), store, http)
    assert notes == []
    for row in table.to_pylist():
        sha, name = row["asset_sha256"], row["creative_id"]
        stored = store.path(sha, "." + name.split(".")[1].replace("jpeg", "jpg"))
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
        assert_clean(stored.read_bytes())
        assert_clean(store.path(sha, THUMBNAIL).read_bytes())
        if name == "turned.png":
            assert (row["width"], row["height"]) == (32, 48)  # as stored: upright
        else:
            assert pixels(stored.read_bytes()) == pixels(bodies[name])


def creative(creative_id: str, url: str | None, **extra) -> dict:
    return {
        "platform": "meta", "source": "meta", "account_id": "act_1", "creative_id": creative_id,
        "version": "v1", "format": "image", "asset_url": url, "first_seen": date(2026, 11, 1),
        "fetched_at": datetime(2026, 11, 1, 9, tzinfo=UTC), "api_version": "v25.0", **extra,
    }  # fmt: skip
