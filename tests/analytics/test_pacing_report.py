"""The Budget pacing section: which budgets hold in a period, the rows each one covers, and
the table and summary the report shows (the pacing arithmetic is tests/analytics/test_pacing)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from generator.analytics import pacing_report
from generator.config import BudgetConfig
from generator.periods import Period

NOVEMBER = Period.month_to_date("2026-11", date(2026, 11, 10))
LABELS = {"google_ads": "Google Ads", "facebook": "Facebook"}


def budgets(*configs: dict) -> list[BudgetConfig]:
    return [BudgetConfig.model_validate(c) for c in configs]


def rows() -> pd.DataFrame:
    """Ten days of November: Google Ads spends 100 a day on two campaigns (60 + 40) with 3
    conversions a day; Facebook 50 a day with 1."""
    out = []
    for offset in range(10):
        day = date(2026, 11, 1) + timedelta(days=offset)
        for platform, cid, name, spend, conv in (
            ("Google Ads", "c1", "Brand", 60, 2.0),
            ("Google Ads", "c2", "Generic", 40, 1.0),
            ("Facebook", "c3", "Prospecting", 50, 1.0),
        ):
            out.append(
                {"date": day, "platform": platform, "campaign_id": cid, "campaign_name": name,
                 "currency": "USD", "impressions": 1000, "clicks": 10,
                 "spend_micros": spend * 1_000_000, "conversions": conv, "value_micros": 0}
            )  # fmt: skip
    return pd.DataFrame(out)


def test_the_budgets_of_the_periods_month_with_their_scope_and_flight():
    found = pacing_report.scoped(
        budgets(
            {"amount": 4500},  # every month, everything
            {"amount": 3000, "platform": "google_ads"},
            {"amount": 900, "month": "2026-10"},  # another month's
            {"amount": 700, "month": "2026-11", "campaign": "Brand", "start": "2026-11-05"},
            {"amount": 500, "campaign": "c2", "label": "Generic search"},
        ),
        NOVEMBER,
        LABELS.get,
    )
    assert [(s.budget.label, s.budget.amount) for s in found] == [
        ("All platforms", 4500), ("Google Ads", 3000), ("Brand", 700), ("Generic search", 500)
    ]  # fmt: skip
    assert [s.platform for s in found] == [None, "Google Ads", None, None]
    # a month's budget runs over the whole month unless a flight says otherwise, whatever
    # part of it the report covers so far
    assert (found[0].budget.start, found[0].budget.end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert (found[2].budget.start, found[2].budget.end) == (date(2026, 11, 5), date(2026, 11, 30))
    # a budget for the month replaces the every-month one of the same scope, and only that
    replaced = pacing_report.scoped(
        budgets({"amount": 4500}, {"amount": 6000, "month": "2026-11"},
                {"amount": 3000, "platform": "google_ads"}),
        NOVEMBER,
    )  # fmt: skip
    assert [s.budget.amount for s in replaced] == [6000, 3000]
    # a span that is not a month has no budgets to pace
    span = Period.between(date(2026, 11, 1), date(2026, 11, 14))
    assert pacing_report.scoped(budgets({"amount": 1}), span) == []


def test_each_budget_covers_its_rows_and_the_table_says_its_pace():
    found = pacing_report.scoped(
        budgets(
            {"amount": 4500},
            {"amount": 3000, "platform": "google_ads"},
            {"amount": 1200, "campaign": "Brand"},  # by name
            {"amount": 1200, "campaign": "c2"},  # by id
        ),
        NOVEMBER,
        LABELS.get,
    )
    summary, frames = pacing_report.section(rows(), found, date(2026, 11, 10), 0.1)
    table = frames["pacing"]
    # 10 of 30 days at a steady rate: spent, even pace and a month's end at that rate
    # everything: 150 a day -> 1500 spent, 1500 at even pace (4500 x 10/30), 4500 projected
    # Google Ads: 100 a day -> 1000, 1000, 3000; Brand: 60 -> 600, 400, 1800 (1.5x: over)
    # Generic (c2): 40 -> 400, 400, 1200
    assert table["spent"].tolist() == pytest.approx([1500, 1000, 600, 400])
    assert table["expected"].tolist() == pytest.approx([1500, 1000, 400, 400])
    assert table["projected"].tolist() == pytest.approx([4500, 3000, 1800, 1200])
    assert table["conversions_projected"].tolist() == pytest.approx([120, 90, 60, 30])
    assert table["pace"].tolist() == ["On pace", "On pace", "Over pace", "On pace"]
    assert summary["off_pace"] == ["Brand"] and summary["as_of"] == "2026-11-10"
    assert [b["label"] for b in summary["budgets"]] == table["label"].tolist()


def test_a_budget_with_no_rows_paces_at_zero_and_no_budgets_is_no_section():
    found = pacing_report.scoped(budgets({"amount": 900, "platform": "facebook"}), NOVEMBER)
    assert found[0].platform == "facebook"  # without a label function: the config's name
    summary, frames = pacing_report.section(rows(), found, date(2026, 11, 10), 0.1)
    assert frames["pacing"]["spent"].tolist() == [0] and summary["off_pace"] == ["facebook"]
    assert pacing_report.section(rows(), [], date(2026, 11, 10), 0.1) is None
