"""The Reddit Ads connector against the Reddit sandbox, with every kind of trouble switched on."""

import asyncio
from collections import Counter
from datetime import UTC, date, datetime

import httpx
from aiolimiter import AsyncLimiter

from generator.connectors import RetryPolicy, get_connector, reddit
from generator.sandbox import DEMO_CREDENTIALS, Faults, create_app
from generator.sandbox import reddit as reddit_sandbox
from generator.sandbox.catalog import CLIENTS

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
WINDOWS = ((date(2026, 9, 22), date(2026, 10, 22)), (date(2026, 10, 23), date(2026, 11, 23)))
START, END = WINDOWS[0][0], WINDOWS[-1][1]
ACCOUNTS = {a.account_id: c for c in CLIENTS for a in c.accounts if a.source == "reddit"}
METRICS = ("impressions", "clicks", "spend_micros", "conversions", "value_micros")


def world_totals(world, account_id: str) -> dict[str, int]:
    rows = [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "reddit" and r["account_id"] == account_id and START <= r["date"] <= END
    ]
    keys = (*METRICS, "click_conversions", "view_conversions", "secondary_actions")
    return {k: sum(r[k] for r in rows) for k in keys}


async def fetch_all(world):
    # on the sandbox's stepped clock (WINDOW_SECONDS 0.5): 10 calls a window, 9 allowed; a
    # token lives 8 calls
    faults = Faults.chaos(slow_seconds=0.001, rate_limit=18.0, token_ttl=0.4)
    app = create_app(world, faults, now=NOW)
    connector = get_connector(
        "reddit",
        DEMO_CREDENTIALS["reddit"],
        base_url="http://sandbox/reddit",
        transport=httpx.ASGITransport(app),
        policy=RetryPolicy(base=0.005, cap=0.02),
    )
    connector.api.limiter = AsyncLimiter(50, 1)

    async def one(account_id):
        performance, actions = [], []
        for start, end in WINDOWS:  # as a sync reads them, one dataset after the other
            performance += (await connector.fetch_performance(account_id, start, end)).to_pylist()
            actions += (await connector.fetch_actions(account_id, start, end)).to_pylist()
        creatives = await connector.fetch_creatives(account_id)
        return account_id, (performance, actions, creatives)

    async with connector:
        results = dict(await asyncio.gather(*(one(a) for a in ACCOUNTS)))
        stats = connector.api.stats
        refreshes = connector.api.auth.refreshes
    return results, stats, refreshes


def test_every_reddit_account_matches_the_world_under_chaos(world, monkeypatch):
    monkeypatch.setattr(reddit, "PAGE_SIZE", 2)  # more pages: paging under chaos, more hits
    monkeypatch.setattr(reddit_sandbox, "WINDOW_SECONDS", 0.5)
    assert set(ACCOUNTS) == {"t2_7xk3p9qz"}
    results, stats, refreshes = asyncio.run(fetch_all(world))
    assert stats.retries > 0 and stats.rate_limited > 0  # the chaos did happen
    assert refreshes > 1  # the short-lived tokens expired on the way
    for account_id, (rows, actions, creatives) in results.items():
        client, truth = ACCOUNTS[account_id], world_totals(world, account_id)
        assert {m: sum(r[m] for r in rows) for m in METRICS} == {m: truth[m] for m in METRICS}
        keys = Counter((r["date"], r["ad_id"]) for r in rows)
        assert max(keys.values()) == 1 and {r["platform"] for r in rows} == {"reddit"}
        assert {r["date"] for r in rows} == {
            date.fromordinal(d) for d in range(START.toordinal(), END.toordinal() + 1)
        }
        assert all(r["creative_id"] and r["campaign_name"] and r["currency"] == "USD" for r in rows)

        by = Counter()
        for r in actions:
            by[(r["action_type"], r["attribution_window"])] += r["count"]
        primary, secondary = client.primary_action, client.secondary_action
        assert by[(primary, "default")] == truth["conversions"]
        assert by[(primary, "28d_click")] == truth["click_conversions"]
        assert by[(primary, "1d_view")] == truth["view_conversions"]
        assert by[(secondary, "default")] == truth["secondary_actions"]

        ads = world.ads_of("reddit", account_id)
        assert creatives.num_rows == len(ads)
        linked = {r["ad_id"]: r["creative_id"] for r in creatives.to_pylist()}
        assert set(linked) == {ad.ad_id for ad in ads}  # each ad promotes its own post
        assert all(post.startswith("t3_") for post in linked.values())
        assert {r["ad_id"]: r["creative_id"] for r in rows} == linked  # performance links them
        assert {r["headline"] for r in creatives.to_pylist()} == {ad.headline for ad in ads}
        assert all(
            u.startswith("http://sandbox/cdn/") for u in creatives.column("asset_url").to_pylist()
        )
