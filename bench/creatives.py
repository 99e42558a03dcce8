"""What 2,000 creatives cost: thumbnails at sync, and the site's build time and size.

Setup (cached in ``bench/out/creatives``, ``--fresh`` remakes it): two clients with the same
synthetic month of numbers for 2,000 ads (40 campaigns x 10 ad groups x 5 ads, October 2026
and September before it), copies of Northwind's client.yml under other slugs. ``gallery`` also
has a creative for every ad: images in five platform shapes, video posters, three-card
carousels and text search ads, with some images shared between ads and some ads with a second
version; ``bare`` has none. Its images are fetched through ``retrieve_assets`` (a mock
transport serves them) into its asset store: that is the thumbnail step a sync runs, timed.

Then each client's October site is built with ``campaign-report build`` in a fresh process,
timed from start to exit: the difference is what the creatives (gallery, tags, versions, A/B
test pages, fatigue) add. The gallery site's size is reported.

    uv run python bench/creatives.py [--ads 2000] [--runs 2] [--fresh]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
from PIL import Image, ImageDraw

from generator import schema
from generator.config import load_client
from generator.creatives import retrieve_assets
from generator.lake import Lake
from generator.periods import Period
from generator.pipeline.workspace import Workspace

ROOT = Path(__file__).resolve().parent / "out" / "creatives"
REPO = Path(__file__).resolve().parent.parent
SHAPES = [(1200, 628), (1080, 1920), (1080, 1080), (1000, 1500), (1080, 1350)]
FETCHED = datetime(2026, 11, 2, 6, tzinfo=UTC)
ACCOUNT = "act_777"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    if args.fresh:
        shutil.rmtree(ROOT, ignore_errors=True)
    content, out = ROOT / "content", ROOT / "build"
    if not (ROOT / "done").exists():
        shutil.rmtree(ROOT, ignore_errors=True)
        _content(content)
        seconds, images = _lake(out, args.ads)
        (ROOT / "done").write_text(f"{seconds:.2f} {images}\n")
        print(
            f"thumbnails: {images} images fetched, scrubbed, hashed and thumbnailed in "
            f"{seconds:.1f} s ({1000 * seconds / images:.1f} ms each, 8 at a time)"
        )
    common = ["--content", str(content), "--out", str(out), "--period", "2026-10"]
    with_, without = [], []
    for _ in range(args.runs):
        without.append(_timed([*common, "--client", "bare"]))
        with_.append(_timed([*common, "--client", "gallery"]))
        print(f"build without creatives {without[-1]:.1f} s, with {with_[-1]:.1f} s")
    site = out / "sites" / "gallery" / "2026-10"
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    pages = sum(1 for _ in site.rglob("*.html"))
    thumbs = len(list((site / "assets" / "creatives").glob("*.webp")))
    print(
        f"{args.ads} creatives add {min(with_) - min(without):.1f} s to the build "
        f"(best of {args.runs}: {min(without):.1f} s -> {min(with_):.1f} s); the site is "
        f"{size / 1e6:.1f} MB, {pages} pages, {thumbs} thumbnails"
    )


def _content(content: Path) -> None:
    shutil.copytree(REPO / "content", content)
    for slug in ("gallery", "bare"):
        shutil.copytree(content / "northwind", content / slug)
        path = content / slug / "client.yml"
        text = re.sub(r"^slug: .*$", f"slug: {slug}", path.read_text(), flags=re.M)
        path.write_text(text)


def _lake(out: Path, ads: int) -> tuple[float, int]:
    lake = Lake(out / "lake")
    period = Period.between(date(2026, 9, 1), date(2026, 10, 31))
    performance = _performance(ads, period)
    for slug in ("gallery", "bare"):
        lake.write_days("ad_performance", slug, "meta", ACCOUNT, period, performance)
        client = load_client(ROOT / "content" / slug)  # who it is, for the benchmarks
        lake.put_profile(slug, {"industry": client.industry, "region": client.region})
    rows, images = _creatives(ads)
    store = Workspace(content=ROOT / "content", out=out).assets_of("gallery")
    started = time.perf_counter()
    table, _ = asyncio.run(_retrieve(rows, images, store))
    seconds = time.perf_counter() - started
    lake.merge("creatives", "gallery", "meta", ACCOUNT, table)
    return seconds, len(images)


def _performance(ads: int, period: Period) -> pa.Table:
    rng = np.random.default_rng(16)
    days = [period.start + timedelta(days=i) for i in range((period.end - period.start).days + 1)]
    ids = np.arange(ads)
    impressions = rng.integers(200, 4000, (len(days), ads))
    ctr = 0.01 * np.exp(rng.normal(0, 0.3, ads))
    fade = np.linspace(1.0, 0.6, len(days))[:, None] ** (ids % 7 == 0)  # some ads tire
    clicks = rng.binomial(impressions, np.minimum(ctr * fade, 0.5))
    conversions = rng.binomial(clicks, 0.05).astype(float)
    n = len(days) * ads
    flat = np.repeat(ids[None, :], len(days), axis=0).ravel()
    columns = {
        "date": np.repeat(np.array(days, dtype="datetime64[D]"), ads),
        "campaign_id": [f"c{i // 50}" for i in flat],
        "campaign_name": [f"Campaign {i // 50}" for i in flat],
        "ad_group_id": [f"g{i // 5}" for i in flat],
        "ad_group_name": [f"Ad group {i // 5}" for i in flat],
        "ad_id": [f"a{i}" for i in flat],
        "ad_name": [f"Ad {i}" for i in flat],
        "creative_id": [f"cr{i}" for i in flat],
        "impressions": impressions.ravel(),
        "clicks": clicks.ravel(),
        "spend_micros": impressions.ravel() * 6_000,
        "conversions": conversions.ravel(),
        "value_micros": (conversions.ravel() * 80_000_000).astype(np.int64),
    }
    constants = {
        "platform": "facebook", "source": "meta", "account_id": ACCOUNT,
        "account_timezone": "UTC", "currency": "USD", "account_name": "Bench",
        "fetched_at": FETCHED, "api_version": "v27.0",
    }  # fmt: skip
    return schema.from_columns(columns, schema.AD_PERFORMANCE, n, constants)


def _creatives(ads: int) -> tuple[pa.Table, dict[str, bytes]]:
    """Creatives for ``ads`` ads: 1 in 10 a text ad, 1 in 10 a video poster, 1 in 10 a
    carousel of three cards, the rest images; every 20th ad reuses its neighbour's picture
    and every 25th has a second version."""
    rows, images = [], {}
    for i in range(ads):
        kind = ("text", "video", "carousel")[i % 10] if i % 10 < 3 else "image"
        picture = i - 1 if i % 20 == 19 else i
        row = {
            "platform": "facebook", "source": "meta", "account_id": ACCOUNT,
            "creative_id": f"cr{i}", "version": "v1", "ad_id": f"a{i}", "name": f"Ad {i}",
            "format": kind, "headline": f"Spring sale {i}: {i % 40}% off" if i % 3 else
            f"New arrivals, ad {i}", "body": "Free returns on every order. " * (1 + i % 4),
            "call_to_action": "SHOP_NOW", "landing_url": f"https://shop.example/p/{i}",
            "first_seen": date(2026, 9, 1), "last_seen": date(2026, 10, 31),
            "fetched_at": FETCHED, "api_version": "v27.0",
        }  # fmt: skip
        if kind == "text":
            row["display_url"] = "shop.example/spring"
        else:
            url = f"https://cdn.example/{picture}.jpg"
            images[url] = _image(picture)
            row["asset_url"] = url
        if kind == "video":
            row["duration_ms"] = 6_000 + 1_000 * (i % 40)
        if kind == "carousel":
            row["cards"] = []
            for card in range(3):
                url = f"https://cdn.example/{i}-card{card}.jpg"
                images[url] = _image(i * 10 + card + 100_000)
                row["cards"].append({"headline": f"Card {card + 1}", "asset_url": url})
        rows.append(row)
        if i % 25 == 24:
            later = {**row, "version": "v2", "first_seen": date(2026, 10, 15)}
            later["headline"] = f"{row['headline']} (new)"
            rows.append(later)
    return schema.from_rows(rows, schema.CREATIVES), images


def _image(seed: int) -> bytes:
    width, height = SHAPES[seed % len(SHAPES)]
    rng = np.random.default_rng(seed)
    colour = tuple(int(c) for c in rng.integers(0, 255, 3))
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 4 // 5, width, height), fill=(240, 240, 240))
    draw.ellipse((width // 4, height // 4, width // 2, height // 2), fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


async def _retrieve(rows: pa.Table, images: dict[str, bytes], store):
    def serve(request: httpx.Request) -> httpx.Response:
        body = images.get(str(request.url))
        if body is None:
            return httpx.Response(404)
        return httpx.Response(200, content=body, headers={"content-type": "image/jpeg"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as http:
        return await retrieve_assets(rows, store, http)


def _timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "generator.cli", "build", *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
