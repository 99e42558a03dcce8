import io

import httpx
import pytest
from PIL import Image

from generator.sandbox import create_app
from generator.sandbox.assets import asset_kind, size_of


@pytest.fixture
def kinds(world):
    found = {}
    for ad in world.ads:
        found.setdefault(asset_kind(ad), []).append(ad)
    return found


async def test_images_missing_images_and_a_bomb(world, kinds):
    assert {"none", "image", "missing", "bomb"} <= set(kinds)
    assert all(ad.campaign.objective == "search" for ad in kinds["none"])
    app = create_app(world)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sbx") as c:
        image = await c.get(f"/cdn/{kinds['image'][0].creative_id}.png")
        missing = await c.get(f"/cdn/{kinds['missing'][0].creative_id}.png")
        text_ad = await c.get(f"/cdn/{kinds['none'][0].creative_id}.png")
        unknown = await c.get("/cdn/nope.png")
        bomb = await c.get(f"/cdn/{kinds['bomb'][0].creative_id}.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    picture = Image.open(io.BytesIO(image.content))
    assert picture.size == size_of(kinds["image"][0])
    assert missing.status_code == text_ad.status_code == unknown.status_code == 404
    assert len(bomb.content) < 200_000
    with pytest.raises(Image.DecompressionBombError):  # Pillow's own guard trips on it
        Image.open(io.BytesIO(bomb.content))
