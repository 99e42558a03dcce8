from datetime import UTC, datetime, time, timedelta

import httpx
import pytest

from generator.sandbox import DEMO_CREDENTIALS, Faults, create_app
from generator.sandbox.google_ads import GOOGLE_MANAGER_ID
from generator.sandbox.world import COPY_PERIOD_DAYS, WORLD_START

CREDS = DEMO_CREDENTIALS["google_ads"]
QUERY = (
    "SELECT segments.date, campaign.id, ad_group_ad.ad.id, metrics.impressions, "
    "metrics.cost_micros FROM ad_group_ad WHERE segments.date BETWEEN '2026-10-01' "
    "AND '2026-10-02'"
)


@pytest.fixture
def http(world):
    def make(faults=None):
        app = create_app(world, faults, now=datetime(2026, 11, 24, 12, tzinfo=UTC))
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://sbx/google_ads"
        )

    return make


async def token(client):
    form = {
        "grant_type": "refresh_token",
        "client_id": CREDS["client_id"],
        "client_secret": CREDS["client_secret"],
        "refresh_token": CREDS["refresh_token"],
    }
    response = await client.post("/token", data=form)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def headers(access, **extra):
    return {
        "authorization": f"Bearer {access}",
        "developer-token": CREDS["developer_token"],
        "login-customer-id": GOOGLE_MANAGER_ID,
        **extra,
    }


async def search(client, access, query=QUERY, version="v25", customer="4829103756", **extra):
    return await client.post(
        f"/{version}/customers/{customer}/googleAds:searchStream",
        json={"query": query},
        headers=headers(access, **extra),
    )


async def test_search_stream_answers_in_googles_shape(http, world):
    async with http() as client:
        access = await token(client)
        response = await search(client, access)
    batches = response.json()
    assert response.status_code == 200 and isinstance(batches, list)
    rows = [r for b in batches for r in b["results"]]
    truth = [
        r
        for r in world.performance.to_pylist()
        if r["account_id"] == "4829103756" and r["date"].isoformat() in ("2026-10-01", "2026-10-02")
    ]
    assert len(rows) == len(truth)
    assert sum(int(r["metrics"]["costMicros"]) for r in rows) == sum(
        t["spend_micros"] for t in truth
    )
    assert rows[0]["campaign"]["resourceName"].startswith("customers/4829103756/campaigns/")
    assert batches[0]["fieldMask"].startswith("segments.date,campaign.id")


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        (
            {"grant_type": "refresh_token", "client_id": "x", "client_secret": "y"},
            401,
            "invalid_client",
        ),
        (
            {
                "grant_type": "refresh_token",
                "client_id": CREDS["client_id"],
                "client_secret": CREDS["client_secret"],
                "refresh_token": "stolen",
            },
            400,
            "invalid_grant",
        ),
    ],
)
async def test_token_endpoint_rejections(http, form, status, error):
    async with http() as client:
        response = await client.post("/token", data=form)
    assert response.status_code == status and response.json()["error"] == error


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"version": "v21"}, 400, "UNSUPPORTED_VERSION"),
        ({"version": "v99"}, 404, "was not found"),
        ({"customer": "1"}, 400, "INVALID_CUSTOMER_ID"),
        ({"login-customer-id": "123"}, 403, "USER_PERMISSION_DENIED"),
        ({"developer-token": "bad"}, 401, "DEVELOPER_TOKEN_INVALID"),
        ({"query": "SELECT campaign.id FROM campaign"}, 400, "not served"),
        ({"query": "SELECT metrics.nonsense FROM ad_group_ad"}, 400, "Unrecognized field"),
        ({"query": "DELETE everything"}, 400, "expected SELECT"),
        ({"query": "SELECT metrics.clicks FROM ad_group_ad"}, 400, "finite segments.date"),
        (
            {"query": "SELECT ad_group_ad.ad.id FROM ad_group_ad WHERE campaign.name = 'x'"},
            400,
            "not supported",
        ),
    ],
)
async def test_errors_in_googles_shape(http, change, status, needle):
    async with http() as client:
        access = await token(client)
        kwargs = {k: v for k, v in change.items() if k in ("version", "customer", "query")}
        extra = {k: v for k, v in change.items() if k not in kwargs}
        response = await search(client, access, **kwargs, **extra)
    assert response.status_code == status
    assert needle in response.text
    assert "error" in response.json()


async def test_an_expired_token_is_rejected(http):
    async with http(Faults(token_ttl=0)) as client:
        access = await token(client)
        response = await search(client, access)
    assert response.status_code == 401 and response.json()["error"]["status"] == "UNAUTHENTICATED"


async def test_rate_limit_and_outage_and_truncation(http):
    async with http(Faults(rate_limit=0.001)) as client:
        access = await token(client)
        statuses = [(await search(client, access)).status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]
    async with http(Faults(outage={"google_ads"})) as client:
        response = await search(client, await token(client))
    assert response.status_code == 503
    async with http(Faults(truncate_rate=1.0)) as client:
        response = await search(client, await token(client))
    with pytest.raises(ValueError):
        response.json()


async def test_entity_and_customer_queries(http):
    async with http() as client:
        access = await token(client)
        ads = await search(
            client,
            access,
            "SELECT ad_group_ad.ad.id, ad_group_ad.ad.type, "
            "ad_group_ad.ad.responsive_search_ad.headlines FROM ad_group_ad",
        )
        customer = await search(
            client,
            access,
            "SELECT customer.currency_code, customer.time_zone FROM customer",
            customer="5930214867",
        )
        bad = await search(client, access, "SELECT customer.nope FROM customer")
        summed = await search(
            client,
            access,
            "SELECT ad_group_ad.ad.id, metrics.clicks FROM "
            "ad_group_ad WHERE segments.date >= '2026-10-01' AND "
            "segments.date <= '2026-10-31' AND metrics.impressions > 0",
        )
        root = await client.get("http://sbx/")
    rows = ads.json()[0]["results"]
    assert {r["adGroupAd"]["ad"]["type"] for r in rows} == {
        "RESPONSIVE_SEARCH_AD",
        "RESPONSIVE_DISPLAY_AD",
    }
    assert customer.json()[0]["results"][0]["customer"] == {
        "currencyCode": "EUR",
        "timeZone": "Europe/Berlin",
        "resourceName": "customers/5930214867",
    }
    assert bad.status_code == 400
    ids = [r["adGroupAd"]["ad"]["id"] for r in summed.json()[0]["results"]]
    assert len(ids) == len(set(ids))
    assert root.json()["requests"]["google_ads"] == 4


async def test_display_ads_reference_image_assets(http):
    async with http() as client:
        access = await token(client)
        ads = await search(
            client,
            access,
            "SELECT ad_group_ad.ad.id, ad_group_ad.ad.responsive_display_ad.marketing_images "
            "FROM ad_group_ad",
        )
        assets = await search(
            client,
            access,
            "SELECT asset.resource_name, asset.image_asset.full_size.url, "
            "asset.image_asset.full_size.width_pixels FROM asset WHERE asset.type = 'IMAGE'",
        )
        bad = await search(client, access, "SELECT asset.nope FROM asset")
    referenced = {
        image["asset"]
        for row in ads.json()[0]["results"]
        for image in row["adGroupAd"]["ad"]
        .get("responsiveDisplayAd", {})
        .get("marketingImages", [])
    }
    listed = {
        r["asset"]["resourceName"]: r["asset"]["imageAsset"] for r in assets.json()[0]["results"]
    }
    assert referenced and referenced == set(listed)
    first = next(iter(listed.values()))["fullSize"]
    assert first["url"].startswith("http://sbx/cdn/") and first["widthPixels"] == "1200"
    assert bad.status_code == 400


CREATIVE_QUERY = (
    "SELECT ad_group_ad.ad.id, ad_group_ad.ad.type, ad_group_ad.ad.final_urls, "
    "ad_group_ad.ad.responsive_search_ad.headlines, "
    "ad_group_ad.ad.responsive_search_ad.descriptions, "
    "ad_group_ad.ad.responsive_search_ad.path1, ad_group_ad.ad.responsive_search_ad.path2, "
    "ad_group_ad.ad.responsive_display_ad.headlines FROM ad_group_ad"
)


async def ads_on(world, now: datetime, customer: str = "4829103756") -> dict[str, dict]:
    """The account's ads, by id, as searchStream answers CREATIVE_QUERY at ``now``."""
    app = create_app(world, None, now=now)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sbx/google_ads") as c:
        response = await search(c, await token(c), CREATIVE_QUERY, customer=customer)
    assert response.status_code == 200, response.text
    rows = [r["adGroupAd"]["ad"] for b in response.json() for r in b["results"]]
    return {r["id"]: r for r in rows}


async def test_search_ads_carry_display_paths_and_the_copy_of_the_sandboxs_day(world):
    boundary = WORLD_START + timedelta(days=18 * COPY_PERIOD_DAYS)  # a period starts
    after = datetime.combine(boundary, time(12), UTC)
    old = await ads_on(world, after - timedelta(days=1))
    new = await ads_on(world, after)
    assert set(old) == set(new)
    changed = set()
    for ad_id, served in new.items():
        ad = world.ad(ad_id)
        if ad.campaign.objective != "search":
            assert "responsiveSearchAd" not in served
            assert served["responsiveDisplayAd"]["headlines"] == [{"text": ad.headline}]
            continue
        rsa, path1, path2 = served["responsiveSearchAd"], *ad.display_paths
        headline, body = ad.copy_on(boundary)
        assert rsa == {
            "headlines": [{"text": headline}],
            "descriptions": [{"text": body}],
            "path1": path1,
            "path2": path2,
        }
        assert served["finalUrls"] == [ad.landing_url] == old[ad_id]["finalUrls"]
        assert ad.display_url == f"northwindoutfitters.com/{path1}/{path2}"
        if rsa != old[ad_id]["responsiveSearchAd"]:
            changed.add(ad_id)
    assert changed and changed == {a for a in new if world.ad(a).rewrites_copy}
    paths = {
        (r["responsiveSearchAd"]["path1"], r["responsiveSearchAd"]["path2"])
        for r in new.values()
        if "responsiveSearchAd" in r
    }
    assert ("Jackets", "Sale") in paths
