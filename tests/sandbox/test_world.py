import itertools
import re
from collections import Counter
from datetime import date, timedelta

import pyarrow.compute as pc
import pytest

from generator.sandbox import journeys
from generator.sandbox.catalog import CLIENTS, LONG_NAME
from generator.sandbox.world import COPY_PERIOD_DAYS, WORLD_START, World


def _day(world: World, day: date):
    return sorted(
        (r["ad_id"], r["platform"], r["impressions"], r["spend_micros"], r["conversions"])
        for r in world.performance.to_pylist()
        if r["date"] == day
    )


def test_a_day_is_the_same_whatever_the_world_end(world):
    shorter = World(end=date(2026, 10, 31))
    day = date(2026, 10, 15)
    assert _day(world, day) and _day(world, day) == _day(shorter, day)


def test_the_world_has_what_the_demo_needs(world):
    rows = world.performance.to_pylist()
    assert min(r["date"] for r in rows) == WORLD_START
    assert max(r["date"] for r in rows) == world.end
    assert world.end - WORLD_START > timedelta(days=180)
    assert min(r["impressions"] for r in rows) > 0
    assert {c.profile for c in CLIENTS} == {"ecommerce", "b2b", "local"}
    assert ("EUR", "Europe/Berlin") in {
        (a.currency, a.timezone) for c in CLIENTS for a in c.accounts
    }
    texts = [t for ad in world.ads for t in (ad.campaign.name, ad.headline, ad.body)]
    assert any("<script>" in t for t in texts) and LONG_NAME in texts
    assert any("\u0639" in t for t in texts) and any("🔥" in t for t in texts)
    for client in CLIENTS:
        assert {"A", "B"} <= {ad.variant for ad in world.ads if ad.client is client}
    assert {r["platform"] for r in rows if r["source"] == "meta"} == {"facebook", "instagram"}


def test_b2b_weekdays_outspend_weekends(world):
    spend = Counter()
    for r in world.performance.to_pylist():
        if r["source"] == "linkedin":
            spend[r["date"].weekday()] += r["spend_micros"]
    assert spend[1] > 2 * spend[6]


def test_the_ab_variant_b_converts_better(world):
    clicks, conversions = Counter(), Counter()
    for r in world.performance.to_pylist():
        variant = world.ad(r["ad_id"]).variant
        if variant:
            clicks[variant] += r["clicks"]
            conversions[variant] += r["conversions"]
    assert conversions["B"] / clicks["B"] > conversions["A"] / clicks["A"]


def test_lookups_and_bounds(world):
    assert world.account("google_ads", "4829103756")[1].currency == "USD"
    assert world.account("google_ads", "nope") is None
    ad = world.ads_of("google_ads", "5930214867")[0]
    assert world.ad(ad.ad_id) is ad
    with pytest.raises(ValueError, match="the world starts on"):
        World(end=date(2020, 1, 1))


def test_journeys_cover_every_client_and_channel(world):
    sessions, conversions = world.journeys.sessions, world.journeys.conversions
    rows = sessions.to_pandas()
    assert set(rows["client"]) == {"northwind", "brightline", "harbor"}
    northwind = rows[rows["client"] == "northwind"]
    assert {"google_ads", "facebook", "instagram", "organic_search", "direct", "email"} <= set(
        northwind["channel"]
    )
    assert "amazon_ads" not in set(rows["channel"])  # Amazon ads do not send visitors to the site
    paid = northwind[northwind["channel"] == "google_ads"]
    assert paid["campaign_id"].notna().all() and (paid["medium"] == "cpc").all()
    assert rows["timestamp"].max().date() <= world.end + timedelta(days=1)  # in UTC
    converted = conversions.to_pandas()
    # pyarrow's is_in: pandas' isin on Arrow strings walks them one by one in Python
    assert pc.all(pc.is_in(conversions["user_id"], value_set=sessions["user_id"])).as_py()
    assert (converted[converted["client"] == "northwind"]["value_micros"] > 0).all()
    assert (converted[converted["client"] == "harbor"]["event_name"] == "book_appointment").all()
    rate = converted.groupby("client").size() / rows.groupby("client")["user_id"].nunique()
    assert rate.between(0.01, 0.15).all()


def test_journeys_do_not_depend_on_the_world_end(world):
    shorter = World(end=date(2026, 7, 31))
    day = date(2026, 7, 15)

    def visitors(w):
        s = w.journeys.sessions.to_pandas()
        return sorted(s[s["user_id"].str.endswith(f".{_unix(day, 'America/Chicago')}")]["user_id"])

    assert visitors(world) and visitors(world) == visitors(shorter)


def _unix(day, zone):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    return int(datetime.combine(day, time(0), ZoneInfo(zone)).timestamp())


def test_recent_days_are_restated_upwards(world):
    final = world.performance.to_pandas()
    early = world.reported(date(2026, 11, 24)).to_pandas()
    later = world.reported(date(2026, 11, 30)).to_pandas()
    recent = final["date"] >= date(2026, 11, 10)
    assert (early["conversions"] <= later["conversions"]).all()
    assert (later["conversions"] <= final["conversions"]).all()
    assert early.loc[recent, "conversions"].sum() < final.loc[recent, "conversions"].sum()
    assert early.loc[~recent, "conversions"].equals(final.loc[~recent, "conversions"])
    assert (early["value_micros"] <= final["value_micros"]).all()


def test_journeys_are_shared_between_processes_through_the_cache(tmp_path, monkeypatch):
    """A process finds the journeys another one simulated for the same world and code, and
    a world of another end never reads them."""
    monkeypatch.setenv(journeys.CACHE_ENV, str(tmp_path))
    end = WORLD_START + timedelta(days=40)
    first = journeys.cached_journeys(World(end=end))
    assert sorted(p.name.rsplit("-", 1)[1] for p in tmp_path.iterdir()) == [
        "conversions.arrow",
        "sessions.arrow",
    ]
    again = journeys.cached_journeys(World(end=end))  # read back, not simulated
    assert again.sessions.equals(first.sessions) and again.conversions.equals(first.conversions)
    assert again.sessions.equals(journeys.simulate_journeys(World(end=end)).sessions)
    other = journeys.cached_journeys(World(end=end + timedelta(days=1)))
    assert other.sessions.num_rows > first.sessions.num_rows
    assert len(list(tmp_path.iterdir())) == 4


def test_some_search_ads_get_new_copy_every_28_days(world):
    search = [ad for ad in world.ads if ad.campaign.objective == "search"]
    rewritten = [ad for ad in search if ad.rewrites_copy]
    assert 0.2 <= len(rewritten) / len(search) <= 0.4
    assert {ad.account.source for ad in rewritten} == {"google_ads", "microsoft_ads"}
    assert not any(ad.rewrites_copy for ad in world.ads if ad.campaign.objective != "search")
    assert not any(ad.rewrites_copy for ad in world.ads if ad.variant)  # A/B tests hold still
    days = [WORLD_START + timedelta(days=n) for n in range(600)]
    for ad in world.ads:
        copies = [ad.copy_on(day) for day in days]
        if not ad.rewrites_copy:
            assert set(copies) == {(ad.headline, ad.body)}
            continue
        assert copies[0] == (ad.headline, ad.body)
        for n, (before, after) in enumerate(itertools.pairwise(copies), start=1):
            assert (before != after) == (n % COPY_PERIOD_DAYS == 0), (ad.ad_id, n)
        headlines = {h for h, _ in copies}
        assert headlines <= {h for h, _ in ad.client.copy} and len(headlines) > 1
        offers = [b for h, b in copies if b not in {body for _, body in ad.client.copy}]
        assert offers and all(re.search(r" — now \d+% off$", b) for b in offers)
        assert ad.copy_on(WORLD_START - timedelta(days=3)) == (ad.headline, ad.body)


def test_copy_on_is_the_same_whatever_the_world(world):
    day = date(2026, 3, 2)
    ours = {ad.ad_id: ad.copy_on(day) for ad in world.ads}
    other = {ad.ad_id: ad.copy_on(day) for ad in World(seed=11, end=date(2026, 1, 31)).ads}
    assert ours == other
    assert any(ours[ad.ad_id] != (ad.headline, ad.body) for ad in world.ads)


def test_search_ads_show_a_display_url(world):
    for ad in world.ads:
        if ad.campaign.objective != "search":
            assert (ad.display_paths, ad.display_url) == ((), None)
            continue
        assert len(ad.display_paths) == 2 and all(0 < len(p) <= 15 for p in ad.display_paths)
        assert not any("/" in p or " " in p for p in ad.display_paths)
        host = ad.landing_url.split("/")[2]
        assert ad.display_url == "/".join((host, *ad.display_paths))
    urls = {ad.display_url for ad in world.ads}
    assert "northwindoutfitters.com/Jackets/Sale" in urls
