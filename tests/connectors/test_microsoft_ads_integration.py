"""The Microsoft Advertising connector against its sandbox, with every kind of trouble on."""

import asyncio
from collections import Counter
from datetime import UTC, date, datetime

import httpx
from aiolimiter import AsyncLimiter

from generator.connectors import RetryPolicy, get_connector
from generator.sandbox import DEMO_CREDENTIALS, Faults, create_app
from generator.sandbox.catalog import CLIENTS

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
START, END = date(2026, 9, 22), date(2026, 11, 23)
ACCOUNTS = {a.account_id: c for c in CLIENTS for a in c.accounts if a.source == "microsoft_ads"}
METRICS = ("impressions", "clicks", "spend_micros", "conversions", "value_micros")


def world_totals(world, account_id: str) -> dict[str, int]:
    rows = [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "microsoft_ads" and r["account_id"] == account_id
        if START <= r["date"] <= END
    ]
    return {k: sum(r[k] for r in rows) for k in (*METRICS, "secondary_actions")}


async def fetch_all(world):
    app = create_app(world, Faults.chaos(slow_seconds=0.001, rate_limit=18.0), now=NOW)
    rotations: list[str] = []
    connector = get_connector(
        "microsoft_ads",
        DEMO_CREDENTIALS["microsoft_ads"],
        base_url="http://sandbox/microsoft_ads",
        transport=httpx.ASGITransport(app),
        policy=RetryPolicy(base=0.005, cap=0.02),
        on_rotate=rotations.append,
    )
    # faster than the sandbox allows each account: its throttle must answer 117 too
    connector.api.limiter = AsyncLimiter(60, 1)
    connector.poll_delay = 0.01

    async def one(account_id):
        performance = await connector.fetch_performance(account_id, START, END)
        actions = await connector.fetch_actions(account_id, START, END)
        creatives = await connector.fetch_creatives(account_id)
        return account_id, (performance, actions, creatives)

    async with connector:
        results = dict(await asyncio.gather(*(one(a) for a in ACCOUNTS)))
    return results, connector, rotations


def test_every_microsoft_account_matches_the_world_under_chaos(world):
    assert set(ACCOUNTS) == {"180234567", "180345678", "180456789"}
    results, connector, rotations = asyncio.run(fetch_all(world))
    stats = connector.api.stats
    assert stats.retries > 0 and stats.rate_limited > 0  # the chaos did happen
    assert connector.api.auth.refreshes >= 1 and rotations  # the sandbox rotated the grant
    assert connector.pending == {a: {} for a in ACCOUNTS}
    days = {date.fromordinal(d) for d in range(START.toordinal(), END.toordinal() + 1)}
    for account_id, (performance, actions, creatives) in results.items():
        client, truth = ACCOUNTS[account_id], world_totals(world, account_id)
        rows = performance.to_pylist()
        assert {m: sum(r[m] for r in rows) for m in METRICS} == {m: truth[m] for m in METRICS}
        keys = Counter((r["date"], r["ad_id"]) for r in rows)
        assert max(keys.values()) == 1 and {r["date"] for r in rows} == days
        assert {r["platform"] for r in rows} == {"microsoft_ads"}
        assert all(r["currency"] == "USD" and r["creative_id"] == r["ad_id"] for r in rows)
        assert all(r["campaign_name"] and r["ad_group_name"] for r in rows)

        by = Counter()
        for r in actions.to_pylist():
            assert r["attribution_window"] == "default"
            by[r["action_type"]] += r["count"]
            by[r["action_type"], "value"] += r["value_micros"]
        assert by[client.primary_action] == truth["conversions"]
        assert by[client.primary_action, "value"] == truth["value_micros"]
        assert by[client.secondary_action] == truth["secondary_actions"]
        assert by[client.secondary_action, "value"] == 0
        assert set(by) == {
            client.primary_action,
            client.secondary_action,
            (client.primary_action, "value"),
            (client.secondary_action, "value"),
        }

        ads = world.ads_of("microsoft_ads", account_id)
        copy = {r["creative_id"]: r for r in creatives.to_pylist()}
        assert set(copy) == {ad.ad_id for ad in ads}
        for ad in ads:
            row = copy[ad.ad_id]
            if ad.campaign.objective == "search":
                # the copy as the sandbox serves it on the sync's day (some ads rewrite it)
                headline, body = ad.copy_on(NOW.date())
                assert (row["format"], row["headline"], row["body"]) == ("text", headline, body)
                assert row["landing_url"] == ad.landing_url
                assert row["display_url"] == ad.display_url
            else:
                assert (row["format"], row["body"]) == ("product", ad.body)
