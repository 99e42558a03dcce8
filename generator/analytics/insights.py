"""What changed and why, as facts a report can put into sentences.

Everything here returns plain dicts (``{"kind": ..., values}``) rather than prose: the site
decides the wording and the number formats. Facts are chosen by size of effect, so the
narrative names the few campaigns that explain most of a change, not every movement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from generator.analytics.kpis import compute

__all__ = ["compare", "drivers", "headline", "wins_and_risks"]


def compare(current: pd.DataFrame, previous: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Components and KPIs per ``by`` for both periods, with ``<name>_previous`` and
    ``<name>_change`` (relative; null where the previous value is zero or missing)."""
    now = compute(current, list(by), components=True)
    before = compute(previous, list(by), components=True) if not previous.empty else now.iloc[:0]
    merged = now.merge(before, on=list(by), how="left", suffixes=("", "_previous"))
    for column in [c for c in now.columns if c not in by]:
        prior = merged[f"{column}_previous"].astype("Float64")
        merged[f"{column}_change"] = (
            merged[column].astype("Float64") / prior.where(prior != 0)
        ) - 1
    return merged


def headline(cards: Sequence[Mapping]) -> dict:
    """The period in one fact: spend, conversions, CPA and ROAS with their changes."""
    by_key = {c["key"]: c for c in cards}
    fact = {"kind": "headline"}
    for key in ("spend", "conversions", "value", "cpa", "roas"):
        card = by_key.get(key, {})
        fact[key], fact[f"{key}_change"] = card.get("value"), card.get("change")
    return fact


def drivers(
    comparison: pd.DataFrame, label: str, metric: str = "conversions", top: int = 3
) -> list[dict]:
    """The groups that moved ``metric`` most between the periods, biggest first.

    ``comparison`` comes from ``compare``; each fact has the group's ``label``, the change
    in absolute terms and its share of the total change.
    """
    prior = comparison[f"{metric}_previous"].fillna(0)
    delta = comparison[metric] - prior
    total = float(delta.sum())
    order = delta.abs().sort_values(ascending=False).index[:top]
    facts = []
    for index in order:
        if float(delta[index]) == 0:
            continue
        facts.append(
            {
                "kind": "driver",
                "name": comparison.loc[index, label],
                "metric": metric,
                "delta": float(delta[index]),
                "now": float(comparison.loc[index, metric]),
                "share_of_change": float(delta[index]) / total if total else None,
            }
        )
    return facts


def wins_and_risks(
    cards: Sequence[Mapping],
    campaigns: pd.DataFrame,
    anomalies: pd.DataFrame,
    *,
    warnings: Sequence[str] = (),
    top: int = 3,
) -> tuple[list[dict], list[dict]]:
    """Good news and things to watch, each a short list of facts.

    Wins: KPIs on track and improving; campaigns whose CPA fell while conversions grew.
    Risks: KPIs off track or at risk; sizeable campaigns whose CPA rose by a fifth or more;
    unusual drops in the period; data that could not be refreshed.
    """
    wins, risks = [], []
    for card in cards:
        if card.get("status") == "on_track" and _improved(card):
            wins.append({"kind": "target_met", **_card(card)})
        elif card.get("status") in ("at_risk", "off_track"):
            risks.append({"kind": "target_missed", **_card(card)})
    wins += _campaign_facts(campaigns, improving=True)[:top]
    risks += _campaign_facts(campaigns, improving=False)[:top]
    for row in anomalies[anomalies["direction"] == "drop"].head(top).to_dict("records"):
        risks.append({"kind": "anomaly", **{k: row[k] for k in row if k != "direction"}})
    risks += [{"kind": "data", "message": w} for w in warnings[:top]]
    return wins, risks


def _improved(card: Mapping) -> bool:
    change, higher = card.get("change"), card.get("higher_is_better")
    return change is not None and higher is not None and (change > 0) == higher


def _card(card: Mapping) -> dict:
    return {k: card.get(k) for k in ("key", "label", "unit", "value", "target", "status", "change")}


def _campaign_facts(campaigns: pd.DataFrame, *, improving: bool) -> list[dict]:
    needed = {"cpa", "cpa_change", "conversions_change", "spend", "campaign_name"}
    if campaigns.empty or not needed <= set(campaigns.columns):
        return []
    share = campaigns["spend"] / campaigns["spend"].sum()
    cpa_change = campaigns["cpa_change"].astype("float64")
    if improving:
        mask = (cpa_change <= -0.1) & (campaigns["conversions_change"].astype("float64") > 0)
        order = cpa_change[mask].sort_values().index
    else:
        mask = (cpa_change >= 0.2) & (share >= 0.05)
        order = cpa_change[mask].sort_values(ascending=False).index
    kind = "campaign_better" if improving else "campaign_worse"
    return [
        {
            "kind": kind,
            "name": campaigns.loc[i, "campaign_name"],
            "platform": campaigns.loc[i, "platform"],
            "cpa": float(campaigns.loc[i, "cpa"]),
            "cpa_change": float(cpa_change[i]),
            "spend": float(campaigns.loc[i, "spend"]),
        }
        for i in order
    ]
