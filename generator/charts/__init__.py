"""Altair chart builders: ``(frame, *, title=..., theme=...) -> alt.Chart``, pure and small.

Each module groups the charts of one report page; every builder returns a new chart that
names its registered theme, and ``to_spec`` turns it into the Vega-Lite dict a page embeds.
"""

from generator.charts.abtest import arm_posteriors, test_cumulative
from generator.charts.attribution import model_comparison, model_heatmap
from generator.charts.benchmarks import benchmark_standing, benchmark_trend
from generator.charts.campaigns import (
    ad_performance,
    campaign_daily,
    campaign_map,
    campaign_ranking,
)
from generator.charts.channels import (
    change_by_platform,
    efficiency,
    kpi_by_platform,
    rates_by_platform,
    spend_share,
)
from generator.charts.customers import alive_heatmap, clv_distribution
from generator.charts.funnel import funnel_steps, sessions_by_channel
from generator.charts.funnels import channel_flow, funnel_cohorts, funnel_compare, funnel_explorer
from generator.charts.methods import freshness
from generator.charts.performance import daily_spend, platform_mix
from generator.charts.scorecards import sparklines, target_bullets
from generator.charts.spec import to_spec, with_theme
from generator.charts.theme import DEFAULT_THEME, PLATFORM_LABELS, platform_label, register
from generator.charts.trends import (
    anomaly_timeline,
    explorer,
    rolling_kpi,
    weekday_heatmap,
    weekly_kpi,
)

__all__ = [
    "DEFAULT_THEME",
    "PLATFORM_LABELS",
    "ad_performance",
    "alive_heatmap",
    "anomaly_timeline",
    "arm_posteriors",
    "benchmark_standing",
    "benchmark_trend",
    "campaign_daily",
    "campaign_map",
    "campaign_ranking",
    "change_by_platform",
    "channel_flow",
    "clv_distribution",
    "daily_spend",
    "efficiency",
    "explorer",
    "freshness",
    "funnel_cohorts",
    "funnel_compare",
    "funnel_explorer",
    "funnel_steps",
    "kpi_by_platform",
    "model_comparison",
    "model_heatmap",
    "platform_label",
    "platform_mix",
    "rates_by_platform",
    "register",
    "rolling_kpi",
    "sessions_by_channel",
    "sparklines",
    "spend_share",
    "target_bullets",
    "test_cumulative",
    "to_spec",
    "weekday_heatmap",
    "weekly_kpi",
    "with_theme",
]
