"""Reading untrusted images safely, making web-sized copies of them, and describing them.

The header is read first and the pixel count checked *before* any decoding, so a tiny file
that would expand to gigabytes (a decompression bomb) is refused cheaply. Thumbnails are
re-encoded from the pixels alone: no metadata, no embedded profiles, no scripts survive.

``examine`` decodes an image once for everything the store keeps about it: the thumbnail,
a perceptual hash (``imagehash.phash``: 64 bits as 16 hex digits; the same picture
re-encoded, resized or recompressed keeps nearly the same bits) and its dominant colours.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import imagehash
import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = [
    "Examined",
    "ImageFeatures",
    "ImageInfo",
    "ImageRejected",
    "examine",
    "features",
    "inspect",
    "thumbnail",
]

_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp"}
#: the colours are counted on a copy at most this large on either side (a sample of pixels)
_COLOUR_SIDE = 64
#: candidates for the dominant colours (median cut), of which the first few distinct are kept
_PALETTE = 8
_MAX_COLOURS = 3
#: two colours closer than this (RGB distance, of 441) are the same colour in two shades
_NEAR = 48
#: pixels less opaque than this are background, not colour
_OPAQUE = 128


class ImageRejected(ValueError):
    """The bytes are not an image we accept (format, size, pixels); the message says why."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int

    @property
    def suffix(self) -> str:
        return _FORMATS[self.format]


@dataclass(frozen=True)
class ImageFeatures:
    """What an image looks like: its perceptual hash and up to three dominant colours.

    Attributes:
        phash: ``str(imagehash.phash(image))``, 16 hex digits; transparent pixels are
            counted as white, the page they are shown on.
        colours: ``"#rrggbb"``, most common first, near shades of one colour counted once.
    """

    phash: str
    colours: tuple[str, ...]


@dataclass(frozen=True)
class Examined:
    """An image as ``examine`` saw it; ``thumbnail`` is None when none was asked for."""

    info: ImageInfo
    features: ImageFeatures
    thumbnail: bytes | None


def inspect(data: bytes, *, max_pixels: int) -> ImageInfo:
    """Format and size of an image, read from its header only.

    Raises:
        ImageRejected: not a PNG/JPEG/GIF/WEBP, or more than ``max_pixels`` pixels.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind, (width, height) = image.format, image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("the image has far too many pixels (a decompression bomb)") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ImageRejected(f"not a readable image ({type(exc).__name__})") from None
    if kind not in _FORMATS:
        raise ImageRejected(f"image format {kind} is not accepted")
    if width * height > max_pixels:
        raise ImageRejected(f"{width}x{height} is more than {max_pixels:,} pixels")
    return ImageInfo(kind, width, height)


def thumbnail(data: bytes, *, max_side: int = 640, max_pixels: int) -> bytes:
    """A WEBP no larger than ``max_side`` on either side, from pixels only.

    Raises:
        ImageRejected: as ``inspect``, or the pixels cannot be decoded (a damaged file).
    """
    inspect(data, max_pixels=max_pixels)
    return _webp(_decode(data), max_side)


def features(data: bytes, *, max_pixels: int) -> ImageFeatures:
    """The image's perceptual hash and dominant colours (see ``ImageFeatures``).

    Raises:
        ImageRejected: as ``thumbnail``.
    """
    return examine(data, max_pixels=max_pixels, max_side=None).features


def examine(data: bytes, *, max_pixels: int, max_side: int | None = 640) -> Examined:
    """What the store keeps about an image, from one decoding: its size and format, its
    features and (unless ``max_side`` is None) its thumbnail, as ``thumbnail`` makes it.

    Raises:
        ImageRejected: as ``inspect`` (checked before decoding), or the pixels cannot be
            decoded.
    """
    info = inspect(data, max_pixels=max_pixels)
    frame = _decode(data)
    with decoding():
        found = ImageFeatures(str(imagehash.phash(_on_white(frame))), _colours(frame))
    small = None if max_side is None else _webp(frame, max_side)
    return Examined(info, found, small)


@contextlib.contextmanager
def decoding() -> Iterator[None]:
    """Pillow's failures to decode an image already inspected, as ``ImageRejected``."""
    try:
        yield
    except ImageRejected:
        raise
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageRejected(f"the image cannot be decoded ({type(exc).__name__})") from None


def _decode(data: bytes) -> Image.Image:
    """The first frame's pixels: RGBA when it has transparency (an alpha band, or a palette
    or colour marked transparent), else RGB. Call ``inspect`` first."""
    with decoding(), Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _webp(frame: Image.Image, max_side: int) -> bytes:
    with decoding():
        small = frame.copy()
        small.thumbnail((max_side, max_side))
        out = io.BytesIO()
        small.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue()


def _on_white(frame: Image.Image) -> Image.Image:
    """The frame as seen on a white page: a logo's transparent background is white, as the
    same logo saved as a JPEG has it, rather than whatever colour hides under alpha 0."""
    if frame.mode != "RGBA":
        return frame
    page = Image.new("RGB", frame.size, "white")
    page.paste(frame, mask=frame.getchannel("A"))
    return page


def _colours(frame: Image.Image) -> tuple[str, ...]:
    """Up to ``_MAX_COLOURS`` dominant colours of the frame's opaque pixels, most common first.

    Nearest-neighbour sampling keeps pixels' own colours (averaging would invent shades at
    every edge); median cut then groups them into ``_PALETTE`` colours, and a colour close
    to one already chosen is another shade of it.
    """
    scale = min(1.0, _COLOUR_SIDE / max(frame.size))
    size = (max(1, round(frame.width * scale)), max(1, round(frame.height * scale)))
    sample = frame.resize(size, Image.Resampling.NEAREST)
    pixels = np.asarray(sample.convert("RGBA")).reshape(-1, 4)
    opaque = pixels[pixels[:, 3] >= _OPAQUE, :3]
    if not len(opaque):
        return ()
    row = Image.fromarray(np.ascontiguousarray(opaque).reshape(1, -1, 3), "RGB")
    quantized = row.quantize(colors=_PALETTE, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    counts = sorted(quantized.getcolors() or [], key=lambda c: (-c[0], c[1]))
    chosen: list[tuple[int, int, int]] = []
    for _, index in counts:
        colour = tuple(palette[3 * index : 3 * index + 3])
        if all(_distance(colour, other) >= _NEAR for other in chosen):
            chosen.append(colour)
        if len(chosen) == _MAX_COLOURS:
            break
    return tuple("#{:02x}{:02x}{:02x}".format(*colour) for colour in chosen)


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5
