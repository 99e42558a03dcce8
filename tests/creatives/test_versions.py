"""Creatives' versions over time, and one image behind several creatives (known answers)."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw

import generator.creatives
from generator.creatives import features, history, reuse_groups, versions
from generator.errors import ReportError

D = date(2026, 10, 1)


def row(creative_id: str, version: str, first: int, last: int | None = None, **extra) -> dict:
    """A creatives row first seen on day ``first`` of October (last on ``last``)."""
    return {
        "platform": "facebook",
        "source": "meta",
        "account_id": "act_1",
        "creative_id": creative_id,
        "version": version,
        "ad_id": None,
        "format": "image",
        "headline": "Winter sale",
        "body": "Everything -20 %",
        "call_to_action": "SHOP_NOW",
        "landing_url": "https://shop.test/sale",
        "asset_sha256": "a" * 64,
        "phash": None,
        "width": 1200,
        "height": 628,
        "cards": None,
        "first_seen": date(2026, 10, first),
        "last_seen": None if last is None else date(2026, 10, last),
        **extra,
    }


def cards(*shas: str | None, headline: str = "Card") -> list[dict]:
    return [
        {"headline": headline, "body": None, "landing_url": "https://shop.test/c",
         "asset_url": "https://cdn.test/c.png", "asset_sha256": sha}
        for sha in shas
    ]  # fmt: skip


# -- history -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "changed"),
    [
        ({"headline": "Winter SALE"}, "headline"),
        ({"asset_sha256": "b" * 64}, "image"),
        ({"asset_sha256": "b" * 64, "body": "Now -30 %"}, "image, body"),
        ({"call_to_action": "LEARN_MORE", "landing_url": "https://shop.test/x"},
         "call to action, landing page"),
        ({"asset_sha256": None}, "other"),  # not downloaded this time: no known change
        ({"asset_sha256": None, "phash": "ffff000000000000"}, "other"),
        ({"display_url": "shop.test/sale"}, "other"),  # a change the page does not show
        ({"headline": None}, "headline"),  # removed
        ({"cards": cards("c" * 64)}, "cards"),
    ],
)  # fmt: skip
def test_what_changed_from_one_version_to_the_next(edit, changed):
    frame = pd.DataFrame([row("c1", "v1", 1), row("c1", "v2", 5, **edit)])
    out = history(frame)
    assert list(out["version_number"]) == [1, 2]
    assert list(out["changed"]) == ["first", changed]


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        (cards("c" * 64, "d" * 64), cards("c" * 64, "d" * 64), "other"),
        (cards("c" * 64, "d" * 64), cards("c" * 64, None), "other"),  # one not downloaded
        (cards("c" * 64, "d" * 64), cards("c" * 64, "e" * 64), "cards"),
        (cards("c" * 64, "d" * 64), cards("c" * 64), "cards"),
        (cards("c" * 64), cards("c" * 64, headline="New"), "cards"),
        (np.array(cards("c" * 64), dtype=object), cards("c" * 64), "other"),  # as Arrow reads it
    ],
)
def test_cards_compare_by_their_copy_and_image(before, after, changed):
    frame = pd.DataFrame([row("c1", "v1", 1, cards=before), row("c1", "v2", 5, cards=after)])
    assert history(frame)["changed"].iloc[1] == changed


def test_versions_are_numbered_per_creative_by_when_they_were_first_seen():
    rows = [
        row("c2", "z", 3, headline="B"),
        row("c1", "late", 9, headline="third"),
        row("c1", "tie-b", 2, 8, headline="second"),
        row("c1", "tie-a", 2, 4, headline="first"),  # same first day, last seen earlier
        row("c1", "late", 12, 15, headline="third"),  # seen again from another file
        row("c2", "y", 3, account_id="act_2", ad_id="ad9"),  # another account's c2
        row("c2", "x", 1, platform="instagram"),
    ]
    frame = pd.DataFrame(rows)
    before = frame.copy(deep=True)
    out = history(frame)
    pd.testing.assert_frame_equal(frame, before)  # the input is never changed
    assert list(out.columns[:9]) == [
        "platform", "account_id", "creative_id", "ad_id", "version", "version_number",
        "first_seen", "last_seen", "changed",
    ]  # fmt: skip
    assert {"headline", "body", "asset_sha256", "format", "width", "height"} <= set(out.columns)
    got = out[["platform", "account_id", "creative_id", "ad_id", "version", "version_number"]]
    assert got.to_records(index=False).tolist() == [
        ("facebook", "act_1", "c1", "c1", "tie-a", 1),
        ("facebook", "act_1", "c1", "c1", "tie-b", 2),
        ("facebook", "act_1", "c1", "c1", "late", 3),
        ("facebook", "act_1", "c2", "c2", "z", 1),
        ("facebook", "act_2", "c2", "ad9", "y", 1),
        ("instagram", "act_1", "c2", "c2", "x", 1),
    ]
    assert list(out["changed"][:3]) == ["first", "headline", "headline"]
    late = out.iloc[2]
    assert (late["first_seen"], late["last_seen"]) == (date(2026, 10, 9), date(2026, 10, 15))
    assert out.iloc[3]["last_seen"] == date(2026, 10, 3)  # null: when first seen


def test_no_creatives_give_an_empty_history_and_bad_input_a_clear_error():
    empty = pd.DataFrame(columns=["platform", "account_id", "creative_id", "version", "first_seen"])
    assert history(empty).empty and "changed" in history(empty).columns
    with pytest.raises(ReportError, match=r"lacks column\(s\) \['first_seen'\]"):
        history(pd.DataFrame([row("c1", "v1", 1)]).drop(columns="first_seen"))
    with pytest.raises(ReportError, match="nulls in"):
        history(pd.DataFrame([row("c1", None, 1)]))
    with pytest.raises(ReportError, match="must be a pandas DataFrame"):
        history([row("c1", "v1", 1)])


# -- reuse: hand-made hashes ---------------------------------------------------------------

BASE = 0x0F0F_3C3C_A5A5_9669


def flipped(bits: int, *positions: int) -> str:
    """``bits`` with the bits at ``positions`` flipped, as a phash string."""
    for p in positions:
        bits ^= 1 << int(p)
    return f"{bits:016x}"


def hashed(creative_id: str, phash: str | None, version: str = "v1", **extra) -> dict:
    return row(creative_id, version, 1, phash=phash, **extra)


def test_hashes_within_the_distance_group_and_those_beyond_do_not():
    rows = [
        hashed("a", flipped(BASE)),
        hashed("b", flipped(BASE, 0, 9, 18, 27, 36, 45)),  # 6 bits from a: the same image
        hashed("c", flipped(BASE, 1, 2, 3, 4, 5, 6, 7)),  # 7 from a, 13 from b: another
        hashed("d", flipped(~BASE & (2**64 - 1))),  # everything different
        hashed("e", None),  # no hash: left out
    ]
    out = reuse_groups(pd.DataFrame(rows))
    assert list(out["creative_id"]) == ["a", "b"]
    smallest = min(flipped(BASE), flipped(BASE, 0, 9, 18, 27, 36, 45))
    assert set(out["image_group"]) == {"img-" + hashlib.sha256(smallest.encode()).hexdigest()[:8]}
    assert list(out["group_size"]) == [2, 2]
    assert list(out.columns) == [
        "platform", "account_id", "creative_id", "version", "ad_id", "phash", "image_group",
        "group_size",
    ]  # fmt: skip
    assert reuse_groups(pd.DataFrame(rows), max_distance=7)["creative_id"].tolist() == [
        "a", "b", "c",
    ]  # fmt: skip
    assert reuse_groups(pd.DataFrame(rows), max_distance=5).empty


def test_groups_are_single_linkage_chains():
    a, b, c = flipped(BASE), flipped(BASE, 0, 1, 2, 3), flipped(BASE, 0, 1, 2, 3, 4, 5, 6, 7)
    out = reuse_groups(pd.DataFrame([hashed("a", a), hashed("b", b), hashed("c", c)]), 4)
    assert out["image_group"].nunique() == 1 and list(out["group_size"]) == [3, 3, 3]  # a-c: 8


def test_a_creative_s_own_versions_are_no_reuse_but_count_once_in_a_group():
    same = flipped(BASE)
    alone = [hashed("a", same, "v1"), hashed("a", same, "v2")]
    assert reuse_groups(pd.DataFrame(alone)).empty
    across = [
        *alone,
        hashed("a", same, account_id="act_2", ad_id="ad7"),  # another account's "a"
        hashed("a", same.upper(), platform="linkedin"),  # and another platform's
    ]
    out = reuse_groups(pd.DataFrame(across))
    got = out[["platform", "account_id", "version", "ad_id"]].to_records(index=False).tolist()
    assert got == [
        ("facebook", "act_1", "v1", "a"),
        ("facebook", "act_1", "v2", "a"),
        ("facebook", "act_2", "v1", "ad7"),
        ("linkedin", "act_1", "v1", "a"),
    ]
    assert set(out["group_size"]) == {3} and set(out["phash"]) == {same}


def test_the_groups_do_not_depend_on_the_order_of_the_rows():
    rng = np.random.default_rng(7)
    bases = [int(b) for b in rng.integers(0, 2**63, size=40, dtype=np.int64)]
    rows = [
        hashed(f"c{i}-{j}", flipped(base, *rng.choice(64, size=j, replace=False)))
        for i, base in enumerate(bases)
        for j in range(3)
    ]
    frame = pd.DataFrame(rows)
    first = reuse_groups(frame)
    again = reuse_groups(frame.sample(frac=1, random_state=3))
    pd.testing.assert_frame_equal(first, again)
    bases_in_group = first.groupby("image_group")["creative_id"].apply(
        lambda ids: ids.str.split("-").str[0].nunique()
    )
    assert len(bases_in_group) == 40 and set(bases_in_group) == {1}  # one per drawn base


def test_a_bad_hash_or_distance_is_a_clear_error():
    with pytest.raises(ReportError, match="creative a has phash 'xyz'"):
        reuse_groups(pd.DataFrame([hashed("a", "xyz")]))
    with pytest.raises(ReportError, match="between 0 and 64"):
        reuse_groups(pd.DataFrame([hashed("a", flipped(BASE))]), max_distance=65)
    with pytest.raises(ReportError, match="lacks column"):
        reuse_groups(pd.DataFrame([row("a", "v1", 1)]).drop(columns="phash"))
    assert reuse_groups(pd.DataFrame([hashed("a", None)])).empty


# -- reuse: real images --------------------------------------------------------------------


def poster(width: int = 1200, height: int = 628) -> Image.Image:
    """A banner: a diagonal gradient, a sun, a mountain and bars where the text would be."""
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    rgb = np.stack([40 + 150 * x + 0 * y, 90 + 120 * y + 0 * x, 200 - 120 * x + 0 * y], axis=2)
    image = Image.fromarray(rgb.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse([width * 0.65, height * 0.1, width * 0.85, height * 0.48], fill=(250, 200, 40))
    draw.polygon(
        [(0, height), (width * 0.35, height * 0.3), (width * 0.7, height)], fill=(60, 50, 45)
    )
    for i in range(5):
        top = height * (0.08 + i * 0.07)
        draw.rectangle(
            [width * 0.05, top, width * (0.3 + 0.04 * i), top + height * 0.04], fill="white"
        )
    return image


def sale(width: int = 1200, height: int = 628) -> Image.Image:
    """Another banner: red, with stripes, a navy disc and a white box."""
    image = Image.new("RGB", (width, height), (230, 30, 60))
    draw = ImageDraw.Draw(image)
    for i in range(8):
        draw.rectangle(
            [i * width // 8, height // 2, i * width // 8 + width // 16, height],
            fill=(255, 240, 220),
        )
    draw.ellipse([width * 0.1, height * 0.05, width * 0.4, height * 0.6], fill=(20, 20, 120))
    draw.rectangle([width * 0.55, height * 0.1, width * 0.95, height * 0.3], fill="white")
    return image


def phash(image: Image.Image, kind: str, **options) -> str:
    out = io.BytesIO()
    image.save(out, format=kind, **options)
    return features(out.getvalue(), max_pixels=10**8).phash


def test_one_drawing_as_png_jpeg_and_smaller_is_one_image_and_another_drawing_is_not():
    small = poster().resize((600, 314), Image.Resampling.LANCZOS)
    rows = [
        hashed("png", phash(poster(), "PNG")),
        hashed("jpeg", phash(poster(), "JPEG", quality=75), platform="instagram"),
        hashed("small", phash(small, "JPEG", quality=85), account_id="act_2"),
        hashed("redrawn", phash(poster(1080, 565), "PNG"), platform="linkedin"),
        hashed("sale", phash(sale(), "PNG")),
        hashed("sale-jpeg", phash(sale(), "JPEG", quality=60)),
    ]
    out = reuse_groups(pd.DataFrame(rows))
    groups = out.groupby("image_group")["creative_id"].apply(sorted).tolist()
    assert sorted(groups) == [["jpeg", "png", "redrawn", "small"], ["sale", "sale-jpeg"]]


def test_the_package_names_what_it_offers():
    assert sorted(generator.creatives.__all__) == sorted([
        "THUMBNAIL", "AssetStore", "Examined", "ImageFeatures", "ImageInfo", "ImageRejected",
        "Limits", "Pruned", "StoredAsset", "clean_url", "examine", "features", "history",
        "inspect", "last_ran", "prune", "retrieve_assets", "reuse_groups", "shown_by",
        "strip_metadata", "thumbnail",
    ])  # fmt: skip


def test_bits_are_counted_the_same_without_numpy_2_s_bitwise_count(monkeypatch):
    rng = np.random.default_rng(11)
    words = rng.integers(0, 2**63, size=(3, 50), dtype=np.int64).astype(np.uint64)
    expected = [[bin(int(w)).count("1") for w in line] for line in words]
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    assert versions._bit_count(words).tolist() == expected
