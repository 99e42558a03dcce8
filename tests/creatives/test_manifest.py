"""A manifest per stored asset, with the URL stripped of what makes it a credential (issue 16)."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from PIL import Image

from generator import schema
from generator.creatives import AssetStore, clean_url, retrieve_assets

from .test_scrub import creative

SECRETS = ("sig", "Signature", "token", "00_Af", "6790AB12", "AKIA", "SECRETKEY", "APKA")


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        (  # Meta's CDN: oh is the signature, oe the expiry, _nc_* session and cache keys
            "https://scontent-iad3-1.xx.fbcdn.net/v/t45.1600-4/1234_n.jpg?stp=dst-jpg_s600x600"
            "&_nc_cat=1&ccb=1-7&_nc_sid=5ca315&_nc_ohc=AbCdEf&_nc_ht=scontent-iad3-1.xx"
            "&oh=00_AfB1sigsig&oe=6790AB12",
            "https://scontent-iad3-1.xx.fbcdn.net/v/t45.1600-4/1234_n.jpg"
            "?stp=dst-jpg_s600x600&ccb=1-7",
        ),
        (  # Google Ads images and a signed Google Cloud Storage URL (V4)
            "https://tpc.googlesyndication.com/simgad/12345678901234567890",
            "https://tpc.googlesyndication.com/simgad/12345678901234567890",
        ),
        (
            "https://storage.googleapis.com/ads-bucket/img.png?X-Goog-Algorithm=GOOG4-RSA-SHA256"
            "&X-Goog-Credential=svc%40proj.iam.gserviceaccount.com%2F20261124%2Fauto"
            "&X-Goog-Date=20261124T120000Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host"
            "&X-Goog-Signature=0a1b2csig",
            "https://storage.googleapis.com/ads-bucket/img.png",
        ),
        (  # the older signed GCS form
            "https://storage.googleapis.com/b/o.jpg?GoogleAccessId=svc%40p.iam&Expires=1795000000"
            "&Signature=AbC%2Bsig%3D",
            "https://storage.googleapis.com/b/o.jpg",
        ),
        (  # TikTok's CDN
            "https://p16-sign-va.tiktokcdn.com/tos-maliva-p-0068/abc~tplv-noop.image"
            "?dr=10399&nonce=12345&refresh_token=token-abc&x-expires=1795000000"
            "&x-signature=AbCsig%3D&idc=maliva&ps=13740610&shcp=81f88b70&shp=a5d48078&t=4d5b0474",
            "https://p16-sign-va.tiktokcdn.com/tos-maliva-p-0068/abc~tplv-noop.image"
            "?dr=10399&idc=maliva&ps=13740610&shcp=81f88b70&shp=a5d48078",
        ),
        (  # an S3 presigned URL (SigV4, with a session token)
            "https://ads-assets.s3.us-east-1.amazonaws.com/creatives/a.png"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261124"
            "&X-Amz-Date=20261124T120000Z&X-Amz-Expires=3600&X-Amz-Security-Token=FwoGZXsig"
            "&X-Amz-SignedHeaders=host&X-Amz-Signature=deadbeefsig&response-content-type=image%2Fpng",
            "https://ads-assets.s3.us-east-1.amazonaws.com/creatives/a.png"
            "?response-content-type=image%2Fpng",
        ),
        (  # S3's older form
            "https://bucket.s3.amazonaws.com/a.jpg?AWSAccessKeyId=AKIAEXAMPLE&Expires=1795000000"
            "&Signature=SECRETKEYsig",
            "https://bucket.s3.amazonaws.com/a.jpg",
        ),
        (  # CloudFront signed: canned and custom policy
            "https://d111111abcdef8.cloudfront.net/images/a.jpg?Expires=1795000000"
            "&Signature=nitfHRCrtziwO2HwPfWw~yYDhUF5EwRunQA-j19DzZrvDh6hQ73lDx~sig"
            "&Key-Pair-Id=APKA9ONS7QCOWEXAMPLE",
            "https://d111111abcdef8.cloudfront.net/images/a.jpg",
        ),
        (
            "https://d111111abcdef8.cloudfront.net/b.png?Policy=eyJTdGF0ZW1lbnQiOlt7&w=600"
            "&Signature=sig&Key-Pair-Id=APKA9ONS7QCOWEXAMPLE",
            "https://d111111abcdef8.cloudfront.net/b.png?w=600",
        ),
        (  # LinkedIn's media: e expires, t is a token
            "https://media.licdn.com/dms/image/C4D10AQF/ads_image/0/1?e=1795000000&v=beta"
            "&t=AbCtoken",
            "https://media.licdn.com/dms/image/C4D10AQF/ads_image/0/1?v=beta",
        ),
        (  # tokens by name, an API key, user info and a fragment carrying a token
            "https://user:SECRETKEY@cdn.example.com:8443/a.png?access_token=EAAtoken&api_key=k"
            "&apiKey=k2&sig=1&size=large#access_token=EAAtoken",
            "https://cdn.example.com:8443/a.png?size=large",
        ),
        (  # an Azure shared access signature
            "https://acct.blob.core.windows.net/c/a.png?sv=2024-11-04&ss=b&srt=o&sp=r"
            "&se=2026-12-01T00:00:00Z&st=2026-11-24T00:00:00Z&spr=https&sig=AbCsig%3D",
            "https://acct.blob.core.windows.net/c/a.png",
        ),
        ("urn:li:digitalmediaAsset:C4D10AQF?token=x", "urn:li:digitalmediaAsset:C4D10AQF"),
        ("http://[::1/broken?token=x", "http://[::1/broken"),
        (None, None),
    ],
)
def test_a_url_keeps_where_the_asset_is_and_loses_what_opens_it(url, kept):
    cleaned = clean_url(url)
    assert cleaned == kept
    query = (cleaned or "").partition("?")[2]
    for secret in SECRETS:
        assert secret not in query


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), colour).save(out, format="PNG")
    return out.getvalue()


BODIES = {"/red.png": png("red"), "/blue.png": png("blue")}


def cdn(request: httpx.Request) -> httpx.Response:
    if request.url.path not in BODIES:
        return httpx.Response(404)
    return httpx.Response(200, content=BODIES[request.url.path])


async def retrieve(store: AssetStore, rows: list[dict], rights: str | None = None):
    async with httpx.AsyncClient(transport=httpx.MockTransport(cdn)) as http:
        table = schema.from_rows(rows, schema.CREATIVES)
        return await retrieve_assets(table, store, http, rights=rights)


async def test_each_asset_has_a_manifest_naming_every_ad_that_shows_it(tmp_path):
    store = AssetStore(tmp_path)
    signed = "https://cdn.test/red.png?X-Amz-Signature=abcsig&X-Amz-Expires=60&w=600#t=1"
    rows = [
        creative("c1", signed, ad_id="ad1"),
        creative("c2", "https://cdn.test/red.png?oh=00_sig&oe=6790", ad_id="ad2"),
        creative("c3", "https://cdn.test/blue.png", ad_id="ad3", account_id="act_2"),
    ]
    table, notes = await retrieve(store, rows, rights="Licensed from Acme until 2027-06")
    assert notes == []
    shas = {r["creative_id"]: r["asset_sha256"] for r in table.to_pylist()}
    assert shas["c1"] == shas["c2"] != shas["c3"]
    manifest = json.loads(store.path(shas["c1"], ".json").read_text())
    assert manifest["sha256"] == shas["c1"] and manifest["bytes"] == len(BODIES["/red.png"])
    assert (manifest["width"], manifest["height"], manifest["format"]) == (30, 20, "PNG")
    assert manifest["rights"] == "Licensed from Acme until 2027-06"
    assert manifest["metadata"] == "stripped"
    assert [
        (s["platform"], s["account_id"], s["ad_id"], s["creative_id"], s["url"])
        for s in manifest["sources"]
    ] == [
        ("meta", "act_1", "ad1", "c1", "https://cdn.test/red.png?w=600"),
        ("meta", "act_1", "ad2", "c2", "https://cdn.test/red.png"),
    ]
    assert manifest["sources"][0]["fetched_at"] == "2026-11-01T09:00:00+00:00"
    text = store.path(shas["c1"], ".json").read_text()
    assert "sig" not in text and "6790" not in text
    # seen again: the same entries, not more
    await retrieve(store, rows[:1], rights=None)
    again = json.loads(store.path(shas["c1"], ".json").read_text())
    assert len(again["sources"]) == 2 and again["rights"] is None


async def test_why_an_image_is_missing_is_kept_per_account_until_it_is_stored(tmp_path):
    store = AssetStore(tmp_path)
    rows = [
        creative("c1", "https://cdn.test/gone.png", ad_id="ad1"),
        creative("c2", "ftp://cdn.test/red.png"),  # no ad: known by its creative id
        creative("c3", "https://cdn.test/blue.png", ad_id="ad3"),
        creative("c4", "https://cdn.test/gone.png", account_id="act_2", ad_id="ad4"),
    ]
    await retrieve(store, rows)
    assert store.missing() == {
        "meta": {
            "act_1": {"ad1": "asset not available (HTTP 404)", "c2": "asset URL is not http(s); "
                      "skipped"},
            "act_2": {"ad4": "asset not available (HTTP 404)"},
        }
    }  # fmt: skip
    BODIES["/gone.png"] = png("green")
    try:
        await retrieve(store, rows[:2])  # act_1 again: ad1's image is there now
    finally:
        del BODIES["/gone.png"]
    assert store.missing()["meta"] == {
        "act_1": {"c2": "asset URL is not http(s); skipped"},
        "act_2": {"ad4": "asset not available (HTTP 404)"},
    }
