import json
import time
from collections import Counter
from datetime import UTC, date, datetime

import httpx
import pytest

from generator.sandbox import DEMO_CREDENTIALS, DEMO_ENVIRONMENT, Faults, create_app
from generator.sandbox import meta as meta_sandbox
from generator.sandbox.assets import cards, creative_format, revision, video_length
from generator.sandbox.meta import MAX_IDS, MAX_JOB_DAYS

TOKEN = DEMO_CREDENTIALS["meta"]["access_token"]
ACT = "act_1029384756"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
FIELDS = (
    "ad_id,ad_name,adset_id,campaign_id,campaign_name,impressions,clicks,spend,actions,"
    "action_values,account_currency"
)


@pytest.fixture
def http(world):
    def make(faults=None):
        app = create_app(world, faults, now=NOW)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sbx/meta")

    return make


def auth(token=TOKEN):
    return {"authorization": f"Bearer {token}"}


async def submit(client, since="2026-10-01", until="2026-10-02", account=ACT, **params):
    form = {
        "level": "ad",
        "time_increment": "1",
        "time_range": json.dumps({"since": since, "until": until}),
        "fields": FIELDS,
        "breakdowns": json.dumps(["publisher_platform"]),
        "action_breakdowns": json.dumps(["action_type"]),
        "action_attribution_windows": json.dumps(["1d_click", "7d_click", "28d_click", "1d_view"]),
        **params,
    }
    return await client.post(f"/v27.0/{account}/insights", data=form, headers=auth())


async def finished(client, **params) -> str:
    response = await submit(client, **params)
    assert response.status_code == 200, response.text
    run = response.json()["report_run_id"]
    for _ in range(2):
        status = (await client.get(f"/v27.0/{run}", headers=auth())).json()
    assert status["async_status"] == "Job Completed", status
    return run


async def read_all(client, path, limit=None, **params) -> tuple[list[dict], int]:
    rows, pages, query = [], 0, {**params, **({"limit": limit} if limit else {})}
    while True:
        body = (await client.get(path, params=query, headers=auth())).json()
        rows += body["data"]
        pages += 1
        if "next" not in body.get("paging", {}):
            return rows, pages
        query["after"] = body["paging"]["cursors"]["after"]


def truth(world, first, last, account=ACT):
    return [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["account_id"] == account and first <= r["date"] <= last
    ]


def cents(text: str) -> int:
    major, _, minor = text.partition(".")
    return int(major) * 100 + int((minor + "00")[:2])


async def test_the_ad_account_node(http):
    async with http() as client:
        response = await client.get(
            f"/v27.0/{ACT}", params={"fields": "name,currency,timezone_name"}, headers=auth()
        )
    assert response.json() == {
        "id": ACT,
        "name": "Northwind Outfitters",
        "currency": "USD",
        "timezone_name": "America/New_York",
    }
    usage = json.loads(response.headers["x-business-use-case-usage"])
    assert usage["1029384756"][0]["type"] == "ads_management"
    assert "x-fb-ads-insights-throttle" not in response.headers
    assert DEMO_ENVIRONMENT["META_ACCESS_TOKEN"] == TOKEN


async def test_an_insights_job_runs_polls_and_pages(http, world):
    async with http() as client:
        response = await submit(client)
        run = response.json()["report_run_id"]
        early = await client.get(f"/v27.0/{run}/insights", headers=auth())
        first = (await client.get(f"/v27.0/{run}", headers=auth())).json()
        second = (await client.get(f"/v27.0/{run}", headers=auth())).json()
        rows, pages = await read_all(client, f"/v27.0/{run}/insights", limit=40)
        throttle = json.loads(
            (await client.get(f"/v27.0/{run}/insights", headers=auth())).headers[
                "x-fb-ads-insights-throttle"
            ]
        )
    assert early.status_code == 400 and early.json()["error"]["code"] == 100
    assert (first["async_status"], first["async_percent_completion"]) == ("Job Running", 50)
    assert (second["async_status"], second["async_percent_completion"]) == ("Job Completed", 100)
    assert second["date_start"] == "2026-10-01" and second["account_id"] == "1029384756"
    assert pages > 2 and throttle["ads_api_access_tier"] == "standard_access"
    facts = truth(world, date(2026, 10, 1), date(2026, 10, 2))
    assert sum(int(r.get("impressions", 0)) for r in rows) == sum(f["impressions"] for f in facts)
    assert sum(cents(r.get("spend", "0")) for r in rows) * 10_000 == sum(
        f["spend_micros"] for f in facts
    )
    assert {r["publisher_platform"] for r in rows} == {"facebook", "instagram", "audience_network"}
    assert all(r["date_start"] == r["date_stop"] and r["account_currency"] == "USD" for r in rows)
    assert all(isinstance(r["impressions"], str) for r in rows)


async def test_actions_come_in_every_spelling_with_the_worlds_numbers(http, world):
    async with http() as client:
        run = await finished(client, action_attribution_windows='["7d_click","1d_view","7d_view"]')
        rows, _ = await read_all(client, f"/v27.0/{run}/insights", limit=500)
    counts, values = Counter(), Counter()
    for row in rows:
        for action in row.get("actions", []):
            counts[action["action_type"]] += int(action["value"])
            assert set(action) <= {"action_type", "value", "7d_click", "1d_view"}
        for value in row.get("action_values", []):
            values[value["action_type"]] += cents(value["value"])
    facts = truth(world, date(2026, 10, 1), date(2026, 10, 2))
    conversions = sum(f["conversions"] for f in facts)
    for spelling in ("offsite_conversion.fb_pixel_purchase", "omni_purchase", "purchase"):
        assert counts[spelling] == conversions
        assert values[spelling] * 10_000 == sum(f["value_micros"] for f in facts)
    assert counts["omni_add_to_cart"] == sum(f["secondary_actions"] for f in facts)
    assert counts["link_click"] == sum(f["clicks"] for f in facts)
    purchase = next(a for r in rows for a in r.get("actions", []) if a["action_type"] == "purchase")
    assert int(purchase["value"]) == int(purchase.get("7d_click", 0)) + int(
        purchase.get("1d_view", 0)
    )


async def test_a_lead_client_reports_leads_and_contacts(http, world):
    async with http() as client:
        run = await finished(client, account="act_2039485761")
        rows, _ = await read_all(client, f"/v27.0/{run}/insights", limit=500)
    types = {a["action_type"] for r in rows for a in r.get("actions", [])}
    assert {"lead", "onsite_conversion.lead_grouped", "contact_total"} <= types
    assert not any(r.get("action_values") for r in rows)  # no value in the world
    leads = sum(
        int(a["value"]) for r in rows for a in r.get("actions", []) if a["action_type"] == "lead"
    )
    facts = truth(world, date(2026, 10, 1), date(2026, 10, 2), "act_2039485761")
    assert leads == sum(f["conversions"] for f in facts)


async def test_a_job_over_the_size_limit_fails(http):
    async with http() as client:
        response = await submit(client, since="2026-08-01", until="2026-09-29")
        run = response.json()["report_run_id"]
        statuses = [(await client.get(f"/v27.0/{run}", headers=auth())).json() for _ in range(3)]
        results = await client.get(f"/v27.0/{run}/insights", headers=auth())
    assert [s["async_status"] for s in statuses] == ["Job Running", "Job Failed", "Job Failed"]
    assert statuses[1]["error_code"] == -2 and "report failed" in statuses[1]["error_message"]
    assert results.status_code == 400 and MAX_JOB_DAYS == 45


async def test_without_the_platform_breakdown_networks_are_summed(http, world):
    async with http() as client:
        run = await finished(client, breakdowns="", fields="ad_id,impressions")
        rows, _ = await read_all(client, f"/v27.0/{run}/insights", limit=500)
    facts = truth(world, date(2026, 10, 1), date(2026, 10, 2))
    assert len(rows) == len({(f["date"], f["ad_id"]) for f in facts})
    assert all(set(r) == {"ad_id", "impressions", "date_start", "date_stop"} for r in rows)
    assert sum(int(r["impressions"]) for r in rows) == sum(f["impressions"] for f in facts)


async def test_entities_page_by_cursor(http, world):
    async with http() as client:
        ads, pages = await read_all(
            client, f"/v27.0/{ACT}/ads", limit=5, fields="id,name,creative{id}"
        )
        creatives, _ = await read_all(
            client,
            f"/v27.0/{ACT}/adcreatives",
            fields="id,title,object_story_spec,image_url,thumbnail_url,call_to_action_type",
        )
    known = world.ads_of("meta", ACT)
    assert pages == -(-len(known) // 5)
    assert {a["id"] for a in ads} == {ad.ad_id for ad in known}
    assert {a["creative"]["id"] for a in ads} == {c["id"] for c in creatives}
    images = [c for c in creatives if "image_url" in c]
    creative = next(c for c in images if revision(world.ad_by_creative(c["id"]), NOW.date()) == 0)
    assert set(creative) == {
        "id",
        "title",
        "object_story_spec",
        "image_url",
        "thumbnail_url",
        "call_to_action_type",
    }
    assert creative["image_url"] == f"http://sbx/cdn/{creative['id']}.png"
    assert creative["thumbnail_url"].startswith(creative["image_url"] + "?")
    link = creative["object_story_spec"]["link_data"]
    assert link["link"].startswith("https://northwindoutfitters.com/lp/")
    assert link["call_to_action"]["type"] == creative["call_to_action_type"] == "SHOP_NOW"
    assert len(link["image_hash"]) == 32
    revised = next(c for c in images if revision(world.ad_by_creative(c["id"]), NOW.date()))
    rev = revision(world.ad_by_creative(revised["id"]), NOW.date())
    assert revised["image_url"] == f"http://sbx/cdn/{revised['id']}-r{rev}.png"


async def test_carousels_and_videos_in_graphs_shapes(http, world):
    async with http() as client:
        creatives, _ = await read_all(
            client, f"/v27.0/{ACT}/adcreatives", fields="id,object_story_spec,thumbnail_url"
        )
        by_format = {}
        for creative in creatives:
            by_format.setdefault(creative_format(world.ad_by_creative(creative["id"])), []).append(
                creative
            )
        carousel, video = by_format["carousel"][0], by_format["video"][0]
        children = carousel["object_story_spec"]["link_data"]["child_attachments"]
        pictures = [await client.get(child["picture"]) for child in children]
        spec = video["object_story_spec"]
        poster = await client.get(spec["video_data"]["image_url"])
    ad = world.ad_by_creative(carousel["id"])
    assert [c["name"] for c in children] == [card.headline for card in cards(ad)]
    assert [c["description"] for c in children] == [card.body for card in cards(ad)]
    assert [c["link"] for c in children] == [card.landing_url for card in cards(ad)]
    assert all(len(c["image_hash"]) == 32 and "-card" in c["picture"] for c in children)
    assert len({c["image_hash"] for c in children}) == len(children)
    assert {p.status_code for p in pictures} == {200}
    assert carousel["thumbnail_url"].startswith(children[0]["picture"] + "?")
    assert set(spec) == {"page_id", "video_data"}
    data = spec["video_data"]
    assert set(data) == {"video_id", "image_url", "title", "message", "call_to_action"}
    assert "-poster" in data["image_url"] and poster.headers["content-type"] == "image/png"
    assert video["thumbnail_url"].startswith(data["image_url"] + "?")
    assert data["call_to_action"]["value"]["link"].startswith("https://")


async def test_video_nodes_one_by_one_and_by_multiple_ids(http, world):
    videos = [
        ad for ad in world.ads if ad.account.source == "meta" and creative_format(ad) == "video"
    ]
    async with http() as client:
        creatives, _ = await read_all(
            client, f"/v27.0/{ACT}/adcreatives", fields="id,object_story_spec"
        )
        ids = {
            c["id"]: c["object_story_spec"]["video_data"]["video_id"]
            for c in creatives
            if "video_data" in c["object_story_spec"]
        }
        one_id = next(iter(ids.values()))
        one = await client.get(f"/v27.0/{one_id}", params={"fields": "length"}, headers=auth())
        many = await client.get(
            "/v27.0/", params={"ids": ",".join(ids.values()), "fields": "length"}, headers=auth()
        )
        unknown = await client.get(
            "/v27.0/", params={"ids": f"{one_id},1234", "fields": "length"}, headers=auth()
        )
        too_many = await client.get(
            "/v27.0/", params={"ids": ",".join([one_id] * (MAX_IDS + 1))}, headers=auth()
        )
        future = await client.get(f"/v27.0/{int(one_id) + 1}", headers=auth())  # next upload
    assert len(ids) == len([v for v in videos if v.account.account_id == ACT])
    assert set(one.json()) == {"id", "length"} and one.json()["id"] == one_id
    assert isinstance(one.json()["length"], float)
    body = many.json()
    assert set(body) == set(ids.values())
    for creative_id, video_id in ids.items():
        ad = world.ad_by_creative(creative_id)
        expected = video_length(ad, revision(ad, NOW.date()))
        assert body[video_id] == {"id": video_id, "length": expected}
    error = unknown.json()["error"]
    assert unknown.status_code == 400 and error["code"] == 803 and "1234" in error["message"]
    assert too_many.json()["error"]["code"] == 100
    assert future.json()["error"]["code"] == 100  # a revision not uploaded yet does not exist


@pytest.mark.parametrize(
    ("request_", "code", "needle"),
    [
        (("GET", f"/v24.0/{ACT}", {}), 2635, "deprecated version of the Ads API"),
        (("GET", f"/v99.0/{ACT}", {}), 2500, "Unknown path components"),
        (("GET", f"/v27.0/{ACT}", {"token": ""}), 104, "access token is required"),
        (("GET", f"/v27.0/{ACT}", {"token": "EAAstolen"}), 190, "Invalid OAuth access token"),
        (("GET", "/v27.0/act_1", {}), 100, "Object with ID 'act_1' does not exist"),
        (("GET", "/v27.0/act_1/ads", {}), 100, "does not exist"),
        (("GET", f"/v27.0/{ACT}/insights", {}), 100, "async jobs"),
        (("GET", f"/v27.0/{ACT}/campaigns", {}), 100, "nonexisting field (campaigns)"),
        (("GET", "/v27.0/12345/insights", {}), 100, "Object with ID '12345'"),
        (("GET", f"/v27.0/{ACT}/ads", {"after": "%%%"}), 100, "not valid"),
        (("GET", f"/v27.0/{ACT}/ads", {"limit": "many"}), 100, "not valid"),
        (("POST", "/v27.0/act_1/insights", {}), 100, "Unsupported post request"),
        (("POST", f"/v27.0/{ACT}/insights", {"time_range": "{}"}), 100, "time_range"),
        (
            (
                "POST",
                f"/v27.0/{ACT}/insights",
                {"time_range": '{"since":"2026-10-02","until":"2026-10-01"}'},
            ),
            100,
            "until is before since",
        ),
        (("POST", f"/v27.0/{ACT}/insights", {"level": "campaign"}), 100, "level=ad"),
        (("POST", f"/v27.0/{ACT}/insights", {"fields": "reach,spend"}), 100, "reach is not valid"),
        (("POST", f"/v27.0/{ACT}/insights", {"breakdowns": "age"}), 100, "age is not supported"),
        (
            ("POST", f"/v27.0/{ACT}/insights", {"action_attribution_windows": '["2d_click"]'}),
            100,
            "2d_click",
        ),
        (("POST", f"/v27.0/{ACT}/insights", {"action_breakdowns": "[oops"}), 100, "JSON list"),
    ],
)
async def test_errors_in_graphs_shape(http, request_, code, needle):
    method, path, params = request_
    token = params.pop("token", TOKEN)
    headers = auth(token) if token else {}
    async with http() as client:
        if method == "GET":
            response = await client.get(path, params=params, headers=headers)
        else:
            window = {"time_range": json.dumps({"since": "2026-10-01", "until": "2026-10-01"})}
            response = await client.post(path, data={**window, **params}, headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and needle in error["message"], error
    assert error["fbtrace_id"] and error["type"] in ("OAuthException", "GraphMethodException")


async def test_tokens_in_the_query_or_an_oauth_header_are_accepted(http):
    async with http() as client:
        by_query = await client.get(f"/v27.0/{ACT}", params={"access_token": TOKEN})
        by_oauth = await client.get(f"/v27.0/{ACT}", headers={"authorization": f"OAuth {TOKEN}"})
        root = await client.get("http://sbx/")
    assert by_query.status_code == by_oauth.status_code == 200
    assert root.json()["requests"]["meta"] == 2


async def test_usage_rises_then_the_throttle_answers_error_17(http):
    async with http(Faults(rate_limit=0.1)) as client:  # burst of 5, 6 calls a window
        answers = [await client.get(f"/v27.0/{ACT}", headers=auth()) for _ in range(6)]
    usage = [json.loads(a.headers["x-ad-account-usage"])["acc_id_util_pct"] for a in answers[:5]]
    assert usage == sorted(usage) and usage[0] < usage[-1] and usage[-1] > 75
    error = answers[5].json()["error"]
    assert (answers[5].status_code, error["code"], error["error_subcode"]) == (400, 17, 2446079)
    assert json.loads(answers[5].headers["x-ad-account-usage"])["reset_time_duration"] >= 1


async def test_a_spent_budget_answers_80000_with_the_time_to_regain_access(http):
    async with http(Faults(rate_limit=0.05)) as client:  # 3 calls a window
        run = await finished(client)  # submit and two polls
        over = await client.get(f"/v27.0/{run}/insights", headers=auth())
        management = await client.get(f"/v27.0/{ACT}/ads", headers=auth())
    assert over.json()["error"]["code"] == 80000
    usage = json.loads(over.headers["x-business-use-case-usage"])["1029384756"][0]
    assert usage["call_count"] == 100 and usage["estimated_time_to_regain_access"] == 1
    assert management.json()["error"]["code"] == 80004


async def test_faults_outage_errors_and_truncation(http):
    async with http(Faults(outage={"meta"})) as client:
        down = await client.get(f"/v27.0/{ACT}", headers=auth())
    assert down.status_code == 503
    assert down.json()["error"] == {**down.json()["error"], "code": 2, "is_transient": True}
    async with http(Faults(error_rate=1.0)) as client:
        statuses = {
            (await client.get(f"/v27.0/{ACT}", headers=auth())).status_code for _ in range(12)
        }
    assert statuses <= {500, 502, 503} and 500 in statuses
    async with http(Faults(truncate_rate=1.0)) as client:
        response = await client.get(f"/v27.0/{ACT}", headers=auth())
    with pytest.raises(ValueError):
        response.json()


async def test_the_budget_returns_when_the_window_has_passed(world):
    app = create_app(world, Faults(rate_limit=0.05), now=NOW)  # 3 calls a window, bursts of 5
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sbx/meta") as client:
        codes = [(await client.get(f"/v27.0/{ACT}", headers=auth())).status_code for _ in range(4)]
        app.state.sandbox.clock = lambda: time.time() + 61
        again = await client.get(f"/v27.0/{ACT}", headers=auth())
    assert codes == [200, 200, 200, 400] and again.status_code == 200


async def test_a_range_without_data_answers_an_empty_page(http):
    async with http() as client:
        run = await finished(client, since="2020-01-01", until="2020-01-02")
        page = (await client.get(f"/v27.0/{run}/insights", headers=auth())).json()
    assert page == {"data": []}


def test_a_text_ad_has_no_image(world):
    search_ad = next(ad for ad in world.ads if ad.campaign.objective == "search")
    creative = meta_sandbox._creative(None, search_ad)
    assert "image_url" not in creative
    assert "image_hash" not in creative["object_story_spec"]["link_data"]
