"""The LinkedIn emulation answers in LinkedIn's shapes, with its errors, paging and limits."""

from collections import Counter
from datetime import UTC, date, datetime

import httpx
import pytest

from generator.sandbox import DEMO_CREDENTIALS, DEMO_ENVIRONMENT, Faults, create_app
from generator.sandbox import linkedin as sandbox
from generator.sandbox.linkedin import parse_query

CREDS = DEMO_CREDENTIALS["linkedin"]
ACCOUNT = "508765432"
URN = f"urn%3Ali%3AsponsoredAccount%3A{ACCOUNT}"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
OCTOBER = "dateRange=(start:(year:2026,month:10,day:1),end:(year:2026,month:10,day:31))"


@pytest.fixture
def http(world):
    def make(faults=None):
        app = create_app(world, faults, now=NOW)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sbx/linkedin")

    return make


def form(**changes):
    return {
        "grant_type": "refresh_token",
        "client_id": CREDS["client_id"],
        "client_secret": CREDS["client_secret"],
        "refresh_token": CREDS["refresh_token"],
        **changes,
    }


async def grant(client, **changes) -> httpx.Response:
    return await client.post("/oauth/v2/accessToken", data=form(**changes))


async def token(client) -> str:
    response = await grant(client)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def headers(access, **extra):
    return {
        "Authorization": f"Bearer {access}",
        "LinkedIn-Version": "202609",
        "X-Restli-Protocol-Version": "2.0.0",
        **extra,
    }


async def get(client, access, path, query="", **extra) -> httpx.Response:
    return await client.get(
        f"/rest/{path}{'?' + query if query else ''}", headers=headers(access, **extra)
    )


def analytics(pivot="(value:CREATIVE)", fields="impressions,clicks,costInLocalCurrency", **more):
    parts = {
        "q": "analytics",
        "pivot": pivot,
        "timeGranularity": "(value:DAILY)",
        "dateRange": OCTOBER.partition("=")[2],
        "accounts": f"List({URN})",
        "fields": f"{fields},dateRange,pivotValues",
        **more,
    }
    return "&".join(f"{k}={v}" for k, v in parts.items() if v is not None)


def truth(world, first=date(2026, 10, 1), last=date(2026, 10, 31)):
    return [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "linkedin" and first <= r["date"] <= last
    ]


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("q=analytics", {"q": "analytics"}),
        ("pivot=(value:CREATIVE)", {"pivot": {"value": "CREATIVE"}}),
        (
            "dateRange=(start:(year:2026,month:10,day:1))",
            {"dateRange": {"start": {"year": "2026", "month": "10", "day": "1"}}},
        ),
        (
            "accounts=List(urn%3Ali%3AsponsoredAccount%3A1,x)",
            {"accounts": ["urn:li:sponsoredAccount:1", "x"]},
        ),
        ("ids=List()&s=()", {"ids": [], "s": {}}),
        ("fields=a,b,c&pageToken=a%2Bb%3D", {"fields": ["a", "b", "c"], "pageToken": "a+b="}),
        ("pivot=%28value%3ACREATIVE%29", {"pivot": "(value:CREATIVE)"}),  # escaped: just text
    ],
)
def test_parse_query_reads_restli_2(raw, parsed):
    assert parse_query(raw) == parsed


@pytest.mark.parametrize(
    "raw", ["pivot=(value:A", "p=(a)", "p=List(a,b", "p=(a:b)x", "p=((a:b):c)", "p=(a:b:c)"]
)
def test_parse_query_rejects_broken_syntax(raw):
    with pytest.raises(ValueError):
        parse_query(raw)


def test_credentials_and_environment_are_declared():
    assert set(CREDS) == {"client_id", "client_secret", "refresh_token"}
    assert DEMO_ENVIRONMENT["LINKEDIN_REFRESH_TOKEN"] == CREDS["refresh_token"]
    assert DEMO_ENVIRONMENT["LINKEDIN_CLIENT_ID"] == CREDS["client_id"]


async def test_refresh_tokens_rotate_and_a_used_one_is_retired(http):
    async with http(Faults(token_ttl=120)) as client:
        first = (await grant(client)).json()
        assert first["expires_in"] == 120 and first["scope"] == "r_ads,r_ads_reporting"
        second = await grant(client, refresh_token=first["refresh_token"])
        assert second.status_code == 200
        reused = await grant(client, refresh_token=first["refresh_token"])
        newest = await grant(client, refresh_token=second.json()["refresh_token"])
        original = await grant(client)
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_request"
    assert newest.status_code == 200 and original.status_code == 200


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"refresh_token": "stolen"}, 400, "invalid_request"),
    ],
)
async def test_token_endpoint_rejections(http, changes, status, error):
    async with http() as client:
        response = await grant(client, **changes)
    assert response.status_code == status and response.json()["error"] == error


async def test_ad_account_in_linkedins_shape(http, world):
    async with http() as client:
        access = await token(client)
        account = await get(client, access, f"adAccounts/{ACCOUNT}")
        other = await get(client, access, "adAccounts/4829103756")
    body = account.json()
    assert (body["id"], body["name"], body["currency"]) == (508765432, "Brightline Software", "USD")
    assert body["reference"].startswith("urn:li:organization:")
    assert other.status_code == 403
    assert other.json() == {
        "status": 403,
        "code": "ACCESS_DENIED",
        "message": "Not enough permissions to access: adAccounts.GET.20260901",
        "serviceErrorCode": 100,
    }


@pytest.mark.parametrize(
    ("version", "status", "needle"),
    [
        (None, 400, "VERSION_MISSING"),
        ("202511", 426, "Requested version 20251101 is not active"),
        ("202612", 426, "Requested version 20261201 is not active"),
        ("2026-09", 426, "Requested version 2026-09 is not active"),
        ("202613", 426, "NONEXISTENT_VERSION"),
        ("202512", 200, "Brightline"),
        ("202611.01", 200, "Brightline"),
    ],
)
async def test_versions_are_served_for_twelve_months(http, version, status, needle):
    async with http() as client:
        access = await token(client)
        extra = headers(access)
        if version is None:
            del extra["LinkedIn-Version"]
        else:
            extra["LinkedIn-Version"] = version
        response = await client.get(f"/rest/adAccounts/{ACCOUNT}", headers=extra)
    assert response.status_code == status and needle in response.text


@pytest.mark.parametrize(
    ("path", "query", "extra", "status", "needle"),
    [
        (f"adAccounts/{ACCOUNT}", "", {"X-Restli-Protocol-Version": "1.0.0"}, 400, "2.0.0"),
        (f"adAccounts/{ACCOUNT}/creatives", "q=criteria", {}, 400, "X-RestLi-Method: FINDER"),
        ("posts", "ids=List(x)", {}, 400, "BATCH_GET"),
        (f"adAccounts/{ACCOUNT}/adCampaigns", "q=criteria", {}, 400, "q=search"),
        (f"adAccounts/{ACCOUNT}/adCampaigns", "q=search&pageSize=0", {}, 400, "pageSize"),
        (f"adAccounts/{ACCOUNT}/adCampaigns", "q=search&pageSize=ten", {}, 400, "pageSize"),
        (f"adAccounts/{ACCOUNT}/adCampaigns", "q=search&pageToken=%21%21", {}, 400, "pageToken"),
        ("adAccounts/1/adCampaignGroups", "q=search", {}, 403, "ACCESS_DENIED"),
        (f"adAccounts/{ACCOUNT}/adCampaigns", "q=search&search=ACTIVE", {}, 400, "param search"),
        ("conversions", "q=criteria", {}, 400, "q=account"),
        ("conversions", "q=account&account=urn%3Ali%3AsponsoredAccount%3A1", {}, 403, "DENIED"),
        ("images", "ids=x", {"X-RestLi-Method": "BATCH_GET"}, 400, "ids=List"),
        ("adAnalytics", "q=everything", {}, 400, "q=analytics and q=statistics"),
        ("adAnalytics", analytics(pivot="%28value%3ACREATIVE%29"), {}, 400, "param pivot"),
        ("adAnalytics", analytics(pivot="(value:MEMBER_COUNTRY_V2)"), {}, 400, "not supported"),
        ("adAnalytics", analytics(timeGranularity="(value:HOURLY)"), {}, 400, "DAILY"),
        ("adAnalytics", analytics(dateRange="(end:(year:2026))"), {}, 400, "dateRange needs"),
        (
            "adAnalytics",
            analytics(
                dateRange="(start:(year:2026,month:10,day:9),end:(year:2026,month:10,day:1))"
            ),
            {},
            400,
            "ends before",
        ),
        ("adAnalytics", analytics(accounts=None), {}, 400, "one of the facets"),
        ("adAnalytics", analytics(accounts="x"), {}, 400, "List(...) of URNs"),
        ("adAnalytics", analytics(fields="impressions,likes"), {}, 400, "unknown field 'likes'"),
        ("adAnalytics", analytics(fields=",".join(["clicks"] * 19)), {}, 400, "21 fields"),
        ("adAnalytics", "q=statistics&pivots=(value:CREATIVE)", {}, 400, "one to three"),
        ("adAnalytics", "q=analytics&pivot=(value:(x", {}, 400, "ILLEGAL_ARGUMENT"),
    ],
)
async def test_errors_in_linkedins_shape(http, path, query, extra, status, needle):
    async with http() as client:
        response = await get(client, await token(client), path, query, **extra)
    assert response.status_code == status, response.text
    assert needle in response.text
    assert response.json()["status"] == status and "message" in response.json()


async def test_analytics_report_the_worlds_days(http, world):
    fields = "impressions,clicks,costInLocalCurrency,externalWebsiteConversions,oneClickLeads"
    async with http() as client:
        response = await get(client, await token(client), "adAnalytics", analytics(fields=fields))
    body = response.json()
    assert body["paging"] == {"start": 0, "count": 10, "links": []}
    elements, rows = body["elements"], truth(world)
    assert len(elements) == len(rows)
    first = elements[0]
    assert set(first) == {*fields.split(","), "dateRange", "pivotValues"}
    assert first["dateRange"] == {
        "start": {"year": 2026, "month": 10, "day": 1},
        "end": {"year": 2026, "month": 10, "day": 1},
    }
    assert first["pivotValues"][0].startswith("urn:li:sponsoredCreative:")
    assert len(first["costInLocalCurrency"].split(".")[1]) == 19  # a double's noise
    spend = sum(round(float(e["costInLocalCurrency"]) * 100) for e in elements) * 10_000
    assert spend == sum(r["spend_micros"] for r in rows)
    assert sum(e["impressions"] for e in elements) == sum(r["impressions"] for r in rows)
    leads = sum(e["externalWebsiteConversions"] + e["oneClickLeads"] for e in elements)
    assert leads == sum(r["conversions"] for r in rows)
    assert sum(e["oneClickLeads"] for e in elements) > 0  # the Lead Gen Form campaign


async def test_statistics_by_conversion_and_all_time_totals(http, world):
    fields = "externalWebsitePostClickConversions,externalWebsitePostViewConversions"
    query = analytics(fields=f"{fields},externalWebsiteConversions").replace(
        "q=analytics&pivot=(value:CREATIVE)", "q=statistics&pivots=List(CREATIVE,CONVERSION)"
    )
    async with http() as client:
        access = await token(client)
        by_rule = (await get(client, access, "adAnalytics", query)).json()["elements"]
        rules = (await get(client, access, "conversions", f"q=account&account={URN}")).json()
        total = await get(
            client,
            access,
            "adAnalytics",
            analytics(pivot="(value:ACCOUNT)", timeGranularity="(value:ALL)", fields="clicks"),
        )
    (rule,) = rules["elements"]
    assert rules["paging"]["total"] == 1
    assert (rule["type"], rule["postClickAttributionWindowSize"]) == ("LEAD", 30)
    assert {e["pivotValues"][1] for e in by_rule} == {f"urn:lla:llaPartnerConversion:{rule['id']}"}
    rows = [r for r in truth(world) if world.ad(r["ad_id"]).campaign.objective != "lead_gen"]
    assert sum(e["externalWebsitePostClickConversions"] for e in by_rule) == sum(
        r["click_conversions"] for r in rows
    )
    assert sum(e["externalWebsitePostViewConversions"] for e in by_rule) == sum(
        r["view_conversions"] for r in rows
    )
    (element,) = total.json()["elements"]
    assert element["pivotValues"] == [f"urn:li:sponsoredAccount:{ACCOUNT}"]
    assert element["dateRange"]["end"] == {"year": 2026, "month": 10, "day": 31}
    assert element["clicks"] == sum(r["clicks"] for r in truth(world))


async def test_facets_narrow_and_answers_are_cut_at_the_element_cap(http, world, monkeypatch):
    creative = world.ads_of("linkedin", ACCOUNT)[0].ad_id
    only = analytics(accounts=None, creatives=f"List(urn%3Ali%3AsponsoredCreative%3A{creative})")
    open_ended = analytics(dateRange="(start:(year:2026,month:11,day:20))")
    async with http() as client:
        access = await token(client)
        narrowed = (await get(client, access, "adAnalytics", only)).json()["elements"]
        recent = (await get(client, access, "adAnalytics", open_ended)).json()["elements"]
        monkeypatch.setattr(sandbox, "ELEMENT_LIMIT", 7)
        cut = (await get(client, access, "adAnalytics", analytics())).json()["elements"]
    assert {e["pivotValues"][0] for e in narrowed} == {f"urn:li:sponsoredCreative:{creative}"}
    assert max(e["dateRange"]["start"]["day"] for e in recent) == 23  # the world's last day
    assert len(cut) == 7


@pytest.mark.parametrize(
    ("path", "q", "count"),
    [
        ("creatives", "criteria", 17),
        ("adCampaigns", "search", 6),
        ("adCampaignGroups", "search", 3),
    ],
)
async def test_finders_page_by_page_token(http, world, path, q, count):
    seen, token_ = [], None
    async with http() as client:
        access = await token(client)
        for _ in range(10):
            query = f"q={q}&pageSize=5" + (f"&pageToken={token_}" if token_ else "")
            page = await get(
                client,
                access,
                f"adAccounts/{ACCOUNT}/{path}",
                query,
                **{"X-RestLi-Method": "FINDER"},
            )
            body = page.json()
            seen += body["elements"]
            token_ = body["metadata"].get("nextPageToken")
            if not token_:
                break
    assert len(seen) == count == len({str(e["id"]) for e in seen})
    assert len(world.ads_of("linkedin", ACCOUNT)) == 17


async def test_entities_link_up_like_linkedins(http, world):
    async with http() as client:
        access = await token(client)
        path = f"adAccounts/{ACCOUNT}"
        creatives = await get(
            client,
            access,
            f"{path}/creatives",
            "q=criteria&pageSize=100",
            **{"X-RestLi-Method": "FINDER"},
        )
        campaigns = await get(client, access, f"{path}/adCampaigns", "q=search&pageSize=100")
        paused = await get(
            client,
            access,
            f"{path}/adCampaignGroups",
            "q=search&search=(status:(values:List(PAUSED)))",
        )
        default_page = await get(client, access, f"{path}/adCampaigns", "q=search")
    creative = creatives.json()["elements"]
    campaign_ids = {f"urn:li:sponsoredCampaign:{c['id']}" for c in campaigns.json()["elements"]}
    assert {c["campaign"] for c in creative} <= campaign_ids
    assert Counter(c["content"]["reference"].split(":")[2] for c in creative) == {
        "share": 11,
        "adInMailContent": 6,
    }
    lead_gen = [c for c in creative if "leadgenCallToAction" in c]
    assert lead_gen and lead_gen[0]["leadgenCallToAction"]["destination"].startswith(
        "urn:li:adForm:"
    )
    kinds = {c["objectiveType"] for c in campaigns.json()["elements"]}
    assert kinds == {"LEAD_GENERATION", "WEBSITE_CONVERSION"}
    assert paused.json()["elements"] == []
    assert len(default_page.json()["elements"]) == 6 == len(campaign_ids)  # pageSize 10


async def test_a_post_without_an_image_has_no_media(http, world, monkeypatch):
    monkeypatch.setattr(sandbox, "asset_kind", lambda ad: "none")
    ad = world.ads_of("linkedin", ACCOUNT)[0]
    urn = f"urn%3Ali%3Ashare%3A{ad.creative_id}"
    async with http() as client:
        access = await token(client)
        batch = {"X-RestLi-Method": "BATCH_GET"}
        posts = await get(client, access, "posts", f"ids=List({urn})", **batch)
        images = await get(client, access, "images", f"ids=List({urn})", **batch)
    (post,) = posts.json()["results"].values()
    assert "content" not in post and post["commentary"] == ad.body
    assert images.json()["results"] == {}


async def test_posts_and_images_by_batch_get(http, world):
    ad = next(
        a for a in world.ads_of("linkedin", ACCOUNT) if a.campaign.objective != "conversation"
    )
    post = f"urn:li:share:{ad.creative_id}"
    async with http() as client:
        access = await token(client)
        batch = {"X-RestLi-Method": "BATCH_GET"}
        posts = await get(
            client,
            access,
            "posts",
            f"ids=List({post.replace(':', '%3A')},urn%3Ali%3Ashare%3A1)",
            **batch,
        )
        found = posts.json()["results"][post]
        image = found["content"]["media"]["id"]
        images = await get(
            client, access, "images", f"ids=List({image.replace(':', '%3A')})", **batch
        )
    assert posts.json()["errors"] == {"urn:li:share:1": {"status": 404, "message": "Not Found"}}
    assert posts.json()["statuses"] == {post: 200, "urn:li:share:1": 404}
    assert (found["commentary"], found["content"]["media"]["title"]) == (ad.body, ad.headline)
    assert found["contentLandingPage"] == ad.landing_url
    assert images.json()["results"][image]["downloadUrl"] == f"http://sbx/cdn/{ad.creative_id}.png"


async def test_auth_throttle_outage_and_truncation(http):
    async with http(Faults(token_ttl=0)) as client:
        expired = await get(client, await token(client), f"adAccounts/{ACCOUNT}")
    assert expired.status_code == 401 and expired.json()["code"] == "INVALID_ACCESS_TOKEN"
    async with http(Faults(rate_limit=0.001)) as client:
        access = await token(client)
        answers = [await get(client, access, f"adAccounts/{ACCOUNT}") for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 5 + [429, 429]
    assert "retry-after" not in answers[-1].headers
    assert answers[-1].json()["code"] == "TOO_MANY_REQUESTS"
    async with http(Faults(outage={"linkedin"})) as client:
        down = await get(client, await token(client), f"adAccounts/{ACCOUNT}")
    assert down.status_code == 503
    async with http(Faults(truncate_rate=1.0)) as client:
        cut = await get(client, await token(client), f"adAccounts/{ACCOUNT}")
        root = await client.get("http://sbx/")
    with pytest.raises(ValueError):
        cut.json()
    assert root.json()["requests"]["linkedin"] == 1 and "linkedin" in root.json()["platforms"]
