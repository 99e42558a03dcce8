"""The Pinterest connector against the Pinterest sandbox, with every kind of trouble switched on."""

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import httpx
from aiolimiter import AsyncLimiter

from generator.connectors import RetryPolicy, get_connector
from generator.sandbox import DEMO_CREDENTIALS, Faults, create_app
from generator.sandbox.catalog import CLIENTS

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
#: beyond the 90 days of ads/analytics (an async report), and inside them (analytics)
WINDOWS = ((date(2026, 7, 1), date(2026, 8, 31)), (date(2026, 9, 24), date(2026, 11, 23)))
ACCOUNTS = {a.account_id: c for c in CLIENTS for a in c.accounts if a.source == "pinterest"}
METRICS = ("impressions", "clicks", "spend_micros", "conversions", "value_micros")


def world_totals(world, account_id: str, start: date, end: date) -> dict[str, int]:
    rows = [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "pinterest"
        and r["account_id"] == account_id
        and start <= r["date"] <= end
    ]
    keys = (*METRICS, "click_conversions", "view_conversions", "secondary_actions")
    return {k: sum(r[k] for r in rows) for k in keys}


async def fetch_all(world):
    app = create_app(
        world, Faults.chaos(slow_seconds=0.001, rate_limit=16.0, token_ttl=0.5), now=NOW
    )
    connector = get_connector(
        "pinterest",
        DEMO_CREDENTIALS["pinterest"],
        base_url="http://sandbox/pinterest",
        transport=httpx.ASGITransport(app),
        policy=RetryPolicy(base=0.005, cap=0.02),
    )
    # faster than the sandbox allows (16 calls a stepped second): its throttle answers 429 too
    connector.api.limiter = AsyncLimiter(40, 1)
    connector.poll_delay = 0.01

    async def one(account_id):
        windows = []
        for start, end in WINDOWS:
            performance = await connector.fetch_performance(account_id, start, end)
            windows.append((performance, await connector.fetch_actions(account_id, start, end)))
        return account_id, (windows, await connector.fetch_creatives(account_id))

    async with connector:
        results = dict(await asyncio.gather(*(one(a) for a in ACCOUNTS)))
        stats, refreshes = connector.api.stats, connector.api.auth.refreshes
    return results, stats, refreshes


def test_every_pinterest_account_matches_the_world_under_chaos(world):
    assert set(ACCOUNTS) == {"549755813888"}
    results, stats, refreshes = asyncio.run(fetch_all(world))
    assert stats.retries > 0 and stats.rate_limited > 0 and refreshes > 1  # the chaos did happen
    for account_id, (windows, creatives) in results.items():
        client = ACCOUNTS[account_id]
        for (start, end), (performance, actions) in zip(WINDOWS, windows, strict=True):
            truth = world_totals(world, account_id, start, end)
            rows = performance.to_pylist()
            assert {m: sum(r[m] for r in rows) for m in METRICS} == {m: truth[m] for m in METRICS}
            assert max(Counter((r["date"], r["ad_id"]) for r in rows).values()) == 1
            days = (end - start).days + 1
            assert {r["date"] for r in rows} == {start + timedelta(days=n) for n in range(days)}
            assert all(r["creative_id"] and r["ad_name"] and r["campaign_name"] for r in rows)
            assert {(r["currency"], r["account_timezone"]) for r in rows} == {("USD", "UTC")}
            check_actions(actions, client, truth)
        ads = world.ads_of("pinterest", account_id)
        assert creatives.num_rows == len(ads)
        linked = {r["creative_id"]: r["ad_id"] for r in creatives.to_pylist()}
        assert linked == {ad.creative_id: ad.ad_id for ad in ads}
        assert {r["headline"] for r in creatives.to_pylist()} == {ad.headline for ad in ads}
        urls = creatives.column("asset_url").to_pylist()
        assert all(u.startswith("http://sandbox/cdn/") for u in urls)


def check_actions(actions, client, truth: dict[str, int]) -> None:
    by = Counter()
    for r in actions.to_pylist():
        by[(r["action_type"], r["attribution_window"])] += r["count"]
        by[(r["action_type"], r["attribution_window"], "value")] += r["value_micros"]
    primary, secondary = client.primary_action, client.secondary_action
    assert by[(primary, "default")] == truth["conversions"]
    assert by[(primary, "default", "value")] == truth["value_micros"]
    assert by[(primary, "1d_view")] == truth["view_conversions"]
    clicked = by[(primary, "30d_click")] + by[(primary, "30d_engagement")]
    assert clicked == truth["click_conversions"]
    windows = ("30d_click", "30d_engagement", "1d_view")
    assert sum(by[(primary, w, "value")] for w in windows) == truth["value_micros"]
    assert by[(secondary, "default")] == truth["secondary_actions"]
    assert {t for t, *_ in by} == {primary, secondary}
