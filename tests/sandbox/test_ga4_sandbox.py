"""The GA4 sandbox answers in the Data and Admin APIs' shapes, from the world's journeys."""

import functools
import json
from datetime import UTC, datetime

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from generator.sandbox import DEMO_CREDENTIALS, Faults, create_app
from generator.sandbox import ga4 as sandbox
from generator.sandbox.catalog import CLIENTS
from generator.sandbox.journeys import FUNNELS, PAGES, site_events

CREDS = DEMO_CREDENTIALS["ga4"]
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
NORTHWIND, BRIGHTLINE = "312456789", "398765432"
DAY = "2026-10-06"  # a Tuesday in New York
FUNNEL = {
    "dateRanges": [{"startDate": DAY, "endDate": DAY}],
    "dimensions": [{"name": "date"}, {"name": "eventName"}],
    "metrics": [{"name": "eventCount"}, {"name": "keyEvents"}, {"name": "totalRevenue"}],
    "returnPropertyQuota": True,
}
WEEK = [{"startDate": "2026-10-05", "endDate": "2026-10-11"}]
#: the site events report the connector asks for: nine dimensions, GA4's most
EVENTS = {
    "dateRanges": WEEK,
    "dimensions": [
        {"name": name}
        for name in (
            "dateHourMinute",
            "customUser:client_id",
            "eventName",
            "sessionSource",
            "sessionMedium",
            "sessionCampaignName",
            "deviceCategory",
            "country",
            "pagePath",
        )
    ],
    "metrics": [{"name": "eventCount"}],
    "limit": 250_000,
}
SESSIONS = {
    "dateRanges": [{"startDate": DAY, "endDate": DAY}],
    "dimensions": [
        {"name": name}
        for name in ("dateHourMinute", "customUser:client_id", "sessionSource", "sessionMedium")
    ],
    "metrics": [{"name": "sessions"}],
}


@pytest.fixture
def sbx(world):
    """``make(faults)`` -> (app, client); the client is rooted at /ga4."""

    def make(faults=None):
        app = create_app(world, faults, now=NOW)
        transport = httpx.ASGITransport(app)
        return app, httpx.AsyncClient(transport=transport, base_url="http://sbx/ga4")

    return make


async def token(client) -> str:
    form = {"grant_type": "refresh_token", **CREDS}
    response = await client.post("/token", data=form)
    assert response.status_code == 200, response.text
    assert response.json()["scope"].endswith("analytics.readonly")
    return response.json()["access_token"]


async def report(client, access, body, prop=NORTHWIND, version="v1beta"):
    return await client.post(
        f"/{version}/properties/{prop}:runReport",
        json=body,
        headers={"authorization": f"Bearer {access}"},
    )


def table(body) -> pd.DataFrame:
    names = [h["name"] for h in body["dimensionHeaders"] + body["metricHeaders"]]
    rows = [
        [c["value"] for c in r["dimensionValues"] + r["metricValues"]] for r in body.get("rows", [])
    ]
    return pd.DataFrame(rows, columns=names)


def truth(world, slug="northwind", zone="America/New_York"):
    """The world's sessions and conversions of one client with their local dates."""
    sessions = world.journeys.sessions.to_pandas()
    sessions = sessions[sessions["client"] == slug]
    conversions = world.journeys.conversions.to_pandas()
    conversions = conversions[conversions["client"] == slug]
    for frame in (sessions, conversions):
        frame["local"] = frame["timestamp"].dt.tz_convert(zone).dt.strftime("%Y-%m-%d")
    return sessions, conversions


@functools.cache
def site_truth(world, client):
    """The client's sessions, conversions and ``site_events`` as frames (once per client:
    the tests only read them)."""
    journeys = world.journeys
    sessions = journeys.sessions.filter(pc.equal(journeys.sessions["client"], client.slug))
    won = journeys.conversions.filter(pc.equal(journeys.conversions["client"], client.slug))
    events = site_events(sessions, won, client.profile, client.timezone)
    return sessions.to_pandas(), won.to_pandas(), events.to_pandas()


def local_day(stamps: pd.Series, zone: str) -> np.ndarray:
    """Each instant's day in ``zone``, as its midnight (vectorised: no Python dates)."""
    return stamps.dt.tz_convert(zone).dt.tz_localize(None).dt.floor("D").to_numpy()


async def test_funnel_events_follow_the_sessions_steps_and_conversions(sbx, world):
    _, client = sbx()
    async with client:
        response = await report(client, await token(client), FUNNEL)
    body = response.json()
    assert response.status_code == 200 and body["kind"] == "analyticsData#runReport"
    assert body["metadata"] == {"currencyCode": "USD", "timeZone": "America/New_York"}
    types = ["TYPE_INTEGER", "TYPE_FLOAT", "TYPE_CURRENCY"]
    assert [h["type"] for h in body["metricHeaders"]] == types
    assert set(body["propertyQuota"]) == set(sandbox.QUOTA_LIMITS)
    got = table(body).set_index("eventName")
    assert set(got["date"]) == {"20261006"} and body["rowCount"] == len(got)
    sessions, conversions = truth(world)
    sessions, conversions = (
        sessions[sessions["local"] == DAY],
        conversions[conversions["local"] == DAY],
    )
    steps = FUNNELS["ecommerce"]
    for j, event in enumerate(steps[:-1]):
        assert int(got.loc[event, "eventCount"]) == int((sessions["steps"] > j).sum()), event
        assert got.loc[event, "keyEvents"] == "0"
    assert int(got.loc["purchase", "eventCount"]) == len(conversions)
    assert int(got.loc["purchase", "keyEvents"]) == len(conversions)
    revenue = got.loc["purchase", "totalRevenue"]
    assert round(float(revenue) * 1e6) == conversions["value_micros"].sum()


async def test_sessions_carry_the_client_id_and_the_minute(sbx, world):
    _, client = sbx()
    async with client:
        body = (await report(client, await token(client), SESSIONS)).json()
    got = table(body)
    sessions, _ = truth(world)
    sessions = sessions[sessions["local"] == DAY]
    assert got["sessions"].astype(int).sum() == len(sessions)
    assert set(got["customUser:client_id"]) == set(sessions["user_id"])
    assert got["dateHourMinute"].str.fullmatch(r"20261006\d{4}").all()
    assert got["dateHourMinute"].is_monotonic_increasing  # sorted by dimensions: stable pages


async def test_site_events_add_up_to_the_funnel_report_per_day(sbx):
    _, client = sbx()
    async with client:
        access = await token(client)
        events = table((await report(client, access, EVENTS)).json())
        by_day = [{"name": n} for n in ("date", "sessionSource", "sessionMedium")]
        by_day += [{"name": "sessionCampaignName"}, {"name": "eventName"}]
        funnel = {**FUNNEL, "dateRanges": WEEK, "dimensions": by_day, "limit": 250_000}
        funnel = table((await report(client, access, funnel)).json())
    keys = ["sessionSource", "sessionMedium", "sessionCampaignName", "eventName"]
    events["date"] = events["dateHourMinute"].str[:8]
    counted = events.astype({"eventCount": int}).groupby(["date", *keys])["eventCount"].sum()
    expected = funnel.astype({"eventCount": int}).set_index(["date", *keys])["eventCount"]
    assert counted.sort_index().to_dict() == expected.sort_index().to_dict()
    assert set(events["date"]) == {f"202610{d:02d}" for d in range(5, 12)}
    # a visitor's device and country are theirs in every session; the profile's shares
    per_user = events.groupby("customUser:client_id")[["deviceCategory", "country"]]
    assert (per_user.nunique() == 1).all().all()
    devices = per_user.first()["deviceCategory"].value_counts(normalize=True)
    assert 0.5 < devices["mobile"] < 0.7 and set(devices.index) == {"mobile", "desktop", "tablet"}
    assert per_user.first()["country"].value_counts().index[0] == "United States"
    pages = events.groupby("eventName")["pagePath"].agg(set)
    for step, event in enumerate(FUNNELS["ecommerce"]):
        assert pages[event] <= set(PAGES["ecommerce"][step]), event


@pytest.mark.parametrize("client", CLIENTS, ids=[c.slug for c in CLIENTS])
def test_each_session_fires_its_steps_in_order_on_its_day(world, client):
    sessions, conversions, events = site_truth(world, client)
    funnel, zone = FUNNELS[client.profile], client.timezone
    steps = events[events["conversion"].isna()].sort_values(["session", "step"])
    for j, event in enumerate(funnel[:-1]):  # as many as site_funnel counts
        assert (steps["event_name"] == event).sum() == (sessions["steps"] > j).sum(), event
    # steps 0, 1, ... in order, the first at the session's start, each on the session's day
    by_session = steps.groupby("session")
    assert (steps["step"] == by_session.cumcount()).all()
    assert (by_session["timestamp"].diff().dropna() >= pd.Timedelta(0)).all()
    start = sessions["timestamp"].iloc[steps["session"].astype(int)].set_axis(steps.index)
    assert (steps["timestamp"] == start)[steps["step"] == 0].all()
    assert (local_day(steps["timestamp"], zone) == local_day(start, zone)).all()
    # a key event is its conversion, at the conversion's time, after its session's steps
    keyed = events[events["conversion"].notna()]
    assert sorted(keyed["conversion"]) == list(range(len(conversions)))
    at = conversions["timestamp"].iloc[keyed["conversion"].astype(int)]
    assert (keyed["timestamp"].to_numpy() == at.to_numpy()).all()
    last = by_session["timestamp"].max()
    assert (keyed["timestamp"].to_numpy() >= last[keyed["session"]].to_numpy()).all()
    # and the visitor's next session starts after this one's steps
    later = sessions.assign(row=range(len(sessions))).sort_values(["user_id", "timestamp"])
    later["next"] = later.groupby("user_id")["timestamp"].shift(-1)
    following = later.set_index("row")["next"].sort_index().iloc[last.index]
    assert (following.dropna() >= last[following.notna().to_numpy()].to_numpy()).all()


async def test_the_events_report_is_the_worlds_events(sbx, world):
    _, client = sbx()
    async with client:
        body = {**EVENTS, "dateRanges": [{"startDate": DAY, "endDate": DAY}]}
        got = table((await report(client, await token(client), body)).json())
    sessions, _, events = site_truth(world, CLIENTS[0])
    local = events["timestamp"].dt.tz_convert("America/New_York").dt.tz_localize(None)
    events = events[local.dt.floor("D") == pd.Timestamp(DAY)]
    session = events["session"].astype(int).to_numpy()
    events = events.assign(
        minute=local[events.index].dt.strftime("%Y%m%d%H%M"),
        user=sessions["user_id"].to_numpy()[session],
        device=sessions["device_category"].to_numpy()[session],
    )
    keys = ["minute", "user", "event_name", "page_path", "device"]
    expected = events.groupby(keys).size().to_dict()
    names = ["dateHourMinute", "customUser:client_id", "eventName", "pagePath", "deviceCategory"]
    counted = got.astype({"eventCount": int}).groupby(names)["eventCount"].sum().to_dict()
    assert counted == expected and sum(counted.values()) > 1000


async def test_pages_with_limit_and_offset(sbx):
    _, client = sbx()
    async with client:
        access = await token(client)
        whole = (await report(client, access, SESSIONS)).json()
        pages = [
            (await report(client, access, {**SESSIONS, "limit": 100, "offset": str(at)})).json()
            for at in range(0, whole["rowCount"] + 100, 100)
        ]
    assert {p["rowCount"] for p in pages} == {whole["rowCount"]}
    assert "rows" not in pages[-1]
    stitched = [r for p in pages for r in p.get("rows", [])]
    assert stitched == whole["rows"]


@pytest.mark.parametrize(
    ("where", "events"),
    [
        (
            {"filter": {"fieldName": "eventName", "inListFilter": {"values": ["purchase"]}}},
            {"purchase"},
        ),
        (
            {
                "filter": {
                    "fieldName": "eventName",
                    "inListFilter": {"values": ["Purchase"], "caseSensitive": True},
                }
            },
            set(),
        ),
        (
            {"filter": {"fieldName": "eventName", "stringFilter": {"value": "PURCHASE"}}},
            {"purchase"},
        ),
        (
            {
                "filter": {
                    "fieldName": "eventName",
                    "stringFilter": {"value": "VIEW", "matchType": "BEGINS_WITH"},
                }
            },
            {"view_item"},
        ),
        (
            {
                "filter": {
                    "fieldName": "eventName",
                    "stringFilter": {"value": "_cart", "matchType": "ENDS_WITH"},
                }
            },
            {"add_to_cart"},
        ),
        (
            {
                "filter": {
                    "fieldName": "eventName",
                    "stringFilter": {"value": "check", "matchType": "CONTAINS"},
                }
            },
            {"begin_checkout"},
        ),
        (
            {
                "filter": {
                    "fieldName": "eventName",
                    "stringFilter": {"value": "view_.*|purchase", "matchType": "FULL_REGEXP"},
                }
            },
            {"view_item", "purchase"},
        ),
        (
            {
                "filter": {
                    "fieldName": "eventName",
                    "stringFilter": {"value": "^add", "matchType": "PARTIAL_REGEXP"},
                }
            },
            {"add_to_cart"},
        ),
        (
            {
                "notExpression": {
                    "orGroup": {
                        "expressions": [
                            {"filter": {"fieldName": "eventName", "stringFilter": {"value": v}}}
                            for v in ("purchase", "session_start")
                        ]
                    }
                }
            },
            {"view_item", "add_to_cart", "begin_checkout"},
        ),
        (
            {
                "andGroup": {
                    "expressions": [
                        {
                            "filter": {
                                "fieldName": "sessionMedium",
                                "stringFilter": {"value": "cpc"},
                            }
                        },
                        {
                            "filter": {
                                "fieldName": "eventName",
                                "stringFilter": {"value": "purchase"},
                            }
                        },
                    ]
                }
            },
            {"purchase"},
        ),
        ({"andGroup": {"expressions": []}}, set(FUNNELS["ecommerce"])),
    ],
)
async def test_dimension_filters(sbx, where, events):
    _, client = sbx()
    async with client:
        body = (
            await report(client, await token(client), {**FUNNEL, "dimensionFilter": where})
        ).json()
    assert set(table(body).get("eventName", [])) == events


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"dimensions": [{"name": "landingPage"}]}, "Field landingPage is not a valid dimension."),
        (
            {"dimensions": [*EVENTS["dimensions"], {"name": "date"}]},
            "Requests are limited to 9 dimensions within a nested request. This request is for "
            "10 dimensions.",
        ),
        (
            {"metrics": [{"name": "sessions"}], "dimensions": [{"name": "pagePath"}]},
            "Please remove pagePath",
        ),
        ({"metrics": [{"name": "conversions"}]}, "Did you mean keyEvents? Field conversions"),
        ({"metrics": []}, "at least one metric"),
        ({"metrics": [{"name": "sessions"}]}, "Please remove eventName"),
        ({"dateRanges": []}, "A dateRange is required"),
        ({"dateRanges": ["2026-10-06"]}, "A dateRange is required"),
        ({"dateRanges": [{"startDate": DAY, "endDate": DAY}] * 2}, "not emulated"),
        ({"dateRanges": [{"startDate": "06/10/2026", "endDate": DAY}]}, "Invalid date"),
        ({"dateRanges": [{"startDate": "2026-10-07", "endDate": DAY}]}, "is after endDate"),
        ({"limit": -1}, "must be non-negative"),
        ({"offset": "many"}, "Invalid value at 'offset'"),
        ({"dimensionsz": []}, 'Unknown name "dimensionsz"'),
        ({"metricFilter": {"filter": {}}}, "metricFilter is not emulated"),
        ({"dimensionFilter": {"filter": {"fieldName": "sessions"}}}, "is not a valid dimension"),
        ({"dimensionFilter": {"filter": {}, "andGroup": {}}}, "exactly one of"),
        ({"dimensionFilter": {"orFilter": {}}}, "Unknown FilterExpression"),
        ({"dimensionFilter": {"filter": {"fieldName": "eventName"}}}, "stringFilter and inList"),
        (
            {
                "dimensionFilter": {
                    "filter": {"fieldName": "eventName", "stringFilter": {"matchType": "FUZZY"}}
                }
            },
            "Invalid matchType",
        ),
    ],
)
async def test_requests_google_would_refuse(sbx, change, needle):
    _, client = sbx()
    async with client:
        response = await report(client, await token(client), {**FUNNEL, **change})
    error = response.json()["error"]
    assert response.status_code == 400 and error["status"] == "INVALID_ARGUMENT"
    assert needle in error["message"]


async def test_a_session_report_cannot_filter_on_events_and_bodies_must_be_json(sbx):
    _, client = sbx()
    async with client:
        access = await token(client)
        where = {"filter": {"fieldName": "eventName", "stringFilter": {"value": "purchase"}}}
        refused = await report(client, access, {**SESSIONS, "dimensionFilter": where})
        garbled = await client.post(
            f"/v1beta/properties/{NORTHWIND}:runReport",
            content=b"{not json",
            headers={"authorization": f"Bearer {access}"},
        )
        listed = await report(client, access, ["not", "an", "object"])
    assert refused.status_code == 400 and "Please remove eventName" in refused.text
    assert garbled.status_code == 400 and "Invalid JSON payload" in garbled.text
    assert listed.status_code == 400 and "Expected an object" in listed.text


async def test_date_ranges_limits_and_empty_reports(sbx):
    _, client = sbx()
    async with client:
        access = await token(client)
        week = {"startDate": "2026-11-17", "endDate": "2026-11-23"}
        week = (await report(client, access, {**FUNNEL, "dateRanges": [week]})).json()
        today = {"startDate": "2026-11-24", "endDate": "2026-11-24"}
        empty = (await report(client, access, {**FUNNEL, "dateRanges": [today]})).json()
        relative = {"startDate": "7daysAgo", "endDate": "yesterday"}
        refused = await report(client, access, {**FUNNEL, "dateRanges": [relative]})
        capped = (await report(client, access, {**FUNNEL, "limit": 10**9})).json()
        default = (await report(client, access, {**FUNNEL, "limit": 0})).json()
    assert {r["dimensionValues"][0]["value"] for r in week["rows"]} == {
        f"202611{d}" for d in range(17, 24)
    }
    assert "rows" not in empty and "rowCount" not in empty and empty["metadata"]
    assert refused.status_code == 400 and "reads YYYY-MM-DD" in refused.text
    assert capped["rows"] == default["rows"]


async def test_a_report_without_dimensions_is_one_total_row(sbx, world):
    _, client = sbx()
    async with client:
        only = {"dateRanges": SESSIONS["dateRanges"], "metrics": [{"name": "sessions"}]}
        body = (await report(client, await token(client), only)).json()
    sessions, _ = truth(world)
    assert body["rows"] == [{"metricValues": [{"value": str((sessions["local"] == DAY).sum())}]}]


def test_cells_are_json_whatever_the_text():
    texts = ['a"b', "c\\d", "tab\there", "خصم <b>", ""]
    cells = sandbox._cells(pa.chunked_array([texts])).to_pylist()
    assert [json.loads(c)["value"] for c in cells] == texts


async def test_the_admin_property_names_zone_and_currency(sbx):
    _, client = sbx()
    async with client:
        access = await token(client)
        response = await client.get(
            f"/v1beta/properties/{BRIGHTLINE}", headers={"authorization": f"Bearer {access}"}
        )
        unknown = await client.get(
            "/v1beta/properties/1", headers={"authorization": f"Bearer {access}"}
        )
    prop = response.json()
    assert prop["name"] == f"properties/{BRIGHTLINE}" and prop["displayName"] == "brightline.dev"
    assert (prop["timeZone"], prop["currencyCode"]) == ("America/Chicago", "USD")
    assert prop["propertyType"] == "PROPERTY_TYPE_ORDINARY"
    assert prop["parent"].startswith("accounts/") and prop["account"] == prop["parent"]
    assert unknown.status_code == 403 and unknown.json()["error"]["status"] == "PERMISSION_DENIED"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        (
            {"grant_type": "refresh_token", "client_id": "x", "client_secret": "y"},
            401,
            "invalid_client",
        ),
        ({"grant_type": "refresh_token", **CREDS, "refresh_token": "stolen"}, 400, "invalid_grant"),
        (
            {"grant_type": "refresh_token", **DEMO_CREDENTIALS["google_ads"]},
            401,
            "invalid_client",
        ),
    ],
)
async def test_token_endpoint_rejections(sbx, form, status, error):
    _, client = sbx()
    async with client:
        response = await client.post("/token", data=form)
    assert response.status_code == status and response.json()["error"] == error


async def test_access_is_checked_per_token_property_and_version(sbx, world):
    _, client = sbx(Faults(token_ttl=0.0))
    async with client:
        expired = await token(client)
        late = await report(client, expired, FUNNEL)
    assert late.status_code == 401 and late.json()["error"]["status"] == "UNAUTHENTICATED"
    _, client = sbx()
    async with client:
        access = await token(client)
        google_token = await report(client, "sbx.google_ads.nope", FUNNEL)
        unknown = await report(client, access, FUNNEL, prop="4829103756")
        retired = await report(client, access, FUNNEL, version="v1alpha")
        admin_retired = await client.get(
            f"/v1/properties/{NORTHWIND}", headers={"authorization": f"Bearer {access}"}
        )
    assert google_token.status_code == 401
    assert unknown.status_code == 403 and "sufficient permissions" in unknown.text
    assert retired.status_code == 404 and retired.headers["content-type"].startswith("text/html")
    assert f"/v1alpha/properties/{NORTHWIND}:runReport</code> was not found" in retired.text
    assert admin_retired.status_code == 404 and "/v1/properties/" in admin_retired.text


async def test_property_quota_drains_and_then_runs_out(sbx):
    app, client = sbx()
    async with client:
        access = await token(client)
        first = (await report(client, access, FUNNEL)).json()["propertyQuota"]
        second = (await report(client, access, FUNNEL)).json()["propertyQuota"]
        quota = sandbox.property_quota(app, NORTHWIND)
        quota.used[("tokensPerHour", NOW.strftime("%Y-%m-%dT%H"))] = 40_000 - 3
        exhausted = await report(client, access, FUNNEL)
        other = await report(client, access, FUNNEL, prop=BRIGHTLINE)
    hour = first["tokensPerHour"]
    assert hour["consumed"] == 5 and hour["remaining"] == 40_000 - 5
    assert second["tokensPerHour"]["remaining"] == 40_000 - 10
    assert second["tokensPerDay"]["remaining"] == 200_000 - 10
    assert second["concurrentRequests"] == {"consumed": 0, "remaining": 10}
    assert exhausted.status_code == 429
    assert exhausted.json()["error"] == {
        "code": 429,
        "message": "Exhausted property tokens per hour. These quota tokens will return in "
        "under an hour.",
        "status": "RESOURCE_EXHAUSTED",
    }
    assert other.status_code == 200  # quotas are per property


async def test_requests_faster_than_allowed_are_throttled(sbx):
    _, client = sbx(Faults(rate_limit=0.01))
    async with client:
        access = await token(client)
        answers = [await report(client, access, FUNNEL) for _ in range(7)]
    statuses = [a.status_code for a in answers]
    assert statuses[:5] == [200] * 5 and statuses[-1] == 429
    assert answers[-1].json()["error"]["message"] == "Exhausted concurrent requests quota."


async def test_faults_outages_and_truncated_bodies(sbx):
    app, client = sbx(Faults(outage={"ga4"}))
    async with client:
        access = await token(client)
        down = await report(client, access, FUNNEL)
        admin = await client.get(f"/v1beta/properties/{NORTHWIND}")
    assert down.status_code == 503 and down.json()["error"]["status"] == "UNAVAILABLE"
    assert admin.status_code == 503
    assert sandbox.property_quota(app, NORTHWIND).server_errors[NOW.strftime("%Y-%m-%dT%H")] == 1
    _, client = sbx(Faults(truncate_rate=1.0))
    async with client:
        cut = await report(client, await token(client), FUNNEL)
    assert cut.status_code == 200
    with pytest.raises(ValueError):
        cut.json()


def test_credentials_and_environment_are_the_sandboxs_own():
    assert set(sandbox.CREDENTIALS) == {"client_id", "client_secret", "refresh_token"}
    assert set(sandbox.ENVIRONMENT) == {"GA4_CLIENT_ID", "GA4_CLIENT_SECRET", "GA4_REFRESH_TOKEN"}
    assert not set(sandbox.CREDENTIALS.values()) & set(DEMO_CREDENTIALS["google_ads"].values())
