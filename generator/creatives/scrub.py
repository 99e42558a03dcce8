"""Embedded metadata out of stored images: EXIF (with GPS), XMP, IPTC, ICC profiles, comments.

A platform's image may carry where and with what it was made: EXIF (camera, owner, GPS
position), XMP and IPTC (author, captions, edit history), an ICC profile naming a device,
PNG text chunks, JPEG and GIF comments, and in JPEG an embedded preview that may show what
was cropped away. None of it is stored.

Most images are cleaned without decoding them: the container is rewritten keeping only the
chunks, segments or blocks needed to draw the picture (each format has a short list below), so
the pixels stay byte for byte the platform's. Two things need the pixels themselves:

- an EXIF orientation other than upright: it is applied, then the EXIF dropped, so the image
  still shows the right way up;
- an ICC profile other than sRGB: the pixels are converted to sRGB, then the profile dropped,
  so the colours still look right.

Those images are decoded and encoded again (PNG and lossless WEBP losslessly, JPEG and lossy
WEBP at high quality). An animated image keeps its frames as they are and loses only the
metadata. The result is deterministic, so the same image always gets the same content hash.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterator

from PIL import Image, ImageCms, ImageOps

from generator.creatives.images import ImageRejected, decoding, inspect

__all__ = ["strip_metadata"]

_ORIENTATION = 0x0112


def strip_metadata(data: bytes, *, max_pixels: int) -> bytes:
    """The image ``data`` without embedded metadata, upright and in sRGB, in its own format.

    Raises:
        ImageRejected: not an image we accept (see ``images.inspect``), or a damaged one.
    """
    kind = inspect(data, max_pixels=max_pixels).format
    with decoding(), Image.open(io.BytesIO(data)) as image:
        if getattr(image, "n_frames", 1) == 1 and (_turned(image, data) or _foreign_colours(image)):
            return _redraw(image, kind, lossless=kind == "PNG" or _webp_lossless(data))
    try:
        clean = _REWRITE[kind](data)
    except (IndexError, struct.error):
        raise ImageRejected("the image file is damaged (cut short)") from None
    inspect(clean, max_pixels=max_pixels)  # still an image, of the same kind
    return clean


def _turned(image: Image.Image, data: bytes) -> bool:
    if image.format == "PNG" and b"eXIf" not in data:
        return False  # (Pillow would decode the whole PNG to look for a late eXIf chunk)
    try:
        return image.getexif().get(_ORIENTATION, 1) not in (0, 1)
    except Exception:  # unreadable EXIF is dropped like any other metadata
        return False


def _foreign_colours(image: Image.Image) -> bool:
    """Whether the image has a colour profile other than sRGB (whose loss would show)."""
    icc = image.info.get("icc_profile")
    if not icc:
        return False
    try:
        name = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return False  # a profile nothing can read changes no colour: dropped as it is
    return "srgb" not in name.lower()


def _redraw(image: Image.Image, kind: str, *, lossless: bool) -> bytes:
    """Decode, turn upright, convert to sRGB and encode again, from the pixels alone."""
    icc = image.info.get("icc_profile")
    transparency = image.info.get("transparency")
    upright = ImageOps.exif_transpose(image)
    pixels = _to_srgb(upright, icc) if icc else upright
    keep = transparency is not None and pixels.mode == image.mode  # the same palette or mode
    pixels.info = {"transparency": transparency} if keep else {}
    out = io.BytesIO()
    if kind == "JPEG":  # the original's tables, colour at full resolution: little loss
        tables = getattr(image, "quantization", None)
        options = {"qtables": tables} if tables else {"quality": 95}
        pixels.save(out, format="JPEG", optimize=True, subsampling=0, **options)
    elif kind == "WEBP":
        pixels.save(out, format="WEBP", lossless=lossless, quality=95 if not lossless else 100)
    else:
        pixels.save(out, format=kind)
    return out.getvalue()


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    alpha = "A" in image.getbands() or "transparency" in image.info
    mode = "RGBA" if alpha else "RGB"
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if image.mode not in ("RGB", "RGBA", "CMYK", "L"):
            image = image.convert(mode)
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image.copy()  # a profile that does not fit the pixels: dropped unapplied


# -- PNG: chunks (length, type, data, CRC); only those that draw the picture are kept

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEEP = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD",
    b"cICP", b"acTL", b"fcTL", b"fdAT",  # colour space and animation
}  # fmt: skip


def _png(data: bytes) -> bytes:
    out, pos = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, end = data[pos + 4 : pos + 8], pos + 12 + length
        if end > len(data):
            raise IndexError("cut short")
        if kind in _PNG_KEEP:
            out.append(data[pos:end])
        if kind == b"IEND":
            break
        pos = end
    return b"".join(out)


# -- JPEG: marker segments; APPn and comments go, except JFIF (without its preview) and
# Adobe's (it says how the colours are coded); the data after the end of the image goes too


def _jpeg(data: bytes) -> bytes:
    out, pos = [b"\xff\xd8"], 2
    while pos < len(data) - 1:
        if data[pos] != 0xFF:
            raise ImageRejected("the JPEG file is damaged (data between its segments)")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length of their own
            out.append(data[pos : pos + 2])
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise IndexError("cut short")
        out.append(_jpeg_segment(marker, data[pos:end]))
        pos = end
        if marker == 0xDA:  # start of scan: its entropy-coded data follows
            pos = _scan_end(data, end)
            out.append(data[end:pos])
    out.append(b"\xff\xd9")
    return b"".join(out)


def _jpeg_segment(marker: int, segment: bytes) -> bytes:
    if marker == 0xE0 and segment[4:9] == b"JFIF\x00" and len(segment) >= 18:
        return b"\xff\xe0\x00\x10" + segment[4:16] + b"\x00\x00"  # no preview image
    if marker == 0xEE and segment[4:9] == b"Adobe":
        return segment
    if 0xE0 <= marker <= 0xEF or marker == 0xFE:
        return b""
    return segment


def _scan_end(data: bytes, pos: int) -> int:
    """Where the entropy-coded data that starts at ``pos`` ends: at the next marker (0xFF
    followed by anything but a stuffed zero, a restart marker or another 0xFF)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            return len(data)
        following = data[pos + 1]
        if following == 0xFF:
            pos += 1
        elif following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
        else:
            return pos


# -- GIF: blocks; images and their timing stay, comments, plain text and application data
# other than the animation loop go


def _gif(data: bytes) -> bytes:
    pos = 13 + _colour_table(data[10])
    out = [data[:pos]]
    while pos < len(data):
        introducer = data[pos]
        if introducer == 0x3B:
            break
        if introducer == 0x2C:
            start = pos + 10 + _colour_table(data[pos + 9]) + 1  # + LZW code size
            end = _sub_blocks_end(data, start)
            out.append(data[pos:end])
        elif introducer == 0x21:
            label, end = data[pos + 1], _sub_blocks_end(data, pos + 2)
            application = data[pos + 3 : pos + 14]
            if label == 0xF9 or (label == 0xFF and application in _GIF_LOOP):
                out.append(data[pos:end])
        else:
            raise ImageRejected("the GIF file is damaged (an unknown block)")
        pos = end
    out.append(b"\x3b")
    return b"".join(out)


_GIF_LOOP = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


def _colour_table(packed: int) -> int:
    return 3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0


def _sub_blocks_end(data: bytes, pos: int) -> int:
    while data[pos]:
        pos += data[pos] + 1
    return pos + 1


# -- WEBP: RIFF chunks; the picture, its alpha and animation stay, ICCP, EXIF and XMP go

_WEBP_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}
_VP8X_METADATA = 0x20 | 0x08 | 0x04  # ICC, EXIF and XMP flags


def _webp(data: bytes) -> bytes:
    chunks = []
    for kind, chunk in _webp_chunks(data):
        if kind == b"VP8X":
            chunk = chunk[:8] + bytes([chunk[8] & ~_VP8X_METADATA & 0xFF]) + chunk[9:]
        if kind in _WEBP_KEEP:
            chunks.append(chunk)
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _webp_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(fourcc, the whole chunk with its header and padding) of each top-level chunk."""
    (size,) = struct.unpack("<I", data[4:8])
    end, pos = min(len(data), 8 + size), 12
    while pos + 8 <= end:
        kind, (length,) = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])
        if pos + 8 + length > end:
            raise IndexError("cut short")
        stop = pos + 8 + length + (length & 1)
        yield kind, data[pos:stop]
        pos = stop


def _webp_lossless(data: bytes) -> bool:
    if data[:4] != b"RIFF":
        return False
    try:
        return any(kind == b"VP8L" for kind, _ in _webp_chunks(data))
    except (IndexError, struct.error):
        return False


_REWRITE: dict[str, Callable[[bytes], bytes]] = {
    "PNG": _png,
    "JPEG": _jpeg,
    "GIF": _gif,
    "WEBP": _webp,
}
