"""A seeded synthetic world: the truth every sandbox platform reports from.

``World(seed, end)`` expands the catalog into ad groups and ads, then draws daily numbers per
ad (and per network, for Meta's Facebook/Instagram split) from ``WORLD_START`` to ``end``:
weekly and annual seasonality, trends, budget changes, anomaly episodes, creative fatigue and
one A/B pair per client. Each day's numbers come from a generator seeded by (seed, day), so a
day's truth is the same whatever ``end`` is: a sandbox started tomorrow agrees with today's
about every day both know. Numbers are integers in the account currency's micros, exactly as
connectors must store them (whole cents, as platforms that report major-unit strings show
them), so tests compare totals exactly.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, cached_property
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa

from generator.sandbox.catalog import CLIENTS, AccountSpec, CampaignSpec, ClientSpec
from generator.sandbox.journeys import Journeys, cached_journeys

__all__ = ["COPY_EDIT_SHARE", "COPY_PERIOD_DAYS", "MATURITY", "WORLD_START", "Ad", "World"]

WORLD_START = date(2025, 7, 1)
#: About this share of search ads (A/B variants excepted) get new copy every
#: ``COPY_PERIOD_DAYS`` days, counted from ``WORLD_START``: new creative versions to track.
COPY_EDIT_SHARE = 0.3
COPY_PERIOD_DAYS = 28
#: Share of a day's conversions the platforms have reported when the day is 0, 1, 2, ...
#: days old; from 14 days on a day is final. Late conversions are why syncs re-read.
MATURITY = (
    0.55,
    0.72,
    0.83,
    0.89,
    0.92,
    0.94,
    0.955,
    0.965,
    0.975,
    0.982,
    0.988,
    0.993,
    0.996,
    0.998,
)
_MATURING = ("click_conversions", "view_conversions", "secondary_actions")

_WEEKLY = {  # Monday .. Sunday
    "ecommerce": (0.95, 0.93, 0.95, 1.0, 1.04, 1.1, 1.13),
    "b2b": (1.18, 1.2, 1.18, 1.12, 0.95, 0.45, 0.42),
    "local": (1.12, 1.06, 1.04, 1.02, 0.98, 0.92, 0.7),
}
_CTA = {"ecommerce": "SHOP_NOW", "b2b": "LEARN_MORE", "local": "BOOK_NOW"}
_OFFERS = (10, 15, 20, 25, 30)  # percent off, in rewritten copy
#: a search ad's second display path by its ad group's place in the campaign, per profile
_PATH2 = {"ecommerce": ("Sale", "New"), "b2b": ("Demo", "Pricing"), "local": ("Book", "Offers")}
_DOMAINS = {
    "northwind": "https://northwindoutfitters.com",
    "brightline": "https://brightline.dev",
    "harbor": "https://harbordental.com",
}


@dataclass(frozen=True)
class Ad:
    """One ad with its place in the hierarchy and its creative."""

    client: ClientSpec
    account: AccountSpec
    campaign: CampaignSpec
    campaign_id: str
    ad_group_id: str
    ad_group_name: str
    ad_id: str
    name: str
    creative_id: str
    headline: str
    body: str
    call_to_action: str
    landing_url: str
    created_day: int
    ctr_factor: float
    cvr_factor: float
    variant: str | None = None

    @property
    def rewrites_copy(self) -> bool:
        """Whether the advertiser rewrites this ad's copy every ``COPY_PERIOD_DAYS`` (decided
        by hashing the ad id; search ads only, and never an A/B variant under test)."""
        if self.campaign.objective != "search" or self.variant is not None:
            return False
        return _unit(f"{self.ad_id}/copy") < COPY_EDIT_SHARE

    def copy_on(self, day: date) -> tuple[str, str]:
        """The (headline, body) the ad shows on ``day``.

        ``headline`` and ``body`` for most ads. An ad that ``rewrites_copy`` changes at the
        start of every period of ``COPY_PERIOD_DAYS``: odd periods keep the headline and add
        an offer to the body ("— now 25% off"), even ones move on to the next copy in the
        client's list; so every period differs from the one before it.
        """
        period = max((day - WORLD_START).days, 0) // COPY_PERIOD_DAYS
        if period == 0 or not self.rewrites_copy:
            return self.headline, self.body
        copies = self.client.copy
        own = copies.index((self.headline, self.body))
        headline, body = copies[(own + period // 2) % len(copies)]
        if period % 2:
            offer = _OFFERS[int(_unit(f"{self.ad_id}/offer/{period}") * len(_OFFERS))]
            body = f"{body} — now {offer}% off"
        return headline, body

    @property
    def display_paths(self) -> tuple[str, ...]:
        """A search ad's display URL paths (path1, path2), e.g. ("Jackets", "Sale"): the last
        word of the campaign's subject and a word for its ad group; () for other ads."""
        if self.campaign.objective != "search":
            return ()
        subject = re.sub(r"\(.*?\)", "", self.campaign.name.split("—")[-1]).split()
        words = _PATH2[self.client.profile]
        group = self.campaign.ad_groups.index(self.ad_group_name)
        return subject[-1].capitalize()[:15], words[group % len(words)]

    @property
    def display_url(self) -> str | None:
        """What a search ad shows under its headline: the landing page's host without "www."
        and the display paths (``northwindoutfitters.com/Jackets/Sale``); None for others."""
        if not self.display_paths:
            return None
        host = (urlsplit(self.landing_url).hostname or "").removeprefix("www.")
        return "/".join((host, *self.display_paths))


class World:
    """The demo world from ``WORLD_START`` through ``end`` (inclusive)."""

    def __init__(self, seed: int = 7, end: date | None = None) -> None:
        self.seed = seed
        self.start = WORLD_START
        self.end = end or date.today() - timedelta(days=1)
        if self.end < WORLD_START:
            raise ValueError(f"the world starts on {WORLD_START}; end {self.end} is before it")
        self.clients = CLIENTS
        self.ads: tuple[Ad, ...] = tuple(
            ad for client in CLIENTS for account in client.accounts for ad in _ads(client, account)
        )

    @property
    def accounts(self) -> list[tuple[ClientSpec, AccountSpec]]:
        return [(c, a) for c in self.clients for a in c.accounts]

    def account(self, source: str, account_id: str) -> tuple[ClientSpec, AccountSpec] | None:
        """The client and account with this id on this connector, if it exists."""
        for client, account in self.accounts:
            if account.source == source and account.account_id == account_id:
                return client, account
        return None

    def ads_of(self, source: str, account_id: str) -> list[Ad]:
        return [
            a for a in self.ads if a.account.source == source and a.account.account_id == account_id
        ]

    def ad(self, ad_id: str) -> Ad:
        return self._ads_by_id[ad_id]

    def ad_by_creative(self, creative_id: str) -> Ad | None:
        return self._ads_by_creative.get(creative_id)

    @cached_property
    def _ads_by_creative(self) -> dict[str, Ad]:
        return {a.creative_id: a for a in self.ads}

    @cached_property
    def _ads_by_id(self) -> dict[str, Ad]:
        return {a.ad_id: a for a in self.ads}

    @cached_property
    def journeys(self) -> Journeys:
        """Visitors' sessions and conversions on each client's site (see ``journeys``)."""
        return cached_journeys(self)

    def reported(self, as_of: date) -> pa.Table:
        """``performance`` as the platforms report it on ``as_of``: the last 14 days' conversions
        (and their value) are still coming in, so re-reading them later gives more."""
        if as_of not in self._reported:
            self._reported[as_of] = _mature(self.performance, as_of)
        return self._reported[as_of]

    @cached_property
    def _reported(self) -> dict[date, pa.Table]:
        return {}

    @cached_property
    def performance(self) -> pa.Table:
        """Daily truth per ad and network: date, source, platform, account_id, campaign_id,
        ad_group_id, ad_id, impressions, clicks, spend_micros, click_conversions,
        view_conversions, conversions, value_micros, secondary_actions (rows with impressions
        only)."""
        return _simulate(self)


def _digits(key: str, n: int) -> str:
    value = int(hashlib.sha256(key.encode()).hexdigest(), 16) % (9 * 10 ** (n - 1))
    return str(10 ** (n - 1) + value)


def _unit(key: str) -> float:
    """A deterministic uniform number in [0, 1) from a key."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:13], 16) / 16**13


def _ads(client: ClientSpec, account: AccountSpec) -> list[Ad]:
    out = []
    for c_index, campaign in enumerate(account.campaigns):
        campaign_id = _digits(f"{account.account_id}/c{c_index}", 11)
        for g_index, group in enumerate(campaign.ad_groups):
            group_id = _digits(f"{campaign_id}/g{g_index}", 12)
            ab = campaign.ab_test and g_index == 0
            variants = ("A", "B") if ab else (None, None, None)
            for a_index, variant in enumerate(variants):
                key = f"{group_id}/a{a_index}"
                headline, body = client.copy[(c_index + g_index + a_index) % len(client.copy)]
                created = campaign.start_day + (0 if ab else a_index * int(45 + 90 * _unit(key)))
                out.append(
                    Ad(
                        client=client,
                        account=account,
                        campaign=campaign,
                        campaign_id=campaign_id,
                        ad_group_id=group_id,
                        ad_group_name=group,
                        ad_id=_digits(key, 12),
                        name=f"{headline[:40]} — {variant or a_index + 1}",
                        creative_id=_digits(key + "/creative", 12),
                        headline=headline,
                        body=body,
                        call_to_action=_CTA[client.profile],
                        landing_url=f"{_DOMAINS[client.slug]}/lp/{c_index}-{g_index}?ad={a_index}",
                        created_day=created,
                        ctr_factor=1.0 if ab else float(np.exp(0.25 * (_unit(key + "ctr") - 0.5))),
                        cvr_factor=(1.25 if variant == "B" else 1.0)
                        if ab
                        else float(np.exp(0.3 * (_unit(key + "cvr") - 0.5))),
                        variant=variant,
                    )
                )
    return out


@dataclass(frozen=True)
class _Slots:
    """Static per-(ad, network) arrays the daily simulation runs over."""

    ads: list[Ad]
    networks: list[str]
    share: np.ndarray  # of the campaign budget
    cpm: np.ndarray
    ctr: np.ndarray
    cvr: np.ndarray
    view_cvr: np.ndarray
    aov: np.ndarray
    created: np.ndarray
    budget_steps: list[tuple[tuple[int, float], ...]]
    budget: np.ndarray
    growth: np.ndarray
    weekly: np.ndarray  # (slots, 7)
    profile: list[str]
    campaign_key: np.ndarray
    campaign_index: np.ndarray
    networks_per_ad: np.ndarray
    secondary_rate: np.ndarray


def _slots(world: World) -> _Slots:
    rows = []
    for ad in world.ads:
        networks = ad.account.platforms
        for n_index, network in enumerate(networks):
            fb_share = 0.55 + 0.2 * _unit(ad.campaign_id + "fb")
            share = 1.0 if len(networks) == 1 else (fb_share if n_index == 0 else 1 - fb_share)
            rows.append((ad, network, share))
    ads = [r[0] for r in rows]
    camp = [a.campaign for a in ads]
    secondary = {"ecommerce": 3.5, "b2b": 0.6, "local": 0.8}
    return _Slots(
        ads=ads,
        networks=[r[1] for r in rows],
        share=np.array([r[2] for r in rows]),
        cpm=np.array([c.cpm for c in camp]),
        ctr=np.array([c.ctr * a.ctr_factor for c, a in zip(camp, ads, strict=True)]),
        cvr=np.array([c.cvr * a.cvr_factor for c, a in zip(camp, ads, strict=True)]),
        view_cvr=np.array([c.view_cvr for c in camp]),
        aov=np.array([c.aov for c in camp]),
        created=np.array([a.created_day for a in ads]),
        budget_steps=[c.budget_steps for c in camp],
        budget=np.array([c.budget for c in camp]),
        growth=np.array([c.growth for c in camp]),
        weekly=np.array([_WEEKLY[a.client.profile] for a in ads]),
        profile=[a.client.profile for a in ads],
        campaign_key=np.array([a.campaign_id for a in ads]),
        campaign_index=np.unique([a.campaign_id for a in ads], return_inverse=True)[1],
        networks_per_ad=np.array([len(a.account.platforms) for a in ads]),
        secondary_rate=np.array([secondary[a.client.profile] for a in ads]),
    )


def _annual(profile: str, day: date) -> float:
    doy = day.timetuple().tm_yday

    def bump(center: float, width: float) -> float:
        distance = min(abs(doy - center), 365 - abs(doy - center))
        return float(np.exp(-((distance / width) ** 2)))

    if profile == "ecommerce":
        return 1 + 0.45 * bump(330, 12) + 0.1 * bump(190, 25)
    if profile == "b2b":
        return 1 - 0.2 * bump(225, 15) - 0.35 * bump(358, 8)
    return 1 + 0.15 * bump(20, 15) - 0.1 * bump(356, 6)


def _episodes(slots: _Slots, seed: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Anomaly multipliers (delivery, conversion tracking) for day ``index``.

    Each campaign-week has a small chance of a two-day episode: a spike, a delivery drop or
    a conversion-tracking outage. Decided by hashing, so any day can be computed alone.
    """
    delivery, tracking = np.ones(len(slots.ads)), np.ones(len(slots.ads))
    week = index // 7
    for campaign in set(slots.campaign_key.tolist()):
        for w in (week, week - 1):
            episode = _episode(seed, campaign, w)
            if episode is None:
                continue
            first, kind = episode
            if not first <= index <= first + 1:
                continue
            mask = slots.campaign_key == campaign
            if kind == 0:
                delivery[mask] *= 2.6
            elif kind == 1:
                delivery[mask] *= 0.15
            else:
                tracking[mask] *= 0.05
    return delivery, tracking


@cache
def _episode(seed: int, campaign: str, week: int) -> tuple[int, int] | None:
    """The (first day, kind) of the campaign's episode in ``week``, if it has one."""
    key = f"{seed}/{campaign}/{week}"
    if _unit(key) >= 0.015:
        return None
    return week * 7 + int(_unit(key + "day") * 7), int(_unit(key + "kind") * 3)


def _simulate(world: World) -> pa.Table:
    slots = _slots(world)
    n = len(slots.ads)
    chunks = []
    for index in range((world.end - WORLD_START).days + 1):
        day = WORLD_START + timedelta(days=index)
        rng = np.random.default_rng([world.seed, day.toordinal()])
        z = rng.standard_normal((4, n))
        active = slots.created <= index
        # per distinct budget plan and profile, then spread over the slots (same numbers)
        plans = {s: math.prod(f for d, f in s if index >= d) for s in set(slots.budget_steps)}
        steps = np.array([plans[s] for s in slots.budget_steps])
        seasons = {p: _annual(p, day) for p in set(slots.profile)}
        annual = np.array([seasons[p] for p in slots.profile])
        delivery, tracking = _episodes(slots, world.seed, index)
        weekly = slots.weekly[:, day.weekday()]
        budget = slots.budget * slots.growth ** (index / 30) * steps * weekly * annual
        share = _active_share(slots, active)
        cpm = slots.cpm * (1 + 0.5 * (annual - 1)) * np.exp(0.05 * z[0])
        spend_target = budget * share * delivery
        impressions = np.floor(spend_target / cpm * 1000 * np.exp(0.08 * z[1])).astype(np.int64)
        impressions[~active] = 0
        # whole cents, in micros, as platforms that report major units show them
        spend = np.rint(impressions * cpm / 10).astype(np.int64) * 10_000
        fatigue = 0.55 + 0.45 * np.exp(-np.maximum(index - slots.created, 0) / 100)
        clicks = rng.binomial(impressions, np.clip(slots.ctr * fatigue, 0, 0.9))
        cvr = np.clip(slots.cvr * tracking, 0, 0.95)
        click_conv = rng.binomial(clicks, cvr)
        view_conv = rng.binomial(impressions, slots.view_cvr * tracking)
        conversions = click_conv + view_conv
        noise = np.exp(0.3 * z[2] / np.sqrt(np.maximum(conversions, 1)))
        value = np.rint(conversions * slots.aov * noise * 100).astype(np.int64) * 10_000
        secondary = rng.binomial(clicks, np.clip(cvr * slots.secondary_rate, 0, 0.95))
        keep = impressions > 0
        chunks.append(
            (
                day,
                keep,
                impressions,
                clicks,
                spend,
                click_conv,
                view_conv,
                conversions,
                value,
                secondary,
            )
        )
    return _to_table(slots, chunks)


def _active_share(slots: _Slots, active: np.ndarray) -> np.ndarray:
    """Split each campaign's budget evenly over its active ads, then by network share."""
    ads_active = np.bincount(slots.campaign_index, weights=active / slots.networks_per_ad)
    per_campaign = ads_active[slots.campaign_index]
    return np.where(active & (per_campaign > 0), slots.share / np.maximum(per_campaign, 1), 0.0)


def _to_table(slots: _Slots, chunks: list) -> pa.Table:
    columns: dict[str, list] = {
        k: []
        for k in (
            "date",
            "slot",
            "impressions",
            "clicks",
            "spend_micros",
            "click_conversions",
            "view_conversions",
            "conversions",
            "value_micros",
            "secondary_actions",
        )
    }
    for day, keep, *metrics in chunks:
        idx = np.flatnonzero(keep)
        columns["date"].append(np.full(len(idx), np.datetime64(day, "D")))
        columns["slot"].append(idx)
        for name, values in zip(list(columns)[2:], metrics, strict=True):
            columns[name].append(values[idx])
    slot = np.concatenate(columns.pop("slot"))
    ads = slots.ads
    table = {
        "date": pa.array(np.concatenate(columns.pop("date")), pa.date32()),
        "source": [ads[i].account.source for i in slot],
        "platform": [slots.networks[i] for i in slot],
        "account_id": [ads[i].account.account_id for i in slot],
        "campaign_id": [ads[i].campaign_id for i in slot],
        "ad_group_id": [ads[i].ad_group_id for i in slot],
        "ad_id": [ads[i].ad_id for i in slot],
    }
    for name, parts in columns.items():
        table[name] = pa.array(np.concatenate(parts).astype(np.int64))
    return pa.table(table)


def _mature(final: pa.Table, as_of: date) -> pa.Table:
    days = final["date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    age = (np.datetime64(as_of, "D") - days).astype(np.int64)
    young = np.flatnonzero(age < len(MATURITY))
    share = np.array(MATURITY)[np.clip(age[young], 0, None)]
    keys = [
        f"{d}/{a}/{p}"
        for d, a, p in zip(
            days[young],
            final["ad_id"].take(young).to_pylist(),
            final["platform"].take(young).to_pylist(),
            strict=True,
        )
    ]
    out = final
    for column in _MATURING:
        values = final[column].to_numpy().copy()
        # a fixed per-row offset makes the rounding unbiased and keeps restatements monotone
        offset = np.array([_unit(f"{k}/{column}") for k in keys])
        values[young] = np.floor(values[young] * share + offset).astype(np.int64)
        out = out.set_column(out.schema.get_field_index(column), column, pa.array(values))
    conversions = out["click_conversions"].to_numpy() + out["view_conversions"].to_numpy()
    before = final["conversions"].to_numpy()
    value = final["value_micros"].to_numpy()
    cents = value // 10_000 * conversions // np.maximum(before, 1)  # stays in whole cents
    value = np.where(before > 0, cents * 10_000, value)
    out = out.set_column(
        out.schema.get_field_index("conversions"), "conversions", pa.array(conversions)
    )
    return out.set_column(
        out.schema.get_field_index("value_micros"), "value_micros", pa.array(value)
    )
