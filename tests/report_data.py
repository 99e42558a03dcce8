"""A small, fixed client history, analysed the way the pipeline does, to render and build from.

Two platforms, three campaigns (one with a hostile name, one running an A/B pair), thirteen
weeks of days, site journeys and repeat customers: enough for every section of a report.

The Benchmarks section's tables and summary are handmade (``benchmark_section``: a hostile
publisher and title, a stale and a provisional edition, a withheld peer median, a parent
industry level), so every site built from this report has a Benchmarks page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from generator.analytics import report as assembly
from generator.config import Client
from generator.periods import Period
from generator.site.report import Report

HOSTILE = 'Summer <script>alert("xss")</script> [click](javascript:alert(1)) {{ 7*7 }}'
PERIOD = Period.month("2026-10")
START = date(2026, 7, 1)
_ADS = [  # platform, campaign id, campaign name, ad group, ad id, ad name, daily clicks, cvr
    ("Google Ads", "c1", "Brand", "g1", "a1", "Brand — A", 60, 0.08),
    ("Google Ads", "c1", "Brand", "g1", "a2", "Brand — B", 60, 0.11),
    ("Google Ads", "c2", HOSTILE, "g2", "a3", "Sale ad", 40, 0.03),
    ("Facebook", "c3", "Prospecting", "g3", "a4", "Video", 30, 0.02),
    ("Facebook", "c3", "Prospecting", "g3", "a5", "Carousel", 25, 0.025),
    ("Facebook", "c3", "Prospecting", "g3", "a6", "Story", 20, 0.02),
]


def _performance(rng) -> pd.DataFrame:
    rows = []
    for offset in range((PERIOD.end - START).days + 1):
        day = START + timedelta(days=offset)
        dip = 0.2 if day == date(2026, 10, 14) else 1.0  # one unusual day
        for platform, cid, cname, gid, aid, aname, clicks, cvr in _ADS:
            c = int(rng.poisson(clicks * (1.1 if day.weekday() < 5 else 0.8)))
            conv = int(rng.binomial(c, cvr * (dip if platform == "Google Ads" else 1)))
            rows.append(
                {
                    "date": day,
                    "platform": platform,
                    "source": platform.lower(),
                    "account_id": "acc-" + platform[0],
                    "account_timezone": "UTC",
                    "currency": "USD",
                    "campaign_id": cid,
                    "campaign_name": cname,
                    "ad_group_id": gid,
                    "ad_id": aid,
                    "ad_name": aname,
                    "impressions": c * 40,
                    "clicks": c,
                    "spend_micros": int(c * 1.25e6),
                    "conversions": float(conv),
                    "value_micros": int(conv * 80e6),
                }
            )
    return pd.DataFrame(rows)


def _creatives() -> pd.DataFrame:
    rows = []
    for index, (platform, *_, aid, aname, _c, _v) in enumerate(_ADS):
        rows.append(
            {
                "platform": platform.lower(),
                "account_id": "acc-" + platform[0],
                "creative_id": aid,
                "ad_id": aid,
                "version": "v1",
                "headline": aname,
                "body": "Free returns <b>always</b>",
                "format": "image" if index else "text",
                "landing_url": "https://example.com",
                "asset_sha256": "ab" * 32 if index == 3 else None,
                "width": 1200,
                "height": 628,
                "fetched_at": datetime(2026, 11, 1, tzinfo=UTC),
            }
        )
    return pd.DataFrame(rows)


def _site(rng) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    touches, buys = [], []
    channels = ["google_ads", "facebook", "organic_search", "email", "direct"]
    for user in range(900):
        first = datetime(2026, 7, 1, tzinfo=UTC) + timedelta(hours=int(rng.integers(0, 2900)))
        path = rng.choice(channels, size=int(rng.integers(1, 4)))
        for k, channel in enumerate(path):
            touches.append(
                {
                    "user_id": f"u{user}",
                    "timestamp": first + timedelta(days=2 * k),
                    "channel": channel,
                    "campaign_id": "c1" if channel == "google_ads" else None,
                    "interaction": "session",
                }
            )
        if rng.random() < 0.35 + 0.2 * ("email" in path):
            at = first + timedelta(days=2 * len(path), hours=1)
            usual = rng.gamma(3, 25)  # customers differ in how much they spend
            for repeat in range(1 + int(rng.poisson(0.8))):
                buys.append(
                    {
                        "user_id": f"u{user}",
                        "timestamp": at + timedelta(days=25 * repeat),
                        "value": float(rng.gamma(6, usual / 6)),
                    }
                )
    events = _site_events(np.random.default_rng(11), touches, buys)  # the others' draws stay
    conversions = pd.DataFrame(buys)
    conversions = conversions[conversions["timestamp"] < datetime(2026, 11, 1, tzinfo=UTC)]
    return pd.DataFrame(touches), conversions, events


SOURCES = {
    "google_ads": ("google", "cpc", "Brand search"),
    "facebook": ("facebook", "paid_social", "Prospecting"),
    "organic_search": ("google", "organic", "(organic)"),
    "email": ("newsletter", "email", "Weekly newsletter"),
    "direct": ("(direct)", "(none)", "(direct)"),
}


def _site_events(rng, touches: list[dict], buys: list[dict]) -> pd.DataFrame:
    """User-level GA4 events: every session starts, some view an item, fewer add to cart
    (mobile less often), and each purchase is its own event."""
    device = {t["user_id"]: ("mobile" if rng.random() < 0.6 else "desktop") for t in touches}
    rows = []
    for touch in touches:
        source, medium, campaign = SOURCES[touch["channel"]]
        common = {
            "user_id": touch["user_id"],
            "channel": touch["channel"],
            "session_source": source,
            "session_medium": medium,
            "session_campaign": campaign,
            "device_category": device[touch["user_id"]],
            "country": "US" if rng.random() < 0.8 else "CA",
            "event_count": 1,
        }
        at = touch["timestamp"]
        rows.append({**common, "timestamp": at, "event_name": "session_start", "page_path": "/"})
        if rng.random() < 0.6:
            at += timedelta(minutes=2)
            rows.append({**common, "timestamp": at, "event_name": "view_item",
                         "page_path": "/products/coat"})  # fmt: skip
            if rng.random() < (0.3 if common["device_category"] == "mobile" else 0.5):
                at += timedelta(minutes=3)
                rows.append({**common, "timestamp": at, "event_name": "add_to_cart",
                             "page_path": "/cart"})  # fmt: skip
    for buy in buys:
        mine = [t for t in touches if t["user_id"] == buy["user_id"]]
        last = max(mine, key=lambda t: t["timestamp"])
        source, medium, campaign = SOURCES[last["channel"]]
        common = {
            "user_id": buy["user_id"], "channel": last["channel"], "session_source": source,
            "session_medium": medium, "session_campaign": campaign,
            "device_category": device[buy["user_id"]], "country": "US", "event_count": 1,
        }  # fmt: skip
        for minutes, name, path in ((-9, "add_to_cart", "/cart"), (0, "purchase", "/done")):
            at = buy["timestamp"] + timedelta(minutes=minutes)
            rows.append({**common, "timestamp": at, "event_name": name, "page_path": path})
    return pd.DataFrame(rows)


def client() -> Client:
    return Client.model_validate(
        {
            "slug": "acme",
            "name": "Acme & Sons",
            "industry": "retail",
            "currency": "USD",
            "timezone": "UTC",
            "accounts": [{"platform": "google_ads", "account_id": "1"}],
            "kpi_targets": {"roas": 2.0, "cpa": {"target": 20, "tolerance": 0.1}},
            "funnels": [
                {
                    "name": "Checkout",
                    "steps": ["session_start", "view_item", "add_to_cart", "purchase"],
                }
            ],
        }
    )


EVIL = '<script>alert("bench")</script>'
_NO_PUB = {"pub_median": None}


def _bench(platform, metric, label, unit, higher, value, low, high, **extra) -> dict:
    peers = {"peer_level": "retail", "peer_level_name": "Retail", "peer_relaxed": "",
             "peer_size": "10–20 companies", "peer_suppressed": "", "peer_median": None,
             "peer_p25": None, "peer_p75": None, "peer_pct": None, "peer_standing": None,
             "peer_vs": None}  # fmt: skip
    return {"platform": platform, "platform_label": platform.replace("_ads", " Ads").title(),
            "metric": metric, "metric_label": label, "unit": unit, "higher_is_better": higher,
            "value": value, "low": low, "high": high, **peers, **extra}  # fmt: skip


def _published(source, publisher, title, edition, median, p25, p75, pct, standing, vs,
               **extra) -> dict:  # fmt: skip
    return {"pub_median": median, "pub_p25": p25, "pub_p75": p75, "pub_pct": pct,
            "pub_standing": standing, "pub_vs": vs, "pub_level": "retail",
            "pub_level_name": "Retail", "pub_source": source, "pub_publisher": publisher,
            "pub_title": title, "pub_edition": edition, "pub_grade": "B",
            "pub_provisional": False, "pub_stale": False, "pub_age_months": 20.0,
            "pub_converted": False, "pub_definition": "", "pub_statistic": "median",
            "sigma": 0.7, "sigma_source": "default", **extra}  # fmt: skip


def benchmark_section() -> tuple[dict, dict[str, pd.DataFrame]]:
    """A small Benchmarks section in the analysis' shapes (see ``benchmark_report``)."""
    wordstream = f"WordStream {EVIL}"
    rows = [
        _bench("google_ads", "ctr", "CTR", "percent", True, 0.025, 0.024, 0.026,
               **_published("ws", wordstream, f"Search {EVIL}", "2024", 0.0317, 0.02, 0.05,
                            38.0, "Middle", "worse", pub_provisional=True),
               peer_median=0.03, peer_p25=0.022, peer_p75=0.041, peer_pct=40.0,
               peer_standing="Middle", peer_vs="worse", blend_median=0.031,
               blend_p25=0.021, blend_p75=0.045),
        _bench("google_ads", "cpc", "CPC", "money", False, 1.25, 1.2, 1.3,
               **_published("ws", wordstream, "Search 2017", "2017", 2.69, 4.2, 1.7, 82.0,
                            "Top 25%", "better", pub_level="all",
                            pub_level_name="All industries", pub_stale=True,
                            pub_age_months=112.0, pub_converted=True),
               peer_level="all", peer_level_name="All industries",
               peer_relaxed="region; industry: retail → all",
               peer_size="fewer than 5 companies",
               peer_suppressed="fewer than 5 other companies"),
        _bench("google_ads", "cpm", "CPM", "money", False, 31.25, 30.0, 32.5, **_NO_PUB,
               peer_size="fewer than 5 companies",
               peer_suppressed="fewer than 5 other companies"),
        _bench("google_ads", "roas", "ROAS", "ratio", True, 3.1, 2.8, 3.4, **_NO_PUB,
               peer_median=2.5, peer_p25=1.9, peer_p75=3.4, peer_pct=70.0,
               peer_standing="Middle", peer_vs="better", peer_level="all",
               peer_level_name="All industries", peer_relaxed="region; industry: retail → all"),
        _bench("facebook", "ctr", "CTR", "percent", True, 0.011, 0.010, 0.012,
               **_published("db", "Databox", "Facebook Ads", "2025", 0.009, 0.0057, 0.0142,
                            66.0, "Middle", "in line"),
               peer_median=0.012, peer_size="5–10 companies", peer_vs="in line",
               peer_suppressed="quartiles need at least 10 companies"),
    ]  # fmt: skip
    trend = [
        {"platform": p, "platform_label": label, "metric": m, "metric_label": ml,
         "month": month, "value": v, "pub_median": med, "pub_edition": ed, "pub_source": src,
         "pub_pct": pct}
        for p, label, m, ml, med, ed, src, values in (
            ("google_ads", "Google Ads", "ctr", "CTR", 0.0317, "2024", "ws",
             [(0.027, 44.0), (0.026, 41.0), (0.025, 38.0)]),
            ("google_ads", "Google Ads", "cpc", "CPC", 2.69, "2017", "ws",
             [(1.4, 76.0), (1.3, 80.0), (1.25, 82.0)]),
            ("facebook", "Facebook", "ctr", "CTR", 0.009, "2025", "db",
             [(0.010, 60.0), (0.011, 66.0), (0.012, None)]),
        )
        for month, (v, pct) in zip(("2026-08", "2026-09", "2026-10"), values, strict=True)
    ]  # fmt: skip
    sources = [
        {"source": "ws", "publisher": wordstream, "title": f"Search {EVIL}",
         "url": "https://www.wordstream.com/blog?a=1&b=\"<x>", "edition": "2024",
         "published": "2024-05-13", "window": "Apr 2023 – Mar 2024", "grade": "B",
         "sample": "17,000 campaigns"},
        {"source": "ws", "publisher": wordstream, "title": "Search 2017",
         "url": "https://www.wordstream.com/2017", "edition": "2017",
         "published": "2017-06-01", "window": "", "grade": "B", "sample": ""},
        {"source": "db", "publisher": "Databox", "title": "Facebook Ads",
         "url": "javascript:alert(1)", "edition": "2025", "published": "2025-01-01",
         "window": "", "grade": "C", "sample": "256 accounts"},
    ]  # fmt: skip
    summary = {
        "group": {"name": f"Retail peers {EVIL}", "industry": "retail", "industry_name": "Retail",
                  "region": "north_america", "spend_band": None},
        "as_of": "2026-10-31", "window_days": 90, "currency": "USD",
        "strongest": {"platform_label": "Google Ads", "metric_label": "CPC", "standing": 82.0,
                      "value": 1.25, "unit": "money"},
        "weakest": {"platform_label": "Google Ads", "metric_label": "CTR", "standing": 38.0,
                    "value": 0.025, "unit": "percent"},
        "counts": {"Top 25%": 1, "Middle": 3, "Bottom 25%": 0}, "rated": 4,
        "provisional": True, "stale": [f"{wordstream} 2017"], "suppressed": 2,
        "levels": ["all", "retail"],
    }  # fmt: skip
    frames = {
        "benchmarks": pd.DataFrame(rows),
        "benchmark_trend": pd.DataFrame(trend),
        "benchmark_sources": pd.DataFrame(sources),
    }
    return summary, frames


def make_report() -> Report:
    rng = np.random.default_rng(5)
    touches, conversions, events = _site(rng)
    inputs = assembly.Inputs(
        performance=_performance(rng),
        creatives=_creatives(),
        touchpoints=touches,
        site_conversions=conversions,
        site_events=events,
    )
    summary, frames = assembly.assemble(inputs, client(), PERIOD)
    frames["freshness"] = pd.DataFrame(
        [
            {
                "account": "Google Ads 1",
                "first": date(2026, 5, 1),
                "last": date(2026, 11, 23),
                "status": "up to date",
            }
        ]
    )
    summary.update(
        {
            "client": {"slug": "acme", "name": "Acme & Sons", "industry": "retail"},
            "agency": {"name": "Lighthouse Digital"},
            "currency": "USD",
            "period": {
                "label": "2026-10",
                "title": "October 2026",
                "start": "2026-10-01",
                "end": "2026-10-31",
            },
            "previous": {
                "label": "2026-09",
                "title": "September 2026",
                "start": "2026-09-01",
                "end": "2026-09-30",
            },
            "generated_at": "2026-11-24 12:00 UTC",
            "freshness": [
                {
                    "platform": "Google Ads",
                    "account": "1",
                    "synced_through": "2026-11-23",
                    "last_success": "2026-11-24 06:00 UTC",
                    "status": "up to date",
                }
            ],
            "warnings": ["Facebook account acc-F could not be refreshed <b>today</b>."],
        }
    )
    summary["benchmarks"], tables = benchmark_section()
    summary["sections"] = [*summary["sections"], "benchmarks"]
    return Report(summary, {**frames, **tables})
