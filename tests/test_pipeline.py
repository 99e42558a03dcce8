"""Sync, analyze and build against the sandbox, in-process."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import duckdb
import httpx
import pytest
import yaml

from generator import pipeline
from generator.config import load_agency, load_client, load_clients
from generator.connectors import RetryPolicy
from generator.connectors.google_ads import GoogleAds
from generator.creatives import AssetStore
from generator.errors import BuildError
from generator.lake import Lake
from generator.periods import Period
from generator.pipeline import syncing
from generator.sandbox import DEMO_ENVIRONMENT, PLATFORMS, Faults, create_app, serve_process
from generator.sandbox.file import write_exports

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
START = date(2026, 9, 1)
DEMO_START = date(2026, 5, 1)  # the demo's first day: six months back from October
FAST = RetryPolicy(base=0.005, cap=0.02, rate_limit_wait=60)


def run_sync(world, lake, clients, faults=None, now=NOW, app=None, transport=None, **kw):
    import asyncio

    app = app or create_app(world, faults, now=now)
    exports = lake.root.parent / "exports"  # the file accounts' vendor exports, as on `now`
    write_exports(world, exports, now)
    return asyncio.run(
        pipeline.sync(
            clients,
            lake,
            start=START,
            env={**DEMO_ENVIRONMENT, "CAMPAIGN_EXPORTS": str(exports)},
            now=now,
            policy=FAST,
            endpoints={name: f"http://sandbox/{name}" for name in PLATFORMS},
            transport=transport or httpx.ASGITransport(app),
            **kw,
        )
    )


def truth(world, account_id, first=START, last=date(2026, 11, 23), now=NOW):
    con = duckdb.connect()
    con.register("p", world.reported(now.date()))
    return con.sql(
        "SELECT sum(impressions)::BIGINT, sum(clicks)::BIGINT, sum(spend_micros)::BIGINT, "
        "sum(conversions)::BIGINT, sum(value_micros)::BIGINT, sum(secondary_actions)::BIGINT "
        f"FROM p WHERE account_id = '{account_id}' AND date BETWEEN '{first}' AND '{last}'"
    ).fetchall()[0]


def stored(lake, account_id):
    """What the lake holds for an account: the truth's columns (secondary actions counted in
    the platform's default window, as Google reports them)."""
    perf = lake.query(
        "SELECT sum(impressions)::BIGINT, sum(clicks)::BIGINT, sum(spend_micros)::BIGINT, "
        "sum(conversions)::BIGINT, sum(value_micros)::BIGINT FROM ad_performance "
        f"WHERE account_id = '{account_id}'"
    ).to_pylist()[0]
    secondary = lake.query(
        "SELECT sum(count)::BIGINT AS n FROM actions WHERE action_type IN "
        "('add_to_cart', 'signup', 'contact') AND attribution_window = 'default' "
        f"AND account_id = '{account_id}'"
    ).to_pylist()[0]
    return (*perf.values(), secondary["n"])


AD_PLATFORMS = {
    "google_ads", "meta", "linkedin", "microsoft_ads", "x", "tiktok",
    "pinterest", "snapchat", "amazon_ads", "reddit",
}  # fmt: skip


def test_a_sync_with_faults_stores_exactly_the_worlds_numbers(world, content, tmp_path):
    """Every account under chaos, over the wire to a sandbox in its own process (as the demo
    talks to it): the sandbox's work runs beside the sync instead of inside this process."""
    lake = Lake(tmp_path / "lake")
    store = AssetStore(tmp_path / "assets")
    chaos = Faults.chaos(slow_seconds=0.001)
    start = date(2026, 10, 20)  # five weeks, across a month's end: every fault has its chance
    with serve_process(end=world.end, now=NOW, faults=chaos) as sandbox:
        exports = tmp_path / "exports"
        write_exports(world, exports, NOW)
        outcome = asyncio.run(
            pipeline.sync(
                load_clients(content),
                lake,
                start=start,
                env={**DEMO_ENVIRONMENT, "CAMPAIGN_EXPORTS": str(exports)},
                now=NOW,
                policy=FAST,
                endpoints={name: sandbox.base_url(name) for name in PLATFORMS},
                assets=store,
            )
        )
    assert {o.status for o in outcome} == {"ok"}, [o for o in outcome if o.status != "ok"]
    # images, video thumbnails and product pictures: every asset stored or explained
    assets = lake.query("SELECT asset_sha256 FROM creatives WHERE asset_url IS NOT NULL")
    stored_assets = [r for r in assets.to_pylist() if r["asset_sha256"]]
    assert stored_assets and all(
        store.has(r["asset_sha256"], ".png") or store.has(r["asset_sha256"], ".jpg")  # X: JPEG
        for r in stored_assets
    )
    # a carousel card that could not be fetched is a note of its own, its row stays stored
    notes = [n for o in outcome for n in o.notes if " card " not in n]
    assert len(stored_assets) + len(notes) == assets.num_rows
    clients = load_clients(content)
    accounts = [a for c in clients for a in c.accounts if a.platform in AD_PLATFORMS]
    assert {a.platform for a in accounts} == AD_PLATFORMS
    for account in accounts:
        expected = truth(world, account.account_id, first=start)
        got = stored(lake, account.account_id)
        assert got[:5] == expected[:5], account
        if account.platform == "google_ads":
            assert got[5] == expected[5]
    dupes = lake.query(
        "SELECT count(*) AS n FROM (SELECT date, platform, ad_id, count(*) c FROM "
        "ad_performance GROUP BY ALL HAVING c > 1)"
    ).to_pylist()
    assert dupes == [{"n": 0}]
    state = lake.state.get("northwind", "google_ads", "5930214867")
    assert state.status == "ok" and state.synced_through == date(2026, 11, 23)
    with_creatives = lake.query("SELECT DISTINCT account_id FROM creatives").column(0).to_pylist()
    assert set(with_creatives) == {a.account_id for a in accounts}
    site = lake.query("SELECT client, count(*) AS n FROM touchpoints GROUP BY 1").to_pylist()
    assert {r["client"] for r in site} == {"northwind", "brightline", "harbor"}


def test_an_interrupted_sync_resumes_without_losing_or_doubling(
    world, content, tmp_path, monkeypatch
):
    lake = Lake(tmp_path / "lake")
    clients = [only_google(content, "harbor")]
    real, calls = GoogleAds.fetch_actions, []

    async def dies_on_the_third_window(self, *args):
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process is killed mid-run
        return await real(self, *args)

    monkeypatch.setattr(GoogleAds, "fetch_actions", dies_on_the_third_window)
    with pytest.raises(KeyboardInterrupt):
        run_sync(world, lake, clients)
    state = lake.state.get("harbor", "google_ads", "2184736590")
    assert state.synced_through == date(2026, 10, 31)  # two months committed
    monkeypatch.undo()
    outcome = run_sync(world, lake, clients)
    assert outcome[0].status == "ok" and outcome[0].windows == 2  # lookback of October + November
    assert stored(lake, "2184736590") == truth(world, "2184736590")


def test_a_daily_run_refetches_only_the_lookback_window(world, content, demo_copy):
    lake = Lake(demo_copy / "lake")  # the demo's six months, synced as of NOW
    clients = [load_client(content / "brightline")]
    outcome = run_sync(world, lake, clients)
    assert outcome[0].windows == 1 and outcome[0].rows < 300  # Nov 10-23: the 14-day lookback
    assert stored(lake, "7361928450") == truth(world, "7361928450", DEMO_START)


def test_restated_days_are_picked_up_by_the_next_sync(world, content, demo_copy):
    lake = Lake(demo_copy / "lake")  # the demo's six months, synced as of NOW
    clients = [only_google(content, "northwind")]
    early = stored(lake, "4829103756")
    assert early == truth(world, "4829103756", DEMO_START)
    later = NOW + timedelta(days=3)  # late conversions for the last days have come in since
    outcome = run_sync(world, lake, clients, now=later)
    assert outcome[0].status == "ok"
    now_stored = stored(lake, "4829103756")
    assert now_stored == truth(world, "4829103756", DEMO_START, now=later)
    assert now_stored[3] > early[3]  # more conversions than the first sync saw


def test_a_platform_that_stays_down_is_marked_stale(world, content, tmp_path):
    lake = Lake(tmp_path / "lake")
    clients = [only_google(content, "harbor")]
    outcome = run_sync(world, lake, clients, Faults(outage={"google_ads"}))
    assert outcome[0].status == "stale" and "gave up" in outcome[0].message
    agency = load_agency(content)
    rates = pipeline.load_rates(content, agency)
    # with nothing ever synced there is no report: the error says why
    with pytest.raises(BuildError, match=r"harbor has no ad performance .* yet: run .*; Google "
                       r"Ads account 2184736590 is stale \(.*gave up"):  # fmt: skip
        pipeline.analyze(lake, clients[0], agency, Period.month("2026-10"), rates, now=NOW)
    # with data from an earlier run the report is built, and says what is stale
    run_sync(world, lake, clients, now=NOW - timedelta(days=1))
    assert run_sync(world, lake, clients, Faults(outage={"google_ads"}))[0].status == "stale"
    report = pipeline.analyze(lake, clients[0], agency, Period.month("2026-10"), rates, now=NOW)
    assert any("could not be refreshed" in w for w in report.summary["warnings"])
    google = next(f for f in report.summary["freshness"] if f["platform"] == "Google Ads")
    assert google["status"] == "stale"


def test_accounts_without_credentials_are_reported(world, content, tmp_path):
    lake = Lake(tmp_path / "lake")
    path = content / "harbor" / "client.yml"
    path.write_text(
        path.read_text().replace(
            "kpi_targets:",
            "  - platform: tiktok\n    account_id: '123'\n    credentials: {app_id: '1'}\n"
            "kpi_targets:",
        )
    )
    client = load_client(path)
    import asyncio

    outcome = asyncio.run(pipeline.sync([client], lake, start=START, env={}, now=NOW))
    assert {o.status for o in outcome} == {"failed"}
    assert any("GOOGLE_ADS_DEVELOPER_TOKEN is not set" in o.message for o in outcome)
    assert any("tiktok: credentials lack access_token" in o.message for o in outcome)


def only_google(content, slug, platform="google_ads"):
    """The client with its accounts on one platform only."""
    path = content / slug / "client.yml"
    data = yaml.safe_load(path.read_text())
    data["accounts"] = [a for a in data["accounts"] if a["platform"] == platform]
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return load_client(path)


def test_analyze_converts_currency_before_summing(world, content, tmp_path):
    lake = Lake(tmp_path / "lake")
    northwind = only_google(content, "northwind")
    run_sync(world, lake, [northwind])
    agency = load_agency(content)
    october = Period.month("2026-10")
    report = pipeline.analyze(
        lake, northwind, agency, october, pipeline.load_rates(content, agency), now=NOW
    )
    cards = {c["key"]: c for c in report.summary["cards"]}
    usd = truth(world, "4829103756", october.start, october.end)
    eur = truth(world, "5930214867", october.start, october.end)
    rate = 1.15  # content/fx_rates.csv: EUR -> USD from 2026-10-01
    assert cards["spend"]["value"] == pytest.approx((usd[2] + eur[2] * rate) / 1e6, abs=0.01)
    assert cards["value"]["value"] == pytest.approx((usd[4] + eur[4] * rate) / 1e6, abs=0.01)
    assert cards["roas"]["status"] in ("on_track", "at_risk", "off_track")
    assert report.summary["platforms"] == ["Google Ads"]
    assert report.frames["campaigns"]["campaign_name"].str.contains("<script>").any()
    assert report.summary["warnings"] == []


def test_history_start():
    assert pipeline.history_start(Period.month("2026-10"), 6) == date(2026, 5, 1)
    assert pipeline.history_start(Period.month("2026-01"), 2) == date(2025, 12, 1)


def test_a_broken_rate_table(content):
    (content / "fx_rates.csv").write_text("date,base,quote,rate\n2026-01-01,EUR,USD,oops\n")
    with pytest.raises(Exception, match="not a positive number"):
        pipeline.load_rates(content, load_agency(content))
    (content / "fx_rates.csv").unlink()
    assert pipeline.load_rates(content, load_agency(content)).rates("USD", "USD", [1]).tolist() == [
        1
    ]


def test_rotated_refresh_tokens_are_used_next_time(tmp_path):
    from generator.connectors.tokens import TokenStore

    store = TokenStore(tmp_path / "tokens.json")
    credentials = {"client_id": "c", "refresh_token": "first"}
    assert syncing._current_tokens("linkedin", credentials, None) is credentials
    current = syncing._current_tokens("linkedin", credentials, store)
    group = syncing._Group("linkedin", current)
    syncing._rotation_keeper(group, store)("second")
    assert syncing._current_tokens("linkedin", credentials, store)["refresh_token"] == "second"
    assert syncing._rotation_keeper(syncing._Group("x", {}), store) is None


def test_a_report_still_running_is_resumed_by_the_next_sync(world, content, tmp_path, monkeypatch):
    from generator.connectors.meta import Meta

    lake, client = Lake(tmp_path / "lake"), only_google(content, "harbor", "meta")
    account = client.accounts[0].account_id
    app = create_app(world, now=NOW)
    monkeypatch.setattr(Meta, "job_timeout", 0.0)
    first = run_sync(world, lake, [client], app=app)
    assert [o.status for o in first] == ["stale"] and "still running" in first[0].message
    pending = lake.state.get("harbor", "meta", account).pending
    assert len(pending) == 1  # the first window's job, left at the platform

    monkeypatch.setattr(Meta, "job_timeout", 60.0)
    second = run_sync(world, lake, [client], app=app)
    assert [o.status for o in second] == ["ok"]
    assert lake.state.get("harbor", "meta", account).pending == {}
    jobs = app.state.meta_sandbox.jobs
    (resumed,) = pending.values()
    assert jobs[resumed].polls > 1  # polled again by the second run, not abandoned
    assert stored(lake, account)[:5] == truth(world, account)[:5]


class ForgetfulFinder(httpx.AsyncBaseTransport):
    """The sandbox, except that LinkedIn's campaign-group finder leaves out the first group of
    every page, as a finder does with a group archived outside its status filter."""

    def __init__(self, app) -> None:
        self.inner = httpx.ASGITransport(app)
        self.forgotten: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/adCampaignGroups") or response.status_code != 200:
            return response
        body = json.loads(await response.aread())
        if body.get("elements"):
            self.forgotten.add(str(body["elements"].pop(0)["id"]))
        return httpx.Response(200, json=body, headers={"x-restli-protocol-version": "2.0.0"})


def test_an_entity_the_platform_no_longer_lists_degrades_to_its_id(world, content, tmp_path):
    lake, client = Lake(tmp_path / "lake"), only_google(content, "brightline", "linkedin")
    account = client.accounts[0].account_id
    transport = ForgetfulFinder(create_app(world, now=NOW))
    (outcome,) = run_sync(world, lake, [client], transport=transport)
    assert outcome.status == "ok", outcome.message
    assert stored(lake, account)[:5] == truth(world, account)[:5]  # every number kept
    (gone,) = transport.forgotten
    assert lake.state.get("brightline", "linkedin", account).unresolved == {"campaign": [gone]}
    assert any(f"1 campaign without a name from the API ({gone})" in n for n in outcome.notes)
    names = lake.query(
        f"SELECT DISTINCT campaign_name FROM ad_performance WHERE campaign_id = '{gone}'"
    ).column(0)
    assert names.to_pylist() == [gone]

    agency = load_agency(content)
    report = pipeline.analyze(
        lake, client, agency, Period.month("2026-10"), pipeline.load_rates(content, agency), now=NOW
    )
    (warning,) = report.summary["warnings"]
    assert f"LinkedIn account {account}: 1 campaign no longer described" in warning
    assert gone in warning and "numbers are included" in warning
