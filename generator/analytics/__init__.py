"""Analytics: pure functions over tables (no I/O) and fitted models.

Modules: ``kpis`` (ratios of sums at any grain, DuckDB rollups, period deltas), ``currency``
(dated rate table), ``targets`` (on track / at risk / off track), ``value_rules`` (client.yml
conversion value rules), ``attribution`` (eight multi-touch models), ``cltv`` (historic CLV,
BG/NBD, Gamma-Gamma), ``abtest`` (A/B statistics), ``overview`` (the report's first page),
``trends`` (weekly, rolling, weekday, anomalies), ``insights`` (what changed, wins and risks),
``funnels`` (ordered, windowed funnels per user), ``funnel_health`` (drops, z-test, cohorts,
opportunities), ``channel_paths`` (converting channel paths), ``pacing`` (budgets: spend to
date, run-rate projection with an interval, on / under / over pace) and ``report``
(everything one client's report shows, assembled; ``funnel_report`` its Funnels section,
``pacing_report`` its Budget pacing section).
The most used names are re-exported here.
"""

from generator.analytics import (
    abtest,
    attribution,
    channel_paths,
    cltv,
    currency,
    funnel_health,
    funnels,
    insights,
    kpis,
    overview,
    report,
    targets,
    trends,
    value_rules,
)
from generator.analytics.abtest import ABResult, compare_many
from generator.analytics.attribution import (
    attribute_events,
    attribute_paths,
    compare_models,
    removal_effects,
)
from generator.analytics.cltv import (
    BetaGeo,
    GammaGamma,
    customer_lifetime_value,
    historic_clv,
    rfm_summary,
)
from generator.analytics.currency import RateTable, to_currency
from generator.analytics.kpis import deltas, rollups
from generator.analytics.value_rules import apply_value_rules, with_value_rules

__all__ = [
    "ABResult",
    "BetaGeo",
    "GammaGamma",
    "RateTable",
    "abtest",
    "apply_value_rules",
    "attribute_events",
    "attribute_paths",
    "attribution",
    "channel_paths",
    "cltv",
    "compare_many",
    "compare_models",
    "currency",
    "customer_lifetime_value",
    "deltas",
    "funnel_health",
    "funnels",
    "historic_clv",
    "insights",
    "kpis",
    "overview",
    "removal_effects",
    "report",
    "rfm_summary",
    "rollups",
    "targets",
    "to_currency",
    "trends",
    "value_rules",
    "with_value_rules",
]
