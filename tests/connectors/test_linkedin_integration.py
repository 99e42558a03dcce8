"""The LinkedIn connector against the LinkedIn sandbox, through chaos, to the exact micro."""

from datetime import UTC, date, datetime

import httpx
import pytest

from generator.connectors import RetryPolicy, get_connector
from generator.errors import ApiVersionRetired
from generator.sandbox import DEMO_CREDENTIALS, Faults, assets, create_app
from generator.sandbox.catalog import CLIENTS

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
START, END = date(2026, 9, 24), date(2026, 11, 23)
FAST = RetryPolicy(base=0.005, cap=0.02)
ACCOUNTS = [a.account_id for c in CLIENTS for a in c.accounts if a.source == "linkedin"]
METRICS = ("impressions", "clicks", "spend_micros", "conversions", "value_micros")


def connector(app, **options):
    return get_connector(
        "linkedin",
        DEMO_CREDENTIALS["linkedin"],
        base_url="http://sandbox/linkedin",
        transport=httpx.ASGITransport(app),
        policy=FAST,
        **options,
    )


def reported(world, account_id):
    rows = [
        r
        for r in world.reported(NOW.date()).to_pylist()
        if r["source"] == "linkedin" and r["account_id"] == account_id and START <= r["date"] <= END
    ]
    return {m: sum(r[m] for r in rows) for m in METRICS}


def totals(table):
    return {m: sum(table.column(m).to_pylist()) for m in METRICS}


def test_the_catalog_has_linkedin_accounts():
    assert ACCOUNTS == ["508765432"]


@pytest.mark.parametrize("account_id", ACCOUNTS)
async def test_a_chaotic_sandbox_yields_exactly_the_worlds_numbers(world, account_id):
    rotations = []
    app = create_app(world, Faults.chaos(slow_seconds=0.001), now=NOW)
    async with connector(app, on_rotate=rotations.append) as c:
        info = await c.account_info(account_id)
        performance = await c.fetch_performance(account_id, START, END)
        actions = await c.fetch_actions(account_id, START, END)
        creatives = await c.fetch_creatives(account_id)
        stats = c.api.stats
    expected = reported(world, account_id)
    assert totals(performance) == expected
    assert info.timezone == "UTC" and info.currency == "USD"
    days = performance.column("date").to_pylist()
    assert (min(days), max(days)) == (START, END)
    assert sum(actions.column("count").to_pylist()) == expected["conversions"]
    assert sum(actions.column("value_micros").to_pylist()) == expected["value_micros"]
    assert set(actions.column("action_type").to_pylist()) == {"lead"}
    assert set(actions.column("attribution_window").to_pylist()) == {"post_click", "post_view"}
    ads = world.ads_of("linkedin", account_id)
    assert sorted(creatives.column("creative_id").to_pylist()) == sorted(a.ad_id for a in ads)
    by_id = {r["creative_id"]: r for r in creatives.to_pylist()}
    for ad in ads:
        row = by_id[ad.ad_id]
        if ad.campaign.objective == "conversation":
            assert row["format"] == "message" and row["headline"] is None
        else:
            assert (row["headline"], row["body"]) == (ad.headline, ad.body)
            rev = assets.revision(ad, NOW.date())  # a replaced picture has a new file name
            name = f"{ad.creative_id}-r{rev}.png" if rev else f"{ad.creative_id}.png"
            assert row["asset_url"] == f"http://sandbox/cdn/{name}"
    assert stats.retries > 0  # the chaos was felt
    assert rotations  # and every refresh rotated the refresh token


async def test_a_throttled_sandbox_delays_but_does_not_change_the_numbers(world):
    app = create_app(world, Faults(rate_limit=1.0), now=NOW)  # bursts of 5, then 1 a second
    async with connector(app) as c:
        performance = await c.fetch_performance(ACCOUNTS[0], START, END)
        actions = await c.fetch_actions(ACCOUNTS[0], START, END)
        assert c.api.stats.rate_limited > 0
    expected = reported(world, ACCOUNTS[0])
    assert totals(performance) == expected
    assert sum(actions.column("count").to_pylist()) == expected["conversions"]


async def test_a_sandbox_clock_past_the_sunset_reports_the_retired_version(world):
    app = create_app(world, now=datetime(2027, 10, 1, tzinfo=UTC))
    async with connector(app) as c:
        with pytest.raises(
            ApiVersionRetired, match="bump API_VERSION in generator/connectors/linkedin.py"
        ):
            await c.account_info(ACCOUNTS[0])
