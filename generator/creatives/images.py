"""Reading untrusted images safely and making web-sized copies of them.

The header is read first and the pixel count checked *before* any decoding, so a tiny file
that would expand to gigabytes (a decompression bomb) is refused cheaply. Thumbnails are
re-encoded from the pixels alone: no metadata, no embedded profiles, no scripts survive.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

__all__ = ["ImageInfo", "ImageRejected", "inspect", "thumbnail"]

_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp"}


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
    with decoding(), Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        frame = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        frame.thumbnail((max_side, max_side))
        out = io.BytesIO()
        frame.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue()


@contextlib.contextmanager
def decoding() -> Iterator[None]:
    """Pillow's failures to decode an image already inspected, as ``ImageRejected``."""
    try:
        yield
    except ImageRejected:
        raise
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageRejected(f"the image cannot be decoded ({type(exc).__name__})") from None
