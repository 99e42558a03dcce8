"""Users' journeys across channels: the site-side truth behind GA4 and attribution.

Every day each client gets new visitors. A visitor's journey is one to eight sessions, days
apart, each arriving through a channel (the client's paid platforms, organic search, direct,
email, referral). Whether the journey converts depends on the channels in it, so attribution
models disagree in meaningful ways. Each session walks part of the client's funnel; the
converting session walks all of it. As with the ad numbers, each birth day is drawn from its
own seeded generator, so a day's visitors do not depend on where the world ends.

A visitor's device category and country are properties of the visitor, the same in every
session. They come from a hash of the visitor's id, never from the day's generator (drawing
more from it would change every other number): devices in each profile's shares, leaning to
desktop among the visitors who convert; countries by the markets the client's accounts serve.
``site_events`` spreads each session's funnel steps over the minutes after its start.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.sandbox.catalog import ClientSpec

if TYPE_CHECKING:  # pragma: no cover
    from generator.sandbox.world import World

__all__ = [
    "CHANNELS",
    "DEVICES",
    "FUNNELS",
    "PAGES",
    "Journeys",
    "simulate_journeys",
    "site_events",
]

#: channel -> (GA4 sessionSource, sessionMedium, effect on the odds of converting)
CHANNELS: dict[str, tuple[str, str, float]] = {
    "google_ads": ("google", "cpc", 0.6),
    "microsoft_ads": ("bing", "cpc", 0.5),
    "facebook": ("facebook", "paid_social", 0.2),
    "instagram": ("instagram", "paid_social", 0.1),
    "linkedin": ("linkedin", "paid_social", 0.5),
    "tiktok": ("tiktok", "paid_social", -0.1),
    "pinterest": ("pinterest", "paid_social", 0.0),
    "snapchat": ("snapchat", "paid_social", -0.1),
    "x": ("x.com", "paid_social", -0.2),
    "reddit": ("reddit", "paid_social", 0.1),
    "organic_search": ("google", "organic", 0.4),
    "direct": ("(direct)", "(none)", 0.5),
    "email": ("newsletter", "email", 0.9),
    "referral": ("partner-blog.example", "referral", 0.2),
}
#: profile -> GA4 event names of the funnel steps; the last one is the key event.
FUNNELS = {
    "ecommerce": ("session_start", "view_item", "add_to_cart", "begin_checkout", "purchase"),
    "b2b": ("session_start", "view_pricing", "start_demo_form", "generate_lead"),
    "local": ("session_start", "view_services", "start_booking", "book_appointment"),
}
#: profile -> the pages of each funnel step (a hash of the session picks one of a step's pages)
PAGES: dict[str, tuple[tuple[str, ...], ...]] = {
    "ecommerce": (
        ("/", "/collections/jackets", "/collections/base-layers", "/sale"),
        tuple(
            f"/products/{slug}"
            for slug in ("storm-shell-jacket", "down-parka", "merino-base-layer", "trail-fleece")
        ),
        ("/cart",),
        ("/checkout",),
        ("/checkout/complete",),
    ),
    "b2b": (
        ("/", "/integrations", "/blog/state-of-data-ops-2026", "/product/lineage"),
        ("/pricing",),
        ("/demo",),
        ("/demo/thanks",),
    ),
    "local": (
        ("/", "/locations/oakland", "/locations/san-jose", "/new-patients"),
        tuple(
            f"/services/{slug}"
            for slug in ("emergency-dentist", "invisalign", "cleaning-and-exam", "implants")
        ),
        ("/book",),
        ("/book/confirmed",),
    ),
}
#: profile -> GA4 device category -> (share of visitors, relative odds that a visitor converts)
DEVICES = {
    "ecommerce": {"mobile": (0.60, 0.7), "desktop": (0.34, 1.0), "tablet": (0.06, 0.85)},
    "b2b": {"desktop": (0.70, 1.0), "mobile": (0.27, 0.6), "tablet": (0.03, 0.8)},
    "local": {"mobile": (0.65, 0.85), "desktop": (0.30, 1.0), "tablet": (0.05, 0.9)},
}
#: profile -> (share of visitors from abroad, the countries they come from, as GA4 names them)
_ABROAD = {
    "ecommerce": (0.12, ("Canada", "United Kingdom", "Australia")),
    "b2b": (0.3, ("United Kingdom", "Canada", "Germany", "India", "Netherlands", "Australia")),
    "local": (0.03, ("Canada", "Mexico")),
}
#: time zone of a client or account -> the country of that market
_COUNTRIES = {
    "America/New_York": "United States",
    "America/Chicago": "United States",
    "America/Los_Angeles": "United States",
    "Europe/Berlin": "Germany",
}
_MARKET_SHARE = 0.08  # of the visitors, for each market beyond home that an account serves
#: seconds between two funnel steps of a session (a hash picks one in the range)
_STEP_GAP = (30.0, 240.0)
_STEP_RATES = {"ecommerce": (0.62, 0.3, 0.55), "b2b": (0.4, 0.25), "local": (0.55, 0.3)}
_VISITORS = {"ecommerce": 380, "b2b": 140, "local": 110}
_BASE_LOGIT = {"ecommerce": -4.1, "b2b": -4.4, "local": -3.5}
_ORGANIC = {"organic_search": 0.22, "direct": 0.16, "email": 0.07, "referral": 0.04}
#: Amazon ads sell on Amazon; GA4 is the site itself; file channels (newsletter, radio) reach
#: the site as email and direct visits, which the organic channels already model
_NO_SITE = {"amazon_ads", "ga4", "file"}


@dataclass(frozen=True)
class Journeys:
    """``sessions``: one row per visit; ``conversions``: one row per converting journey."""

    sessions: pa.Table
    conversions: pa.Table


#: Environment variable naming a folder where simulated journeys are kept between processes.
#: Simulating them takes seconds, and a test session starts many sandbox processes over one
#: world; the key is the world (seed, start, end) and the source of the modules that make it,
#: so a changed simulation never reads an old file.
CACHE_ENV = "CAMPAIGN_WORLD_CACHE"


def cached_journeys(world: World) -> Journeys:
    """``simulate_journeys(world)``, read from the ``$CAMPAIGN_WORLD_CACHE`` folder when an
    earlier process of the same code has written it there (and written there otherwise)."""
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        return simulate_journeys(world)
    stem = Path(folder) / f"journeys-{_cache_key(world)}"
    paths = {name: stem.with_name(f"{stem.name}-{name}.arrow") for name in _CACHED}
    if all(path.exists() for path in paths.values()):
        return Journeys(**{name: _read(path) for name, path in paths.items()})
    journeys = simulate_journeys(world)
    stem.parent.mkdir(parents=True, exist_ok=True)
    for name, path in paths.items():
        _write(getattr(journeys, name), path)
    return journeys


_CACHED = ("conversions", "sessions")  # sessions last: once it is there, both are


def _cache_key(world: World) -> str:
    digest = hashlib.sha256(f"{world.seed}/{world.start}/{world.end}".encode())
    for module in ("catalog.py", "world.py", "journeys.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()[:20]


def _read(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def _write(table: pa.Table, path: Path) -> None:
    """Whole or not at all, whichever process writes it first."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with pa.OSFile(str(temporary), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    temporary.replace(path)


def simulate_journeys(world: World) -> Journeys:
    sessions: list[dict] = []
    conversions: list[dict] = []
    for index, client in enumerate(world.clients):
        plan = _ChannelPlan.of(world, client)
        zone = ZoneInfo(client.timezone)
        limit = np.datetime64(_utc_midnight(world.end + timedelta(days=1), zone), "us")
        day, days = world.start, []
        while day <= world.end:
            rng = np.random.default_rng([world.seed, 7, index, day.toordinal()])
            s, c = _visitors(rng, client, plan, day, _utc_midnight(day, zone), limit)
            days.append(s)
            conversions.append(c)
            day += timedelta(days=1)
        sessions.append(_Audience.of(client).describe(days))
    return Journeys(_table(sessions, _SESSION_TYPES), _table(conversions, _CONVERSION_TYPES))


@dataclass(frozen=True)
class _ChannelPlan:
    names: list[str]
    weights: np.ndarray
    effects: np.ndarray
    campaigns: dict[str, tuple[np.ndarray, np.ndarray]]  # channel -> (id, name) rows, p

    @classmethod
    def of(cls, world: World, client: ClientSpec) -> _ChannelPlan:
        budget: dict[str, float] = {}
        campaigns: dict[str, dict[tuple[str, str], float]] = {}
        for ad in world.ads:
            if ad.client is not client or ad.account.source in _NO_SITE:
                continue
            for network in ad.account.platforms:
                budget[network] = budget.get(network, 0.0) + ad.campaign.budget
                per = campaigns.setdefault(network, {})
                per[(ad.campaign_id, ad.campaign.name)] = ad.campaign.budget
        total = sum(budget.values()) or 1.0
        paid_share = 1 - sum(_ORGANIC.values())
        weights = {n: paid_share * b / total for n, b in budget.items()} | _ORGANIC
        names = sorted(weights)
        return cls(
            names=names,
            weights=np.array([weights[n] for n in names]) / sum(weights.values()),
            effects=np.array([CHANNELS[n][2] for n in names]),
            campaigns={
                n: (_pairs(list(c)), np.array(list(c.values())) / sum(c.values()))
                for n, c in campaigns.items()
            },
        )


@dataclass(frozen=True)
class _Audience:
    """Who a client's visitors are: device shares (of those who do not and who do convert)
    and countries with their shares."""

    devices: np.ndarray
    browsing: np.ndarray
    buying: np.ndarray
    countries: np.ndarray
    shares: np.ndarray

    @classmethod
    def of(cls, client: ClientSpec) -> _Audience:
        devices = DEVICES[client.profile]
        share, odds = (np.array(column) for column in zip(*devices.values(), strict=True))
        home = _COUNTRIES.get(client.timezone, "(not set)")
        markets = {_COUNTRIES.get(a.timezone, home) for a in client.accounts} - {home}
        abroad, countries = _ABROAD[client.profile]
        weights = dict.fromkeys(sorted(markets), _MARKET_SHARE)
        rank = 1 / np.arange(1, len(countries) + 1)
        for country, weight in zip(countries, abroad * rank / rank.sum(), strict=True):
            weights[country] = weights.get(country, 0.0) + weight
        weights = {home: 1 - sum(weights.values())} | weights
        return cls(
            devices=np.array(list(devices), dtype=object),
            browsing=share,
            buying=share * odds / (share * odds).sum(),
            countries=np.array(list(weights), dtype=object),
            shares=np.array(list(weights.values())),
        )

    def describe(self, days: list[dict]) -> dict:
        """The client's sessions (``_visitors``' of each day) with each visitor's device
        category and country in place of whether they convert."""
        sessions = {k: np.concatenate([d[k] for d in days]) for k in days[0]}
        device, country = self.traits(sessions["user_id"], sessions.pop("converts"))
        return sessions | {"device_category": device, "country": country}

    def traits(self, users: np.ndarray, converts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each visitor's device category and country, from hashes of their ids."""
        key = _hashes(users)
        device_p = np.where(converts[:, None], self.buying, self.browsing).cumsum(axis=1)
        pick = (_uniform(key, _DEVICE_SALT)[:, None] >= device_p[:, :-1]).sum(axis=1)
        where = np.searchsorted(self.shares.cumsum()[:-1], _uniform(key, _COUNTRY_SALT), "right")
        return self.devices[pick], self.countries[where]


def _pairs(options: list[tuple[str, str]]) -> np.ndarray:
    """(id, name) pairs as an object array of two columns."""
    out = np.empty((len(options), 2), dtype=object)
    out[:] = options
    return out


def _visitors(rng, client: ClientSpec, plan: _ChannelPlan, day, start: datetime, limit):
    """Sessions and conversions of the visitors who first arrive on ``day`` (vectorised)."""
    weekday_factor = (1.0, 1.0, 1.0, 0.98, 0.95, 0.9, 0.92)[day.weekday()]
    count = int(rng.poisson(_VISITORS[client.profile] * weekday_factor))
    touches = np.minimum(1 + rng.poisson(1.2, count), 8)
    visitor = np.repeat(np.arange(count), touches)
    first = np.concatenate([[0], np.cumsum(touches)[:-1]]).astype(int)
    position = np.arange(len(visitor)) - np.repeat(first, touches)
    channel = _channel_path(rng, plan, position)
    seconds = np.where(
        position == 0,
        rng.uniform(0, 86_400, len(visitor)),
        rng.exponential(1.5 * 86_400, len(visitor)),
    )
    offset = np.cumsum(seconds)
    offset -= np.repeat(offset[first] - seconds[first], touches)
    stamp = np.datetime64(start, "us") + (offset * 1e6).astype("timedelta64[us]")
    touched = np.zeros((count, len(plan.names)), dtype=bool)
    touched[visitor, channel] = True
    logit = _BASE_LOGIT[client.profile] + touched @ plan.effects + 0.15 * (touches - 1)
    converts = rng.random(count) < 1 / (1 + np.exp(-logit))
    steps = _funnel_steps(rng, client.profile, len(visitor))
    last = first + touches - 1
    steps[last[converts]] = len(FUNNELS[client.profile])
    campaign_id, campaign_name = _campaigns(rng, plan, channel)
    users = _user_ids(rng, count, start)
    keep = stamp < limit
    sessions = {
        "client": np.full(int(keep.sum()), client.slug, dtype=object),
        "user_id": users[visitor][keep],
        "timestamp": stamp[keep],
        "channel": np.array(plan.names, dtype=object)[channel][keep],
        "campaign_id": campaign_id[keep],
        "campaign_name": campaign_name[keep],
        "steps": steps[keep],
        "converts": converts[visitor][keep],  # for ``_Audience.describe``
    }
    at = stamp[last] + (rng.uniform(120, 2400, count) * 1e6).astype("timedelta64[us]")
    won = converts & (at < limit)
    values = (
        rng.lognormal(np.log(84), 0.45, count) if client.profile == "ecommerce" else np.zeros(count)
    )
    conversions = {
        "client": np.full(int(won.sum()), client.slug, dtype=object),
        "user_id": users[won],
        "timestamp": at[won],
        "conversion_id": np.char.add(users[won].astype(str), "-1").astype(object),
        "event_name": np.full(int(won.sum()), FUNNELS[client.profile][-1], dtype=object),
        "value_micros": np.rint(values[won] * 100).astype(np.int64) * 10_000,
        "currency": np.full(int(won.sum()), client.currency, dtype=object),
    }
    if client.profile == "ecommerce":
        more = _repeat_purchases(rng, plan, users[won], at[won], limit, client)
        sessions = {k: np.concatenate([v, more[0][k]]) for k, v in sessions.items()}
        conversions = {k: np.concatenate([v, more[1][k]]) for k, v in conversions.items()}
    return sessions, conversions


def _repeat_purchases(rng, plan: _ChannelPlan, users, first, limit, client: ClientSpec):
    """Customers come back and buy again (a BG/NBD-like process: each has a purchase rate
    and a chance to drop out after every purchase), arriving by email, direct or search."""
    n, most = len(users), 6
    rate = rng.gamma(0.9, 1 / 110, n)  # purchases per day while alive
    dropout = rng.beta(1.2, 3.0, n)
    gaps = rng.exponential(1 / np.maximum(rate, 1e-6)[:, None], (n, most)) * 86_400
    alive = np.cumprod(rng.random((n, most)) > dropout[:, None], axis=1).astype(bool)
    when = first[:, None] + (np.cumsum(gaps, axis=1) * 1e6).astype("timedelta64[us]")
    ok = alive & (when < limit)
    who, k = np.nonzero(ok)
    at = when[who, k]
    visit = at - (rng.uniform(120, 2400, len(at)) * 1e6).astype("timedelta64[us]")
    back = np.array([plan.names.index(c) for c in ("email", "direct", "organic_search")])
    channel = back[rng.choice(3, size=len(at), p=(0.4, 0.35, 0.25))]
    count = len(at)
    sessions = {
        "client": np.full(count, client.slug, dtype=object),
        "user_id": users[who],
        "timestamp": visit,
        "channel": np.array(plan.names, dtype=object)[channel],
        "campaign_id": np.full(count, None, dtype=object),
        "campaign_name": np.array(
            [_UNPAID_CAMPAIGNS[plan.names[c]] for c in channel], dtype=object
        ),
        "steps": np.full(count, len(FUNNELS[client.profile]), dtype=np.int8),
        "converts": np.ones(count, dtype=bool),
    }
    values = rng.lognormal(np.log(84), 0.45, count)
    ids = [f"{u}-{j + 2}" for u, j in zip(users[who], k, strict=True)]
    conversions = {
        "client": np.full(count, client.slug, dtype=object),
        "user_id": users[who],
        "timestamp": at,
        "conversion_id": np.array(ids, dtype=object),
        "event_name": np.full(count, FUNNELS[client.profile][-1], dtype=object),
        "value_micros": np.rint(values * 100).astype(np.int64) * 10_000,
        "currency": np.full(count, client.currency, dtype=object),
    }
    return sessions, conversions


def _channel_path(rng, plan: _ChannelPlan, position: np.ndarray) -> np.ndarray:
    drawn = rng.choice(len(plan.names), size=len(position), p=plan.weights)
    repeat = (rng.random(len(position)) < 0.35) & (position > 0)  # people come back the same way
    fresh = np.where(~repeat, np.arange(len(position)), 0)
    return drawn[np.maximum.accumulate(fresh)] if len(position) else drawn


def _funnel_steps(rng, profile: str, sessions: int) -> np.ndarray:
    """How many funnel steps each session reached (1 = only session_start)."""
    rates = np.array(_STEP_RATES[profile])
    passed = rng.random((sessions, len(rates))) < rates
    return (1 + np.cumprod(passed, axis=1).sum(axis=1)).astype(np.int8)


def _campaigns(rng, plan: _ChannelPlan, channel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids = np.full(len(channel), None, dtype=object)
    names = np.empty(len(channel), dtype=object)
    for index, name in enumerate(plan.names):
        mask = channel == index
        if name in plan.campaigns:
            options, p = plan.campaigns[name]
            pick = rng.choice(len(options), size=int(mask.sum()), p=p)
            ids[mask] = options[:, 0][pick]
            names[mask] = options[:, 1][pick]
        else:
            names[mask] = _UNPAID_CAMPAIGNS[name]
    return ids, names


def _user_ids(rng, count: int, start: datetime) -> np.ndarray:
    """GA4-style client ids: a random number and the first visit's Unix day."""
    random = rng.integers(10**9, 10**10, count)
    first_visit = f".{int(start.timestamp())}"
    return np.char.add(random.astype(str), first_visit).astype(object)


def _utc_midnight(day, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC).replace(tzinfo=None)


_UNPAID_CAMPAIGNS = {
    "organic_search": "(organic)",
    "direct": "(direct)",
    "email": "Weekly newsletter",
    "referral": "(referral)",
}
_SESSION_TYPES = {
    "client": pa.string(),
    "user_id": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "channel": pa.string(),
    "campaign_id": pa.string(),
    "campaign_name": pa.string(),
    "steps": pa.int8(),
    "device_category": pa.string(),
    "country": pa.string(),
}
_CONVERSION_TYPES = {
    "client": pa.string(),
    "user_id": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "conversion_id": pa.string(),
    "event_name": pa.string(),
    "value_micros": pa.int64(),
    "currency": pa.string(),
}


def _table(parts: list[dict], types: dict[str, pa.DataType]) -> pa.Table:
    columns = {}
    for name, kind in types.items():
        values = np.concatenate([p[name] for p in parts]) if parts else np.array([])
        if pa.types.is_timestamp(kind):
            columns[name] = pa.array(values.astype("datetime64[us]"), pa.timestamp("us")).cast(kind)
        else:
            columns[name] = pa.array(values, kind)
    table = pa.table(columns)
    if "channel" in types:
        names = list(CHANNELS)
        index = pc.index_in(table["channel"], value_set=pa.array(names))
        for position, column in ((0, "source"), (1, "medium")):
            values = pa.array([CHANNELS[n][position] for n in names])
            table = table.append_column(column, values.take(index))
    return table


# -- events: what each session fired, when and where ------------------------------------------


def site_events(sessions: pa.Table, conversions: pa.Table, profile: str, zone: str) -> pa.Table:
    """Every event of one client's sessions and conversions, as GA4 would log them.

    A session fires its first ``steps`` funnel steps, all but the key event: session_start
    at its start, each next step ``_STEP_GAP`` seconds later (a hash of the visitor and the
    start picks each gap, the world's generators are not drawn from). The steps are squeezed
    closer when something comes sooner: the visitor's next session, the session's first key
    event, or the end of the session's day in ``zone`` (so a step's local day is its session's).
    A conversion is the key event of the visitor's latest session at or before it, fired at
    the conversion's time. Each step's page is one of ``PAGES[profile]``'s for that step.

    Returns:
        ``session`` (row of ``sessions``; null for a conversion without one), ``conversion``
        (row of ``conversions``; null for a funnel step), ``step`` (index in the funnel),
        ``timestamp`` (UTC), ``event_name`` and ``page_path``; in no particular order.
    """
    funnel, pages = FUNNELS[profile], PAGES[profile]
    start, at = _micros(sessions["timestamp"]), _micros(conversions["timestamp"])
    users = pc.dictionary_encode(sessions["user_id"].combine_chunks())  # codes, not strings
    visitor = users.indices.to_numpy()
    buyer = pc.index_in(conversions["user_id"], value_set=users.dictionary)
    buyer = pc.fill_null(buyer, -1).to_numpy(zero_copy_only=False)
    hashes = _hashes(users.dictionary.to_numpy(zero_copy_only=False))[visitor]
    key = _mix(hashes ^ _mix(start.view(np.uint64)))  # one per session
    owner = _owners(visitor, start, buyer, at)
    end = np.minimum(_next_midnight(start, zone), _next_visit(visitor, start))
    bought = owner >= 0
    np.minimum.at(end, owner[bought], at[bought])
    fired = np.minimum(sessions["steps"].to_numpy(), len(funnel) - 1).astype(np.int64)
    session, step, stamp = _step_times(start, end, key, fired, len(funnel))
    last = np.full(len(at), len(funnel) - 1)
    columns = {
        "session": np.concatenate([session, owner]),
        "conversion": np.concatenate([np.full(len(session), -1), np.arange(len(at))]),
        "step": np.concatenate([step, last]),
        "timestamp": np.concatenate([stamp, at]),
        "event_name": np.array(funnel, dtype=object)[np.concatenate([step, last])],
        "page_path": np.concatenate(
            [_pages(pages, key[session], step), _pages(pages, key[np.maximum(owner, 0)], last)]
        ),
    }
    return pa.table(
        {
            "session": pa.array(columns["session"], mask=columns["session"] < 0),
            "conversion": pa.array(columns["conversion"], mask=columns["conversion"] < 0),
            "step": pa.array(columns["step"], pa.int8()),
            "timestamp": pa.array(columns["timestamp"], pa.timestamp("us", tz="UTC")),
            "event_name": pa.array(columns["event_name"], pa.string()),
            "page_path": pa.array(columns["page_path"], pa.string()),
        }
    )


def _step_times(start, end, key, fired, steps: int) -> tuple[np.ndarray, ...]:
    """(session, step, UTC micros) of each funnel step fired: ``_STEP_GAP`` apart, squeezed
    so that the last comes before ``end`` (as far before it as one more gap would be)."""
    session = np.repeat(np.arange(len(start)), fired)
    first = np.cumsum(fired) - fired
    step = np.arange(len(session)) - np.repeat(first, fired)
    offset = np.cumsum(np.where(step > 0, _gap(key[session], step), 0.0))
    offset -= np.repeat(offset[first], fired)  # sessions fire at least session_start
    total = offset[first + fired - 1] + _gap(key, np.full(len(key), steps))
    scale = np.clip((end - start) / total, 0.0, 1.0)
    return session, step, start[session] + (offset * scale[session]).astype(np.int64)


def _owners(visitor: np.ndarray, start: np.ndarray, buyer: np.ndarray, at: np.ndarray):
    """For each conversion (its visitor's code, its time), the row of the visitor's latest
    session at or before it, or -1."""
    visits = pd.DataFrame({"user": visitor, "at": start, "session": np.arange(len(start))})
    bought = pd.DataFrame({"user": buyer, "at": at, "conversion": np.arange(len(at))})
    joined = pd.merge_asof(bought.sort_values("at"), visits.sort_values("at"), on="at", by="user")
    owner = np.full(len(at), -1)
    owner[joined["conversion"].to_numpy()] = joined["session"].fillna(-1).to_numpy(np.int64)
    return owner


def _next_visit(visitor: np.ndarray, start: np.ndarray) -> np.ndarray:
    """When each session's visitor (by code) starts their next session (int64 max if never)."""
    order = np.lexsort((start, visitor))
    following = np.full(len(start), np.iinfo(np.int64).max)
    same = visitor[order][1:] == visitor[order][:-1]
    following[order[:-1][same]] = start[order][1:][same]
    return following


def _next_midnight(start: np.ndarray, zone: str) -> np.ndarray:
    """The instant (UTC micros) each session's local day in ``zone`` ends."""
    stamps = pa.array(start, pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us", tz=zone))
    days, index = np.unique(pc.local_timestamp(stamps).cast(pa.date32()), return_inverse=True)
    ends = [_utc_midnight(day + timedelta(days=1), ZoneInfo(zone)) for day in days.tolist()]
    return np.array(ends, dtype="datetime64[us]").astype(np.int64)[index]


def _gap(key: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Microseconds between a session's step ``step - 1`` and ``step``, from its hash."""
    low, high = _STEP_GAP
    return (low + (high - low) * _uniform(key, step)) * 1e6


def _pages(pages: tuple[tuple[str, ...], ...], key: np.ndarray, step: np.ndarray) -> np.ndarray:
    out = np.empty(len(step), dtype=object)
    for index, pool in enumerate(pages):
        here = step == index
        pick = (_uniform(key[here], index + 17) * len(pool)).astype(np.int64)
        out[here] = np.array(pool, dtype=object)[pick]
    return out


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_DEVICE_SALT, _COUNTRY_SALT = 0xD5E1CE, 0xC0C0


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: well-spread 64-bit values from any uint64s (arithmetic wraps)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _uniform(key: np.ndarray, salt) -> np.ndarray:
    """Numbers in [0, 1) from hashes ``key`` and ``salt`` (an int or one per key)."""
    with np.errstate(over="ignore"):  # scalar uint64 arithmetic warns when it wraps
        salted = key + (np.asarray(salt).astype(np.uint64) + np.uint64(1)) * _GOLDEN
    return (_mix(salted) >> np.uint64(11)).astype(np.float64) / 2.0**53


def _hashes(values: np.ndarray) -> np.ndarray:
    """Stable 64-bit hashes of strings (pandas' SipHash with its fixed key)."""
    return pd.util.hash_array(np.asarray(values, dtype=object), categorize=False)


def _micros(stamps: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return stamps.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)
