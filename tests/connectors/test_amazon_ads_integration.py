"""The Amazon Ads connector against the Amazon Ads sandbox: chaos, late reports, duplicates."""

from collections import Counter
from datetime import UTC, date, datetime

import httpx
import pytest
from aiolimiter import AsyncLimiter

from generator.connectors import RetryPolicy, get_connector
from generator.connectors.amazon_ads import _report_request
from generator.errors import JobTimedOut
from generator.sandbox import DEMO_CREDENTIALS, Faults, create_app
from generator.sandbox.amazon_ads import asin_of
from generator.sandbox.catalog import CLIENTS

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
START, END = date(2026, 9, 22), date(2026, 11, 23)  # 63 days: three reports of up to 31
OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))
ACCOUNTS = {a.account_id: c for c in CLIENTS for a in c.accounts if a.source == "amazon_ads"}
METRICS = ("impressions", "clicks", "spend_micros", "conversions", "value_micros")


def connector(app):
    return get_connector(
        "amazon_ads",
        DEMO_CREDENTIALS["amazon_ads"],
        base_url="http://sandbox/amazon_ads",
        transport=httpx.ASGITransport(app),
        policy=RetryPolicy(base=0.005, cap=0.02),
    )


def reported(world, account_id, start=START, end=END):
    rows = [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "amazon_ads"
        and r["account_id"] == account_id
        and start <= r["date"] <= end
    ]
    return {m: sum(r[m] for r in rows) for m in METRICS}


def totals(table):
    return {m: sum(table.column(m).to_pylist()) for m in METRICS}


def test_the_catalog_has_one_amazon_profile():
    assert list(ACCOUNTS) == ["3456789012345678"]


@pytest.mark.parametrize("account_id", ACCOUNTS)
async def test_a_chaotic_sandbox_yields_exactly_the_worlds_numbers(world, account_id):
    app = create_app(
        world, Faults.chaos(slow_seconds=0.001, rate_limit=18.0, token_ttl=0.5), now=NOW
    )
    async with connector(app) as c:
        c.api.limiter = AsyncLimiter(50, 1)  # faster than the sandbox allows: it must throttle
        c.poll_delay = 0.01
        info = await c.account_info(account_id)
        performance = await c.fetch_performance(account_id, START, END)
        actions = await c.fetch_actions(account_id, START, END)
        creatives = await c.fetch_creatives(account_id)
        stats, refreshes = c.api.stats, c.api.auth.refreshes
    assert stats.retries > 0 and stats.rate_limited > 0 and refreshes >= 2  # chaos happened
    assert (info.currency, info.timezone) == ("USD", "America/Los_Angeles")
    truth = reported(world, account_id)
    assert totals(performance) == truth
    rows = performance.to_pylist()
    keys = Counter((r["date"], r["ad_id"]) for r in rows)
    assert max(keys.values()) == 1 and min(k[0] for k in keys) == START
    assert max(k[0] for k in keys) == END
    assert {r["platform"] for r in rows} == {"amazon_ads"}
    ads = {ad.ad_id: ad for ad in world.ads_of("amazon_ads", account_id)}
    assert all(r["creative_id"] == asin_of(ads[r["ad_id"]]) for r in rows)
    assert all(r["campaign_name"] == ads[r["ad_id"]].campaign.name for r in rows)

    by = Counter()
    for r in actions.to_pylist():
        by[(r["action_type"], r["attribution_window"])] += r["count"]
        by[(r["action_type"], r["attribution_window"], "value")] += r["value_micros"]
    assert ACCOUNTS[account_id].primary_action == "purchase"
    assert by[("purchase", "default")] == by[("purchase", "7d")] == truth["conversions"]
    assert by[("purchase", "default", "value")] == truth["value_micros"]
    counts = [by[("purchase", w)] for w in ("1d", "7d", "14d", "30d")]
    assert counts == sorted(counts) and counts[0] < counts[-1]
    assert {r["action_type"] for r in actions.to_pylist()} == {"purchase"}  # no add-to-cart metric

    assert creatives.num_rows == len(ads)
    linked = {r["creative_id"]: r["ad_id"] for r in creatives.to_pylist()}
    assert linked == {asin_of(ad): ad.ad_id for ad in ads.values()}
    assert {r["headline"] for r in creatives.to_pylist()} == {ad.headline for ad in ads.values()}
    assert all(
        r["asset_url"].startswith("http://sandbox/cdn/")
        and r["landing_url"] == f"https://www.amazon.com/dp/{r['creative_id']}"
        for r in creatives.to_pylist()
    )


async def test_a_report_pending_past_the_deadline_is_resumed_without_a_new_request(world):
    account_id = next(iter(ACCOUNTS))
    app = create_app(world, Faults(), now=NOW)
    store = app.state.sandbox.scratch("amazon_ads")
    store["pending_polls"] = 8
    async with connector(app) as c:
        c.job_timeout, c.poll_delay = 0.05, 0.01
        with pytest.raises(JobTimedOut) as err:
            await c.fetch_performance(account_id, *OCTOBER)
        key = "spAdvertisedProduct:2026-10-01:2026-10-31"
        assert c.pending == {account_id: {key: err.value.job_id}}
        assert list(store["reports"]) == [err.value.job_id]
        polls = store["reports"][err.value.job_id].polls
        assert 1 <= polls < 8
        c.job_timeout = 30.0  # the next run
        table = await c.fetch_performance(account_id, *OCTOBER)
        assert c.pending == {account_id: {}}
    assert list(store["reports"]) == [err.value.job_id]  # never submitted again
    assert store["reports"][err.value.job_id].polls == 9
    assert totals(table) == reported(world, account_id, *OCTOBER)


async def test_a_report_an_earlier_run_lost_is_found_through_the_duplicate_answer(world):
    account_id = next(iter(ACCOUNTS))
    app = create_app(world, Faults(), now=NOW)
    store = app.state.sandbox.scratch("amazon_ads")
    async with connector(app) as c:
        # an earlier run submitted the report and died before it kept the id
        media = c._headers(account_id, "application/vnd.createasyncreportrequest.v3+json")
        await c._call("POST", "/reporting/reports", media, json=_report_request(*OCTOBER))
        (lost,) = store["reports"]
        table = await c.fetch_performance(account_id, *OCTOBER)
    assert list(store["reports"]) == [lost]
    assert store["reports"][lost].polls == 2
    assert totals(table) == reported(world, account_id, *OCTOBER)
