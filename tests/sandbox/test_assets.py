import io
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import httpx
import imagehash
import pytest
from PIL import Image
from starlette.datastructures import URL

from generator.sandbox import create_app
from generator.sandbox.assets import (
    CARD_SIZE,
    REVISION_DAYS,
    asset_kind,
    asset_url,
    card_urls,
    cards,
    creative_format,
    image_bytes,
    poster_url,
    revision,
    size_of,
    video_length,
)
from generator.sandbox.world import WORLD_START

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.fixture
def kinds(world):
    found = {}
    for ad in world.ads:
        found.setdefault(asset_kind(ad), []).append(ad)
    return found


def client(world, now=NOW):
    app = create_app(world, now=now)
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sbx")


class _Request:
    """What ``asset_url`` reads of a request: its URL and the app's sandbox clock."""

    def __init__(self, app) -> None:
        self.app, self.url = app, URL("http://sbx/")


def picture(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    return Image.open(io.BytesIO(response.content))


def plain(ads):
    return next(ad for ad in ads if creative_format(ad) == "image" and ad.account.source != "x")


async def test_images_missing_images_and_a_bomb(world, kinds):
    assert {"none", "image", "missing", "bomb"} <= set(kinds)
    assert all(ad.campaign.objective == "search" for ad in kinds["none"])
    ad, gone = plain(kinds["image"]), kinds["missing"][0]
    app, http = client(world)
    async with http as c:
        image = await c.get(asset_url(_Request(app), ad))
        missing = await c.get(asset_url(_Request(app), gone))
        text_ad = await c.get(f"/cdn/{kinds['none'][0].creative_id}.png")
        unknown = await c.get("/cdn/nope.png")
        bomb = await c.get(f"/cdn/{kinds['bomb'][0].creative_id}.png")
    assert image.headers["content-type"] == "image/png"
    assert picture(image).size == size_of(ad)
    assert missing.status_code == text_ad.status_code == unknown.status_code == 404
    assert len(bomb.content) < 200_000
    with pytest.raises(Image.DecompressionBombError):  # Pillow's own guard trips on it
        Image.open(io.BytesIO(bomb.content))


def test_formats_meta_carousels_videos_and_stories(world):
    meta = [ad for ad in world.ads if ad.account.source == "meta" and asset_kind(ad) != "none"]
    formats = Counter(creative_format(ad) for ad in meta)
    assert set(formats) == {"image", "carousel", "video"}
    assert (
        0.1 < formats["carousel"] / len(meta) < 0.35 and 0.1 < formats["video"] / len(meta) < 0.35
    )
    assert {size_of(ad) for ad in meta} == {(1200, 628), (1080, 1920)}  # feed and story shapes
    tiktok = {creative_format(ad) for ad in world.ads if ad.account.source == "tiktok"}
    assert tiktok == {"video", "image"}
    assert {creative_format(ad) for ad in world.ads if ad.campaign.objective == "search"} == {
        "text"
    }
    others = {creative_format(a) for a in world.ads if a.account.source not in ("meta", "tiktok")}
    assert others <= {"image", "text"}
    carousel = next(ad for ad in meta if creative_format(ad) == "carousel")
    found = cards(carousel)
    assert 3 <= len(found) <= 5 and len({c.headline for c in found}) > 1
    assert [c.landing_url.rsplit("=", 1)[1] for c in found] == [
        str(n) for n in range(1, len(found) + 1)
    ]
    assert cards(next(ad for ad in meta if creative_format(ad) == "image")) == ()
    video = next(ad for ad in meta if creative_format(ad) == "video")
    assert 6 <= video_length(video) <= 60 and video_length(video) == round(video_length(video), 3)
    assert video_length(video, 1) != video_length(video)


def test_revisions_change_every_28_days_for_a_quarter_of_the_ads(world):
    pictured = [ad for ad in world.ads if asset_kind(ad) != "none"]
    later = WORLD_START + timedelta(days=10 * REVISION_DAYS)
    revising = [ad for ad in pictured if revision(ad, later)]
    assert 0.15 < len(revising) / len(pictured) < 0.35
    ad = revising[0]
    steps = [WORLD_START + timedelta(days=d) for d in (0, 27, 28, 55, 56, 280)]
    assert [revision(ad, day) for day in steps] == [0, 0, 1, 1, 2, 10]
    assert revision(ad, date(2025, 1, 1)) == 0  # before the world began
    still = next(a for a in pictured if a not in revising)
    assert revision(still, later) == 0
    search = next(a for a in world.ads if asset_kind(a) == "none")
    assert revision(search, later) == 0


async def test_a_revision_is_a_new_url_that_the_clock_brings(world):
    ad = next(
        a
        for a in world.ads
        if revision(a, NOW.date()) and creative_format(a) == "image" and asset_kind(a) == "image"
    )
    early = datetime.combine(WORLD_START + timedelta(days=3), datetime.min.time(), UTC)
    app, http = client(world, now=early)
    first = asset_url(_Request(app), ad)
    assert first == f"http://sbx/cdn/{ad.creative_id}.png"
    async with http as c:
        before = await c.get(first)
        app.state.sandbox.now = lambda: early + timedelta(days=REVISION_DAYS)
        second = asset_url(_Request(app), ad)
        after = await c.get(second)
        old_again = await c.get(first)  # an earlier upload stays on the CDN
        future = await c.get(f"/cdn/{ad.creative_id}-r2.png")  # not uploaded yet
        explicit_zero = await c.get(f"/cdn/{ad.creative_id}-r0.png")
    assert second == f"http://sbx/cdn/{ad.creative_id}-r1.png"
    one, two = picture(before), picture(after)
    assert one.size == two.size == size_of(ad)
    assert imagehash.phash(one) - imagehash.phash(two) > 10  # a different picture, visibly
    assert one.getpixel((one.width // 2, one.height // 2)) != two.getpixel(
        (two.width // 2, two.height // 2)
    )
    assert old_again.content == before.content
    assert future.status_code == explicit_zero.status_code == 404
    still = next(a for a in world.ads if asset_kind(a) == "image" and not revision(a, NOW.date()))
    assert asset_url(_Request(app), still).endswith(f"/{still.creative_id}.png")


async def test_posters_and_carousel_cards(world):
    meta = world.ads_of("meta", "act_1029384756") + world.ads_of("meta", "act_2039485761")
    video = next(a for a in meta if creative_format(a) == "video" and asset_kind(a) == "image")
    carousel = next(
        a for a in meta if creative_format(a) == "carousel" and asset_kind(a) == "image"
    )
    app, http = client(world)
    request = _Request(app)
    poster, urls = poster_url(request, video), card_urls(request, carousel)
    assert asset_url(request, video) == poster and "-poster" in poster
    assert asset_url(request, carousel) == urls[0] and len(urls) == len(cards(carousel))
    assert poster_url(request, carousel) is None and card_urls(request, video) == []
    async with http as c:
        frame = picture(await c.get(poster))
        shown = [picture(await c.get(url)) for url in urls]
        beyond = await c.get(urls[0].replace("-card1", f"-card{len(urls) + 1}"))
        no_plain = await c.get(f"/cdn/{video.creative_id}.png")  # a video has only its poster
        no_poster = await c.get(f"/cdn/{carousel.creative_id}-poster.png")
    assert frame.size == size_of(video)
    centre = frame.convert("RGB").getpixel((frame.width // 2, frame.height // 2))
    assert centre == (255, 255, 255)  # the play triangle
    assert {card.size for card in shown} == {CARD_SIZE}
    hashes = [imagehash.phash(card) for card in shown]
    assert all(a - b > 10 for a, b in pairwise(hashes))
    accents = {card.convert("RGB").getpixel((5, 5)) for card in shown}
    assert len(accents) > 1  # each card its own accent
    assert beyond.status_code == no_plain.status_code == no_poster.status_code == 404


async def test_x_serves_the_same_pictures_as_jpeg(world):
    x_ad, twin = next(
        (x, other)
        for x in world.ads
        if x.account.source == "x" and asset_kind(x) == "image"
        for other in world.ads
        if other.account.source not in ("x", "meta", "tiktok")
        and other.client is x.client
        and other.headline == x.headline
        and size_of(other) == size_of(x)
        and asset_kind(other) == "image"
    )
    app, http = client(world)
    url = asset_url(_Request(app), x_ad)
    assert url.endswith(".jpg")
    async with http as c:
        jpeg = await c.get(url)
        as_png = await c.get(url.replace(".jpg", ".png"))
    assert jpeg.headers["content-type"] == "image/jpeg" and as_png.status_code == 404
    png = image_bytes(twin, None, revision(x_ad, NOW.date()))  # the same upload elsewhere
    seen, other = picture(jpeg), Image.open(io.BytesIO(png))
    assert (seen.format, other.format) == ("JPEG", "PNG")
    assert jpeg.content != png
    assert imagehash.phash(seen) - imagehash.phash(other) <= 4  # the same picture to the eye
