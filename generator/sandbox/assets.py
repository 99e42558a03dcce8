"""Creative images, drawn with Pillow and served like a platform's CDN serves them.

Every ad that is not a text-only search ad has an image: the ad's headline on its client's
colours, in the shape its platform uses. A few images are gone (404) and one is a
decompression bomb (a huge, tiny-on-the-wire PNG), because asset retrieval must cope with
both. Served at ``/cdn/<creative_id>.png`` on the sandbox's own host.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from generator.sandbox.catalog import LONG_NAME
from generator.sandbox.state import SandboxState
from generator.sandbox.world import Ad

__all__ = ["asset_kind", "asset_url", "image_bytes", "routes", "size_of"]

_SIZES = {"pinterest": (1000, 1500), "tiktok": (1080, 1920), "snapchat": (1080, 1920)}
_COLOURS = {
    "northwind": ((29, 78, 74), (231, 111, 81)),
    "brightline": ((58, 46, 140), (244, 180, 0)),
    "harbor": ((11, 110, 153), (43, 179, 163)),
}


def _unit(key: str) -> float:
    return int(hashlib.sha256(key.encode()).hexdigest()[:13], 16) / 16**13


def asset_kind(ad: Ad) -> str:
    """``none`` (text ad), ``missing`` (404), ``bomb`` (too many pixels) or ``image``."""
    if ad.campaign.objective == "search":
        return "none"
    if ad.campaign.name == LONG_NAME and ad.ad_group_name == "Expansion":
        return "bomb"  # the hostile campaign also carries a hostile image
    return "missing" if _unit(ad.creative_id + "/asset") < 0.06 else "image"


def size_of(ad: Ad) -> tuple[int, int]:
    return _SIZES.get(ad.account.source, (1200, 628))


def asset_url(request: Request, ad: Ad) -> str | None:
    """The absolute URL of ``ad``'s image on this sandbox, or None for a text ad."""
    if asset_kind(ad) == "none":
        return None
    return f"{request.url.scheme}://{request.url.netloc}/cdn/{ad.creative_id}.png"


def routes() -> list[Route]:
    return [Route("/{name}.png", _serve)]


async def _serve(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    state.requests["cdn"] += 1
    ad = state.world.ad_by_creative(request.path_params["name"])
    if ad is None or asset_kind(ad) in ("none", "missing"):
        return Response("Not Found", status_code=404, media_type="text/plain")
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(image_bytes(ad), media_type="image/png", headers=headers)


@lru_cache(maxsize=256)
def _render(creative_id: str, headline: str, client: str, width: int, height: int) -> bytes:
    background, accent = _COLOURS.get(client, ((40, 40, 40), (200, 120, 40)))
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height - height // 5, width, height), fill=accent)
    font = ImageFont.load_default(size=max(24, width // 22))
    draw.multiline_text((width // 14, height // 4), _wrap(headline, 26), font=font, fill="white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def image_bytes(ad: Ad) -> bytes:
    """The PNG of an ad's creative (a decompression bomb for the one that is meant to be)."""
    if asset_kind(ad) == "bomb":
        return _bomb()
    return _render(ad.creative_id, ad.headline, ad.client.slug, *size_of(ad))


@lru_cache(maxsize=1)
def _bomb(side: int = 30_000) -> bytes:
    """A valid 1-bit PNG of side x side blank pixels, about 110 kB on the wire.

    Written row by row with zlib, because drawing it with Pillow would take a byte per
    pixel (900 MB) just to make it.
    """
    row = b"\x00" * (1 + side // 8)  # filter type 0, then the packed pixels
    squeeze = zlib.compressobj(9)
    data = b"".join(squeeze.compress(row) for _ in range(side)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])
