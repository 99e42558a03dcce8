"""The GA4 connector against the GA4 sandbox, with chaos: what the world says arrives exactly."""

import asyncio
import functools
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from generator.connectors import RetryPolicy, get_connector
from generator.errors import ApiVersionRetired, RateLimited
from generator.sandbox import DEMO_CREDENTIALS, Faults, create_app, serve_process
from generator.sandbox import ga4 as sandbox
from generator.sandbox.catalog import CLIENTS
from generator.sandbox.journeys import FUNNELS, site_events

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
START, END = date(2026, 9, 22), date(2026, 11, 22)
FAST = RetryPolicy(base=0.005, cap=0.02)
PROPERTIES = [(c, a) for c in CLIENTS for a in c.accounts if a.source == "ga4"]
_DAY = timedelta(days=1)
DATASETS = ("site_funnel", "site_events", "touchpoints", "conversions")


def connect(app, **options):
    return get_connector(
        "ga4",
        DEMO_CREDENTIALS["ga4"],
        base_url="http://sandbox/ga4",
        transport=httpx.ASGITransport(app),
        policy=FAST,
        **options,
    )


@pytest.fixture(scope="module")
def fetched(world):
    """Every dataset of every property for the window, fetched once under chaos from a
    sandbox in its own process (its report building runs beside the connector)."""

    async def run(base_url):
        out = {}
        options = {"base_url": base_url, "policy": FAST}
        async with get_connector("ga4", DEMO_CREDENTIALS["ga4"], **options) as c:
            for _, account in PROPERTIES:
                info = await c.account_info(account.account_id)
                tables = {d: await c.fetch(d, account.account_id, START, END) for d in DATASETS}
                out[account.account_id] = (info, {k: v.to_pandas() for k, v in tables.items()})
            stats = c.api.stats
        return out, stats

    with serve_process(end=world.end, now=NOW, faults=Faults.chaos(slow_seconds=0.001)) as sbx:
        return asyncio.run(run(sbx.base_url("ga4")))


@functools.cache
def _frames(world, slug, timezone):
    frames = []
    for table in (world.journeys.sessions, world.journeys.conversions):
        frame = table.filter(pc.equal(table["client"], slug)).to_pandas()
        frame["utc_day"] = frame["timestamp"].dt.date
        frame["local_day"] = frame["timestamp"].dt.tz_convert(timezone).dt.date
        frames.append(frame)
    return frames


def world_frames(world, client):
    """The client's sessions and conversions with UTC and property-local days (computed once
    per client: the tests only read them)."""
    return _frames(world, client.slug, client.timezone)


def inside(frame, column):
    return frame[(frame[column] >= START) & (frame[column] <= END)]


@pytest.mark.parametrize(("client", "account"), PROPERTIES, ids=[c.slug for c, _ in PROPERTIES])
def test_touchpoints_are_the_worlds_sessions(fetched, world, client, account):
    got = fetched[0][account.account_id][1]["touchpoints"]
    sessions, _ = world_frames(world, client)
    expected = inside(sessions, "utc_day")
    assert len(got) == len(expected)
    assert Counter(got["channel"]) == Counter(expected["channel"])
    assert Counter(got["timestamp"].dt.date) == Counter(expected["utc_day"])
    assert got["user_id"].nunique() == expected["user_id"].nunique()
    assert got["user_id"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert not set(got["user_id"]) & set(sessions["user_id"])
    paid = expected["campaign_id"].notna()
    assert got["campaign_id"].notna().sum() == paid.sum()
    assert Counter(got["platform"].dropna()) == Counter(expected.loc[paid, "channel"])
    assert set(got["interaction"]) == {"session"} and set(got["source"]) == {"ga4"}


@pytest.mark.parametrize(("client", "account"), PROPERTIES, ids=[c.slug for c, _ in PROPERTIES])
def test_conversions_are_the_worlds_with_exact_revenue(fetched, world, client, account):
    info, tables = fetched[0][account.account_id]
    got, touch = tables["conversions"], tables["touchpoints"]
    sessions, conversions = world_frames(world, client)
    expected = inside(conversions, "utc_day")
    assert len(got) == len(expected) > 0
    assert int(got["value_micros"].sum()) == int(expected["value_micros"].sum())
    assert set(got["action_type"]) == {client.primary_action}
    assert set(got["currency"]) == {info.currency} == {client.currency}
    assert got["conversion_id"].is_unique
    assert not any(re.search(r"\d{10}\.\d{10}", i) for i in got["conversion_id"])
    assert not set(got["user_id"]) & set(sessions["user_id"])
    # the same visitor hashes alike in both tables: most converters visited in the window too
    visited = pc.is_in(pa.array(got["user_id"]), value_set=pa.array(touch["user_id"]))
    assert pc.mean(visited.cast("int8")).as_py() > 0.8


@pytest.mark.parametrize(("client", "account"), PROPERTIES, ids=[c.slug for c, _ in PROPERTIES])
def test_site_funnel_counts_steps_and_key_events_per_local_day(fetched, world, client, account):
    info, tables = fetched[0][account.account_id]
    got = tables["site_funnel"]
    sessions, conversions = world_frames(world, client)
    sessions, conversions = inside(sessions, "local_day"), inside(conversions, "local_day")
    steps = FUNNELS[client.profile]
    expected = {event: int((sessions["steps"] > j).sum()) for j, event in enumerate(steps[:-1])}
    expected[steps[-1]] = len(conversions)
    per_event = got.groupby("event_name")[["event_count", "key_events", "revenue_micros"]].sum()
    assert per_event["event_count"].to_dict() == expected
    assert per_event["key_events"].sum() == len(conversions)
    assert per_event["revenue_micros"].sum() == conversions["value_micros"].sum()
    assert (got["date"].min(), got["date"].max()) == (START, END)
    assert set(got["account_timezone"]) == {info.timezone} == {client.timezone}
    by_day = got[got["event_name"] == steps[0]].groupby("date")["event_count"].sum()
    assert by_day.to_dict() == sessions.groupby("local_day").size().to_dict()


@pytest.mark.parametrize(("client", "account"), PROPERTIES, ids=[c.slug for c, _ in PROPERTIES])
def test_site_events_are_the_worlds_per_user_and_minute(fetched, world, client, account):
    got, touch = (fetched[0][account.account_id][1][d] for d in ("site_events", "touchpoints"))
    expected = world_events(world, client)
    expected = expected[expected["minute"].dt.date.between(START, END)]
    # ids are hashed, so visitors are matched by what they did: each one's events, minute by
    # minute, with session, device, country and page, are one visitor's in the world
    got = got.loc[got.index.repeat(got["event_count"])].rename(columns={"timestamp": "minute"})
    assert len(got) == len(expected) > 0
    assert Counter(_visits(got, "user_id")) == Counter(_visits(expected, "user"))
    assert set(got["device_category"]) == {"mobile", "desktop", "tablet"}
    assert (got.groupby("user_id")[["device_category", "country"]].nunique() == 1).all().all()
    # the same visitor hashes alike here and in touchpoints
    started = got.loc[got["event_name"] == "session_start", "user_id"]
    assert set(started) == set(touch["user_id"])
    assert set(got["source"]) == {"ga4"} and set(got["property_id"]) == {account.account_id}


_EVENT_COLUMNS = ["event_name", "page_path", "device_category", "country"]
_EVENT_COLUMNS += ["session_source", "session_medium", "session_campaign"]


def _visits(frame, user):
    """Each visitor's events as one number and a count: the sum of their rows' hashes (minute,
    event, page, device, country, session), the same for the same events in any order."""
    minute = frame["minute"].dt.tz_convert("UTC") - pd.Timestamp(0, tz="UTC")
    rows = (minute // pd.Timedelta(minutes=1)).to_numpy(np.uint64)
    for column in _EVENT_COLUMNS:
        values = frame[column].to_numpy(dtype=object)
        rows = rows * np.uint64(1_000_003) ^ pd.util.hash_array(values, categorize=False)
    rows = pd.Series(rows % np.uint64(1 << 52), dtype=np.int64)  # sums that cannot overflow
    per_visitor = rows.groupby(frame[user].to_numpy()).agg(["sum", "size"])
    return list(per_visitor.itertuples(index=False, name=None))


@functools.cache
def world_events(world, client):
    """The world's site events of the client around the window, at the UTC minute GA4's local
    minute reads as (in the hour clocks go back, the first of the two), with their visitor and
    session."""
    journeys, zone = world.journeys, client.timezone
    sessions = journeys.sessions.filter(pc.equal(journeys.sessions["client"], client.slug))
    won = journeys.conversions.filter(pc.equal(journeys.conversions["client"], client.slug))
    events = site_events(sessions, won, client.profile, zone).to_pandas()
    first, last = (pd.Timestamp(day, tz="UTC") for day in (START - _DAY, END + 2 * _DAY))
    events = events[events["timestamp"].between(first, last)].reset_index(drop=True)
    columns = ["user_id", "device_category", "country", "source", "medium", "campaign_name"]
    of = sessions.select(columns).take(events["session"].to_numpy(np.int64)).to_pandas()
    local = events["timestamp"].dt.tz_convert(zone).dt.tz_localize(None).dt.floor("min")
    first = np.ones(len(local), dtype=bool)
    return pd.DataFrame(
        {
            "user": of["user_id"],
            "minute": local.dt.tz_localize(zone, ambiguous=first).dt.tz_convert("UTC"),
            "event_name": events["event_name"],
            "page_path": events["page_path"],
            "device_category": of["device_category"],
            "country": of["country"],
            "session_source": of["source"],
            "session_medium": of["medium"],
            "session_campaign": of["campaign_name"].fillna("(not set)"),
        }
    )


def test_the_chaos_was_survived_by_retrying(fetched):
    _, stats = fetched
    assert stats.requests >= len(PROPERTIES) * (1 + len(DATASETS))


async def test_a_draining_quota_slows_down_then_stops_the_sync(world):
    app = create_app(world, now=NOW)
    hour = NOW.strftime("%Y-%m-%dT%H")
    quota = sandbox.property_quota(app, PROPERTIES[1][1].account_id)
    quota.used[("tokensPerHour", hour)] = 40_000 - 1_000  # 2.5% left: below the 10% reserve
    pauses = []
    async with connect(app) as c:

        async def sleep(seconds):
            pauses.append(seconds)

        c.api._sleep = sleep
        table = await c.fetch_site_funnel(PROPERTIES[1][1].account_id, END, END)
        assert table.num_rows > 0 and c.api.stats.rate_limited == 0
        quota.used[("tokensPerHour", hour)] = 40_000
        with pytest.raises(RateLimited, match="Exhausted property tokens per hour"):
            await c.fetch_site_funnel(PROPERTIES[1][1].account_id, END, END)
    assert len(pauses) == 1 and 44 < pauses[0] < 60


async def test_a_retired_version_names_the_constant_to_bump(world, monkeypatch):
    monkeypatch.setattr(sandbox, "CURRENT_VERSIONS", {"v1"})
    async with connect(create_app(world, now=NOW)) as c:
        with pytest.raises(ApiVersionRetired, match="bump API_VERSION in generator/connectors/ga4"):
            await c.account_info(PROPERTIES[0][1].account_id)
        with pytest.raises(ApiVersionRetired, match="v1beta/properties/312456789:runReport"):
            await c.fetch_conversions(PROPERTIES[0][1].account_id, END, END)


def test_user_level_windows_do_not_overlap(world):
    """Adjacent UTC windows split the sessions between them: none lost, none twice."""

    async def run():
        async with connect(create_app(world, now=NOW)) as c:
            prop = PROPERTIES[2][1].account_id
            first = await c.fetch_touchpoints(prop, date(2026, 10, 1), date(2026, 10, 31))
            second = await c.fetch_touchpoints(prop, date(2026, 11, 1), date(2026, 11, 3))
            both = await c.fetch_touchpoints(prop, date(2026, 10, 1), date(2026, 11, 3))
        return first.num_rows, second.num_rows, both.to_pandas()

    first, second, both = asyncio.run(run())
    assert first + second == len(both)
    assert pd.Series(both["timestamp"].dt.date).between(date(2026, 10, 1), date(2026, 11, 3)).all()
