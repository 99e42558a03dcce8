"""Users' journeys across channels: the site-side truth behind GA4 and attribution.

Every day each client gets new visitors. A visitor's journey is one to eight sessions, days
apart, each arriving through a channel (the client's paid platforms, organic search, direct,
email, referral). Whether the journey converts depends on the channels in it, so attribution
models disagree in meaningful ways. Each session walks part of the client's funnel; the
converting session walks all of it. As with the ad numbers, each birth day is drawn from its
own seeded generator, so a day's visitors do not depend on where the world ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.sandbox.catalog import ClientSpec

if TYPE_CHECKING:  # pragma: no cover
    from generator.sandbox.world import World

__all__ = ["CHANNELS", "FUNNELS", "Journeys", "simulate_journeys"]

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


def simulate_journeys(world: World) -> Journeys:
    sessions: list[dict] = []
    conversions: list[dict] = []
    for index, client in enumerate(world.clients):
        plan = _ChannelPlan.of(world, client)
        zone = ZoneInfo(client.timezone)
        limit = np.datetime64(_utc_midnight(world.end + timedelta(days=1), zone), "us")
        day = world.start
        while day <= world.end:
            rng = np.random.default_rng([world.seed, 7, index, day.toordinal()])
            s, c = _visitors(rng, client, plan, day, _utc_midnight(day, zone), limit)
            sessions.append(s)
            conversions.append(c)
            day += timedelta(days=1)
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
