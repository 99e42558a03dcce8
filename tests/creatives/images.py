"""Images carrying every kind of embedded metadata, made the way cameras and editors make them."""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageCms, PngImagePlugin

#: strings planted in the metadata: none may survive in a stored file
MARKERS = (
    b"PhoneMaker", b"Pixel 9 Secret", b"WGS-84-secret", b"Jane Secret", b"secret comment",
    b"Photoshop 3.0", b"http://ns.adobe.com/xap/1.0/", b"Exif\x00\x00", b"XML:com.adobe.xmp",
    b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP", b"ICC_PROFILE", b"after the end",
    b"DataXMP",
)  # fmt: skip
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    '22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'dc:creator="Jane Secret"/></rdf:RDF></x:xmpmeta>'
)
ORIENTATION, MAKE, MODEL, GPS = 0x0112, 0x010F, 0x0110, 0x8825


def picture(width: int = 48, height: int = 32, mode: str = "RGB") -> Image.Image:
    """A picture whose every pixel differs, so a turned or shifted copy cannot pass for it."""
    image = Image.new("RGB", (width, height))
    image.putdata(
        [(x * 255 // width, y * 255 // height, (x * 7 + y * 13) % 256) for y in range(height)
         for x in range(width)]
    )  # fmt: skip
    return image.convert(mode)


def exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: maker, model, orientation and a GPS position."""
    tags = Image.Exif()
    tags[MAKE], tags[MODEL], tags[ORIENTATION] = "PhoneMaker", "Pixel 9 Secret", orientation
    gps = tags.get_ifd(GPS)
    gps.update({1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 1.0), 18: "WGS-84-secret"})
    return tags


def srgb_profile(name: bytes = b"sRGB") -> bytes:
    """LittleCMS's sRGB profile; with another ``name`` (4 letters) it passes for another space."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    wide = "".join(f"\x00{c}" for c in name.decode()).encode("latin-1")
    return profile.replace(b"\x00s\x00R\x00G\x00B", wide)


def encode(image: Image.Image, kind: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=kind, **options)
    return out.getvalue()


def jpeg(orientation: int = 1) -> bytes:
    """A JPEG with EXIF (GPS), XMP, an sRGB ICC profile, a comment, IPTC, a JFIF preview image
    and bytes after its end (as phones append a second picture)."""
    data = encode(
        picture(), "JPEG", quality=95, exif=exif(orientation), xmp=XMP.encode(),
        icc_profile=srgb_profile(), comment=b"secret comment",
    )  # fmt: skip
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0c\x1c\x02\x50\x00\x08Jane Sec"
    app13 = b"\xff\xed" + struct.pack(">H", len(iptc) + 2) + iptc
    preview = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x02\x01" + bytes(range(6))  # 2x1 RGB
    app0 = b"\xff\xe0" + struct.pack(">H", len(preview) + 2) + preview
    body = data[2:]
    if body.startswith(b"\xff\xe0"):  # Pillow's own JFIF segment: ours, with a preview, instead
        body = body[2 + struct.unpack(">H", body[2:4])[0] :]
    return b"\xff\xd8" + app0 + app13 + body + b"after the end"


def png(orientation: int = 1, image: Image.Image | None = None) -> bytes:
    """A PNG with text chunks (plain, compressed, international), XMP, EXIF and a profile."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Secret")
    info.add_text("Comment", "secret comment", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP)
    return encode(
        image or picture(), "PNG", pnginfo=info, exif=exif(orientation),
        icc_profile=srgb_profile(),
    )  # fmt: skip


def webp(lossless: bool = True) -> bytes:
    return encode(
        picture(), "WEBP", lossless=lossless, quality=90, exif=exif(), xmp=XMP.encode(),
        icc_profile=srgb_profile(),
    )  # fmt: skip


def gif(frames: int = 1) -> bytes:
    """A GIF with a comment and an XMP application block (as Photoshop writes one)."""
    images = [picture(mode="P").rotate(90 * i) for i in range(frames)]
    data = encode(
        images[0], "GIF", save_all=frames > 1, append_images=images[1:], duration=100, loop=0,
        comment=b"secret comment",
    )  # fmt: skip
    xmp = XMP.encode()
    pieces = [xmp[i : i + 255] for i in range(0, len(xmp), 255)]
    blocks = b"".join(bytes([len(piece)]) + piece for piece in pieces)
    application = b"\x21\xff\x0bXMP DataXMP" + blocks + b"\x00"
    return data[:-1] + application + b"\x3b"


MADE = {"JPEG": jpeg, "PNG": png, "WEBP": webp, "GIF": gif}
