"""The Funnels section of a report: every funnel of client.yml counted per user.

For each funnel: the ordered funnel of the period (``analytics.funnels``: users, conversion,
drop-offs, times between steps), the same funnel split by each breakdown of client.yml (a
property of the event that started the user's attempt), its health (overall conversion, the
biggest drop, the change against the previous period with a two-proportion z-test, ranked
opportunities), weekly entry cohorts over the last ``COHORT_WEEKS`` weeks and this period
against the previous one. For the client: the channel paths that end in a conversion and
which channel follows which (``analytics.channel_paths``).

A period's funnel reads the events of that period only: a user enters with a step-1 event
in it, and later steps count when they happen within the window and before the period ends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pandas as pd

from generator.analytics import channel_paths, funnel_health, funnels
from generator.config import FUNNEL_BREAKDOWNS, Client, Funnel
from generator.periods import Period

__all__ = ["BREAKDOWN_LABELS", "COHORT_WEEKS", "funnel_slug", "section"]

#: Weeks of entry cohorts on a funnel page (and of site events the analysis reads).
COHORT_WEEKS = 13
#: breakdown name in client.yml -> what the page calls it
BREAKDOWN_LABELS = {
    "channel": "Channel",
    "source_medium": "Source / medium",
    "campaign": "Campaign",
    "device": "Device",
    "country": "Country",
}
#: Segments shown per breakdown; the smaller ones are summed into "(other)".
MAX_SEGMENTS = 8
OTHER = "(other)"
_TIMES = ("median_from_previous", "p90_from_previous", "median_from_start", "p90_from_start")


def funnel_slug(name: str) -> str:
    """A page name for a funnel: from a hash of its name, never from the text itself."""
    return "f-" + hashlib.sha256(name.encode()).hexdigest()[:10]


def section(
    events: pd.DataFrame,
    touchpoints: pd.DataFrame,
    conversions: pd.DataFrame,
    client: Client,
    period: Period,
    label: Callable[[str], str] = str,
) -> tuple[dict, dict[str, pd.DataFrame]] | None:
    """The summary and tables of the Funnels section, or None without funnels or events.

    ``label`` names a touchpoint's channel on the page (the site events come named)."""
    if events.empty or not client.funnels:
        return None
    events = _prepared(events)
    current = _within(events, period)
    if current.empty:
        return None
    previous = _within(events, period.previous())
    history = _within(
        events,
        Period.between(period.end - timedelta(weeks=COHORT_WEEKS) + timedelta(1), period.end),
    )
    summaries, frames = [], {}
    for spec in client.funnels:
        summary, tables = _one(spec, current, previous, history)
        summaries.append(summary)
        frames.update({f"{summary['slug']}_{name}": table for name, table in tables.items()})
    frames.update(_journeys(touchpoints, conversions, period, label))
    return {"funnels": summaries, "has_journeys": "funnel_paths" in frames}, frames


def _one(spec: Funnel, current, previous, history) -> tuple[dict, dict[str, pd.DataFrame]]:
    steps = [s.as_spec() for s in spec.steps]
    options = {
        "window": timedelta(days=spec.window_days),
        "order": spec.order,
        "exclusions": [e.as_spec() for e in spec.exclusions],
    }
    now = funnels.compute(current, steps, **options)
    before = funnels.compute(previous, steps, **options) if not previous.empty else None
    segments = {
        name: _top(funnels.compute(current, steps, by=FUNNEL_BREAKDOWNS[name], **options))
        for name in spec.breakdowns
    }
    health = funnel_health.health(now, before)
    opportunities = []
    for name, split in segments.items():
        found = funnel_health.health(now, None, segments=split, breakdown=name)["opportunities"]
        opportunities += [
            o | {"breakdown": BREAKDOWN_LABELS[name]}
            for o in found
            if OTHER not in (o["segment"], o["benchmark_segment"])  # a mix, not a segment
        ]
    health["opportunities"] = sorted(opportunities, key=lambda o: -o["extra_completions"])[:3]
    reached = funnels.reached(history, steps, **options) if not history.empty else None
    tables = {
        "steps": _hours(now),
        "explorer": _explorer(segments),
        "ranking": pd.concat(
            [
                funnel_health.segment_ranking(split).assign(breakdown=BREAKDOWN_LABELS[name])
                for name, split in segments.items()
            ],
            ignore_index=True,
        ),
    }
    if before is not None:
        tables["compare"] = _verdicts(funnel_health.compare(now, before))
    if reached is not None and not reached.empty:
        tables["cohorts"] = funnel_health.weekly_cohorts(reached, now["step"].tolist())
    summary = {
        "slug": funnel_slug(spec.name),
        "name": spec.name,
        "steps": now["step"].tolist(),
        "window_days": spec.window_days,
        "order": spec.order,
        "exclusions": [e.label or e.event for e in spec.exclusions],
        "breakdowns": [{"name": n, "label": BREAKDOWN_LABELS[n]} for n in spec.breakdowns],
        "entered": int(now["users"].iloc[0]),
        "completed": int(now["users"].iloc[-1]),
        "health": health,
        "has_compare": "compare" in tables,
        "has_cohorts": "cohorts" in tables,
    }
    return summary, tables


def _verdicts(compare: pd.DataFrame) -> pd.DataFrame:
    """``significance`` in words: "yes (p = 0.012)", "no (p = 0.41)", or "—" untested."""
    words = [
        "—" if pd.isna(p) else f"yes (p = {p:.3f})" if sig else f"no (p = {p:.2f})"
        for p, sig in zip(compare["p_value"], compare["significant"], strict=True)
    ]
    return compare.assign(significance=words)


def _prepared(events: pd.DataFrame) -> pd.DataFrame:
    """Site events with ``source_medium`` and a UTC ``timestamp``; an event counted n times
    in a minute is one occurrence (a funnel asks whether, not how often)."""
    out = events.copy()
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True)
    if "session_source" in out and "session_medium" in out:
        out["source_medium"] = out["session_source"] + " / " + out["session_medium"]
    return out.reset_index(drop=True)


def _within(events: pd.DataFrame, period: Period) -> pd.DataFrame:
    start = datetime.combine(period.start, time(0), UTC)
    end = datetime.combine(period.end + timedelta(days=1), time(0), UTC)
    stamps = events["timestamp"]
    return events[(stamps >= start) & (stamps < end)].reset_index(drop=True)


def _top(split: pd.DataFrame) -> pd.DataFrame:
    """The ``MAX_SEGMENTS`` - 1 largest segments and the rest summed into ``OTHER`` (segments
    partition the users, so their sums are the funnel of the rest). What reads the result
    works from ``users`` alone: the summed segment has no rates or times of its own."""
    entered = split[split["position"] == 1].set_index("segment")["users"]
    if len(entered) <= MAX_SEGMENTS:
        return split
    keep = set(entered.sort_values(ascending=False).index[: MAX_SEGMENTS - 1])
    rest = split[~split["segment"].isin(keep)]
    other = rest.groupby(["position", "step"], as_index=False)["users"].sum()
    other = other.sort_values("position").assign(segment=OTHER)
    return pd.concat([split[split["segment"].isin(keep)], other], ignore_index=True)


def _explorer(segments: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every breakdown's segments x steps in one long table: the drill-down chart's data."""
    parts = []
    for name, split in segments.items():
        frame = split[["segment", "position", "step", "users"]].copy()
        previous = frame.groupby("segment", sort=False)["users"].shift()
        frame["dropped"] = (previous.fillna(frame["users"]) - frame["users"]).astype(int)
        frame["breakdown"] = BREAKDOWN_LABELS[name]
        frame["previous_users"] = frame["users"] + frame["dropped"]
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    out["segment"] = out["segment"].astype(str)
    return out


def _hours(frame: pd.DataFrame) -> pd.DataFrame:
    """Durations as hours (Parquet and the charts take numbers)."""
    out = frame.copy()
    for column in _TIMES:
        if column in out:
            out[f"{column}_hours"] = pd.to_timedelta(out.pop(column)).dt.total_seconds() / 3600
    return out


def _journeys(touchpoints, conversions, period: Period, label) -> dict[str, pd.DataFrame]:
    if touchpoints.empty or conversions.empty:
        return {}
    won = conversions[
        (conversions["timestamp"].dt.date >= period.start)
        & (conversions["timestamp"].dt.date <= period.end)
    ]
    if won.empty:
        return {}
    touches = touchpoints.assign(channel=touchpoints["channel"].map(label))
    return {
        "funnel_paths": channel_paths.top_paths(touches, won),
        "funnel_transitions": channel_paths.transitions(touches, won),
    }
