"""The Meta connector against the Meta sandbox, with every kind of trouble switched on."""

import asyncio
from collections import Counter
from datetime import UTC, date, datetime

import httpx
from aiolimiter import AsyncLimiter

from generator.connectors import RetryPolicy, get_connector
from generator.sandbox import DEMO_CREDENTIALS, Faults, create_app
from generator.sandbox.assets import cards, creative_format, revision, video_length
from generator.sandbox.catalog import CLIENTS

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
START, END = date(2026, 9, 22), date(2026, 11, 23)  # 63 days: each first job fails, then halves
ACCOUNTS = {a.account_id: c for c in CLIENTS for a in c.accounts if a.source == "meta"}
METRICS = ("impressions", "clicks", "spend_micros", "conversions", "value_micros")


def world_totals(world, account_id: str) -> dict[str, int]:
    rows = [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "meta" and r["account_id"] == account_id and START <= r["date"] <= END
    ]
    keys = (*METRICS, "click_conversions", "view_conversions", "secondary_actions")
    return {k: sum(r[k] for r in rows) for k in keys}


async def fetch_all(world):
    app = create_app(world, Faults.chaos(slow_seconds=0.001, rate_limit=19.0), now=NOW)
    connector = get_connector(
        "meta",
        DEMO_CREDENTIALS["meta"],
        base_url="http://sandbox/meta",
        transport=httpx.ASGITransport(app),
        policy=RetryPolicy(base=0.005, cap=0.02),
    )
    # faster than the sandbox allows (19 calls a stepped second): its throttle answers #17 too
    connector.api.limiter = AsyncLimiter(60, 1)
    connector.poll_delay = 0.01

    async def one(account_id):
        performance = await connector.fetch_performance(account_id, START, END)
        actions = await connector.fetch_actions(account_id, START, END)
        creatives = await connector.fetch_creatives(account_id)
        return account_id, (performance, actions, creatives)

    async with connector:
        results = dict(await asyncio.gather(*(one(a) for a in ACCOUNTS)))
        stats = connector.api.stats
    return results, stats


def test_every_meta_account_matches_the_world_under_chaos(world):
    assert set(ACCOUNTS) == {"act_1029384756", "act_2039485761"}
    results, stats = asyncio.run(fetch_all(world))
    assert stats.retries > 0 and stats.rate_limited > 0  # the chaos did happen
    for account_id, (performance, actions, creatives) in results.items():
        client, truth = ACCOUNTS[account_id], world_totals(world, account_id)
        rows = performance.to_pylist()
        assert {m: sum(r[m] for r in rows) for m in METRICS} == {m: truth[m] for m in METRICS}
        keys = Counter((r["date"], r["ad_id"], r["platform"]) for r in rows)
        assert max(keys.values()) == 1 and {k[2] for k in keys} == {"facebook", "instagram"}
        assert {r["date"] for r in rows} == {
            date.fromordinal(d) for d in range(START.toordinal(), END.toordinal() + 1)
        }
        assert all(r["creative_id"] and r["currency"] == "USD" for r in rows)

        by = Counter()
        for r in actions.to_pylist():
            by[(r["action_type"], r["attribution_window"])] += r["count"]
            by[(r["action_type"], r["attribution_window"], "value")] += r["value_micros"]
        primary, secondary = client.primary_action, client.secondary_action
        assert by[(primary, "default")] == truth["conversions"]
        assert by[(primary, "7d_click")] == truth["click_conversions"]
        assert by[(primary, "1d_view")] == truth["view_conversions"]
        assert by[(primary, "1d_click")] <= by[(primary, "7d_click")] <= by[(primary, "28d_click")]
        assert by[(secondary, "default")] == truth["secondary_actions"]
        assert by[("purchase", "default", "value")] == (
            truth["value_micros"] if primary == "purchase" else 0
        )

        ads = world.ads_of("meta", account_id)
        assert creatives.num_rows == len(ads)
        linked = {r["creative_id"]: r["ad_id"] for r in creatives.to_pylist()}
        assert linked == {ad.creative_id: ad.ad_id for ad in ads}
        assert all(
            u.startswith("http://sandbox/cdn/") for u in creatives.column("asset_url").to_pylist()
        )
        made = {r["creative_id"]: r for r in creatives.to_pylist()}
        for ad in ads:
            row, fmt = made[ad.creative_id], creative_format(ad)
            assert row["format"] == fmt
            rev = revision(ad, NOW.date())
            if fmt == "video":  # the poster, and the length of the video now running
                assert "-poster" in row["asset_url"]
                assert row["duration_ms"] == round(video_length(ad, rev) * 1000)
            else:
                assert row["duration_ms"] is None
            if fmt == "carousel":
                assert [c["headline"] for c in row["cards"]] == [c.headline for c in cards(ad)]
                assert row["asset_url"] == row["cards"][0]["asset_url"]
            else:
                assert row["cards"] is None
            assert row["asset_url"].split("/")[-1].count(f"-r{rev}.") == (1 if rev else 0)
    formats = Counter(r["format"] for _, (_, _, c) in results.items() for r in c.to_pylist())
    assert set(formats) == {"image", "carousel", "video"}
