import hashlib
import json
from datetime import date

import httpx
import pytest

from generator.connectors import get_connector
from generator.connectors.google_ads import API_VERSION
from generator.errors import (
    ApiVersionRetired,
    AuthFailed,
    ConnectorError,
    PlatformUnavailable,
    ResponseInvalid,
)

from .conftest import Replay, fixture

CREDENTIALS = {
    "developer_token": "dev-token-123456",
    "client_id": "client-id.apps.googleusercontent.com",
    "client_secret": "client-secret-abcdef",
    "refresh_token": "1//refresh-token-xyz",
    "login_customer_id": "999-000-1111",
}
STREAM = f"/{API_VERSION}/customers/1234567890/googleAds:searchStream"


def connector(replay: Replay, **options):
    c = get_connector(
        "google_ads",
        CREDENTIALS,
        base_url="https://ads.test",
        transport=replay.transport,
        **options,
    )
    c.api._sleep = _sleep
    return c


async def _sleep(seconds):
    _sleep.calls.append(seconds)


_sleep.calls = []


def error(status: int, name: str) -> httpx.Response:
    return httpx.Response(status, json=fixture("google_ads", name))


async def test_performance_request_and_normalisation():
    replay = Replay(
        {
            "/token": [fixture("google_ads", "token.json")],
            STREAM: [fixture("google_ads", "search_stream_performance.json")],
        }
    )
    async with connector(replay) as c:
        table = await c.fetch_performance("123-456-7890", date(2026, 10, 1), date(2026, 10, 2))
    token_request, search = replay.requests
    assert token_request.url.path == "/token"
    form = dict(httpx.QueryParams(token_request.content.decode()))
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": CREDENTIALS["refresh_token"],
        "client_id": CREDENTIALS["client_id"],
        "client_secret": CREDENTIALS["client_secret"],
    }
    assert search.url.path == STREAM
    assert search.headers["authorization"] == "Bearer ya29.a0AfB_test-access-token"
    assert search.headers["developer-token"] == CREDENTIALS["developer_token"]
    assert search.headers["login-customer-id"] == "9990001111"
    query = json.loads(search.content)["query"]
    assert "FROM ad_group_ad" in query
    assert "segments.date BETWEEN '2026-10-01' AND '2026-10-02'" in query
    assert "metrics.cost_micros" in query
    rows = table.to_pylist()
    assert len(rows) == 3
    first, omitted, second_batch = rows
    assert first["spend_micros"] == 52_730_000
    assert first["value_micros"] == 412_300_000
    assert first["conversions"] == 3.5
    assert first["currency"] == "EUR" and first["account_timezone"] == "Europe/Berlin"
    assert first["account_id"] == "123-456-7890" and first["platform"] == "google_ads"
    assert first["ad_name"] == "RSA <b>1</b>"
    assert (omitted["clicks"], omitted["conversions"], omitted["value_micros"]) == (0, 0.0, 0)
    assert omitted["ad_name"] is None
    assert second_batch["date"] == date(2026, 10, 2)
    assert {r["api_version"] for r in rows} == {API_VERSION}


async def test_unnamed_campaigns_and_ad_groups_keep_their_numbers_under_their_ids():
    # proto3 omits an empty campaign name; the ad group's comes back ""; the ad is nameless
    replay = Replay(
        {
            "/token": [fixture("google_ads", "token.json")],
            STREAM: [fixture("google_ads", "search_stream_unnamed.json")],
        }
    )
    async with connector(replay) as c:
        table = await c.fetch("ad_performance", "1234567890", date(2026, 10, 1), date(2026, 10, 1))
        unresolved = c.unresolved_in("1234567890").as_dict()
    named, unnamed = sorted(table.to_pylist(), key=lambda r: r["ad_id"])
    assert (unnamed["impressions"], unnamed["clicks"], unnamed["spend_micros"]) == (
        345,
        12,
        9_990_000,
    )
    assert (unnamed["conversions"], unnamed["value_micros"]) == (1.0, 80_000_000)
    assert (unnamed["campaign_id"], unnamed["campaign_name"]) == ("20009", "20009")
    assert (unnamed["ad_group_id"], unnamed["ad_group_name"]) == ("30009", "30009")
    assert unnamed["ad_name"] is None  # a nameless ad is normal, not a missing entity
    assert (named["campaign_name"], named["ad_group_name"]) == ("Suche — Marke", "Kern")
    assert (named["impressions"], named["spend_micros"]) == (1204, 52_730_000)
    assert unresolved == {"campaign": ["20009"], "ad_group": ["30009"]}


async def test_actions_map_categories_to_canonical_types():
    replay = Replay(
        {
            "/token": [fixture("google_ads", "token.json")],
            STREAM: [fixture("google_ads", "search_stream_actions.json")],
        }
    )
    async with connector(replay) as c:
        table = await c.fetch_actions("1234567890", date(2026, 10, 1), date(2026, 10, 1))
    rows = {r["action_type"]: r for r in table.to_pylist()}
    assert set(rows) == {"purchase", "add_to_cart", "other"}
    assert rows["purchase"]["count"] == 3.5 and rows["purchase"]["value_micros"] == 412_300_000
    assert rows["add_to_cart"]["value_micros"] == 0
    assert {r["attribution_window"] for r in rows.values()} == {"default"}
    assert (
        "segments.conversion_action_category" in json.loads(replay.to(STREAM)[0].content)["query"]
    )


async def test_creatives_carry_copy_images_and_a_content_version():
    replay = Replay(
        {
            "/token": [fixture("google_ads", "token.json")],
            STREAM: [
                fixture("google_ads", "search_stream_creatives.json"),
                fixture("google_ads", "search_stream_image_assets.json"),
            ],
        }
    )
    async with connector(replay) as c:
        rows = (await c.fetch_creatives("1234567890")).to_pylist()
    search, display = rows
    assert search["headline"] == "Wetterfeste Jacken | Kostenloser Versand"
    assert search["body"] == "Jetzt <script>alert(1)</script> bestellen."
    assert search["landing_url"] == "https://acme.example/jackets"
    assert search["format"] == "text" and search["asset_url"] is None
    assert display["headline"] == "Winter sale" and display["name"] is None
    assert display["format"] == "image"
    assert display["asset_url"] == "https://tpc.googlesyndication.com/simgad/1234567890"
    assert (display["width"], display["height"]) == (1200, 628)
    assert len(search["version"]) == 16 and search["version"] != display["version"]
    assert search["display_url"] == "acme.example/Jacken/Winter" and display["display_url"] is None
    queries = [json.loads(r.content)["query"] for r in replay.to(STREAM)]
    assert "ad_group_ad.ad.responsive_search_ad.path1" in queries[0]
    assert "ad_group_ad.ad.responsive_search_ad.path2" in queries[0]
    assert "FROM asset" in queries[1]


async def creatives_of(edit) -> list[dict]:
    """The creatives of the recorded stream after ``edit(search_ad)`` changed its search ad."""
    creatives = fixture("google_ads", "search_stream_creatives.json")
    edit(creatives[0]["results"][0]["adGroupAd"]["ad"])
    replay = Replay(
        {
            "/token": [fixture("google_ads", "token.json")],
            STREAM: [creatives, fixture("google_ads", "search_stream_image_assets.json")],
        }
    )
    async with connector(replay) as c:
        return (await c.fetch_creatives("1234567890")).to_pylist()


def _final_url(url):
    def edit(ad):
        ad["finalUrls"] = [url]

    return edit


def _paths(*paths):
    def edit(ad):
        rsa = {k: v for k, v in ad["responsiveSearchAd"].items() if not k.startswith("path")}
        ad["responsiveSearchAd"] = rsa | dict(zip(("path1", "path2"), paths, strict=False))

    return edit


@pytest.mark.parametrize(
    ("edit", "shown"),
    [
        (_final_url("https://WWW.Acme.example:443/jackets?gclid=1"), "acme.example/Jacken/Winter"),
        (_final_url("https://shop.acme.example/"), "shop.acme.example/Jacken/Winter"),
        (_paths("Jacken"), "acme.example/Jacken"),
        (_paths(), "acme.example"),  # proto3 omits empty paths: the domain alone shows
        (lambda ad: ad.pop("finalUrls"), None),
        (_final_url("http://[::1"), None),  # malformed: no domain to show
    ],
)
async def test_a_search_ads_display_url_is_its_domain_and_paths(edit, shown):
    search, _ = await creatives_of(edit)
    assert search["display_url"] == shown


def _new_copy(ad):
    ad["responsiveSearchAd"]["descriptions"] = [{"text": "Jetzt bestellen — now 25% off"}]


def _new_headline(ad):
    ad["responsiveSearchAd"]["headlines"][0] = {"text": "Daunenjacken"}


@pytest.mark.parametrize(
    ("edit", "new_version"),
    [
        (lambda ad: None, False),
        (_new_copy, True),
        (_new_headline, True),
        (_paths("Jacken", "Sale"), False),  # the display URL is not part of the version
    ],
)
async def test_new_copy_makes_a_new_version_and_nothing_else_does(edit, new_version):
    before, display_before = await creatives_of(lambda ad: None)
    after, display_after = await creatives_of(edit)
    assert (after["version"] != before["version"]) == new_version
    assert display_after["version"] == display_before["version"]
    assert after["creative_id"] == before["creative_id"]


async def creative_versions(image_url: str, asset: str = "customers/1234567890/assets/555001"):
    """The creatives' versions when the image asset is ``asset``, served from ``image_url``."""
    images = fixture("google_ads", "search_stream_image_assets.json")
    images[0]["results"][0]["asset"]["imageAsset"]["fullSize"]["url"] = image_url
    creatives = fixture("google_ads", "search_stream_creatives.json")
    display = creatives[0]["results"][1]["adGroupAd"]["ad"]["responsiveDisplayAd"]
    display["marketingImages"][0]["asset"] = asset
    replay = Replay({"/token": [fixture("google_ads", "token.json")], STREAM: [creatives, images]})
    async with connector(replay) as c:
        rows = (await c.fetch_creatives("1234567890")).to_pylist()
    return [r["version"] for r in rows]


async def test_a_creative_version_ignores_the_image_urls_host_port_and_query():
    """The same image asset from another host, port or signed query is the same version; a
    different image asset, with the same copy, is a new one (issue 13)."""
    first_url = "https://tpc.googlesyndication.com/simgad/1234567890"
    first = await creative_versions(first_url)
    for moved in (
        "http://127.0.0.1:41913/cdn/1234567890",
        "http://127.0.0.1:52004/cdn/1234567890",
        "https://tpc.googlesyndication.com/simgad/1234567890?sig=abc&expires=1790000000",
    ):
        assert await creative_versions(moved) == first
    other = "customers/1234567890/assets/555002"  # the fixture's second image
    search, display = await creative_versions(first_url, asset=other)
    assert search == first[0] and display != first[1]


async def test_a_text_ads_version_is_the_one_already_stored():
    """Versioning images by asset changed nothing for text ads: their stored versions stay."""
    search, _ = await creative_versions("https://tpc.googlesyndication.com/simgad/1234567890")
    content = "\x1f".join(
        [
            "RSA <b>1</b>",
            "Wetterfeste Jacken | Kostenloser Versand",
            "Jetzt <script>alert(1)</script> bestellen.",
            str(["https://acme.example/jackets"]),
            "None",
        ]
    )
    assert search == hashlib.sha256(content.encode()).hexdigest()[:16]


async def test_account_info():
    replay = Replay(
        {
            "/token": [fixture("google_ads", "token.json")],
            STREAM: [fixture("google_ads", "customer.json")],
        }
    )
    async with connector(replay) as c:
        info = await c.account_info("1234567890")
    assert (info.currency, info.timezone, info.name) == ("EUR", "Europe/Berlin", "Acme GmbH")
    replay = Replay(
        {"/token": [fixture("google_ads", "token.json")], STREAM: [[{"requestId": "x"}]]}
    )
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match="returned no row"):
            await c.account_info("1234567890")


async def test_resource_exhausted_waits_the_retry_delay():
    _sleep.calls.clear()
    replay = Replay(
        {
            "/token": [fixture("google_ads", "token.json")],
            STREAM: [error(429, "resource_exhausted.json"), fixture("google_ads", "customer.json")],
        }
    )
    async with connector(replay) as c:
        info = await c.account_info("1234567890")
        assert c.api.stats.rate_limited == 1
    assert info.currency == "EUR"
    assert _sleep.calls == [3.0]


async def test_an_expired_token_is_refreshed_once():
    replay = Replay(
        {
            "/token": [fixture("google_ads", "token.json")],
            STREAM: [error(401, "unauthenticated.json"), fixture("google_ads", "customer.json")],
        }
    )
    async with connector(replay) as c:
        await c.account_info("1234567890")
    assert len(replay.to("/token")) == 2
    replay = Replay(
        {
            "/token": [fixture("google_ads", "token.json")],
            STREAM: [error(401, "unauthenticated.json")],
        }
    )
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="freshly issued access token"):
            await c.account_info("1234567890")


@pytest.mark.parametrize(
    ("status", "name", "error_type", "message"),
    [
        (
            400,
            "unsupported_version.json",
            ApiVersionRetired,
            "bump API_VERSION in generator/connectors/google_ads.py",
        ),
        (403, "permission_denied.json", AuthFailed, "set login_customer_id"),
        (401, "developer_token_invalid.json", AuthFailed, "developer token rejected"),
    ],
)
async def test_fatal_errors_say_how_to_fix_them(status, name, error_type, message):
    replay = Replay(
        {"/token": [fixture("google_ads", "token.json")], STREAM: [error(status, name)]}
    )
    async with connector(replay) as c:
        with pytest.raises(error_type, match=message) as err:
            await c.account_info("1234567890")
    assert err.value.platform == "google_ads"
    assert err.value.request == f"POST {STREAM}"
    assert len(replay.to(STREAM)) == 1


async def test_a_rejected_refresh_token():
    replay = Replay(
        {"/token": [httpx.Response(400, json=fixture("google_ads", "invalid_grant.json"))]}
    )
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="Token has been expired or revoked") as err:
            await c.account_info("1234567890")
    assert CREDENTIALS["refresh_token"] not in str(err.value)


async def test_a_malformed_body_is_retried_then_reported():
    _sleep.calls.clear()
    truncated = httpx.Response(200, content=b'[{"results": [{"campaign": ')
    replay = Replay(
        {
            "/token": [fixture("google_ads", "token.json")],
            STREAM: [truncated, fixture("google_ads", "customer.json")],
        }
    )
    async with connector(replay) as c:
        assert (await c.account_info("1234567890")).currency == "EUR"
    replay = Replay({"/token": [fixture("google_ads", "token.json")], STREAM: [{"not": "a list"}]})
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match="unreadable body"):
            await c.account_info("1234567890")


async def test_server_errors_are_retried_then_give_up():
    replay = Replay(
        {
            "/token": [fixture("google_ads", "token.json")],
            STREAM: [
                httpx.Response(503),
                httpx.Response(500),
                fixture("google_ads", "customer.json"),
            ],
        }
    )
    async with connector(replay) as c:
        await c.account_info("1234567890")
        assert c.api.stats.retries == 2
    replay = Replay(
        {"/token": [fixture("google_ads", "token.json")], STREAM: [httpx.Response(503)]}
    )
    async with connector(replay) as c:
        with pytest.raises(PlatformUnavailable, match="gave up after 7 failures"):
            await c.account_info("1234567890")


async def test_other_client_errors_fail_with_the_message():
    body = {
        "error": {
            "code": 400,
            "message": "Error in query: unexpected input FORM.",
            "status": "INVALID_ARGUMENT",
        }
    }
    replay = Replay(
        {"/token": [fixture("google_ads", "token.json")], STREAM: [httpx.Response(400, json=body)]}
    )
    async with connector(replay) as c:
        with pytest.raises(ConnectorError, match="unexpected input FORM"):
            await c.account_info("1234567890")


def test_unknown_platforms_and_missing_credentials():
    with pytest.raises(ConnectorError, match="no connector for 'myspace'"):
        get_connector("myspace", {})
    with pytest.raises(AuthFailed, match="credentials lack refresh_token"):
        get_connector("google_ads", {k: v for k, v in CREDENTIALS.items() if k != "refresh_token"})
