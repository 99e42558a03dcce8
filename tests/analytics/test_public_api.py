"""The public API of generator.analytics is explicit and pinned (STYLE.md, rule 1)."""

import importlib

import pandas as pd
import pytest

import generator.analytics as analytics
from generator.analytics import attribution
from generator.analytics.targets import statuses
from generator.config import CustomKpi, KpiTarget

PINNED = {
    "generator.analytics": [
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
        "funnel_health",
        "funnels",
        "customer_lifetime_value",
        "deltas",
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
    ],
    "generator.analytics.attribution": [
        "MODELS",
        "NO_CAMPAIGN",
        "UNATTRIBUTED",
        "attribute_events",
        "attribute_paths",
        "compare_models",
        "removal_effects",
    ],
    "generator.analytics.kpis": [
        "COMPONENT_COLUMNS",
        "TIME_GRAINS",
        "change",
        "compute",
        "deltas",
        "ratio",
        "rollup_sql",
        "rollups",
        "summarize",
    ],
    "generator.analytics.cltv": [
        "BetaGeo",
        "GammaGamma",
        "HistoricClv",
        "beta_geo_log_likelihood",
        "customer_lifetime_value",
        "gamma_gamma_log_likelihood",
        "historic_clv",
        "rfm_summary",
    ],
    "generator.analytics.abtest": [
        "ABResult",
        "adjust_p_values",
        "compare",
        "compare_many",
        "prob_b_beats_a",
        "sample_size",
    ],
    "generator.analytics.value_rules": [
        "ENTITY_KEYS",
        "apply_value_rules",
        "conversions_from_actions",
        "with_value_rules",
    ],
    "generator.analytics.targets": ["Status", "status", "statuses"],
    "generator.analytics.currency": ["RateTable", "to_currency"],
}


@pytest.mark.parametrize("module", sorted(PINNED))
def test_all_is_pinned_and_every_name_exists(module):
    imported = importlib.import_module(module)
    assert sorted(imported.__all__) == sorted(PINNED[module])
    for name in imported.__all__:
        assert hasattr(imported, name), name


def test_the_eight_models_in_their_documented_order():
    assert list(attribution.MODELS) == [
        "first_touch",
        "last_touch",
        "linear",
        "time_decay",
        "position_based",
        "w_shaped",
        "markov",
        "shapley",
    ]
    assert analytics.attribute_paths is attribution.attribute_paths


def test_target_statuses_for_a_table():
    frame = pd.DataFrame(
        {"platform": ["a", "b", "c"], "roas": [5.0, 2.9, None], "margin": [1.0, 0.1, 0.5]}
    )
    out = statuses(
        frame,
        {
            "roas": KpiTarget(target=3.0),
            "cpa": KpiTarget(target=10.0),  # not in the frame: ignored
            "margin": KpiTarget(target=0.5),
            "other": KpiTarget(target=1.0, direction="lower"),
        },
        custom={"margin": CustomKpi(formula="(value - spend) / spend", higher_is_better=False)},
    )
    assert out["roas_status"].tolist() == ["on_track", "at_risk", None]
    assert out["margin_status"].tolist() == ["off_track", "on_track", "on_track"]
    assert "cpa_status" not in out and "roas_status" not in frame
    # a KPI neither standard nor custom counts as higher-is-better
    plain = statuses(frame.assign(other=[0.5, 0.95, 2.0]), {"other": KpiTarget(target=1.0)})
    assert plain["other_status"].tolist() == ["off_track", "at_risk", "on_track"]
