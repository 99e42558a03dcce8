"""The agency's other clients, as the demo's peer benchmarks need them.

A real agency benchmarks a client against its whole portfolio; the demo has three clients, too
few for any cohort to pass the anonymity minimums. So the world has a cast of synthetic peer
advertisers whose daily numbers go straight into the lake (they have no client.yml, no
credentials and no site). Their economics vary around each platform's typical costs and rates
(log-normal spreads, seeded per peer and platform), so cohorts have a real distribution.

The cast is shaped to show every case of the Benchmarks page: e-commerce apparel has eleven
North American peers on Google and Meta (full quartiles) but fewer on TikTok (median only)
and Pinterest (too few: falls back to e-commerce); dental has two peers, so it falls back to
health; B2B SaaS has nine on Google and LinkedIn (median, quartiles withheld).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa

from generator.schema import AD_PERFORMANCE

__all__ = ["PEERS", "Peer", "performance"]


@dataclass(frozen=True)
class Peer:
    """One synthetic advertiser: ``scale`` is its daily spend per platform, in its currency."""

    slug: str
    industry: str
    region: str | None
    currency: str
    platforms: tuple[str, ...]
    scale: float


#: platform -> (connector, CPM, CTR, conversion rate per click) around which peers vary
_TYPICAL = {
    "google_ads": ("google_ads", 260.0, 0.060, 0.070),
    "microsoft_ads": ("microsoft_ads", 140.0, 0.045, 0.060),
    "facebook": ("meta", 22.0, 0.016, 0.060),
    "instagram": ("meta", 17.0, 0.011, 0.045),
    "linkedin": ("linkedin", 55.0, 0.0045, 0.080),
    "x": ("x", 8.0, 0.009, 0.020),
    "tiktok": ("tiktok", 9.0, 0.009, 0.020),
    "pinterest": ("pinterest", 6.0, 0.006, 0.025),
    "snapchat": ("snapchat", 5.0, 0.005, 0.015),
    "amazon_ads": ("amazon_ads", 12.0, 0.004, 0.100),
    "reddit": ("reddit", 4.0, 0.004, 0.020),
}
#: industry family -> value of one conversion (an order, or a lead's agreed value)
_VALUE = {"ecommerce": 85.0, "b2b": 240.0, "local": 140.0, "health": 110.0}
_SPREAD = 0.35  # log-normal spread of each peer's CPM, CTR and CVR around the typical value

_GOOGLE_META = ("google_ads", "facebook", "instagram")


def _cast() -> tuple[Peer, ...]:
    rows: list[tuple[str, str | None, str, tuple[str, ...]]] = []
    for i in range(13):  # e-commerce apparel: eleven in North America, two in Europe
        extra = ("tiktok",) * (i < 7) + ("amazon_ads",) * (i < 4) + ("snapchat",) * (i < 2)
        extra += ("pinterest",) * (i < 3) + ("microsoft_ads",) * (i in (8, 9))
        europe = i in (3, 12)
        region, currency = ("europe", "EUR") if europe else ("north_america", "USD")
        rows.append(("ecommerce/apparel", region, currency, _GOOGLE_META + extra))
    for industry in ("ecommerce/home", "ecommerce/beauty"):
        for i in range(3):
            extra = ("pinterest", "snapchat") if i < 2 else ("tiktok",)
            rows.append((industry, "north_america", "USD", _GOOGLE_META + extra))
    for i in range(9):  # B2B software
        extra = ("microsoft_ads",) * (i < 6) + ("x",) * (i < 2) + ("reddit",) * (i in (4, 5))
        rows.append(("b2b/saas", "north_america", "USD", ("google_ads", "linkedin", *extra)))
    for i in range(4):
        extra = ("microsoft_ads",) * (i < 3) + ("x",) * (i == 0) + ("reddit",) * (i < 2)
        rows.append(("b2b/services", "north_america", "USD", ("google_ads", "linkedin", *extra)))
    for _ in range(2):  # dental: too few, so dental clients fall back to health
        rows.append(("local/dental", "us_west", "USD", (*_GOOGLE_META, "microsoft_ads")))
    for industry in ("local/physicians", "health/fitness"):
        for i in range(3):
            extra = ("microsoft_ads",) * (i < 2) + ("snapchat",) * (i < 2)
            rows.append((industry, "us_west" if i else "us_east", "USD", _GOOGLE_META + extra))
    return tuple(
        Peer(
            slug=f"peer-{n:02d}",
            industry=industry,
            region=region,
            currency=currency,
            platforms=platforms,
            scale=40.0 * float(np.exp(_draw(f"scale/{n}") * 0.5)),
        )
        for n, (industry, region, currency, platforms) in enumerate(rows, start=1)
    )


def _draw(key: str) -> float:
    """A standard normal number fixed by ``key`` (the same in every process and run)."""
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return float(np.random.default_rng(seed).standard_normal())


PEERS: tuple[Peer, ...] = _cast()


def performance(peer: Peer, start: date, end: date, *, seed: int = 7) -> pa.Table:
    """The peer's daily rows from ``start`` through ``end``, one campaign per platform, in the
    canonical ``ad_performance`` schema (the lake's contract)."""
    days = np.arange(np.datetime64(start), np.datetime64(end + timedelta(days=1)))
    columns: dict[str, list] = {name: [] for name in AD_PERFORMANCE.names}
    for platform in peer.platforms:
        block = _platform_days(peer, platform, len(days), seed)
        source = _TYPICAL[platform][0]
        account = f"{peer.slug}-{source}"
        campaign = f"{peer.slug}-{platform}"
        fixed = {
            "platform": platform,
            "source": source,
            "account_id": account,
            "account_timezone": "Europe/Berlin" if peer.currency == "EUR" else "America/New_York",
            "currency": peer.currency,
            "campaign_id": campaign,
            "ad_group_id": campaign,
            "ad_id": campaign,
            "api_version": "sandbox-peers",
            "fetched_at": datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC),
        }
        columns["date"] += days.astype("datetime64[D]").tolist()
        for name, values in block.items():
            columns[name] += values.tolist()
        for name, value in fixed.items():
            columns[name] += [value] * len(days)
    for name in AD_PERFORMANCE.names:
        if not columns[name]:
            columns[name] = [None] * len(columns["date"])
    return pa.Table.from_pydict(columns, schema=AD_PERFORMANCE)


def _platform_days(peer: Peer, platform: str, n: int, seed: int) -> dict[str, np.ndarray]:
    _, cpm, ctr, cvr = _TYPICAL[platform]
    key = f"{seed}/{peer.slug}/{platform}"
    cpm *= np.exp(_SPREAD * _draw(f"{key}/cpm"))
    ctr *= np.exp(_SPREAD * _draw(f"{key}/ctr"))
    cvr *= np.exp(_SPREAD * _draw(f"{key}/cvr"))
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
    spend = peer.scale * rng.lognormal(0.0, 0.15, n)
    impressions = rng.poisson(spend / cpm * 1000.0)
    clicks = rng.binomial(impressions, min(ctr, 0.5))
    conversions = rng.binomial(clicks, min(cvr, 1.0)).astype("float64")
    value = conversions * _VALUE[peer.industry.split("/")[0]] * rng.lognormal(0.0, 0.2, n)
    return {
        "impressions": impressions.astype("int64"),
        "clicks": clicks.astype("int64"),
        "spend_micros": np.rint(spend * 1e6).astype("int64"),
        "conversions": conversions,
        "value_micros": np.rint(value * 1e6).astype("int64"),
    }
