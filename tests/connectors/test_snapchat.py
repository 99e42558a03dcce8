"""The Snapchat connector against hand-written answers in the Marketing API's shapes."""

from datetime import date

import httpx
import pytest

from generator.connectors import get_connector
from generator.connectors.snapchat import API_VERSION, local_midnight
from generator.errors import (
    ApiVersionRetired,
    AuthFailed,
    ConnectorError,
    PlatformUnavailable,
    ResponseInvalid,
)

from .conftest import Replay, fixture

CREDENTIALS = {
    "client_id": "snap-client-id-1234",
    "client_secret": "snap-client-secret-abcdef",
    "refresh_token": "snap-refresh-token-xyz789",
}
ACCOUNT = "8a1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
TOKEN, STATS = "/login/oauth2/access_token", "/stats"
DST = (date(2026, 10, 31), date(2026, 11, 1))  # clocks go back on 2026-11-01 in Los Angeles


def sc(name: str, status: int = 200, **headers) -> httpx.Response:
    return httpx.Response(status, json=fixture("snapchat", name), headers=headers)


def routes(**extra) -> dict:
    return {
        TOKEN: [fixture("snapchat", "token.json")],
        f"/adaccounts/{ACCOUNT}": [fixture("snapchat", "adaccount.json")],
        "/campaigns": [fixture("snapchat", "campaigns.json")],
        "/adsquads": [fixture("snapchat", "adsquads.json")],
        "/ads": [fixture("snapchat", "ads_page_1.json"), fixture("snapchat", "ads_page_2.json")],
        STATS: [fixture("snapchat", "stats_dst.json")],
        "/creatives": [fixture("snapchat", "creatives.json")],
        "/media": [fixture("snapchat", "media.json")],
        **extra,
    }


def connector(replay: Replay, sleeps: list | None = None):
    c = get_connector(
        "snapchat", CREDENTIALS, base_url="https://snap.test", transport=replay.transport
    )

    async def sleep(seconds):
        (sleeps if sleeps is not None else []).append(seconds)

    c.api._sleep = sleep
    return c


def params(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params)


async def test_performance_request_shape_dst_offsets_and_normalisation():
    replay = Replay(routes())
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, *DST)
    token = replay.to(TOKEN)[0]
    form = dict(httpx.QueryParams(token.content.decode()))
    assert form == {"grant_type": "refresh_token", **CREDENTIALS}
    stats = replay.to(STATS)[0]
    assert stats.url.path == f"/{API_VERSION}/adaccounts/{ACCOUNT}/stats"
    assert stats.headers["authorization"] == "Bearer sc-access-eyJhbGciOiJIUzI1NiJ9.first"
    query = params(stats)
    assert (query["granularity"], query["breakdown"], query["omit_empty"]) == ("DAY", "ad", "true")
    assert query["start_time"] == "2026-10-31T00:00:00.000-07:00"
    assert query["end_time"] == "2026-11-02T00:00:00.000-08:00"  # the offset changed
    assert query["swipe_up_attribution_window"] == "28_DAY"
    assert query["view_attribution_window"] == "1_DAY"
    fields = query["fields"].split(",")
    assert {"spend", "conversion_sign_ups_swipe_up", "conversion_purchases_value"} <= set(fields)
    ads = replay.to("/ads")
    assert params(ads[0])["limit"] == "1000" and params(ads[1])["cursor"] == "YWRzOjE"
    rows = sorted(table.to_pylist(), key=lambda r: (r["date"], r["ad_id"]))
    assert [(r["date"], r["ad_id"]) for r in rows] == [
        (date(2026, 10, 31), "a-0001"),
        (date(2026, 11, 1), "a-0001"),
        (date(2026, 11, 1), "a-0002"),
    ]
    first, second, idle = rows
    assert (first["spend_micros"], first["value_micros"], first["conversions"]) == (
        9_060_000,
        89_990_000,
        4.0,  # one purchase and three leads
    )
    assert (first["impressions"], first["clicks"]) == (2967, 13)
    assert (first["campaign_name"], first["ad_group_name"]) == (
        "Story ads — Smile 😁",
        "Core <b>moms</b>",
    )
    assert (first["ad_group_id"], first["campaign_id"], first["creative_id"]) == (
        "s-2222",
        "c-1111",
        "cr-0001",
    )
    assert (first["currency"], first["account_timezone"]) == ("USD", "America/Los_Angeles")
    assert first["account_name"] == "Harbor <Snap>" and first["platform"] == "snapchat"
    assert (second["conversions"], second["value_micros"]) == (0.0, 0)
    assert idle["ad_name"] == "Emergency — 2" and idle["impressions"] == 0
    assert {r["api_version"] for r in rows} == {API_VERSION}


async def test_actions_keep_every_window_and_share_the_read():
    replay = Replay(routes())
    async with connector(replay) as c:
        await c.fetch_performance(ACCOUNT, *DST)
        table = await c.fetch_actions(ACCOUNT, *DST)
    assert len(replay.to(STATS)) == 1 and len(replay.to("/campaigns")) == 1
    got = {
        (r["action_type"], r["attribution_window"]): (r["count"], r["value_micros"])
        for r in table.to_pylist()
    }
    assert got == {
        ("purchase", "default"): (1.0, 89_990_000),
        ("purchase", "28d_click"): (1.0, 0),
        ("lead", "default"): (3.0, 0),
        ("lead", "28d_click"): (2.0, 0),
        ("lead", "1d_view"): (1.0, 0),
        ("contact", "default"): (4.0, 0),
        ("contact", "28d_click"): (4.0, 0),
    }


async def test_long_windows_are_read_in_pieces_with_each_boundarys_offset():
    replay = Replay(routes())
    async with connector(replay) as c:
        await c.fetch_actions(ACCOUNT, date(2026, 9, 1), date(2026, 11, 23))
        await c.fetch_performance(ACCOUNT, date(2026, 9, 1), date(2026, 11, 23))
    spans = [(params(r)["start_time"], params(r)["end_time"]) for r in replay.to(STATS)]
    assert spans == [
        ("2026-09-01T00:00:00.000-07:00", "2026-10-02T00:00:00.000-07:00"),
        ("2026-10-02T00:00:00.000-07:00", "2026-11-02T00:00:00.000-08:00"),
        ("2026-11-02T00:00:00.000-08:00", "2026-11-24T00:00:00.000-08:00"),
    ]


def test_local_midnights_carry_the_offset_of_that_instant():
    assert local_midnight(date(2026, 3, 8), "America/Los_Angeles").endswith("-08:00")
    assert local_midnight(date(2026, 3, 9), "America/Los_Angeles").endswith("-07:00")
    assert local_midnight(date(2026, 10, 25), "Europe/Berlin") == "2026-10-25T00:00:00.000+02:00"
    assert local_midnight(date(2026, 1, 1), "Asia/Kolkata") == "2026-01-01T00:00:00.000+05:30"


async def test_creatives_join_media_and_the_ad_using_them():
    replay = Replay(routes())
    async with connector(replay) as c:
        rows = {r["creative_id"]: r for r in (await c.fetch_creatives(ACCOUNT)).to_pylist()}
    image, video, bare = rows["cr-0001"], rows["cr-0002"], rows["cr-0003"]
    assert image["format"] == "image" and image["ad_id"] == "a-0001"
    assert image["asset_url"].endswith("/m-0001.png")
    assert image["headline"] == "New patient special: $79" and image["call_to_action"] == "BOOK_NOW"
    assert image["landing_url"] == "https://harbor.example/new?src=snap"
    assert video["format"] == "video" and video["ad_id"] is None and video["landing_url"] is None
    assert bare["format"] == "text" and bare["asset_url"] is None
    assert len({r["version"] for r in rows.values()}) == 3
    assert params(replay.to("/media")[0])["limit"] == "1000"


async def test_account_info_is_read_once_and_checked():
    replay = Replay(routes())
    async with connector(replay) as c:
        info = await c.account_info(ACCOUNT)
        assert await c.account_info(ACCOUNT) is info
    assert (info.name, info.currency, info.timezone) == (
        "Harbor <Snap>",
        "USD",
        "America/Los_Angeles",
    )
    assert len(replay.to(f"/adaccounts/{ACCOUNT}")) == 1
    bare = fixture("snapchat", "adaccount.json")
    del bare["adaccounts"][0]["adaccount"]["timezone"]
    async with connector(Replay(routes(**{f"/adaccounts/{ACCOUNT}": [bare]}))) as c:
        with pytest.raises(ResponseInvalid, match="without currency or timezone"):
            await c.account_info(ACCOUNT)


async def test_an_expired_token_is_refreshed_once():
    expired = sc("error_401.json", 401)
    replay = Replay(
        routes(**{f"/adaccounts/{ACCOUNT}": [expired, fixture("snapchat", "adaccount.json")]})
    )
    async with connector(replay) as c:
        await c.account_info(ACCOUNT)
    assert len(replay.to(TOKEN)) == 2
    replay = Replay(routes(**{f"/adaccounts/{ACCOUNT}": [expired]}))
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="freshly issued access token"):
            await c.account_info(ACCOUNT)


async def test_a_rejected_refresh_token_says_so_without_the_secret():
    replay = Replay(routes(**{TOKEN: [sc("invalid_grant.json", 400)]}))
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="Invalid refresh token") as caught:
            await c.account_info(ACCOUNT)
    assert CREDENTIALS["refresh_token"] not in str(caught.value)
    assert CREDENTIALS["client_secret"] not in str(caught.value)


@pytest.mark.parametrize(
    ("limited", "expected"),
    [(sc("error_429.json", 429), None), (sc("error_429.json", 429, **{"Retry-After": "2"}), 2.0)],
)
async def test_a_429_backs_off_or_waits_its_retry_after(limited, expected):
    sleeps: list[float] = []
    replay = Replay(
        routes(**{f"/adaccounts/{ACCOUNT}": [limited, fixture("snapchat", "adaccount.json")]})
    )
    async with connector(replay, sleeps) as c:
        await c.account_info(ACCOUNT)
        assert c.api.stats.rate_limited == 1
    if expected is None:
        assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5
    else:
        assert sleeps == [expected]


@pytest.mark.parametrize(
    ("name", "status", "error", "needle"),
    [
        ("error_start_time.json", 400, ConnectorError, "start of day"),
        ("error_403.json", 403, AuthFailed, "Business Manager"),
        ("error_version.json", 404, ApiVersionRetired, "bump API_VERSION in generator/"),
        ("error_version.json", 410, ApiVersionRetired, "connectors/snapchat.py"),
    ],
)
async def test_fatal_answers_say_how_to_fix_them(name, status, error, needle):
    replay = Replay(routes(**{f"/adaccounts/{ACCOUNT}": [sc(name, status)]}))
    async with connector(replay) as c:
        with pytest.raises(error, match=needle) as caught:
            await c.account_info(ACCOUNT)
    assert type(caught.value) is error
    assert caught.value.request == f"GET /{API_VERSION}/adaccounts/{ACCOUNT}"
    assert len(replay.to(f"/adaccounts/{ACCOUNT}")) == 1


async def test_a_404_without_a_version_message_is_a_plain_error():
    missing = httpx.Response(404, text="Not Found")
    replay = Replay(routes(**{f"/adaccounts/{ACCOUNT}": [missing]}))
    async with connector(replay) as c:
        with pytest.raises(ConnectorError, match="HTTP 404") as caught:
            await c.account_info(ACCOUNT)
    assert not isinstance(caught.value, ApiVersionRetired)


async def test_server_errors_are_retried_then_give_up():
    answers = [httpx.Response(500, json={"request_status": "ERROR"}), httpx.Response(503)]
    replay = Replay(
        routes(**{f"/adaccounts/{ACCOUNT}": [*answers, fixture("snapchat", "adaccount.json")]})
    )
    async with connector(replay) as c:
        await c.account_info(ACCOUNT)
        assert c.api.stats.retries == 2
    async with connector(Replay(routes(**{f"/adaccounts/{ACCOUNT}": [httpx.Response(502)]}))) as c:
        with pytest.raises(PlatformUnavailable, match="HTTP 502"):
            await c.account_info(ACCOUNT)


async def test_cut_and_failed_bodies():
    cut = httpx.Response(200, content=b'{"request_status":"SUCCESS","adaccounts":[{"sub_req')
    replay = Replay(
        routes(**{f"/adaccounts/{ACCOUNT}": [cut, fixture("snapchat", "adaccount.json")]})
    )
    async with connector(replay) as c:
        assert (await c.account_info(ACCOUNT)).currency == "USD"
    failed = {"request_status": "ERROR", "request_id": "x"}
    async with connector(Replay(routes(**{f"/adaccounts/{ACCOUNT}": [failed]}))) as c:
        with pytest.raises(ResponseInvalid, match="unreadable body"):
            await c.account_info(ACCOUNT)
    replay = Replay(routes(**{"/ads": [fixture("snapchat", "sub_request_error.json")]}))
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match="being migrated"):
            await c.fetch_performance(ACCOUNT, *DST)


async def test_a_missing_required_field_names_platform_version_and_field():
    stats = fixture("snapchat", "stats_dst.json")
    del stats["timeseries_stats"][0]["timeseries_stat"]["breakdown_stats"]["ad"][0]["id"]
    replay = Replay(routes(**{STATS: [stats]}))
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match="'ad_id'") as caught:
            await c.fetch_performance(ACCOUNT, *DST)
    assert "snapchat" in str(caught.value) and API_VERSION in str(caught.value)


def test_every_credential_is_required():
    with pytest.raises(AuthFailed, match="credentials lack refresh_token"):
        get_connector("snapchat", {k: v for k, v in CREDENTIALS.items() if k != "refresh_token"})


async def test_entities_the_lists_miss_degrade_to_ids_and_keep_their_numbers():
    campaigns = {**fixture("snapchat", "campaigns.json"), "campaigns": []}
    last_page = {**fixture("snapchat", "ads_page_2.json"), "ads": []}  # a-0002 is gone
    replay = Replay(
        routes(
            **{
                "/campaigns": [campaigns],
                "/ads": [fixture("snapchat", "ads_page_1.json"), last_page],
            }
        )
    )
    async with connector(replay) as c:
        table = await c.fetch("ad_performance", ACCOUNT, *DST)
        actions = await c.fetch("actions", ACCOUNT, *DST)
        unresolved = c.unresolved_in(ACCOUNT).as_dict()
    for path in ("/campaigns", "/adsquads", "/ads"):
        assert params(replay.to(path)[0])["read_deleted_entities"] == "true"
    rows = {(r["date"].day, r["ad_id"]): r for r in table.to_pylist()}
    numbers = ("impressions", "clicks", "spend_micros", "conversions", "value_micros")
    assert {k: tuple(r[n] for n in numbers) for k, r in rows.items()} == {
        (31, "a-0001"): (2967, 13, 9_060_000, 4.0, 89_990_000),
        (1, "a-0001"): (3100, 9, 10_230_000, 0.0, 0),
        (1, "a-0002"): (0, 0, 0, 0.0, 0),
    }
    names = ("campaign_id", "campaign_name", "ad_group_id", "ad_group_name", "ad_name")
    assert tuple(rows[31, "a-0001"][n] for n in names) == (
        "c-1111",
        "c-1111",
        "s-2222",
        "Core <b>moms</b>",
        "Emergency — 1",
    )
    assert rows[31, "a-0001"]["creative_id"] == "cr-0001"
    assert tuple(rows[1, "a-0002"][n] for n in names) == (
        "unknown",
        "Unknown campaign",
        "unknown",
        "Unknown ad group",
        "a-0002",
    )
    assert rows[1, "a-0002"]["creative_id"] is None
    got = {
        (r["action_type"], r["attribution_window"]): (
            r["count"],
            r["campaign_id"],
            r["ad_group_id"],
        )
        for r in actions.to_pylist()
    }
    assert got[("purchase", "default")] == (1.0, "c-1111", "s-2222")
    assert got[("lead", "default")] == (3.0, "c-1111", "s-2222")
    assert actions.num_rows == 7
    assert unresolved == {
        "campaign": ["c-1111", "unknown"],
        "ad_group": ["unknown"],
        "ad": ["a-0002"],
    }
