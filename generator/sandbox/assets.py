"""Creative media, drawn with Pillow and served like a platform's CDN serves them.

Every ad that is not a text-only search ad has pictures: the ad's headline on its client's
colours, in the shape its platform uses (a few Meta ads in the 9:16 story shape). Its
``creative_format`` says which: an ``image``; a ``video``, of which the CDN holds the poster
frame (a play button over the picture; the video file itself is never served); or a
``carousel``, whose ``cards`` each have their own picture (card number, another accent). About
a fifth of the Meta ads with pictures are carousels and a fifth videos; TikTok's video
campaign runs videos.

Advertisers swap pictures: for about a quarter of the ads ``revision(ad, day)`` goes up every
``REVISION_DAYS`` days from ``WORLD_START``, and each revision is a new upload with a new URL
(another shade, the accent band moved, a "v2" label), so a connector sees a changed creative
exactly as after a real upload. Earlier revisions stay on the CDN; later ones do not exist yet.

URLs on the sandbox's own host: ``/cdn/<creative_id>[-poster|-card<N>][-r<revision>].png``
(``.jpg`` on X, whose pictures are the same drawings re-encoded as JPEG: alike to a perceptual
hash, not byte-identical). A few pictures are gone (404) and one is a decompression bomb (a
huge, tiny-on-the-wire PNG), because asset retrieval must cope with both.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from generator.sandbox.catalog import LONG_NAME
from generator.sandbox.state import SandboxState
from generator.sandbox.world import WORLD_START, Ad

__all__ = [
    "CARD_SIZE",
    "REVISION_DAYS",
    "Card",
    "asset_kind",
    "asset_url",
    "card_urls",
    "cards",
    "creative_format",
    "image_bytes",
    "poster_url",
    "revision",
    "routes",
    "size_of",
    "video_length",
]

REVISION_DAYS = 28
CARD_SIZE = (1080, 1080)
STORY_SIZE = (1080, 1920)
_SIZES = {"pinterest": (1000, 1500), "tiktok": STORY_SIZE, "snapchat": STORY_SIZE}
_COLOURS = {
    "northwind": ((29, 78, 74), (231, 111, 81)),
    "brightline": ((58, 46, 140), (244, 180, 0)),
    "harbor": ((11, 110, 153), (43, 179, 163)),
}
#: each carousel card's accent, in turn
_CARD_ACCENTS = ((231, 111, 81), (244, 180, 0), (43, 179, 163), (130, 90, 220), (220, 60, 120))
_NAME = re.compile(
    r"(?P<id>\d+)(?:-(?P<part>poster|card\d+))?(?:-r(?P<rev>\d+))?\.(?P<ext>png|jpg)"
)


@dataclass(frozen=True)
class Card:
    """One card of a carousel: its copy and landing page (its picture is ``card_urls``)."""

    headline: str
    body: str
    landing_url: str


def _unit(key: str) -> float:
    return int(hashlib.sha256(key.encode()).hexdigest()[:13], 16) / 16**13


def asset_kind(ad: Ad) -> str:
    """``none`` (text ad), ``missing`` (404), ``bomb`` (too many pixels) or ``image``."""
    if ad.campaign.objective == "search":
        return "none"
    if ad.campaign.name == LONG_NAME and ad.ad_group_name == "Expansion":
        return "bomb"  # the hostile campaign also carries a hostile image
    return "missing" if _unit(ad.creative_id + "/asset") < 0.06 else "image"


def creative_format(ad: Ad) -> str:
    """``text``, ``image``, ``video`` or ``carousel``: what the platform serves for ``ad``."""
    kind = asset_kind(ad)
    if kind == "none":
        return "text"
    if ad.account.source == "tiktok":
        return "video" if ad.campaign.objective == "video" else "image"
    if ad.account.source != "meta" or kind == "bomb":
        return "image"
    draw = _unit(ad.creative_id + "/format")
    return "carousel" if draw < 0.2 else "video" if draw < 0.4 else "image"


def size_of(ad: Ad) -> tuple[int, int]:
    """Width and height of the ad's picture (a video's poster; carousel cards are square)."""
    if ad.account.source == "meta" and _unit(ad.creative_id + "/story") < 0.2:
        return STORY_SIZE  # an Instagram story placement
    return _SIZES.get(ad.account.source, (1200, 628))


def cards(ad: Ad) -> tuple[Card, ...]:
    """A carousel's cards in order (3 to 5, each with another line of the client's copy);
    empty for any other format."""
    if creative_format(ad) != "carousel":
        return ()
    copy = ad.client.copy
    start = next((i for i, (headline, _) in enumerate(copy) if headline == ad.headline), 0)
    count = 3 + int(_unit(ad.creative_id + "/cards") * 3)
    return tuple(
        Card(*copy[(start + n) % len(copy)], landing_url=f"{ad.landing_url}&card={n + 1}")
        for n in range(count)
    )


def video_length(ad: Ad, revision: int = 0) -> float:
    """Seconds (to the millisecond) of the ad's video at ``revision``: 6 to 60."""
    return round(6 + 54 * _unit(f"{ad.creative_id}/length/{revision}"), 3)


def revision(ad: Ad, day: date) -> int:
    """How many times the advertiser has replaced the ad's pictures by ``day``: for about a
    quarter of the ads with pictures once every ``REVISION_DAYS`` days from ``WORLD_START``,
    for the others never (0)."""
    if asset_kind(ad) == "none" or _unit(ad.creative_id + "/upload") >= 0.25:
        return 0
    return max(0, (day - WORLD_START).days) // REVISION_DAYS


def asset_url(request: Request, ad: Ad) -> str | None:
    """The absolute URL of ``ad``'s picture as of the sandbox clock: a video's poster, a
    carousel's first card, or None for a text ad."""
    fmt = creative_format(ad)
    if fmt == "text":
        return None
    part = {"video": "poster", "carousel": "card1"}.get(fmt)
    return _url(request, ad, part)


def poster_url(request: Request, ad: Ad) -> str | None:
    """The URL of a video ad's poster frame (None for other formats)."""
    return _url(request, ad, "poster") if creative_format(ad) == "video" else None


def card_urls(request: Request, ad: Ad) -> list[str]:
    """The URLs of a carousel's card pictures, in card order."""
    return [_url(request, ad, f"card{n}") for n in range(1, len(cards(ad)) + 1)]


def _url(request: Request, ad: Ad, part: str | None) -> str:
    state: SandboxState = request.app.state.sandbox
    name = _file_name(ad, part, revision(ad, state.now().date()))
    return f"{request.url.scheme}://{request.url.netloc}/cdn/{name}"


def _file_name(ad: Ad, part: str | None, rev: int) -> str:
    stem = ad.creative_id + (f"-{part}" if part else "") + (f"-r{rev}" if rev else "")
    return f"{stem}.{_extension(ad)}"


def _extension(ad: Ad) -> str:
    return "jpg" if ad.account.source == "x" else "png"


def _parts(ad: Ad) -> set[str | None]:
    """The pictures the CDN holds for ``ad`` (None: the plain picture)."""
    fmt = creative_format(ad)
    if fmt == "video":
        return {"poster"}
    if fmt == "carousel":
        return {f"card{n}" for n in range(1, len(cards(ad)) + 1)}
    return {None}


def routes() -> list[Route]:
    return [Route("/{name}", _serve)]


async def _serve(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    state.requests["cdn"] += 1
    match = _NAME.fullmatch(request.path_params["name"])
    ad = state.world.ad_by_creative(match["id"]) if match else None
    if ad is None or asset_kind(ad) in ("none", "missing"):
        return _not_found()
    part, rev = match["part"], int(match["rev"] or 0)
    uploaded = (match["rev"] is None or rev > 0) and rev <= revision(ad, state.now().date())
    if part not in _parts(ad) or match["ext"] != _extension(ad) or not uploaded:
        return _not_found()
    media = "image/jpeg" if match["ext"] == "jpg" else "image/png"
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(image_bytes(ad, part, rev), media_type=media, headers=headers)


def _not_found() -> Response:
    return Response("Not Found", status_code=404, media_type="text/plain")


def image_bytes(ad: Ad, part: str | None = None, rev: int = 0) -> bytes:
    """The encoded picture ``part`` (None, "poster" or "card<N>") of ``ad`` at revision
    ``rev``: PNG, JPEG on X, a decompression bomb for the one that is meant to be."""
    if asset_kind(ad) == "bomb":
        return _bomb()
    kind = "JPEG" if ad.account.source == "x" else "PNG"
    if part and part.startswith("card"):
        number = int(part.removeprefix("card"))
        card = cards(ad)[number - 1]
        label = f"{number}/{len(cards(ad))}"
        return _render(card.headline, ad.client.slug, *CARD_SIZE, rev, kind, label=label)
    size = size_of(ad)
    return _render(ad.headline, ad.client.slug, *size, rev, kind, play=part == "poster")


@lru_cache(maxsize=512)
def _render(
    headline: str,
    client: str,
    width: int,
    height: int,
    rev: int,
    kind: str,
    *,
    label: str = "",
    play: bool = False,
) -> bytes:
    """The drawing: it depends on what a viewer sees (copy, client, shape, revision, card
    number), never on an id, so the same ad copy on two platforms looks the same."""
    background, accent = _COLOURS.get(client, ((40, 40, 40), (200, 120, 40)))
    number = int(label.split("/")[0]) if label else 1
    if label:  # a card: its own accent and, like a new upload, its own layout
        accent = _CARD_ACCENTS[(number - 1) % len(_CARD_ACCENTS)]
    if rev:  # a new upload: another shade, the band moved (bottom, top, left), a version label
        background = _lighter(background, 0.15 * (1 + (rev - 1) % 3))
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    layout, band = (rev + number - 1) % 3, height // 5
    bands = ((0, height - band, width, height), (0, 0, width, band), (0, 0, width // 4, height))
    draw.rectangle(bands[layout], fill=accent)
    font = ImageFont.load_default(size=max(24, width // 22))
    left = width // 14 + (width // 4 if layout == 2 else 0)
    top = height // 4 + (band // 2 if layout == 1 else 0)
    draw.multiline_text((left, top), _wrap(headline, 26), font=font, fill="white")
    small = ImageFont.load_default(size=max(20, width // 14))
    if label:
        draw.text((width - width // 4, height // 14), label, font=small, fill="white")
    if rev:
        draw.text((width // 14, height // 14), f"v{rev + 1}", font=small, fill="white")
    if play:
        _play_button(draw, width, height)
    out = io.BytesIO()
    options = {"quality": 85} if kind == "JPEG" else {}
    image.save(out, format=kind, **options)
    return out.getvalue()


def _lighter(colour: tuple[int, int, int], share: float) -> tuple[int, int, int]:
    return tuple(round(c + (255 - c) * share) for c in colour)  # type: ignore[return-value]


def _play_button(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    """A dark disc with a white triangle in the middle: the look of a paused video."""
    cx, cy, r = width // 2, height // 2, min(width, height) // 8
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(20, 20, 20))
    s = r // 2
    draw.polygon([(cx - s // 2, cy - s), (cx - s // 2, cy + s), (cx + s, cy)], fill="white")


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
