"""What the store keeps about an image, from one decoding: thumbnail, perceptual hash and
dominant colours, within the same limits as every read of an untrusted image."""

from __future__ import annotations

import io

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageDraw

from generator.creatives import ImageFeatures, ImageRejected, examine, features
from generator.creatives import images as images_module

from .images import encode, png

LIMIT = 10**8
BLUE, ORANGE, GREEN = "#1f77b4", "#ff7f0e", "#2ca02c"


def banner(width: int = 1200, height: int = 628) -> Image.Image:
    """Blue on half the banner, orange on 30 %, green on 20 % (a quarter of it one shade off)."""
    image = Image.new("RGB", (width, height), BLUE)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width * 3 // 10 - 1, height], fill=ORANGE)
    draw.rectangle([width * 8 // 10, 0, width, height * 3 // 4 - 1], fill=GREEN)
    draw.rectangle([width * 8 // 10, height * 3 // 4, width, height], fill="#2ca02d")
    return image


def logo(background: tuple[int, int, int, int]) -> Image.Image:
    """A red disc and a navy bar on ``background`` (transparent or not)."""
    image = Image.new("RGBA", (400, 300), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse([50, 50, 250, 250], fill=(220, 20, 40, 255))
    draw.rectangle([270, 100, 380, 200], fill=(10, 20, 80, 255))
    return image


@pytest.mark.parametrize("kind", ["PNG", "WEBP", "GIF"])
def test_a_banner_s_colours_are_exact_most_common_first_and_shades_of_one_count_once(kind):
    options = {"lossless": True} if kind == "WEBP" else {}
    seen = examine(encode(banner(), kind, **options), max_pixels=LIMIT)
    assert seen.features.colours == (BLUE, ORANGE, GREEN)
    assert (seen.info.format, seen.info.width, seen.info.height) == (kind, 1200, 628)


def test_the_phash_is_imagehash_s_of_the_pixels_and_the_thumbnail_a_small_webp():
    seen = examine(encode(banner(), "PNG"), max_pixels=LIMIT)
    assert seen.features.phash == str(imagehash.phash(banner()))
    assert len(seen.features.phash) == 16 and int(seen.features.phash, 16) >= 0
    with Image.open(io.BytesIO(seen.thumbnail)) as small:
        assert (small.format, small.size) == ("WEBP", (640, 335))


def test_features_alone_make_no_thumbnail_and_agree_with_examine():
    data = encode(banner(), "PNG")
    alone = examine(data, max_pixels=LIMIT, max_side=None)
    assert alone.thumbnail is None
    assert (
        alone.features
        == features(data, max_pixels=LIMIT)
        == examine(data, max_pixels=LIMIT).features
    )


def test_the_image_is_decoded_once_for_thumbnail_hash_and_colours(monkeypatch):
    decoded = []
    real = images_module._decode
    monkeypatch.setattr(images_module, "_decode", lambda data: decoded.append(1) or real(data))
    examine(encode(banner(), "PNG"), max_pixels=LIMIT)
    assert decoded == [1]


def test_transparent_pixels_are_no_colour_and_hash_as_the_white_page_they_are_shown_on():
    clear = examine(encode(logo((0, 0, 0, 0)), "PNG"), max_pixels=LIMIT).features
    on_white = logo((255, 255, 255, 255)).convert("RGB")
    assert clear.colours[:2] == ("#dc1428", "#0a1450") and "#000000" not in clear.colours
    assert clear.phash == str(imagehash.phash(on_white))  # as the same logo saved as a JPEG
    nothing = examine(encode(Image.new("RGBA", (20, 20), (9, 9, 9, 0)), "PNG"), max_pixels=LIMIT)
    assert nothing.features.colours == ()


def test_a_palette_image_with_a_transparent_colour_loses_it_too():
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0, 200, 30, 30] + [0, 0, 0] * 254)
    ImageDraw.Draw(image).rectangle([0, 0, 19, 39], fill=1)
    seen = examine(encode(image, "GIF", transparency=0), max_pixels=LIMIT)
    assert seen.features.colours == ("#c81e1e",)


def test_every_picture_gets_features_whatever_its_mode_and_metadata():
    for made in (png(), encode(Image.new("L", (30, 30), 128), "PNG"), encode(banner(), "JPEG")):
        found = features(made, max_pixels=LIMIT)
        assert isinstance(found, ImageFeatures) and len(found.phash) == 16
        assert 1 <= len(found.colours) <= 3
        assert all(len(c) == 7 and c.startswith("#") for c in found.colours)


def test_limits_are_checked_before_decoding_and_damage_is_refused(monkeypatch):
    def never(data):
        raise AssertionError("decoded an image that is refused from its header")

    monkeypatch.setattr(images_module, "_decode", never)
    with pytest.raises(ImageRejected, match="more than 10,000 pixels"):
        examine(encode(banner(), "PNG"), max_pixels=10_000)
    bomb = encode(Image.new("1", (20_000, 20_000)), "PNG")
    with pytest.raises(ImageRejected, match="decompression bomb"):
        examine(bomb, max_pixels=10**10)
    monkeypatch.undo()
    data = encode(Image.fromarray(np.arange(90_000, dtype=np.uint8).reshape(300, 300)), "PNG")
    with pytest.raises(ImageRejected, match="cannot be decoded"):
        examine(data[: len(data) // 2], max_pixels=LIMIT)
