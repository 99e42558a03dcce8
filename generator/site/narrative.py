"""The report in plain sentences: what changed, against what, and why.

The analysis supplies facts (``analytics.insights``); this module words them. Sentences are
plain text (names in them come from platforms), escaped like any other text when rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from generator.analytics.benchmarks import standing
from generator.site.benchmark_tables import percentile as ordinal
from generator.site.formatting import change, fmt, money, number, percent, ratio

__all__ = ["benchmarks", "funnel_health", "risks", "story", "wins"]

_STATUS = {"on_track": "on track", "at_risk": "at risk", "off_track": "off track"}


def story(summary: Mapping) -> list[str]:
    """A few sentences a client reads in a minute."""
    facts, currency = summary.get("facts") or {}, summary["currency"]
    before = summary["previous"]["title"]
    out = []
    head = facts.get("headline")
    if head and head.get("spend") is not None:
        out.append(_headline(head, currency, before if facts.get("has_previous") else None))
    targets = [_target(c, currency) for c in summary.get("cards", []) if c.get("status")]
    if targets:
        out.append("Against the targets: " + "; ".join(targets) + ".")
    drivers = [d for d in facts.get("conversion_drivers", []) if d.get("delta")]
    if drivers and facts.get("has_previous"):
        named = ", ".join(f"{d['name']} ({d['delta']:+,.0f})" for d in drivers[:3])
        out.append(f"The campaigns that moved conversions most: {named}.")
    for fact in facts.get("risks", []):
        if fact["kind"] == "anomaly":
            out.append(_anomaly(fact))
            break
    if "benchmarks" in summary.get("sections", []) and summary.get("benchmarks"):
        out += _industry(summary["benchmarks"])
    return out


def wins(summary: Mapping) -> list[str]:
    return [_fact(f, summary["currency"]) for f in (summary.get("facts") or {}).get("wins", [])]


def risks(summary: Mapping) -> list[str]:
    return [_fact(f, summary["currency"]) for f in (summary.get("facts") or {}).get("risks", [])]


def benchmarks(summary: Mapping) -> list[str]:
    """The Benchmarks page's box: how the metrics stand, the strongest and the weakest, and
    what to read with care (provisional and stale figures, withheld peer medians)."""
    bench = summary.get("benchmarks")
    if not bench:
        return []
    currency = bench.get("currency") or summary["currency"]
    counts, rated = bench.get("counts", {}), bench.get("rated", 0)
    if not rated:
        return ["No metric could be rated against a benchmark this period."]
    out = [
        f"Of {_metrics(rated)} with a benchmark, {_stand(counts.get('Top 25%', 0))} in the "
        f"top 25%, {counts.get('Middle', 0)} in the middle and {counts.get('Bottom 25%', 0)} "
        "in the bottom 25%."
    ]
    for word, pick in (("Strongest", "strongest"), ("Weakest", "weakest")):
        if bench.get(pick):
            out.append(f"{word}: {_standing(bench[pick], currency)}.")
    if bench.get("provisional"):
        out.append(
            "Some published figures are provisional (a second-hand or conflicting copy of the "
            "publisher's number); they are marked in the tables."
        )
    if bench.get("stale"):
        out.append(
            f"Some published figures come from editions more than 18 months old "
            f"({', '.join(bench['stale'])}): the newest there are, but read them with care."
        )
    if bench.get("suppressed"):
        n = bench["suppressed"]
        out.append(
            f"{n} peer median{'s are' if n != 1 else ' is'} withheld: too few other companies "
            "qualify to show one without singling a company out."
        )
    return out


def _industry(bench: Mapping) -> list[str]:
    """The overview's sentence on the benchmarks."""
    counts, rated = bench.get("counts", {}), bench.get("rated", 0)
    if not rated:
        return []
    top = counts.get("Top 25%", 0)
    text = (
        f"Against the industry, {top} of {_metrics(rated)} with a benchmark "
        f"{'stands' if top == 1 else 'stand'} in the top 25% and "
        f"{counts.get('Bottom 25%', 0)} in the bottom 25%"
    )
    best, worst = bench.get("strongest"), bench.get("weakest")
    if best:
        text += f"; the strongest is {best['platform_label']} {best['metric_label']}"
        if worst:
            text += f", the weakest {worst['platform_label']} {worst['metric_label']}"
    return [text + "."]


def _stand(n: int) -> str:
    return f"{n} stands" if n == 1 else f"{n} stand"


def _metrics(n: int) -> str:
    return f"{n} metric{'s' if n != 1 else ''}"


def _standing(pick: Mapping, currency: str) -> str:
    unit = {"money": "currency"}.get(pick["unit"], pick["unit"])
    value = fmt(pick["value"], unit, currency)
    where = standing(float(pick["standing"])).lower()
    return (
        f"{pick['platform_label']} {pick['metric_label']} at {value} "
        f"({where}, {ordinal(pick['standing'])})"
    )


def _headline(head: Mapping, currency: str, before: str | None) -> str:
    spend = money(head["spend"], currency)
    if before and head.get("spend_change") is not None:
        spend += f" ({_direction(head['spend_change'])} on {before})"
    text = f"Spend was {spend}"
    if head.get("conversions"):
        conversions = number(head["conversions"])
        if before and head.get("conversions_change") is not None:
            conversions += f" ({change(head['conversions_change'])})"
        text += f" for {conversions} conversions, at {money(head.get('cpa'), currency)} each"
    if head.get("value"):
        text += f"; every {money(1, currency, decimals=0)} returned {ratio(head.get('roas'))}"
    return text + "."


def _direction(value: float) -> str:
    if abs(value) < 0.005:
        return "level"
    return f"{abs(value):.1%} {'up' if value > 0 else 'down'}"


def _target(card: Mapping, currency: str) -> str:
    actual = fmt(card["value"], card["unit"], currency)
    target = fmt(card["target"], card["unit"], currency)
    return f"{card['label']} {actual} is {_STATUS[card['status']]} (target {target})"


def _anomaly(fact: Mapping) -> str:
    when = fact["date"]
    day = when.strftime("%b %d") if isinstance(when, date) else str(when)
    where = f" on {fact['platform']}" if fact.get("platform") else ""
    return (
        f"On {day}, conversions{where} were {fact['ratio']:.0%} of a usual day: worth "
        "checking tracking and delivery for that day."
    )


def _fact(fact: Mapping, currency: str) -> str:
    kind = fact["kind"]
    if kind in ("target_met", "target_missed"):
        text = _target(fact, currency) if fact.get("status") else str(fact["label"])
        return text[:1].upper() + text[1:]
    if kind == "campaign_better":
        return (
            f"{fact['name']} ({fact['platform']}): CPA {money(fact['cpa'], currency)}, "
            f"{abs(fact['cpa_change']):.0%} lower, with more conversions."
        )
    if kind == "campaign_worse":
        return (
            f"{fact['name']} ({fact['platform']}): CPA {money(fact['cpa'], currency)}, "
            f"{fact['cpa_change']:.0%} higher on {money(fact['spend'], currency)} of spend."
        )
    if kind == "anomaly":
        return _anomaly(fact)
    return str(fact.get("message", ""))


def funnel_health(funnel: Mapping, before: str) -> list[str]:
    """A funnel's health in a few sentences: conversion, the biggest losses, the change on
    the previous period and its significance, the largest opportunities."""
    health = funnel["health"]
    steps = funnel["steps"]
    out = []
    if health.get("overall_conversion") is not None:
        out.append(
            f"{percent(health['overall_conversion'], 1)} of the {number(health['entered'])} "
            f"people who started reached {steps[-1]} ({number(health['completed'])})."
        )
    most = health.get("biggest_drop_users")
    if most and most.get("dropped"):
        out.append(
            f"The biggest loss: {number(most['dropped'])} people ({percent(most['rate'], 1)}) "
            f"left between {most['from_step']} and {most['to_step']}."
        )
    steep = health.get("biggest_drop_rate")
    if steep and steep.get("dropped") and steep.get("position") != (most or {}).get("position"):
        out.append(
            f"The steepest step: {percent(steep['rate'], 1)} dropped between "
            f"{steep['from_step']} and {steep['to_step']}."
        )
    moved = health.get("change")
    if moved and moved.get("previous_conversion") is not None:
        points = f"{moved['difference'] * 100:+.1f} points"
        if moved.get("p_value") is None:
            verdict = "too few people to test the difference"
        elif moved["significant"]:
            verdict = f"a real change at 95% confidence (p = {moved['p_value']:.3f})"
        else:
            verdict = f"within what chance alone explains (p = {moved['p_value']:.2f})"
        out.append(
            f"In {before}, {percent(moved['previous_conversion'], 1)} completed it: "
            f"{points}, {verdict}."
        )
    out += [o["text"] for o in health.get("opportunities", [])]
    return out
