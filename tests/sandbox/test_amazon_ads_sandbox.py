import base64
import gzip
import json
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from generator.sandbox import DEMO_CREDENTIALS, DEMO_ENVIRONMENT, Faults, create_app
from generator.sandbox.amazon_ads import MAX_DAYS, S3_HOST, asin_of

CREDENTIALS = DEMO_CREDENTIALS["amazon_ads"]
PROFILE = "3456789012345678"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
MEDIA = "application/vnd.createasyncreportrequest.v3+json"
WINDOWS = ("1d", "7d", "14d", "30d")
COLUMNS = [
    "date",
    "campaignId",
    "campaignName",
    "adGroupId",
    "adId",
    "advertisedAsin",
    "impressions",
    "clicks",
    "cost",
    *(f"{m}{w}" for w in WINDOWS for m in ("purchases", "sales")),
]


@pytest.fixture
def sandbox(world):
    def make(faults=None):
        app = create_app(world, faults, now=NOW)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://sbx/amazon_ads"
        )
        return app, client

    return make


async def token(client) -> str:
    form = {"grant_type": "refresh_token", **CREDENTIALS}
    answer = await client.post("/auth/o2/token", data=form)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


async def headers(client, scope=PROFILE, media=MEDIA) -> dict[str, str]:
    out = {
        "authorization": f"Bearer {await token(client)}",
        "amazon-advertising-api-clientid": CREDENTIALS["client_id"],
        "content-type": media,
    }
    return out | ({"amazon-advertising-api-scope": scope} if scope else {})


def request_body(since="2026-10-01", until="2026-10-02", **config):
    return {
        "name": "test report",
        "startDate": since,
        "endDate": until,
        "configuration": {
            "adProduct": "SPONSORED_PRODUCTS",
            "groupBy": ["advertiser"],
            "columns": COLUMNS,
            "reportTypeId": "spAdvertisedProduct",
            "timeUnit": "DAILY",
            "format": "GZIP_JSON",
            **config,
        },
    }


async def completed(client, auth, **body) -> dict:
    created = await client.post("/reporting/reports", json=request_body(**body), headers=auth)
    assert created.status_code == 200, created.text
    report_id = created.json()["reportId"]
    for _ in range(2):
        status = (await client.get(f"/reporting/reports/{report_id}", headers=auth)).json()
    assert status["status"] == "COMPLETED", status
    return status


def s3_path(url: str) -> str:
    assert url.startswith(S3_HOST + "/")
    return "/s3" + url.removeprefix(S3_HOST)


def truth(world, since, until):
    return [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["account_id"] == PROFILE and since <= r["date"] <= until
    ]


def cents(number: float) -> int:
    return round(number * 100)


async def test_the_token_endpoint_takes_form_or_basic_credentials(sandbox):
    _, client = sandbox()
    basic = base64.b64encode(f"{CREDENTIALS['client_id']}:{CREDENTIALS['client_secret']}".encode())
    async with client:
        by_form = await client.post(
            "/auth/o2/token", data={"grant_type": "refresh_token", **CREDENTIALS}
        )
        by_basic = await client.post(
            "/auth/o2/token",
            data={"grant_type": "refresh_token", "refresh_token": CREDENTIALS["refresh_token"]},
            headers={"authorization": f"Basic {basic.decode()}"},
        )
        refusals = [
            await client.post("/auth/o2/token", data={**CREDENTIALS, "grant_type": grant})
            for grant in ("authorization_code",)
        ]
        refusals.append(
            await client.post(
                "/auth/o2/token",
                data={"grant_type": "refresh_token", **CREDENTIALS, "client_secret": "nope"},
            )
        )
        refusals.append(
            await client.post(
                "/auth/o2/token",
                data={"grant_type": "refresh_token", **CREDENTIALS, "refresh_token": "Atzr|old"},
            )
        )
        refusals.append(
            await client.post(
                "/auth/o2/token",
                data={"grant_type": "refresh_token", "refresh_token": CREDENTIALS["refresh_token"]},
                headers={"authorization": "Basic %%%"},
            )
        )
    body = by_form.json()
    assert body["access_token"].startswith("Atza|") and body["token_type"] == "bearer"
    assert body["expires_in"] == 3600 and body["refresh_token"] == CREDENTIALS["refresh_token"]
    assert by_basic.status_code == 200
    assert [(r.status_code, r.json()["error"]) for r in refusals] == [
        (400, "unsupported_grant_type"),
        (401, "invalid_client"),
        (400, "invalid_grant"),
        (401, "invalid_client"),
    ]
    assert DEMO_ENVIRONMENT["AMAZON_ADS_REFRESH_TOKEN"] == CREDENTIALS["refresh_token"]


async def test_profiles_and_the_gate(sandbox):
    _, client = sandbox()
    async with client:
        auth = await headers(client, scope="")
        profiles = (await client.get("/v2/profiles", headers=auth)).json()
        no_client = await client.get(
            "/v2/profiles", headers={"authorization": auth["authorization"]}
        )
        no_token = await client.get("/v2/profiles", headers={**auth, "authorization": "Bearer x"})
        foreign = await client.post(
            "/reporting/reports",
            json=request_body(),
            headers={**auth, "amazon-advertising-api-scope": "42"},
        )
    (profile,) = profiles
    assert profile["profileId"] == int(PROFILE) and profile["countryCode"] == "US"
    assert (profile["currencyCode"], profile["timezone"]) == ("USD", "America/Los_Angeles")
    info = profile["accountInfo"]
    assert (info["type"], info["name"], info["marketplaceStringId"]) == (
        "seller",
        "Northwind Amazon US",
        "ATVPDKIKX0DER",
    )
    assert no_client.status_code == 400 and "ClientId" in no_client.json()["details"]
    assert no_token.status_code == 401 and no_token.json()["code"] == "UNAUTHORIZED"
    assert foreign.status_code == 401
    assert foreign.json()["details"] == "Not authorized to access scope 42"


async def test_a_report_is_built_polled_and_downloaded_with_the_worlds_numbers(sandbox, world):
    app, client = sandbox()
    async with client:
        auth = await headers(client)
        created = (
            await client.post("/reporting/reports", json=request_body(), headers=auth)
        ).json()
        report_id = created["reportId"]
        first = (await client.get(f"/reporting/reports/{report_id}", headers=auth)).json()
        second = (await client.get(f"/reporting/reports/{report_id}", headers=auth)).json()
        download = await client.get(s3_path(second["url"]))
    assert (created["status"], created["url"], created["name"]) == ("PENDING", None, "test report")
    assert created["configuration"]["columns"] == COLUMNS
    assert (first["status"], second["status"]) == ("PENDING", "COMPLETED")
    assert second["urlExpiresAt"] == (NOW + timedelta(hours=1)).isoformat()
    assert "X-Amz-Signature=" in second["url"] and second["fileSize"] == len(download.content)
    rows = json.loads(gzip.decompress(download.content))
    assert all(list(r) == COLUMNS for r in rows)
    assert all(isinstance(r["adId"], int) and isinstance(r["cost"], float) for r in rows)
    facts = truth(world, date(2026, 10, 1), date(2026, 10, 2))
    assert len(rows) == len(facts)
    assert sum(r["impressions"] for r in rows) == sum(f["impressions"] for f in facts)
    assert sum(cents(r["cost"]) for r in rows) * 10_000 == sum(f["spend_micros"] for f in facts)
    assert sum(r["purchases7d"] for r in rows) == sum(f["conversions"] for f in facts)
    assert sum(cents(r["sales7d"]) for r in rows) * 10_000 == sum(f["value_micros"] for f in facts)
    for r in rows:
        counts = [r[f"purchases{w}"] for w in WINDOWS]
        assert counts == sorted(counts)
        assert [r[f"sales{w}"] for w in WINDOWS] == sorted(r[f"sales{w}"] for w in WINDOWS)
    ads = {ad.ad_id: ad for ad in world.ads_of("amazon_ads", PROFILE)}
    assert {r["advertisedAsin"] for r in rows} <= {asin_of(ad) for ad in ads.values()}
    assert app.state.sandbox.requests["amazon_ads"] == 5  # token, create, 2 polls, file


async def test_an_unfinished_identical_request_is_a_duplicate(sandbox):
    _, client = sandbox()
    async with client:
        auth = await headers(client)
        first = await client.post("/reporting/reports", json=request_body(), headers=auth)
        renamed = {**request_body(), "name": "another name"}
        again = await client.post("/reporting/reports", json=renamed, headers=auth)
        other = await client.post(
            "/reporting/reports", json=request_body(until="2026-10-03"), headers=auth
        )
        report_id = first.json()["reportId"]
        for _ in range(2):
            await client.get(f"/reporting/reports/{report_id}", headers=auth)
        after = await client.post("/reporting/reports", json=request_body(), headers=auth)
    assert again.status_code == 425
    assert again.json() == {"code": "425", "detail": f"The Request is a duplicate of : {report_id}"}
    assert other.status_code == 200 and other.json()["reportId"] != report_id
    assert after.status_code == 200 and after.json()["reportId"] not in (
        report_id,
        other.json()["reportId"],
    )


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (request_body(until="2026-11-01"), "at most 31 days"),
        (request_body(since="2026-10-02", until="2026-10-01"), "end after start"),
        (request_body(since="yesterday"), "must be dates"),
        ({"startDate": "2026-10-01", "endDate": "2026-10-01"}, "configuration is required"),
        (request_body(reportTypeId="spCampaigns"), "reportTypeId must be spAdvertisedProduct"),
        (request_body(timeUnit="SUMMARY"), "timeUnit must be DAILY"),
        (request_body(columns=["date", "addToCart"]), "invalid values: (['addToCart'])"),
        (request_body(columns="date,cost"), "invalid values"),
        (request_body(columns=[]), "invalid values"),
    ],
)
async def test_report_requests_are_validated_like_amazon_does(sandbox, body, needle):
    _, client = sandbox()
    async with client:
        answer = await client.post("/reporting/reports", json=body, headers=await headers(client))
    assert answer.status_code == 400 and needle in answer.json()["detail"], answer.text
    assert MAX_DAYS == 31


async def test_media_types_carry_the_version(sandbox):
    _, client = sandbox()
    async with client:
        auth = await headers(client)
        old = await client.post(
            "/reporting/reports",
            json=request_body(),
            headers={**auth, "content-type": "application/vnd.createasyncreportrequest.v2+json"},
        )
        unknown = await client.post(
            "/reporting/reports",
            json=request_body(),
            headers={**auth, "content-type": "application/vnd.createasyncreportrequest.v9+json"},
        )
        plain = await client.post(
            "/reporting/reports",
            json=request_body(),
            headers={**auth, "content-type": "application/json"},
        )
        garbled = await client.post("/reporting/reports", content=b"{not json", headers=auth)
    assert old.status_code == 410 and "no longer supported" in old.json()["detail"]
    assert unknown.status_code == plain.status_code == 415
    assert garbled.status_code == 400 and "not valid JSON" in garbled.json()["detail"]


async def test_knobs_hold_a_report_pending_or_fail_it(sandbox):
    app, client = sandbox()
    knobs = app.state.sandbox.scratch("amazon_ads")
    async with client:
        auth = await headers(client)
        knobs["pending_polls"] = 3
        report_id = (
            await client.post("/reporting/reports", json=request_body(), headers=auth)
        ).json()["reportId"]
        statuses = [
            (await client.get(f"/reporting/reports/{report_id}", headers=auth)).json()["status"]
            for _ in range(5)
        ]
        knobs["fail_reports"] = True
        failing = (
            await client.post(
                "/reporting/reports", json=request_body(until="2026-10-05"), headers=auth
            )
        ).json()["reportId"]
        failed = (await client.get(f"/reporting/reports/{failing}", headers=auth)).json()
        missing = await client.get("/reporting/reports/no-such-report", headers=auth)
    assert statuses == ["PENDING", "PROCESSING", "PROCESSING", "COMPLETED", "COMPLETED"]
    assert failed["status"] == "FAILED" and "internal error" in failed["failureReason"]
    assert failed["url"] is None
    assert missing.status_code == 404 and missing.json()["detail"] == "Report not found"


async def test_s3_checks_the_presigned_url_like_s3(sandbox):
    app, client = sandbox()
    async with client:
        auth = await headers(client)
        url = s3_path((await completed(client, auth))["url"])
        with_auth = await client.get(url, headers={"authorization": auth["authorization"]})
        tampered = await client.get(url.replace("X-Amz-Date=20261124", "X-Amz-Date=20261125"))
        unknown = await client.get("/s3/nothing.json.gz")
        fine = await client.get(url)
        app.state.sandbox.now = lambda: NOW + timedelta(hours=2)
        expired = await client.get(url)
    assert with_auth.status_code == 400 and "<Code>InvalidArgument</Code>" in with_auth.text
    assert "Only one auth mechanism allowed" in with_auth.text
    assert tampered.status_code == 403 and "SignatureDoesNotMatch" in tampered.text
    assert unknown.status_code == 404 and "NoSuchKey" in unknown.text
    assert fine.status_code == 200 and fine.content[:2] == b"\x1f\x8b"
    assert expired.status_code == 403 and "Request has expired" in expired.text


async def test_the_throttle_answers_429_with_retry_after_except_on_creation(sandbox):
    _, client = sandbox(Faults(rate_limit=0.1))  # bursts of 5
    async with client:
        auth = await headers(client)
        answers = [await client.get("/v2/profiles", headers=auth) for _ in range(6)]
        creation = await client.post("/reporting/reports", json=request_body(), headers=auth)
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[5].json() == {"message": "Too Many Requests"}
    assert int(answers[5].headers["retry-after"]) >= 1
    assert creation.status_code == 429 and "retry-after" not in creation.headers


async def test_faults_break_the_api_and_s3(sandbox):
    _, client = sandbox(Faults(outage={"amazon_ads"}))
    async with client:
        auth = await headers(client)  # the token endpoint is spared
        down = await client.get("/v2/profiles", headers=auth)
        s3 = await client.get("/s3/anything.json.gz")
    assert down.status_code == 503 and down.json() == {
        "code": "503",
        "details": "Service Unavailable",
    }
    assert s3.status_code == 503 and "<Code>InternalError</Code>" in s3.text
    app, client = sandbox(Faults(truncate_rate=1.0))
    async with client:
        auth = await headers(client)
        cut = await client.get("/v2/profiles", headers=auth)
        report_id = app.state.sandbox.scratch("amazon_ads")
    with pytest.raises(ValueError):
        cut.json()
    assert report_id == {}  # no report was asked for


async def test_product_ads_page_by_next_token(sandbox, world):
    _, client = sandbox()
    known = world.ads_of("amazon_ads", PROFILE)
    async with client:
        auth = await headers(client, media="application/vnd.spProductAd.v3+json")
        ads, body, pages = [], {"maxResults": 5}, 0
        while True:
            page = (await client.post("/sp/productAds/list", json=body, headers=auth)).json()
            ads += page["productAds"]
            pages += 1
            assert page["totalResults"] == len(known)
            if "nextToken" not in page:
                break
            body = {**body, "nextToken": page["nextToken"]}
        everything = (await client.post("/sp/productAds/list", headers=auth)).json()
        refusals = [
            await client.post("/sp/productAds/list", json={"maxResults": 0}, headers=auth),
            await client.post("/sp/productAds/list", json={"nextToken": "%%%"}, headers=auth),
            await client.post("/sp/productAds/list", content=b"[1]", headers=auth),
            await client.post("/sp/productAds/list", content=b"{oops", headers=auth),
            await client.post(
                "/sp/productAds/list", json={}, headers={**auth, "content-type": MEDIA}
            ),
        ]
    assert pages == -(-len(known) // 5) and len(everything["productAds"]) == len(known)
    assert {a["adId"] for a in ads} == {ad.ad_id for ad in known}
    assert {a["asin"] for a in ads} == {asin_of(ad) for ad in known}
    assert all(isinstance(a["adId"], str) and a["state"] == "ENABLED" for a in ads)
    assert [r.status_code for r in refusals] == [400, 400, 400, 400, 415]
    assert refusals[4].json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_product_metadata_gives_titles_and_images(sandbox, world):
    _, client = sandbox()
    known = world.ads_of("amazon_ads", PROFILE)
    asins = [asin_of(ad) for ad in known]
    async with client:
        auth = await headers(client, media="application/vnd.productmetadatarequest.v1+json")
        body = {"asins": [*asins, "B000000000"], "checkItemDetails": True}
        products = (await client.post("/product/metadata", json=body, headers=auth)).json()
        second = (
            await client.post(
                "/product/metadata", json={**body, "pageIndex": 1, "pageSize": 2}, headers=auth
            )
        ).json()
        too_many = await client.post(
            "/product/metadata", json={"asins": ["B0"] * 301}, headers=auth
        )
    listed = products["ProductMetadataList"]
    assert [p["asin"] for p in listed] == asins
    assert {p["title"] for p in listed} == {ad.headline for ad in known}
    assert listed[0]["imageUrl"] == f"http://sbx/cdn/{known[0].creative_id}.png"
    assert listed[0]["priceToPay"]["currency"] == "USD"
    assert [p["asin"] for p in second["ProductMetadataList"]] == asins[2:4]
    assert too_many.status_code == 400 and "1 to 300" in too_many.json()["details"]
