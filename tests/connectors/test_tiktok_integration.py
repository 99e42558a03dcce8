"""The TikTok connector against the TikTok sandbox, with every kind of trouble switched on."""

import asyncio
from collections import Counter
from datetime import UTC, date, datetime

import httpx
from aiolimiter import AsyncLimiter

from generator.connectors import RetryPolicy, get_connector, tiktok
from generator.sandbox import DEMO_CREDENTIALS, Faults, create_app
from generator.sandbox.assets import creative_format, revision, video_length
from generator.sandbox.catalog import CLIENTS

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
START, END = date(2026, 9, 22), date(2026, 11, 23)  # 63 days: three report pieces
ACCOUNTS = {a.account_id: c for c in CLIENTS for a in c.accounts if a.source == "tiktok"}
METRICS = ("impressions", "clicks", "spend_micros", "conversions", "value_micros")


def world_totals(world, account_id: str) -> dict[str, int]:
    rows = [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "tiktok" and r["account_id"] == account_id and START <= r["date"] <= END
    ]
    return {k: sum(r[k] for r in rows) for k in (*METRICS, "secondary_actions")}


async def fetch_all(world):
    app = create_app(world, Faults.chaos(slow_seconds=0.001, rate_limit=16.0), now=NOW)
    connector = get_connector(
        "tiktok",
        DEMO_CREDENTIALS["tiktok"],
        base_url="http://sandbox/tiktok",
        transport=httpx.ASGITransport(app),
        policy=RetryPolicy(base=0.005, cap=0.02),
    )
    # faster than the sandbox allows (16 calls a stepped second): its throttle answers 40100
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
    return results, stats


def test_every_tiktok_account_matches_the_world_under_chaos(world, monkeypatch):
    assert set(ACCOUNTS) == {"7012345678901234567"}
    monkeypatch.setattr(tiktok, "PAGE_SIZE", 50)  # more pages: paging under chaos, more hits
    results, stats = asyncio.run(fetch_all(world))
    assert stats.retries > 0 and stats.rate_limited > 0  # the chaos did happen
    for account_id, (info, performance, actions, creatives) in results.items():
        client, truth = ACCOUNTS[account_id], world_totals(world, account_id)
        assert (info.currency, info.timezone) == ("USD", "America/New_York")
        rows = performance.to_pylist()
        assert {m: sum(r[m] for r in rows) for m in METRICS} == {m: truth[m] for m in METRICS}
        assert max(Counter((r["date"], r["ad_id"]) for r in rows).values()) == 1
        assert {r["date"] for r in rows} == {
            date.fromordinal(d) for d in range(START.toordinal(), END.toordinal() + 1)
        }
        assert all(r["campaign_name"] and r["ad_group_id"] for r in rows)
        assert {(r["platform"], r["currency"]) for r in rows} == {("tiktok", "USD")}

        by = Counter()
        for r in actions.to_pylist():
            by[(r["action_type"], r["attribution_window"])] += r["count"]
            by[(r["action_type"], "value")] += r["value_micros"]
        primary, secondary = client.primary_action, client.secondary_action
        assert by[(primary, "default")] == truth["conversions"]
        assert by[(primary, "value")] == truth["value_micros"]
        assert by[(secondary, "default")] == truth["secondary_actions"]
        assert {k[0] for k in by} == {primary, secondary}

        ads = world.ads_of("tiktok", account_id)
        assert creatives.num_rows == len(ads)
        made = {r["ad_id"]: r for r in creatives.to_pylist()}
        assert {ad.ad_id: (ad.headline, ad.landing_url) for ad in ads} == {
            k: (r["headline"], r["landing_url"]) for k, r in made.items()
        }
        assert all(r["asset_url"].startswith("http://sandbox/cdn/") for r in made.values())
        assert {r["format"] for r in made.values()} == {"video", "image"}
        for ad in ads:
            row, rev = made[ad.ad_id], revision(ad, NOW.date())
            if creative_format(ad) == "video":  # the poster, with the video's length and size
                assert "-poster" in row["asset_url"] and "x-expires=" in row["asset_url"]
                assert row["duration_ms"] == round(video_length(ad, rev) * 1000)
                assert (row["width"], row["height"]) == (1080, 1920)
            else:
                assert row["duration_ms"] is None
