"""Conversion value rules from client.yml, applied before any KPI is computed.

A rule (``config.ValueRule``) gives an action type either a fixed ``value`` per conversion or
a ``multiplier`` of the revenue the platform reported (a margin), optionally only on some
``platforms`` or ``campaigns`` (matched against ``campaign_id`` or ``campaign_name``). When
several rules match a row, the most specific wins (campaigns and platforms, then campaigns,
then platforms, then neither); among equally specific rules, the first listed. Rows no rule
matches keep their reported value.

Fixed values are amounts in the reporting currency: apply the rules to rows already
converted (``analytics.currency``) and pass ``currency`` to have that checked.

With rules, a client's conversions are the actions the rules name: ``with_value_rules``
recomputes ``conversions`` and ``value_micros`` of ``ad_performance`` rows from the valued
``actions`` of those types, so a lead worth 50 and a purchase at 30% margin add up into one
conversion value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from generator.config import ValueRule
from generator.errors import ReportError

__all__ = ["ENTITY_KEYS", "apply_value_rules", "conversions_from_actions", "with_value_rules"]

#: Columns identifying an ad on a day, shared by ``ad_performance`` and ``actions``.
ENTITY_KEYS = (
    "date",
    "platform",
    "source",
    "account_id",
    "account_timezone",
    "currency",
    "campaign_id",
    "ad_group_id",
    "ad_id",
)


def apply_value_rules(
    actions: pd.DataFrame, rules: Sequence[ValueRule], *, currency: str | None = None
) -> pd.DataFrame:
    """A copy of ``actions`` with ``value_micros`` set by the matching rule of each row.

    Args:
        actions: rows with ``action_type``, ``count``, ``value_micros`` (and ``platform``,
            ``campaign_id``/``campaign_name`` when rules are scoped by them).
        rules: client.yml's ``conversion_value_rules``.
        currency: the reporting currency; rows a fixed-value rule applies to must be in it.

    Raises:
        ReportError: for a missing column, or a fixed value applied to another currency.
    """
    _require(actions, ("action_type", "count", "value_micros"))
    _check_amounts(actions)
    out = actions.copy()
    chosen = _choose(actions, rules)
    for index, rule in enumerate(rules):
        rows = chosen == index
        if not rows.any():
            continue
        if rule.value is not None:
            _check_currency(actions, rows, currency, rule)
            micros = actions["count"].to_numpy(dtype=np.float64)[rows] * rule.value * 1e6
        else:
            micros = actions["value_micros"].to_numpy(dtype=np.float64)[rows] * rule.multiplier
        out.loc[rows, "value_micros"] = np.rint(micros).astype(np.int64)
    return out


def conversions_from_actions(
    actions: pd.DataFrame,
    rules: Sequence[ValueRule],
    *,
    action_types: Sequence[str] | None = None,
    attribution_window: str | None = None,
    currency: str | None = None,
) -> pd.DataFrame:
    """Conversions and rule-valued ``value_micros`` per ad and day.

    Args:
        action_types: the actions that count as conversions; by default those the rules name.
        attribution_window: which window to count; required when the rows hold several
            (counting every window would count each conversion several times).

    Returns:
        A new frame: the ``ENTITY_KEYS`` the actions have, ``conversions``, ``value_micros``.
    """
    _require(actions, ("action_type", "count", "value_micros"))
    rows = _one_window(actions, attribution_window)
    types = list(action_types) if action_types is not None else [r.action_type for r in rules]
    rows = rows[rows["action_type"].isin(types)]
    valued = apply_value_rules(rows, rules, currency=currency)
    keys = [k for k in ENTITY_KEYS if k in valued.columns]
    summed = (
        valued.rename(columns={"count": "conversions"})
        .groupby(keys, dropna=False, sort=True)[["conversions", "value_micros"]]
        .sum()
        .reset_index()
    )
    summed["value_micros"] = summed["value_micros"].astype(np.int64)
    return summed


def with_value_rules(
    performance: pd.DataFrame,
    actions: pd.DataFrame,
    rules: Sequence[ValueRule],
    *,
    action_types: Sequence[str] | None = None,
    attribution_window: str | None = None,
    currency: str | None = None,
) -> pd.DataFrame:
    """``ad_performance`` rows whose conversions and value come from rule-valued actions.

    Without rules the rows are returned unchanged (a copy). Otherwise each row takes the
    conversions and value of its ad and day from ``conversions_from_actions`` (0 when it has
    none), and actions of an ad and day without a performance row are added as rows with no
    impressions, clicks or spend, so that no conversion is lost.
    """
    if not rules:
        return performance.copy()
    valued = conversions_from_actions(
        actions,
        rules,
        action_types=action_types,
        attribution_window=attribution_window,
        currency=currency,
    )
    keys = [k for k in ENTITY_KEYS if k in performance.columns and k in valued.columns]
    if "date" not in keys or "ad_id" not in keys:
        raise ReportError("ad_performance and actions must both have 'date' and 'ad_id' columns")
    rest = performance.drop(columns=["conversions", "value_micros"], errors="ignore")
    merged = rest.merge(valued[[*keys, "conversions", "value_micros"]], on=keys, how="outer")
    for column in ("impressions", "clicks", "spend_micros"):
        if column in merged.columns:
            merged[column] = merged[column].fillna(0).astype(np.int64)
    merged["conversions"] = merged["conversions"].fillna(0.0).astype(np.float64)
    merged["value_micros"] = merged["value_micros"].fillna(0).astype(np.int64)
    return merged[[*performance.columns, *(c for c in merged.columns if c not in performance)]]


def _choose(actions: pd.DataFrame, rules: Sequence[ValueRule]) -> np.ndarray:
    """Per row, the index of the rule that applies (-1 for none)."""
    chosen = np.full(len(actions), -1)
    # most specific first; a stable sort keeps the listed order among equals
    ranked = sorted(
        range(len(rules)),
        key=lambda i: -(2 * (rules[i].campaigns is not None) + (rules[i].platforms is not None)),
    )
    for index in ranked:
        free = (chosen == -1) & _matches(actions, rules[index])
        chosen[free] = index
    return chosen


def _matches(actions: pd.DataFrame, rule: ValueRule) -> np.ndarray:
    hit = (actions["action_type"] == rule.action_type).to_numpy(dtype=bool)
    if rule.platforms is not None:
        _require(actions, ("platform",))
        hit = hit & actions["platform"].isin(rule.platforms).to_numpy(dtype=bool)
    if rule.campaigns is not None:
        columns = [c for c in ("campaign_id", "campaign_name") if c in actions.columns]
        if not columns:
            raise ReportError("a value rule names campaigns but the rows have no campaign_id")
        named = np.zeros(len(actions), bool)
        for column in columns:
            named |= actions[column].isin(rule.campaigns).to_numpy(dtype=bool)
        hit = hit & named
    return hit


def _check_currency(actions: pd.DataFrame, rows: np.ndarray, currency, rule: ValueRule) -> None:
    if currency is None or "currency" not in actions.columns:
        return
    other = actions["currency"].to_numpy(dtype=object)[rows] != currency
    if other.any():
        found = actions["currency"].to_numpy(dtype=object)[rows][other][0]
        raise ReportError(
            f"the value rule for {rule.action_type!r} is a fixed amount in {currency}, but rows "
            f"are in {found}; convert the actions to {currency} first"
        )


def _one_window(actions: pd.DataFrame, window: str | None) -> pd.DataFrame:
    if "attribution_window" not in actions.columns:
        return actions
    if window is not None:
        return actions[actions["attribution_window"] == window]
    windows = sorted(map(str, actions["attribution_window"].dropna().unique()))
    if len(windows) > 1:
        raise ReportError(
            f"the actions hold several attribution windows ({', '.join(windows)}); "
            "choose one with attribution_window="
        )
    return actions


def _check_amounts(actions: pd.DataFrame) -> None:
    for column in ("count", "value_micros"):
        values = pd.to_numeric(actions[column], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            row = int(np.argmax(bad))
            raise ReportError(
                f"actions: {column} must be a non-negative number; row {row} has "
                f"{_shown(actions[column].iloc[row])}"
            )


def _shown(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _require(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReportError(f"the rows lack column(s) {', '.join(map(repr, missing))}")
