"""The report's Budget pacing section: client.yml's budgets against what was spent.

For a month still running (the daily preview) each budget is paced: spent so far, where
even pacing would be, the projected month-end spend and conversions with an interval, and
on / under / over pace (``analytics.pacing`` has the definitions). For a finished month the
same table says what each budget came to. A budget's scope is the whole account, a platform
or a campaign (by id or by name); the rows name platforms as the report does, so the caller
passes ``platform_label`` to translate the config's ``google_ads``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from generator.analytics import pacing
from generator.analytics.kpis import summarize
from generator.config import BudgetConfig
from generator.periods import Period

__all__ = ["ScopedBudget", "scoped", "section"]

#: a pace that leaves the tolerance: what the daily run raises as an alert
OFF_PACE = ("under", "over")
_WORDS = {
    "on_pace": "On pace",
    "under": "Under pace",
    "over": "Over pace",
    "not_started": "Not started",
    "ended": "Ended",
}


@dataclass(frozen=True)
class ScopedBudget:
    """A budget of one month and the rows it covers (``platform`` as the rows name it)."""

    budget: pacing.Budget
    platform: str | None = None
    campaign: str | None = None

    def rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.platform is not None:
            frame = frame[frame["platform"] == self.platform]
        if self.campaign is not None:
            match = (frame["campaign_id"] == self.campaign) | (
                frame["campaign_name"] == self.campaign
            )
            frame = frame[match]
        return frame


def scoped(
    configs: Sequence[BudgetConfig], period: Period, platform_label: Callable[[str], str] = str
) -> list[ScopedBudget]:
    """The budgets that hold in ``period``'s month (none for a period that is not a month).

    A budget for the month replaces an every-month one of the same scope (platform and
    campaign): ``{amount: 250000, month: 2026-11}`` is November's, the rest keep theirs.
    """
    if not (period.is_month or period.is_month_to_date):
        return []
    month = Period.month(period.label)
    dated = {(c.platform, c.campaign) for c in configs if c.month == period.label}
    out = []
    for config in configs:
        if config.month not in (None, period.label):
            continue
        if config.month is None and (config.platform, config.campaign) in dated:
            continue
        platform = platform_label(config.platform) if config.platform else None
        label = config.label or config.campaign or platform or "All platforms"
        budget = pacing.Budget(
            label, config.amount, config.start or month.start, config.end or month.end
        )
        out.append(ScopedBudget(budget, platform, config.campaign))
    return out


def section(
    rows: pd.DataFrame, budgets: Sequence[ScopedBudget], as_of: date, tolerance: float
) -> tuple[dict, dict[str, pd.DataFrame]] | None:
    """(summary, {"pacing": table}) as of ``as_of``; None without budgets."""
    if not budgets:
        return None
    daily, keyed = {}, []
    for i, scope in enumerate(budgets):
        key = f"b{i}"
        mine = scope.rows(rows)
        days = summarize(mine, ["date"]) if not mine.empty else pd.DataFrame()
        if days.empty:
            days = pd.DataFrame({"date": [], "spend": [], "conversions": []})
        daily[key] = days[["date", "spend", "conversions"]]
        keyed.append((key, scope.budget))
    table = pacing.pacing(daily, keyed, as_of, tolerance=tolerance)
    table["pace"] = table["status"].map(_WORDS)
    table["share_spent"] = table["spent"] / table["amount"]
    summary = {
        "as_of": as_of.isoformat(),
        "tolerance": tolerance,
        "budgets": table.to_dict("records"),
        # a month still running is paced; a finished one says what each budget came to
        "running": bool((~table["status"].isin(["ended", "not_started"])).any()),
        "off_pace": [r["label"] for r in table.to_dict("records") if r["status"] in OFF_PACE],
    }
    return summary, {"pacing": table}
