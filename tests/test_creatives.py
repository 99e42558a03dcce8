import asyncio
import functools
import io
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from PIL import Image

from generator import pipeline, schema
from generator.config import load_clients
from generator.connectors import RetryPolicy, connector_class, get_connector
from generator.connectors.normalize import asset_key
from generator.creatives import (
    THUMBNAIL,
    AssetStore,
    ImageRejected,
    Limits,
    inspect,
    retrieve_assets,
    thumbnail,
)
from generator.lake import Lake
from generator.sandbox import DEMO_CREDENTIALS, DEMO_ENVIRONMENT, PLATFORMS, create_app
from generator.sandbox.catalog import CLIENTS


def png(width=120, height=60, mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), "teal").save(out, format="PNG")
    return out.getvalue()


def bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")
    return out.getvalue()


def creative(creative_id, url):
    return {
        "platform": "meta",
        "source": "meta",
        "account_id": "act_1",
        "creative_id": creative_id,
        "version": "v1",
        "format": "image",
        "asset_url": url,
        "first_seen": date(2026, 11, 1),
        "fetched_at": datetime(2026, 11, 1, tzinfo=UTC),
        "api_version": "v25.0",
    }


@functools.cache
def cdn_bodies() -> dict[str, bytes]:
    """The CDN's files, drawn once (the bomb alone takes a second to encode)."""
    return {
        "ok.png": png(),
        "again.png": png(),
        "bomb.png": bomb(),
        "text.png": b"<html>",
        "huge.png": b"x" * 100_000,
        "gif.png": _gif(),
    }


def cdn(request: httpx.Request) -> httpx.Response:
    name = request.url.path.rsplit("/", 1)[-1]
    bodies = cdn_bodies()
    if name == "down.png":
        raise httpx.ConnectError("refused", request=request)
    if name == "stream.png":  # no content-length: the size is only known while reading
        return httpx.Response(200, content=_chunks())
    if name not in bodies:
        return httpx.Response(404, text="Not Found")
    return httpx.Response(200, content=bodies[name], headers={"content-type": "image/png"})


async def _chunks():
    for _ in range(2):
        yield b"x" * 40_000


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, format="GIF")
    return out.getvalue()


async def test_assets_are_stored_by_hash_with_thumbnails(tmp_path):
    store = AssetStore(tmp_path)
    rows = [
        creative("1", "https://cdn.test/ok.png"),
        creative("2", "https://cdn.test/again.png"),
        creative("3", None),
        creative("4", "https://cdn.test/gone.png"),
        creative("5", "https://cdn.test/bomb.png"),
        creative("6", "javascript:alert(1)"),
        creative("7", "https://cdn.test/text.png"),
        creative("8", "https://cdn.test/huge.png"),
        creative("9", "https://cdn.test/down.png"),
        creative("10", "https://cdn.test/gif.png"),
        creative("11", "https://cdn.test/stream.png"),
    ]
    table = schema.from_rows(rows, schema.CREATIVES)
    async with httpx.AsyncClient(transport=httpx.MockTransport(cdn)) as http:
        out, notes = await retrieve_assets(table, store, http, Limits(max_bytes=65_536))
    result = {r["creative_id"]: r for r in out.to_pylist()}
    sha = result["1"]["asset_sha256"]
    assert sha == result["2"]["asset_sha256"] and len(sha) == 64  # same bytes, stored once
    assert (result["1"]["width"], result["1"]["height"]) == (120, 60)
    assert store.path(sha, ".png").read_bytes() == png()
    with Image.open(store.path(sha, THUMBNAIL)) as thumb:
        assert thumb.format == "WEBP"
    assert result["10"]["asset_sha256"] is not None
    for missing in ("3", "4", "5", "6", "7", "8", "9", "11"):
        assert result[missing]["asset_sha256"] is None
    text = "\n".join(notes)
    assert "creative 4: asset not available (HTTP 404)" in text
    assert "creative 5: image refused" in text and "creative 6: asset URL is not http(s)" in text
    assert "creative 7: image refused (not a readable image" in text
    assert "creative 8: image refused (100,000 bytes is more than 65,536)" in text
    assert "creative 11: image refused (more than 65,536 bytes)" in text
    assert "creative 5: image refused (the image has far too many pixels" in text
    assert "creative 9: asset could not be downloaded (ConnectError)" in text
    names = [p.name for p in tmp_path.rglob("*") if p.is_file() and p.name != "missing.json"]
    assert all(n.startswith(sha[:8]) or n[:64].isalnum() for n in names)  # never from an ID


def test_inspect_and_thumbnail_limits():
    assert inspect(png(), max_pixels=10_000).suffix == ".png"
    with pytest.raises(ImageRejected, match="more than 100 pixels"):
        inspect(png(), max_pixels=100)
    with pytest.raises(ImageRejected, match="decompression bomb"):
        inspect(bomb(), max_pixels=10**9)
    small = thumbnail(png(2000, 1000, "RGBA"), max_side=100, max_pixels=10**7)
    with Image.open(io.BytesIO(small)) as image:
        assert max(image.size) == 100
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="BMP")
    with pytest.raises(ImageRejected, match="format BMP is not accepted"):
        inspect(out.getvalue(), max_pixels=100)


def test_store_paths_come_from_hashes_only(tmp_path):
    store = AssetStore(tmp_path)
    with pytest.raises(ValueError, match="not a stored asset name"):
        store.path("../../etc/passwd", ".png")
    with pytest.raises(ValueError):
        store.path("a" * 64, "/../x")
    sha = store.put(b"abc", ".png")
    assert store.put(b"abc", ".png") == sha and store.has(sha, ".png")


# -- versions (issue 13): the content and copy of a creative, never where its image is served


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://cdn.test/img/a.png", "/img/a.png"),
        ("http://127.0.0.1:41913/cdn/a.png", "/cdn/a.png"),
        ("https://scontent.xx.fbcdn.net/v/a.jpg?stp=dst&oh=00_sig&oe=6790", "/v/a.jpg"),
        ("HTTPS://CDN.test/a.png#frag", "/a.png"),
        ("urn:li:image:C4D10AQF", "urn:li:image:C4D10AQF"),  # an id, not a URL: kept
        ("http://[::1/broken", "http://[::1/broken"),
        (None, None),
        ("", ""),
    ],
)
def test_an_asset_counts_by_its_path_not_its_host_port_or_query(url, key):
    assert asset_key(url) == key


SANDBOX_NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
WITH_CREATIVES = [p for p in PLATFORMS if connector_class(p).has_creatives]


async def versions_from(app, platform: str, root: str) -> dict[tuple[str, str], tuple]:
    """(account, creative) -> (version, asset_url) of every account of ``platform``, fetched
    from the sandbox as if it listened at ``root``."""
    accounts = [a.account_id for c in CLIENTS for a in c.accounts if a.source == platform]
    connector = get_connector(
        platform,
        DEMO_CREDENTIALS[platform],
        base_url=f"{root}/{platform}",
        transport=httpx.ASGITransport(app),
    )
    found = {}
    async with connector:
        for account in accounts:
            for row in (await connector.fetch_creatives(account)).to_pylist():
                found[account, row["creative_id"]] = (row["version"], row["asset_url"])
    return found


@pytest.mark.parametrize("platform", WITH_CREATIVES)
async def test_a_sandbox_on_another_port_gives_every_creative_its_version_again(world, platform):
    """The sandbox's images are served from its own host and port, as a CDN's are from
    whichever edge answers: moving it changes every image URL and no version."""
    app = create_app(world, now=SANDBOX_NOW)
    first = await versions_from(app, platform, "http://127.0.0.1:41913")
    again = await versions_from(app, platform, "http://127.0.0.1:52004")
    assert first and first.keys() == again.keys()
    assert {k: v[0] for k, v in first.items()} == {k: v[0] for k, v in again.items()}
    moved = [k for k in first if first[k][1] and first[k][1] != again[k][1]]
    assert moved or not any(v[1] for v in first.values())  # the URLs did change


def test_two_syncs_against_sandboxes_on_different_ports_leave_the_versions_unchanged(
    world, content, tmp_path
):
    """What the issue saw: each sync against a sandbox on a new random port added versions."""
    lake = Lake(tmp_path / "lake")
    app = create_app(world, now=SANDBOX_NOW)
    clients = [  # the accounts with creatives (analytics and file accounts have none)
        c.model_copy(update={"accounts": [a for a in c.accounts if a.platform in WITH_CREATIVES]})
        for c in load_clients(content)
    ]

    def sync(root: str):
        outcome = asyncio.run(
            pipeline.sync(
                clients,
                lake,
                start=SANDBOX_NOW.date() - timedelta(days=1),
                env=DEMO_ENVIRONMENT,
                now=SANDBOX_NOW,
                policy=RetryPolicy(base=0.005, cap=0.02, rate_limit_wait=60),
                endpoints={name: f"{root}/{name}" for name in PLATFORMS},
                transport=httpx.ASGITransport(app),
            )
        )
        assert {o.status for o in outcome} == {"ok"}, [o.message for o in outcome]
        return lake.query(
            "SELECT platform, account_id, creative_id, version, asset_url FROM creatives "
            "ORDER BY ALL"
        ).to_pylist()

    def versions(rows):
        return [{k: v for k, v in r.items() if k != "asset_url"} for r in rows]

    first = sync("http://127.0.0.1:41913")
    assert any(":41913/" in (r["asset_url"] or "") for r in first)  # the port is in the URLs
    assert {r["platform"] for r in first} >= {"google_ads", "x", "pinterest", "amazon_ads"}
    second = sync("http://127.0.0.1:52004")
    assert versions(second) == versions(first)  # no new version, none lost
