"""Every chart of the catalog, built from the shared report, snapshot-tested as Vega-Lite."""

from datetime import date

import altair as alt
import pandas as pd
import pytest

import generator.charts as charts
from generator.site.catalog import CHARTS, build_chart

PARAMS = {"campaign_daily": "campaign", "ad_performance": "campaign"}


FUNNEL_CHARTS = {"funnel_explorer", "funnel_cohorts", "funnel_compare"}


def params_for(name, report):
    if name in FUNNEL_CHARTS:
        return {"funnel": report.summary["funnel"]["funnels"][0]["slug"]}
    if name in PARAMS:
        return {"campaign": report.summary["campaigns"][0]["slug"]}
    if name.startswith("creative_test"):
        return {"test": report.summary["creatives"]["tests"][0]["id"], "metric": "ctr"}
    return {}


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_catalog_chart(name, built_report, snapshot):
    chart = build_chart(built_report, name, "campaign-report", **params_for(name, built_report))
    spec = charts.to_spec(chart)
    assert spec["usermeta"] == {"theme": "campaign-report"}
    assert spec == snapshot


def test_there_are_more_than_twenty_distinct_charts():
    builders = {
        n
        for n in charts.__all__
        if n not in {"DEFAULT_THEME", "PLATFORM_LABELS", "register", "to_spec", "with_theme"}
    }
    assert len(builders) >= 20 and len(CHARTS) >= 25


def test_a_registered_theme_brands_the_chart():
    frame = pd.DataFrame({"date": [date(2026, 10, 1)], "platform": ["Google Ads"], "spend": [1.0]})
    name = charts.register("client-test", "#112233", "#445566")
    spec = charts.to_spec(charts.daily_spend(frame, theme=name))
    assert spec["config"]["mark"]["color"] == "#112233"
    assert spec["config"]["range"]["category"][:2] == ["#112233", "#445566"]
    assert alt.theme.active != name  # builders never switch the global theme


def test_interactions(built_report):
    kpi = charts.to_spec(build_chart(built_report, "kpi_by_platform", "campaign-report"))
    assert kpi["params"][0]["bind"]["input"] == "select"
    brush = charts.to_spec(build_chart(built_report, "explorer", "campaign-report"))
    assert any(p.get("select", {}).get("type") == "interval" for p in brush["params"])
    legend = charts.to_spec(build_chart(built_report, "daily_spend", "campaign-report"))
    assert legend["params"][0]["bind"] == "legend"


def test_builders_check_columns_and_do_not_mutate(built_report):
    frame = built_report.frame("platforms")
    before = frame.copy()
    charts.efficiency(frame)
    pd.testing.assert_frame_equal(frame, before)
    for builder in (
        charts.platform_mix,
        charts.kpi_by_platform,
        charts.weekly_kpi,
        charts.funnel_steps,
        charts.model_comparison,
        charts.freshness,
    ):
        with pytest.raises(ValueError, match="needs column"):
            builder(pd.DataFrame({"x": [1]}))


def test_edge_cases():
    zero = pd.DataFrame({"platform": ["A"], "spend": [0.0], "conversions": [0.0]})
    assert charts.to_spec(charts.platform_mix(zero))
    assert charts.to_spec(charts.spend_share(zero))
    empty = pd.DataFrame({"date": [], "direction": [], "ratio": []})
    daily = pd.DataFrame({"date": [date(2026, 10, 1)], "conversions": [3.0]})
    assert len(charts.to_spec(charts.anomaly_timeline(daily, empty))["layer"]) == 1
    cards = pd.DataFrame(
        {"label": ["CPA"], "value": [10.0], "target": [None], "higher_is_better": [False]}
    )
    assert charts.to_spec(charts.target_bullets(cards))
