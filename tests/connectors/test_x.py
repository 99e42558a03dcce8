"""The X Ads connector against replayed answers in X's own shapes (tests/fixtures/x)."""

import gzip
import hashlib
import json
import logging
import time
from datetime import date
from urllib.parse import unquote

import httpx
import pytest
from aiolimiter import AsyncLimiter

from generator.connectors import RetryPolicy, get_connector
from generator.connectors.x import API_VERSION, JOB_SLOT_WAIT, XAds
from generator.errors import (
    ApiVersionRetired,
    AuthFailed,
    ConnectorError,
    JobFailed,
    JobTimedOut,
    ResponseInvalid,
)

from .conftest import Replay, fixture

ACCOUNT = "18ce54d4x5t"
JOB = "1458349893460045824"
BASE = "https://x.test"
CREDENTIALS = {
    "consumer_key": "ck-test-0123456789",
    "consumer_secret": "cs-test-secret-0123456789",
    "access_token": "1234-at-test-0123456789",
    "access_token_secret": "ats-test-secret-0123456789",
}
START, END = date(2026, 10, 31), date(2026, 11, 2)  # across the end of daylight saving time
FILE = f"/advertiser-api-async-analytics/stats_job_{JOB}.json.gz"


def x(name: str, status: int = 200, **headers) -> httpx.Response:
    return httpx.Response(status, json=fixture("x", name), headers=headers)


def gz(body) -> httpx.Response:
    return httpx.Response(200, content=gzip.compress(json.dumps(body).encode()))


def jobs(*polls, submitted=None):
    """The jobs endpoint: POST answers ``submitted``, each GET the next of ``polls``."""
    queue = list(polls or [x("job_processing.json"), x("job_success.json")])

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return submitted or x("job_submitted.json")
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return [answer]


def account(**overrides) -> Replay:
    """An account with three promoted tweets (two entity pages), one stats job."""
    routes = {
        f"/stats/jobs/accounts/{ACCOUNT}": jobs(),
        FILE: [gz(fixture("x", "stats.json"))],
        f"/accounts/{ACCOUNT}/funding_instruments": [fixture("x", "funding_instruments.json")],
        f"/accounts/{ACCOUNT}/campaigns": [fixture("x", "campaigns.json")],
        f"/accounts/{ACCOUNT}/line_items": [fixture("x", "line_items.json")],
        f"/accounts/{ACCOUNT}/promoted_tweets": [
            fixture("x", "promoted_tweets_page_1.json"),
            fixture("x", "promoted_tweets_page_2.json"),
        ],
        f"/accounts/{ACCOUNT}/tweets": [fixture("x", "tweets.json")],
        f"/accounts/{ACCOUNT}/cards": [fixture("x", "cards.json")],
        f"/accounts/{ACCOUNT}": [fixture("x", "account.json")],
    }
    extra = {k: v for k, v in overrides.items() if k not in routes}  # matched first
    return Replay({**extra, **{k: overrides.get(k, v) for k, v in routes.items()}})


def connector(replay: Replay, **options) -> XAds:
    c = get_connector(
        "x",
        CREDENTIALS,
        base_url=BASE,
        transport=replay.transport,
        policy=RetryPolicy(base=0.001, cap=0.002),
        **options,
    )
    c.api._sleep = _sleep
    c.api.limiter = AsyncLimiter(1000, 1)
    c.poll_delay = 0.0
    _sleep.calls.clear()
    return c


async def _sleep(seconds):
    _sleep.calls.append(seconds)


_sleep.calls = []


def oauth(request: httpx.Request) -> dict[str, str]:
    header = request.headers["authorization"]
    assert header.startswith("OAuth ")
    pairs = (p.strip().split("=", 1) for p in header[6:].split(","))
    return {unquote(k): unquote(v.strip('"')) for k, v in pairs}


async def test_requests_are_signed_paged_and_shaped_like_x():
    replay = account()
    async with connector(replay) as c:
        await c.fetch_performance(ACCOUNT, START, END)
    first = replay.to(f"/accounts/{ACCOUNT}")[0]
    assert first.url.path == f"/{API_VERSION}/accounts/{ACCOUNT}" and first.method == "GET"
    signed = oauth(first)
    assert signed["oauth_consumer_key"] == CREDENTIALS["consumer_key"]
    assert signed["oauth_token"] == CREDENTIALS["access_token"]
    assert signed["oauth_signature_method"] == "HMAC-SHA1" and signed["oauth_signature"]
    for request in replay.requests:  # secrets never travel, not even signed
        text = str(request.url) + str(request.headers)
        assert CREDENTIALS["consumer_secret"] not in text
        assert CREDENTIALS["access_token_secret"] not in text
    campaigns = replay.to(f"/accounts/{ACCOUNT}/campaigns")[0]
    assert campaigns.url.params["count"] == "1000"
    assert campaigns.url.params["with_deleted"] == "true"
    first_page, second_page = replay.to(f"/accounts/{ACCOUNT}/promoted_tweets")
    assert "cursor" not in first_page.url.params
    assert second_page.url.params["cursor"] == "c-1.8rza2"
    tweets = replay.to(f"/accounts/{ACCOUNT}/tweets")[0]
    assert tweets.url.params["tweet_type"] == "PUBLISHED"
    assert tweets.url.params["tweet_ids"].split(",") == [
        "1577006829219266560",
        "1577006829219266561",
        "1577006829219266562",
    ]


async def test_the_stats_job_is_submitted_polled_and_downloaded_without_oauth():
    replay = account()
    async with connector(replay) as c:
        await c.fetch_performance(ACCOUNT, START, END)
    submit, *polls = replay.to(f"/stats/jobs/accounts/{ACCOUNT}")
    assert submit.method == "POST" and submit.url.path == f"/12/stats/jobs/accounts/{ACCOUNT}"
    assert dict(submit.url.params) == {
        "entity": "PROMOTED_TWEET",
        "entity_ids": "2r0wxw,2r0wxx,2r0wxy",
        "start_time": "2026-10-31T00:00:00-05:00",  # local midnight, daylight time
        "end_time": "2026-11-03T00:00:00-06:00",  # the day after the end, standard time
        "granularity": "DAY",
        "placement": "ALL_ON_TWITTER",
        "metric_groups": "ENGAGEMENT,BILLING,WEB_CONVERSION",
    }
    assert oauth(submit)["oauth_signature"]
    assert [p.url.params["job_ids"] for p in polls] == [JOB, JOB]  # processing, then success
    download = replay.to(FILE)[0]
    assert download.url.host == "x.test"  # ton.twimg.com, rebased onto base_url
    assert "authorization" not in download.headers


async def test_performance_is_normalised_from_day_buckets():
    async with connector(account()) as c:
        table = await c.fetch_performance(ACCOUNT, START, END)
    rows = {(r["ad_id"], r["date"].day): r for r in table.to_pylist()}
    assert set(rows) == {("2r0wxw", 31), ("2r0wxw", 2), ("2r0wxy", 1)}  # null days dropped
    first = rows[("2r0wxw", 31)]
    assert (first["impressions"], first["clicks"], first["spend_micros"]) == (1200, 10, 5_320_000)
    assert first["conversions"] == 3.0 and first["value_micros"] == 0  # custom (lead) 2 + 1
    assert first["campaign_id"] == "8wku2" and first["ad_group_id"] == "9cmq4"
    assert first["campaign_name"] == "Launch week <script>alert(1)</script>"
    assert (
        first["ad_group_name"] == "Data leaders — US" and first["ad_name"] == "Launch — hero image"
    )
    assert first["creative_id"] == "1577006829219266560"
    assert first["account_name"] == "Brightline <b>Ads</b>"
    assert (first["currency"], first["account_timezone"]) == ("USD", "America/Chicago")
    assert (first["platform"], first["source"], first["api_version"]) == ("x", "x", "12")
    purchase_day = rows[("2r0wxw", 2)]
    assert purchase_day["conversions"] == 2.0 and purchase_day["value_micros"] == 49_990_000
    other = rows[("2r0wxy", 1)]
    assert (other["spend_micros"], other["conversions"]) == (1_000_000, 0.0)
    assert other["campaign_name"] == "Website visits — Report" and other["ad_name"] == (
        "Report — text only"
    )


async def test_actions_keep_each_window_and_the_default_sums_them():
    async with connector(account()) as c:
        table = await c.fetch_actions(ACCOUNT, START, END)
    rows = {
        (r["ad_id"], r["date"].day, r["action_type"], r["attribution_window"]): r
        for r in table.to_pylist()
    }
    counts = {k: v["count"] for k, v in rows.items()}
    assert counts[("2r0wxw", 31, "lead", "default")] == 3.0
    assert counts[("2r0wxw", 31, "lead", "post_engagement")] == 2.0
    assert counts[("2r0wxw", 31, "lead", "post_view")] == 1.0
    assert counts[("2r0wxw", 31, "signup", "default")] == 1.0
    assert counts[("2r0wxy", 1, "page_view", "default")] == 2.0
    purchase = {w: rows[("2r0wxw", 2, "purchase", w)] for w in ("default", "post_engagement")}
    assert purchase["default"]["value_micros"] == 49_990_000
    assert purchase["post_engagement"]["value_micros"] == 49_990_000
    assert rows[("2r0wxw", 2, "purchase", "post_view")]["value_micros"] == 0
    assert {k[2] for k in rows} == {"lead", "signup", "purchase", "page_view"}
    assert {r["attribution_window"] for r in rows.values()} == {
        "default",
        "post_engagement",
        "post_view",
    }


async def test_one_job_serves_performance_and_actions_and_entities_are_read_once():
    replay = account()
    async with connector(replay) as c:
        await c.fetch_performance(ACCOUNT, START, END)
        await c.fetch_actions(ACCOUNT, START, END)
        assert len([r for r in replay.to(f"/jobs/accounts/{ACCOUNT}") if r.method == "POST"]) == 1
        await c.fetch_actions(ACCOUNT, START, END)  # read once already: a new job
        await c.fetch_creatives(ACCOUNT)
    assert len([r for r in replay.to(f"/jobs/accounts/{ACCOUNT}") if r.method == "POST"]) == 2
    for edge in ("campaigns", "line_items", "tweets", "funding_instruments"):
        assert len(replay.to(f"/accounts/{ACCOUNT}/{edge}")) == 1
    assert len([r for r in replay.to(f"/12/accounts/{ACCOUNT}") if "stats" not in r.url.path]) == 1


async def test_creatives_join_tweets_and_their_website_cards():
    replay = account()
    async with connector(replay) as c:
        table = await c.fetch_creatives(ACCOUNT)
    assert replay.to(f"/accounts/{ACCOUNT}/cards")[0].url.params["card_ids"] == (
        "1577006829219266600,1577006829219266601"
    )
    rows = {r["creative_id"]: r for r in table.to_pylist()}
    image = rows["1577006829219266560"]
    assert image["ad_id"] == "2r0wxw" and image["format"] == "image"
    assert image["headline"] == "Ship data pipelines in an afternoon"
    assert image["body"].startswith("Ship data pipelines") and "<img" in image["body"]
    assert image["landing_url"] == "https://brightline.dev/lp/launch"
    assert image["asset_url"] == "https://pbs.twimg.com/media/Fe1abcdXkAE.jpg"
    assert (image["width"], image["height"]) == (1200, 628)
    assert rows["1577006829219266561"]["format"] == "video"
    text = rows["1577006829219266562"]
    assert (text["format"], text["asset_url"], text["headline"]) == ("text", None, None)
    assert text["landing_url"] == "https://brightline.dev/report"  # from the tweet's link
    assert len({r["version"] for r in rows.values()}) == 3


async def test_many_tweets_and_long_ranges_are_split_into_jobs_of_20_ids_and_90_days():
    ids = [f"pt{i:02d}" for i in range(25)]
    promoted = {"data": [{"id": i, "line_item_id": "9cmq4", "tweet_id": "1"} for i in ids]}
    submitted: list[dict] = []

    def stats_jobs(request):
        if request.method == "POST":
            submitted.append(dict(request.url.params))
            return httpx.Response(200, json={"data": {"id_str": str(len(submitted))}})
        job = request.url.params["job_ids"]
        url = f"https://ton.twimg.com/advertiser-api-async-analytics/stats_job_{job}.json.gz"
        return httpx.Response(
            200, json={"data": [{"id_str": job, "status": "SUCCESS", "url": url}]}
        )

    def download(request):
        params = submitted[int(request.url.path.split("_")[-1].split(".")[0]) - 1]
        days = 90 if params["start_time"].startswith("2026-01-01") else 30
        data = [{"id": i, "id_data": [{"metrics": {}}]} for i in params["entity_ids"].split(",")]
        return gz({"time_series_length": days, "data": data})

    replay = account(
        **{
            f"/stats/jobs/accounts/{ACCOUNT}": [stats_jobs],
            ".json.gz": [download],
            f"/accounts/{ACCOUNT}/promoted_tweets": [promoted],
        }
    )
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, date(2026, 1, 1), date(2026, 4, 30))
    assert table.num_rows == 0  # no delivery at all
    spans = sorted({(p["start_time"], p["end_time"]) for p in submitted})
    assert spans == [
        ("2026-01-01T00:00:00-06:00", "2026-04-01T00:00:00-05:00"),
        ("2026-04-01T00:00:00-05:00", "2026-05-01T00:00:00-05:00"),
    ]
    sizes = sorted(len(p["entity_ids"].split(",")) for p in submitted)
    assert sizes == [5, 5, 20, 20]


async def test_a_failed_job_raises_and_is_not_kept_pending():
    replay = account(**{f"/stats/jobs/accounts/{ACCOUNT}": jobs(x("job_failed.json"))})
    async with connector(replay) as c:
        with pytest.raises(JobFailed, match="FAILED"):
            await c.fetch_performance(ACCOUNT, START, END)
        assert c.pending[ACCOUNT] == {}


async def test_a_job_still_running_is_resumed_by_the_next_run_not_resubmitted():
    replay = account(**{f"/stats/jobs/accounts/{ACCOUNT}": jobs(x("job_processing.json"))})
    async with connector(replay) as c:
        c.job_timeout = 0.0
        with pytest.raises(JobTimedOut):
            await c.fetch_performance(ACCOUNT, START, END)
        digest = hashlib.sha1(b"2r0wxw,2r0wxx,2r0wxy").hexdigest()[:12]
        assert c.pending[ACCOUNT] == {f"stats:{START}:{END}:{digest}": JOB}
        c.job_timeout = 60.0
        replay.routes[f"/stats/jobs/accounts/{ACCOUNT}"] = jobs(x("job_success.json"))
        table = await c.fetch_performance(ACCOUNT, START, END)
    assert table.num_rows == 3 and c.pending[ACCOUNT] == {}
    assert len([r for r in replay.to(f"/jobs/accounts/{ACCOUNT}") if r.method == "POST"]) == 1


async def test_a_pending_job_x_no_longer_knows_is_submitted_afresh():
    replay = account(
        **{
            f"/stats/jobs/accounts/{ACCOUNT}": jobs(
                x("job_unknown.json"), x("job_processing.json"), x("job_success.json")
            )
        }
    )
    async with connector(replay) as c:
        digest = hashlib.sha1(b"2r0wxw,2r0wxx,2r0wxy").hexdigest()[:12]
        c.pending[ACCOUNT] = {f"stats:{START}:{END}:{digest}": "17"}
        table = await c.fetch_performance(ACCOUNT, START, END)
    assert table.num_rows == 3
    polls = [r.url.params["job_ids"] for r in replay.to(f"/jobs/accounts/{ACCOUNT}")[:1]]
    assert polls == ["17"]


async def test_a_429_waits_until_the_reset_x_gives():
    reset = str(int(time.time()) + 30)
    limited = x(
        "rate_limited.json", 429, **{"x-rate-limit-remaining": "0"}, **{"x-rate-limit-reset": reset}
    )
    replay = account(**{f"/accounts/{ACCOUNT}": [limited, fixture("x", "account.json")]})
    async with connector(replay) as c:
        info = await c.account_info(ACCOUNT)
        assert c.api.stats.rate_limited == 1
    assert info.timezone == "America/Chicago"
    assert 28 <= _sleep.calls[0] <= 30


async def test_a_429_without_a_hint_backs_off_and_a_full_job_queue_waits_for_a_slot():
    bare = x("rate_limited.json", 429)
    replay = account(**{f"/accounts/{ACCOUNT}": [bare, bare, fixture("x", "account.json")]})
    async with connector(replay) as c:
        await c.account_info(ACCOUNT)
    assert len(_sleep.calls) == 2 and 0 < _sleep.calls[0] <= _sleep.calls[1] <= 1.0

    full = x("rate_limited.json", 429, **{"x-concurrent-job-limit-remaining": "0"})
    replay = account(**{f"/stats/jobs/accounts/{ACCOUNT}": [_first_then(full, jobs()[0])]})
    async with connector(replay) as c:
        await c.fetch_performance(ACCOUNT, START, END)
    assert JOB_SLOT_WAIT in _sleep.calls


def _first_then(response, then):
    calls = []

    def answer(request):
        calls.append(request)
        return response if len(calls) == 1 else then(request)

    return answer


async def test_usage_headers_pause_before_the_limit_is_reached():
    headers = {
        "x-rate-limit-limit": "2000",
        "x-rate-limit-remaining": "40",  # under 5% left
        "x-rate-limit-reset": str(int(time.time()) + 12),
    }
    roomy = {**headers, "x-rate-limit-remaining": "1500"}
    last_slot = {"x-concurrent-job-limit": "100", "x-concurrent-job-limit-remaining": "0"}
    replay = account(
        **{
            f"/accounts/{ACCOUNT}": [x("account.json", **headers)],
            f"/accounts/{ACCOUNT}/funding_instruments": [x("funding_instruments.json", **roomy)],
            f"/stats/jobs/accounts/{ACCOUNT}": jobs(submitted=x("job_submitted.json", **last_slot)),
        }
    )
    async with connector(replay) as c:
        await c.fetch_performance(ACCOUNT, START, END)
        assert c.api.stats.rate_limited == 0
    assert 10 <= _sleep.calls[0] <= 12  # paused on the account answer, not the roomy one
    assert _sleep.calls[1:] == [JOB_SLOT_WAIT]  # after taking the last job slot


async def test_a_retired_version_names_the_constant_to_bump():
    replay = account(**{f"/accounts/{ACCOUNT}": [x("version_gone.json", 410)]})
    async with connector(replay) as c:
        with pytest.raises(
            ApiVersionRetired, match="bump API_VERSION in generator/connectors/x.py"
        ):
            await c.account_info(ACCOUNT)


async def test_rejected_credentials_fail_at_once_without_leaking_them(caplog):
    replay = account(**{f"/accounts/{ACCOUNT}": [x("unauthorized.json", 401)]})
    async with connector(replay) as c:
        with pytest.raises(AuthFailed, match="UNAUTHORIZED_ACCESS") as caught:
            await c.account_info(ACCOUNT)
    assert len(replay.requests) == 1
    assert all(secret not in str(caught.value) for secret in CREDENTIALS.values())
    with pytest.raises(AuthFailed, match="access_token_secret"):
        get_connector("x", {**CREDENTIALS, "access_token_secret": ""})


async def test_client_errors_fail_with_xs_message_and_server_errors_are_retried():
    replay = account(
        **{f"/stats/jobs/accounts/{ACCOUNT}": jobs(submitted=x("invalid_time_window.json", 400))}
    )
    async with connector(replay) as c:
        with pytest.raises(ConnectorError, match="INVALID_PARAMETER: start_time must be midnight"):
            await c.fetch_performance(ACCOUNT, START, END)
    flaky = [x("server_error.json", 503), x("server_error.json", 500), fixture("x", "account.json")]
    replay = account(**{f"/accounts/{ACCOUNT}": flaky})
    async with connector(replay) as c:
        await c.account_info(ACCOUNT)
        assert c.api.stats.retries == 2


async def test_truncated_bodies_and_downloads_are_fetched_again():
    cut = fixture("x", "campaigns.json")
    whole = gzip.compress(json.dumps(fixture("x", "stats.json")).encode())
    replay = account(
        **{
            f"/accounts/{ACCOUNT}/campaigns": [
                httpx.Response(200, content=json.dumps(cut).encode()[:40]),
                cut,
            ],
            FILE: [
                httpx.Response(200, content=whole[: len(whole) // 2]),
                gz(fixture("x", "stats.json")),
            ],
        }
    )
    async with connector(replay) as c:
        table = await c.fetch_performance(ACCOUNT, START, END)
        assert c.api.stats.retries == 2
    assert table.num_rows == 3
    garbled = httpx.Response(200, content=b"\x1f\x8b not gzip at all")
    async with connector(account(**{FILE: [garbled]})) as c:
        with pytest.raises(ResponseInvalid, match="unreadable body"):
            await c.fetch_performance(ACCOUNT, START, END)


async def test_a_file_of_the_wrong_length_or_a_foreign_host_is_refused():
    short = {**fixture("x", "stats.json"), "time_series_length": 2}
    async with connector(account(**{FILE: [gz(short)]})) as c:
        with pytest.raises(ResponseInvalid, match="unreadable body"):
            await c.fetch_performance(ACCOUNT, START, END)
    elsewhere = fixture("x", "job_success.json")
    elsewhere["data"][0]["url"] = "https://attacker.example/stats.json.gz"
    replay = account(
        **{f"/stats/jobs/accounts/{ACCOUNT}": jobs(httpx.Response(200, json=elsewhere))}
    )
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match="unexpected host"):
            await c.fetch_performance(ACCOUNT, START, END)
    assert not [r for r in replay.requests if r.url.host == "attacker.example"]


async def test_missing_required_fields_name_platform_version_and_field():
    bare = fixture("x", "account.json")
    del bare["data"]["timezone"]
    async with connector(account(**{f"/accounts/{ACCOUNT}": [bare]})) as c:
        with pytest.raises(ResponseInvalid, match=r"x: .*'timezone'.*API 12"):
            await c.account_info(ACCOUNT)
    orphan = fixture("x", "line_items.json")
    orphan["data"][0].pop("campaign_id")  # a line item without its campaign only costs a label
    async with connector(account(**{f"/accounts/{ACCOUNT}/line_items": [orphan]})) as c:
        table = await c.fetch("ad_performance", ACCOUNT, START, END)
        assert c.unresolved_in(ACCOUNT).as_dict() == {"campaign": ["unknown"]}
    assert table.num_rows == 3
    assert {r["campaign_id"] for r in table.to_pylist() if r["ad_group_id"] == "9cmq4"} == {
        "unknown"
    }
    no_id = fixture("x", "job_submitted.json")
    del no_id["data"]["id_str"]
    replay = account(
        **{f"/stats/jobs/accounts/{ACCOUNT}": jobs(submitted=httpx.Response(200, json=no_id))}
    )
    async with connector(replay) as c:
        with pytest.raises(ResponseInvalid, match="id_str"):
            await c.fetch_performance(ACCOUNT, START, END)


async def test_a_deprecation_warning_is_logged_once(caplog):
    warn = {"x-api-warn": "Version 12 is deprecated; it sunsets on 2027-04-01"}
    replay = account(
        **{
            f"/accounts/{ACCOUNT}": [x("account.json", **warn)],
            f"/accounts/{ACCOUNT}/funding_instruments": [x("funding_instruments.json", **warn)],
        }
    )
    with caplog.at_level(logging.WARNING, logger="generator.connectors"):
        async with connector(replay) as c:
            await c.account_info(ACCOUNT)
    assert [r.getMessage() for r in caplog.records].count(
        "x: the API warns 'Version 12 is deprecated; it sunsets on 2027-04-01'; plan the "
        "API_VERSION bump"
    ) == 1


async def test_entities_the_lists_miss_degrade_to_ids_and_keep_their_numbers():
    campaigns = fixture("x", "campaigns.json")
    campaigns["data"] = [c for c in campaigns["data"] if c["id"] != "8wku2"]
    line_items = fixture("x", "line_items.json")
    line_items["data"] = [i for i in line_items["data"] if i["id"] != "9cmq5"]
    replay = account(
        **{
            f"/accounts/{ACCOUNT}/campaigns": [campaigns],
            f"/accounts/{ACCOUNT}/line_items": [line_items],
        }
    )
    async with connector(replay) as c:
        table = await c.fetch("ad_performance", ACCOUNT, START, END)
        actions = await c.fetch("actions", ACCOUNT, START, END)
        unresolved = c.unresolved_in(ACCOUNT).as_dict()
    rows = {(r["ad_id"], r["date"].day): r for r in table.to_pylist()}
    assert {k: (r["impressions"], r["clicks"], r["spend_micros"]) for k, r in rows.items()} == {
        ("2r0wxw", 31): (1200, 10, 5_320_000),
        ("2r0wxw", 2): (800, 7, 2_990_000),
        ("2r0wxy", 1): (450, 3, 1_000_000),
    }
    assert [rows["2r0wxw", 2][k] for k in ("conversions", "value_micros")] == [2.0, 49_990_000]
    names = ("campaign_id", "campaign_name", "ad_group_id", "ad_group_name", "ad_name")
    assert [rows["2r0wxw", 31][k] for k in names] == [
        "8wku2",
        "8wku2",
        "9cmq4",
        "Data leaders — US",
        "Launch — hero image",
    ]
    assert [rows["2r0wxy", 1][k] for k in names] == [
        "unknown",
        "Unknown campaign",
        "9cmq5",
        "9cmq5",
        "Report — text only",
    ]
    counts = {
        (r["ad_id"], r["action_type"], r["attribution_window"], r["campaign_id"]): r["count"]
        for r in actions.to_pylist()
        if r["date"].day in (31, 1)
    }
    assert counts[("2r0wxw", "lead", "default", "8wku2")] == 3.0
    assert counts[("2r0wxy", "page_view", "default", "unknown")] == 2.0
    assert actions.num_rows == 15
    assert unresolved == {"campaign": ["8wku2", "unknown"], "ad_group": ["9cmq5"]}
