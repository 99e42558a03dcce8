"""Retrieval fills what an image looks like (phash, colours, size) and stores carousels'
card images."""

from __future__ import annotations

import json

import httpx
import pytest
from PIL import Image, ImageDraw

from generator import schema
from generator.creatives import THUMBNAIL, AssetStore, features, retrieve_assets
from generator.creatives import retrieve as retrieve_module

from .images import encode, png
from .test_scrub import creative

LIMIT = 10**8


def painted(colour: str, accent: str) -> bytes:
    """A 120x63 PNG: ``colour`` with a band of ``accent`` (a fifth of it), and metadata."""
    image = Image.new("RGB", (120, 63), colour)
    ImageDraw.Draw(image).rectangle([0, 0, 23, 62], fill=accent)
    return png(image=image)


BODIES = {
    "/banner.png": painted("#1f77b4", "#ff7f0e"),
    "/card1.png": painted("#d62728", "#ffffff"),
    "/card3.png": painted("#9467bd", "#000000"),
}


def card(number: int, url: str | None) -> dict:
    return {
        "headline": f"Card {number}",
        "body": None,
        "landing_url": f"https://shop.test/{number}",
        "asset_url": url,
        "asset_sha256": None,
    }


async def retrieve(store: AssetStore, rows: list[dict], handler=None):
    def cdn(request: httpx.Request) -> httpx.Response:
        body = BODIES.get(request.url.path)
        return httpx.Response(404) if body is None else httpx.Response(200, content=body)

    transport = httpx.MockTransport(handler or cdn)
    async with httpx.AsyncClient(transport=transport) as http:
        table = schema.from_rows(rows, schema.CREATIVES)
        return await retrieve_assets(table, store, http, rights="Ours")


def stored(store: AssetStore, sha: str) -> bytes:
    return store.path(sha, ".png").read_bytes()


async def test_a_stored_image_s_hash_colours_and_size_go_in_the_row_and_its_manifest(tmp_path):
    store = AssetStore(tmp_path)
    url = "https://cdn.test/banner.png?oh=00_sig&oe=6790"
    table, notes = await retrieve(store, [creative("c1", url, ad_id="ad1")])
    assert notes == []
    row = table.to_pylist()[0]
    clean = stored(store, row["asset_sha256"])
    assert row["asset_bytes"] == len(clean) < len(BODIES["/banner.png"])  # metadata gone
    assert row["phash"] == features(clean, max_pixels=LIMIT).phash
    assert row["colours"] == ["#1f77b4", "#ff7f0e"]
    assert (row["width"], row["height"]) == (120, 63)
    manifest = json.loads(store.path(row["asset_sha256"], ".json").read_text())
    assert {k: manifest[k] for k in ("bytes", "format", "width", "height", "phash", "colours")} == {
        "bytes": len(clean),
        "format": "PNG",
        "width": 120,
        "height": 63,
        "phash": row["phash"],
        "colours": ["#1f77b4", "#ff7f0e"],
    }
    assert [s["url"] for s in manifest["sources"]] == ["https://cdn.test/banner.png"]


async def test_carousel_cards_are_stored_and_a_missing_one_is_a_warning(tmp_path):
    store = AssetStore(tmp_path)
    cards = [
        card(1, "https://cdn.test/card1.png"),
        card(2, "https://cdn.test/card2.png"),  # not there
        card(3, "https://cdn.test/card3.png"),
        card(4, None),  # a card without an image
    ]
    rows = [
        creative("c1", "https://cdn.test/banner.png", ad_id="ad1", format="carousel", cards=cards)
    ]
    table, notes = await retrieve(store, rows)
    assert notes == ["meta creative c1 card 2: asset not available (HTTP 404)"]
    row = table.to_pylist()[0]
    assert row["asset_sha256"] is not None  # the creative's own image is there
    shas = [c["asset_sha256"] for c in row["cards"]]
    assert shas[1] is None and shas[3] is None
    assert stored(store, shas[0]) != stored(store, shas[2])
    for sha in (shas[0], shas[2]):
        assert store.has(sha, THUMBNAIL)
        manifest = store.manifest(sha)
        assert manifest["sources"][0]["creative_id"] == "c1" and manifest["rights"] == "Ours"
        assert manifest["phash"] == features(stored(store, sha), max_pixels=LIMIT).phash
    assert manifest["colours"] == ["#9467bd", "#000000"]
    assert [c["headline"] for c in row["cards"]] == ["Card 1", "Card 2", "Card 3", "Card 4"]
    assert store.missing() == {}  # the ad's own image is shown: nothing missing to explain
    assert schema.validate(table, schema.CREATIVES).equals(table)


async def test_a_row_stored_before_is_filled_from_its_manifest_without_a_download(tmp_path):
    store = AssetStore(tmp_path)
    first, _ = await retrieve(store, [creative("c1", "https://cdn.test/banner.png")])
    known = first.to_pylist()[0]
    bare = {"asset_sha256": known["asset_sha256"], "width": 120, "height": 63}
    rows = [
        creative("c1", "https://cdn.test/banner.png", **bare),
        creative("c2", "https://cdn.test/banner.png", **bare, phash="0" * 16),  # kept
        creative("c3", "https://cdn.test/x.png", asset_sha256="ab" * 32),  # no manifest
    ]

    def offline(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"downloaded {request.url}")

    table, notes = await retrieve(store, rows, offline)
    assert notes == []
    out = {r["creative_id"]: r for r in table.to_pylist()}
    for column in ("phash", "colours", "asset_bytes"):
        assert out["c1"][column] == known[column] is not None
        assert out["c3"][column] is None
    assert out["c2"]["phash"] == "0" * 16 and out["c2"]["colours"] == known["colours"]


async def test_an_image_examined_before_is_not_decoded_again(tmp_path, monkeypatch):
    calls = []
    real = retrieve_module.examine

    def counted(data, **options):
        calls.append(options["max_side"])
        return real(data, **options)

    monkeypatch.setattr(retrieve_module, "examine", counted)
    store = AssetStore(tmp_path)
    rows = [creative("c1", "https://cdn.test/banner.png")]
    first, _ = await retrieve(store, rows)
    again, _ = await retrieve(store, rows)
    assert calls == [640]  # once: thumbnail, hash and colours together
    assert again.to_pylist()[0]["phash"] == first.to_pylist()[0]["phash"]
    sha = first.to_pylist()[0]["asset_sha256"]
    store.put_manifest(sha, {**store.manifest(sha), "phash": None})  # as written before phashes
    await retrieve(store, rows)
    assert calls == [640, None]  # the thumbnail is there: features only
    assert store.manifest(sha)["phash"] == first.to_pylist()[0]["phash"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>", "image refused (not a readable image"),
        (encode(Image.new("RGB", (4, 4)), "BMP"), "image refused (image format BMP"),
    ],
)
async def test_a_card_s_refused_image_names_the_creative_and_card(tmp_path, body, reason):
    def cdn(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    rows = [creative("c9", None, cards=[card(1, "ftp://cdn.test/a"), card(2, "https://x/b")])]
    table, notes = await retrieve(AssetStore(tmp_path), rows, cdn)
    assert notes[0] == "meta creative c9 card 1: asset URL is not http(s); skipped"
    assert notes[1].startswith(f"meta creative c9 card 2: {reason}")
    assert [c["asset_sha256"] for c in table.to_pylist()[0]["cards"]] == [None, None]
