"""The executive overview of one period: scorecards, daily series, platform and campaign tables.

Input frames are canonical ``ad_performance`` rows already in the reporting currency, with
``platform`` holding display labels. Everything here is derived from summed components.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import pandas as pd

from generator.analytics.kpis import compute, summarize
from generator.analytics.targets import status
from generator.config import CustomKpi, KpiTarget
from generator.metrics import KPIS

__all__ = ["Card", "by_campaign", "by_platform", "daily", "scorecards"]

_HEADLINE = ("spend", "conversions", "value", "roas", "cpa", "ctr", "cpc", "cvr")
_COMPONENT_META = {  # label, unit, higher_is_better (None: neither)
    "spend": ("Spend", "currency", None),
    "impressions": ("Impressions", "number", True),
    "clicks": ("Clicks", "number", True),
    "conversions": ("Conversions", "number", True),
    "value": ("Conversion value", "currency", True),
}


@dataclass(frozen=True)
class Card:
    """One scorecard: a number, its change against the previous period and its target."""

    key: str
    label: str
    unit: str
    value: float | None
    previous: float | None
    change: float | None
    higher_is_better: bool | None
    target: float | None = None
    status: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def scorecards(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    *,
    targets: Mapping[str, KpiTarget] | None = None,
    custom: Mapping[str, CustomKpi] | None = None,
    keys: tuple[str, ...] = _HEADLINE,
) -> list[Card]:
    """Headline numbers for the period against the previous one, with target status."""
    targets, custom = dict(targets or {}), dict(custom or {})
    formulas = {name: c.formula for name, c in custom.items()}
    keys = keys + tuple(k for k in custom if k not in keys)
    now = _totals(current, formulas)
    before = _totals(previous, formulas)
    cards = []
    for key in keys:
        label, unit, higher = _describe(key, custom)
        value, prior = now.get(key), before.get(key)
        change = None if value is None or not prior else value / prior - 1
        target = targets.get(key)
        cards.append(
            Card(
                key,
                label,
                unit,
                value,
                prior,
                change,
                higher,
                target.target if target else None,
                status(value, target, bool(higher)) if target else None,
            )
        )
    return cards


def daily(frame: pd.DataFrame) -> pd.DataFrame:
    """Components per day and platform."""
    return summarize(frame, ["date", "platform"])


def by_platform(frame: pd.DataFrame) -> pd.DataFrame:
    """Components and KPIs per platform, biggest spender first."""
    out = compute(frame, ["platform"], components=True)
    return out.sort_values("spend", ascending=False, ignore_index=True)


def by_campaign(frame: pd.DataFrame) -> pd.DataFrame:
    """Components and KPIs per campaign (with its platform and account), by spend."""
    keys = ["platform", "account_id", "campaign_id"]
    out = compute(frame, keys, components=True)
    names = frame.groupby(keys, dropna=False)["campaign_name"].last().reset_index()
    out = out.merge(names, on=keys, how="left")
    return out.sort_values("spend", ascending=False, ignore_index=True)


def _totals(frame: pd.DataFrame, formulas: Mapping[str, str]) -> dict[str, float | None]:
    if frame.empty:
        return {}
    row = compute(frame, custom=formulas, components=True).iloc[0]
    return {k: (None if pd.isna(v) else float(v)) for k, v in row.items()}


def _describe(key: str, custom: Mapping[str, CustomKpi]) -> tuple[str, str, bool | None]:
    if key in _COMPONENT_META:
        return _COMPONENT_META[key]
    if key in KPIS:
        k = KPIS[key]
        return k.label, k.unit, k.higher_is_better
    c = custom[key]
    return c.label or key.replace("_", " ").capitalize(), c.unit, c.higher_is_better
