import gzip
import json
import time
from datetime import UTC, date, datetime

import httpx
import pytest

from generator.connectors.auth import OAuth1
from generator.sandbox import DEMO_CREDENTIALS, DEMO_ENVIRONMENT, Faults, assets, create_app
from generator.sandbox import x as x_sandbox

ACCOUNT = "18ce54d4x5t"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
CREDS = DEMO_CREDENTIALS["x"]
JOBS = f"/12/stats/jobs/accounts/{ACCOUNT}"


def signer(**overrides) -> OAuth1:
    keys = {
        "consumer_key": CREDS["consumer_key"],
        "consumer_secret": CREDS["consumer_secret"],
        "token": CREDS["access_token"],
        "token_secret": CREDS["access_token_secret"],
    }
    return OAuth1("x", **{**keys, **overrides})


@pytest.fixture
def http(world):
    def make(faults=None):
        app = create_app(world, faults or Faults(rate_limit=1000), now=NOW)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sbx/x")

    return make


SIGNER = signer()


async def call(client, method, path, *, sign=SIGNER, **kwargs) -> httpx.Response:
    request = client.build_request(method, path, **kwargs)
    if sign is not None:
        sign.sign(request)
    return await client.send(request)


def job_params(start="2026-10-31T00:00:00-05:00", end="2026-11-03T00:00:00-06:00", ids=None):
    return {
        "entity": "PROMOTED_TWEET",
        "entity_ids": ",".join(ids or AD_IDS[:3]),
        "start_time": start,
        "end_time": end,
        "granularity": "DAY",
        "placement": "ALL_ON_TWITTER",
        "metric_groups": "ENGAGEMENT,BILLING,WEB_CONVERSION",
    }


AD_IDS: list[str] = []


@pytest.fixture(autouse=True)
def ad_ids(world):
    AD_IDS[:] = [ad.ad_id for ad in world.ads_of("x", ACCOUNT)]


def test_demo_credentials_and_environment_are_declared():
    assert set(CREDS) == {"consumer_key", "consumer_secret", "access_token", "access_token_secret"}
    assert DEMO_ENVIRONMENT["X_ACCESS_TOKEN_SECRET"] == CREDS["access_token_secret"]
    assert DEMO_ENVIRONMENT["X_CONSUMER_KEY"] == CREDS["consumer_key"]


async def test_unsigned_or_wrongly_signed_requests_are_refused_in_xs_shape(http):
    async with http() as client:
        unsigned = await call(client, "GET", f"/12/accounts/{ACCOUNT}", sign=None)
        wrong = await call(client, "GET", f"/12/accounts/{ACCOUNT}", sign=signer(token_secret="no"))
        other = await call(client, "GET", f"/12/accounts/{ACCOUNT}", sign=signer(token="1-other"))
        request = client.build_request("GET", f"/12/accounts/{ACCOUNT}/campaigns")
        signer().sign(request)
        request.url = request.url.copy_add_param("count", "5")  # changed after signing
        tampered = await client.send(request)
        good = await call(client, "GET", f"/12/accounts/{ACCOUNT}")
    for refused in (unsigned, wrong, other, tampered):
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["code"] == "UNAUTHORIZED_ACCESS"
        assert "request" in refused.json()
    assert good.status_code == 200


async def test_the_account_and_its_funding_instrument(http, world):
    async with http() as client:
        account = await call(client, "GET", f"/12/accounts/{ACCOUNT}")
        funding = await call(client, "GET", f"/12/accounts/{ACCOUNT}/funding_instruments")
        missing = await call(client, "GET", "/12/accounts/nope")
        edge = await call(client, "GET", f"/12/accounts/{ACCOUNT}/audiences")
    data = account.json()["data"]
    assert (data["id"], data["timezone"], data["name"]) == (
        ACCOUNT,
        "America/Chicago",
        "Brightline on X",
    )
    assert "currency" not in data and funding.json()["data"][0]["currency"] == "USD"
    assert account.headers["x-current-api-version"] == "12"
    assert int(account.headers["x-rate-limit-remaining"]) < int(
        account.headers["x-rate-limit-limit"]
    )
    assert int(account.headers["x-rate-limit-reset"]) >= int(time.time())
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "NOT_FOUND"
    assert edge.status_code == 404 and edge.json()["errors"][0]["code"] == "ROUTE_NOT_FOUND"


async def test_entities_are_cursor_paged(http, world):
    ads = world.ads_of("x", ACCOUNT)
    async with http() as client:
        seen, cursor, pages = [], None, 0
        while True:
            params = {
                "count": 5,
                "with_total_count": "true",
                **({"cursor": cursor} if cursor else {}),
            }
            body = (
                await call(client, "GET", f"/12/accounts/{ACCOUNT}/promoted_tweets", params=params)
            ).json()
            seen += body["data"]
            pages += 1
            assert body["total_count"] == len(ads) and body["data_type"] == "promoted_tweet"
            if not (cursor := body["next_cursor"]):
                break
        campaigns = (await call(client, "GET", f"/12/accounts/{ACCOUNT}/campaigns")).json()
        items = (await call(client, "GET", f"/12/accounts/{ACCOUNT}/line_items")).json()
        too_many = await call(
            client, "GET", f"/12/accounts/{ACCOUNT}/campaigns", params={"count": 1001}
        )
        bad = await call(
            client, "GET", f"/12/accounts/{ACCOUNT}/campaigns", params={"cursor": "!!"}
        )
    assert pages == 3 and [p["id"] for p in seen] == [ad.ad_id for ad in ads]
    assert {p["line_item_id"] for p in seen} == {ad.ad_group_id for ad in ads}
    assert {p["tweet_id"] for p in seen} == {ad.creative_id for ad in ads}
    assert {c["id"]: c["name"] for c in campaigns["data"]} == {
        ad.campaign_id: ad.campaign.name for ad in ads
    }
    assert "next_cursor" in campaigns and campaigns["next_cursor"] is None
    assert {i["id"]: i["campaign_id"] for i in items["data"]} == {
        ad.ad_group_id: ad.campaign_id for ad in ads
    }
    assert too_many.status_code == 400 and bad.status_code == 400


async def test_tweets_and_cards_give_copy_links_and_cdn_images(http, world):
    ad = world.ads_of("x", ACCOUNT)[0]
    async with http() as client:
        no_type = await call(client, "GET", f"/12/accounts/{ACCOUNT}/tweets")
        params = {"tweet_ids": ad.creative_id, "tweet_type": "PUBLISHED"}
        tweets = (await call(client, "GET", f"/12/accounts/{ACCOUNT}/tweets", params=params)).json()
        card_id = tweets["data"][0]["card_uri"].removeprefix("card://")
        cards = await call(
            client, "GET", f"/12/accounts/{ACCOUNT}/cards", params={"card_ids": card_id}
        )
    assert no_type.status_code == 400
    (tweet,) = tweets["data"]
    assert (tweet["id_str"], tweet["full_text"], tweet["name"]) == (
        ad.creative_id,
        ad.body,
        ad.name,
    )
    (card,) = cards.json()["data"]
    details = next(c for c in card["components"] if c["type"] == "DETAILS")
    assert details["title"] == ad.headline and details["destination"]["url"] == ad.landing_url
    media = next(c for c in card["components"] if c["type"] == "MEDIA")
    image = card["media_metadata"][media["media_key"]]
    rev = assets.revision(ad, NOW.date())  # X serves its pictures as JPEG
    name = f"{ad.creative_id}-r{rev}.jpg" if rev else f"{ad.creative_id}.jpg"
    assert image["url"] == f"http://sbx/cdn/{name}" and image["width"] == 1200


async def test_versions_retired_deprecated_and_unknown(http):
    async with http() as client:
        retired = await call(client, "GET", f"/10/accounts/{ACCOUNT}")
        deprecated = await call(client, "GET", f"/11/accounts/{ACCOUNT}")
        unknown = await call(client, "GET", f"/v3/accounts/{ACCOUNT}")
    assert retired.status_code == 410 and retired.json()["errors"][0]["code"] == "GONE"
    assert "12" in retired.json()["errors"][0]["message"]
    assert deprecated.status_code == 200 and "deprecated" in deprecated.headers["x-api-warn"]
    assert unknown.status_code == 404


async def test_a_stats_job_runs_and_its_file_matches_the_world(http, world):
    async with http() as client:
        submitted = await call(client, "POST", JOBS, params=job_params())
        job = submitted.json()["data"]
        first = await call(client, "GET", JOBS, params={"job_ids": job["id_str"]})
        early = await client.get(f"/ton{x_sandbox.FILES}/stats_job_{job['id_str']}.json.gz")
        second = await call(client, "GET", JOBS, params={"job_ids": f"{job['id_str']},404"})
        url = second.json()["data"][0]["url"]
        download = await client.get("/ton" + httpx.URL(url).path)  # no OAuth, like the CDN
        unknown = await client.get(f"/ton{x_sandbox.FILES}/stats_job_1.json.gz")
    assert submitted.status_code == 200 and job["status"] == "PROCESSING" and job["url"] is None
    assert submitted.headers["x-concurrent-job-limit"] == "100"
    assert first.json()["data"][0]["status"] == "PROCESSING" and early.status_code == 404
    assert [j["status"] for j in second.json()["data"]] == ["SUCCESS"]
    assert url.startswith("https://ton.twimg.com/advertiser-api-async-analytics/stats_job_")
    assert unknown.status_code == 404
    stats = json.loads(gzip.decompress(download.content))
    assert stats["time_series_length"] == 3 and stats["data_type"] == "stats"
    truth = [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["ad_id"] in AD_IDS[:3] and date(2026, 10, 31) <= r["date"] <= date(2026, 11, 2)
    ]
    got = {
        (e["id"], day): {k: e["id_data"][0]["metrics"][k][day] or 0 for k in METRICS}
        for e in stats["data"]
        for day in range(3)
        if e["id_data"][0]["metrics"]["impressions"]
    }
    for row in truth:
        metrics = got[(row["ad_id"], (row["date"] - date(2026, 10, 31)).days)]
        assert metrics == {k: row[v] for k, v in METRICS.items()}
    leads = sum(
        v or 0
        for e in stats["data"]
        if e["id_data"][0]["metrics"]["conversion_custom"]
        for v in e["id_data"][0]["metrics"]["conversion_custom"]["post_engagement"]
    )
    assert leads == sum(r["click_conversions"] for r in truth)
    assert all(e["id_data"][0]["metrics"]["conversion_purchases"] is None for e in stats["data"])


METRICS = {
    "impressions": "impressions",
    "clicks": "clicks",
    "billed_charge_local_micro": "spend_micros",
}


@pytest.mark.parametrize(
    "change, code",
    [
        ({"start_time": "2026-10-31T00:00:00Z"}, "INVALID_TIME_WINDOW"),  # UTC, not local
        ({"start_time": "2026-10-31T01:00:00-05:00"}, "INVALID_TIME_WINDOW"),
        ({"start_time": "2026-10-31"}, "INVALID_TIME_WINDOW"),  # no offset
        ({"end_time": "soon"}, "INVALID_PARAMETER"),
        ({"start_time": "2026-01-01T00:00:00-06:00"}, "INVALID_TIME_WINDOW"),  # > 90 days
        ({"end_time": "2026-10-31T00:00:00-05:00"}, "INVALID_TIME_WINDOW"),  # empty
        ({"entity": "LINE_ITEM"}, "INVALID_PARAMETER"),
        ({"entity_ids": ",".join(["x"] * 21)}, "INVALID_PARAMETER"),
        ({"entity_ids": "not-an-ad"}, "INVALID_PARAMETER"),
        ({"granularity": "HOUR"}, "INVALID_PARAMETER"),
        ({"metric_groups": "ENGAGEMENT,LIFETIME_VALUE"}, "INVALID_PARAMETER"),
    ],
)
async def test_bad_job_requests_are_refused_like_x_refuses_them(http, change, code):
    async with http() as client:
        refused = await call(client, "POST", JOBS, params={**job_params(), **change})
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == code


async def test_jobs_may_be_submitted_as_a_signed_form(http):
    async with http() as client:
        submitted = await call(client, "POST", JOBS, data=job_params())
    assert submitted.status_code == 200 and submitted.json()["data"]["status"] == "PROCESSING"


async def test_the_concurrent_job_limit(http, monkeypatch):
    monkeypatch.setattr(x_sandbox, "CONCURRENT_JOBS", 1)
    async with http() as client:
        first = await call(client, "POST", JOBS, params=job_params())
        refused = await call(client, "POST", JOBS, params=job_params())
        for _ in range(2):
            await call(client, "GET", JOBS, params={"job_ids": first.json()["data"]["id_str"]})
        again = await call(client, "POST", JOBS, params=job_params())
    assert first.headers["x-concurrent-job-limit-remaining"] == "0"
    assert refused.status_code == 429 and refused.json()["errors"][0]["code"] == "TOO_MANY_REQUESTS"
    assert refused.headers["x-concurrent-job-limit-remaining"] == "0"
    assert again.status_code == 200


async def test_a_burst_over_the_window_is_throttled_with_an_epoch_reset(http):
    async with http(Faults(rate_limit=2)) as client:
        answers = [await call(client, "GET", f"/12/accounts/{ACCOUNT}") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["x-rate-limit-remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[2].json()["errors"][0]["code"] == "TOO_MANY_REQUESTS"
    assert 0 <= int(answers[2].headers["x-rate-limit-reset"]) - time.time() <= 2


async def test_faults_fail_calls_and_cut_bodies_and_files(http):
    async with http(Faults(outage={"x"})) as client:
        down = await call(client, "GET", f"/12/accounts/{ACCOUNT}")
        file = await client.get(f"/ton{x_sandbox.FILES}/stats_job_1.json.gz")
    assert down.status_code == 503 and down.json()["errors"][0]["code"] == "SERVICE_UNAVAILABLE"
    assert file.status_code == 503
    async with http(Faults(rate_limit=1000, truncate_rate=1.0)) as client:
        cut = await call(client, "GET", f"/12/accounts/{ACCOUNT}")
        job = await call(client, "POST", JOBS, params=job_params())
        refused = await call(client, "GET", "/12/accounts/nope")
    with pytest.raises(ValueError):
        cut.json()
    assert job.status_code == 200 and refused.json()["errors"][0]["code"] == "NOT_FOUND"
