"""The Snapchat connector against the Snapchat sandbox, with every kind of trouble switched on."""

import asyncio
from collections import Counter
from datetime import UTC, date, datetime

import httpx
from aiolimiter import AsyncLimiter

from generator.connectors import RetryPolicy, get_connector, snapchat
from generator.sandbox import DEMO_CREDENTIALS, Faults, create_app
from generator.sandbox.catalog import CLIENTS

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
START, END = date(2026, 9, 22), date(2026, 11, 23)  # 63 days over a DST switch: 3 pieces
ACCOUNTS = {a.account_id: c for c in CLIENTS for a in c.accounts if a.source == "snapchat"}
METRICS = ("impressions", "clicks", "spend_micros", "conversions", "value_micros")


def world_totals(world, account_id: str) -> dict[str, int]:
    rows = [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "snapchat" and r["account_id"] == account_id and START <= r["date"] <= END
    ]
    keys = (*METRICS, "click_conversions", "view_conversions", "secondary_actions")
    return {k: sum(r[k] for r in rows) for k in keys}


async def fetch_all(world):
    # half-second tokens (the sandbox says a second): refreshed ahead of expiry and after 401s
    faults = Faults.chaos(slow_seconds=0.001, rate_limit=12.0, token_ttl=0.5)
    app = create_app(world, faults, now=NOW)
    connector = get_connector(
        "snapchat",
        DEMO_CREDENTIALS["snapchat"],
        base_url="http://sandbox/snapchat",
        transport=httpx.ASGITransport(app),
        policy=RetryPolicy(base=0.005, cap=0.02),
    )
    # faster than the sandbox allows (12 calls a stepped second): its throttle answers 429
    connector.api.limiter = AsyncLimiter(100, 1)

    async def one(account_id):
        info = await connector.account_info(account_id)
        performance = await connector.fetch_performance(account_id, START, END)
        actions = await connector.fetch_actions(account_id, START, END)
        creatives = await connector.fetch_creatives(account_id)
        return account_id, (info, performance, actions, creatives)

    async with connector:
        results = dict(await asyncio.gather(*(one(a) for a in ACCOUNTS)))
        stats = connector.api.stats
    return results, stats, connector.api.auth.refreshes


def test_every_snapchat_account_matches_the_world_under_chaos(world, monkeypatch):
    assert set(ACCOUNTS) == {"8a1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"}
    monkeypatch.setattr(snapchat, "PAGE_SIZE", 2)  # more pages: paging under chaos, more hits
    results, stats, refreshes = asyncio.run(fetch_all(world))
    assert stats.retries > 0 and stats.rate_limited > 0 and refreshes > 1  # the chaos happened
    for account_id, (info, performance, actions, creatives) in results.items():
        client, truth = ACCOUNTS[account_id], world_totals(world, account_id)
        assert (info.currency, info.timezone) == ("USD", "America/Los_Angeles")
        rows = performance.to_pylist()
        assert {m: sum(r[m] for r in rows) for m in METRICS} == {m: truth[m] for m in METRICS}
        assert max(Counter((r["date"], r["ad_id"]) for r in rows).values()) == 1
        assert {r["date"] for r in rows} == {
            date.fromordinal(d) for d in range(START.toordinal(), END.toordinal() + 1)
        }
        assert all(r["campaign_name"] and r["ad_group_name"] and r["creative_id"] for r in rows)
        assert {(r["platform"], r["currency"]) for r in rows} == {("snapchat", "USD")}

        by = Counter()
        for r in actions.to_pylist():
            by[(r["action_type"], r["attribution_window"])] += r["count"]
        primary, secondary = client.primary_action, client.secondary_action
        assert by[(primary, "default")] == truth["conversions"]
        assert by[(primary, "28d_click")] == truth["click_conversions"]
        assert by[(primary, "1d_view")] == truth["view_conversions"]
        assert by[(secondary, "default")] == truth["secondary_actions"]
        assert {k[0] for k in by} == {primary, secondary}

        ads = world.ads_of("snapchat", account_id)
        assert creatives.num_rows == len(ads)
        made = {r["creative_id"]: r for r in creatives.to_pylist()}
        assert {ad.creative_id: (ad.ad_id, ad.headline, ad.landing_url) for ad in ads} == {
            k: (r["ad_id"], r["headline"], r["landing_url"]) for k, r in made.items()
        }
        assert all(r["asset_url"].startswith("http://sandbox/cdn/") for r in made.values())
