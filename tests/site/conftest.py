"""A small, fixed analysis to render and build from."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from generator.analytics import overview
from generator.metrics import KPIS
from generator.site.report import Report

HOSTILE = 'Summer <script>alert("xss")</script> [click](javascript:alert(1)) {{ 7*7 }}'


def rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": [date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 2)],
            "platform": ["Google Ads", "Google Ads", "Facebook"],
            "account_id": ["1", "1", "2"],
            "campaign_id": ["c1", "c1", "c2"],
            "campaign_name": ["Brand", "Brand", HOSTILE],
            "impressions": [1000, 1200, 4000],
            "clicks": [50, 60, 40],
            "spend_micros": [50_000_000, 55_000_000, 60_000_000],
            "conversions": [5.0, 6.0, 2.0],
            "value_micros": [400_000_000, 420_000_000, 100_000_000],
        }
    )


def make_report() -> Report:
    current = rows()
    cards = overview.scorecards(current, current.assign(spend_micros=current.spend_micros * 2))
    summary = {
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
        "cards": [c.as_dict() for c in cards],
        "platforms": ["Facebook", "Google Ads"],
        "campaign_count": 2,
        "definitions": [{"label": k.label, "definition": k.definition} for k in KPIS.values()],
        "freshness": [
            {
                "platform": "Google Ads",
                "account": "1",
                "synced_through": "2026-11-23",
                "last_success": "2026-11-24 06:00 UTC",
                "status": "up to date",
            }
        ],
        "warnings": ["Facebook account 2 could not be refreshed <b>today</b>."],
    }
    frames = {
        "daily": overview.daily(current),
        "platforms": overview.by_platform(current),
        "campaigns": overview.by_campaign(current),
    }
    return Report(summary, frames)


@pytest.fixture
def report() -> Report:
    return make_report()
