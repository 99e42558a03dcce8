"""The Benchmarks page's charts: bullet rows on a log scale turned so right is better, and the
monthly percentile with a platform dropdown."""

import math

import pandas as pd
import pytest

import generator.charts as charts

from ..report_data import benchmark_section


@pytest.fixture
def frames() -> dict[str, pd.DataFrame]:
    return benchmark_section()[1]


def rows(spec: dict) -> list[dict]:
    """The bullet rows the chart draws (its one dataset)."""
    (data,) = spec["datasets"].values()
    return data


def by_row(spec: dict) -> dict[str, dict]:
    return {r["row"]: r for r in rows(spec)}


def test_standing_layers_log_scale_and_rows(frames):
    spec = charts.to_spec(charts.benchmark_standing(frames["benchmarks"]))
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["bar", "tick", "tick", "rule", "point"]
    for layer in spec["layer"]:
        x = layer["encoding"]["x"]
        if "scale" in x:
            assert x["scale"]["type"] == "log"
    # CPM has neither a published figure nor a peer median: left out
    assert list(by_row(spec)) == [
        "Google Ads · CTR",
        "Google Ads · CPC",
        "Google Ads · ROAS",
        "Facebook · CTR",
    ]
    assert spec["layer"][4]["encoding"]["color"]["field"] == "verdict"
    assert [t["field"] for t in spec["layer"][4]["encoding"]["tooltip"]] == [
        "row", "you", "benchmark", "band", "peers", "standing"
    ]  # fmt: skip


def test_standing_turns_lower_is_better_metrics_so_right_is_better(frames):
    shown = by_row(charts.to_spec(charts.benchmark_standing(frames["benchmarks"])))
    ctr, cpc = shown["Google Ads · CTR"], shown["Google Ads · CPC"]
    # CTR 2.5% against a median of 3.17%: higher is better, so value / median, left of 1
    assert math.isclose(ctr["rel"], 0.025 / 0.0317) and ctr["rel"] < 1
    # CPC $1.25 against $2.69: lower is better, so median / value, right of 1
    assert math.isclose(cpc["rel"], 2.69 / 1.25) and cpc["rel"] > 1
    # the band runs from the worse quartile (left) to the better one (right)
    assert cpc["band_lo"] == pytest.approx(2.69 / 4.2) and cpc["band_hi"] == pytest.approx(
        2.69 / 1.7
    )
    assert cpc["low_rel"] == pytest.approx(2.69 / 1.2) and cpc["high_rel"] == pytest.approx(
        2.69 / 1.3
    )
    assert cpc["peer_rel"] is None  # the peer median is withheld
    assert cpc["verdict"] == "better" and ctr["verdict"] == "worse"
    assert cpc["you"] == "1.25 USD (1.20 USD – 1.30 USD)"
    assert cpc["benchmark"].startswith("2.69 USD, published (WordStream")
    assert ctr["standing"] == "Middle (percentile 38, modelled)"


def test_standing_falls_back_to_the_peers_without_a_published_figure(frames):
    roas = by_row(charts.to_spec(charts.benchmark_standing(frames["benchmarks"])))[
        "Google Ads · ROAS"
    ]
    assert roas["rel"] == pytest.approx(3.1 / 2.5) and roas["peer_rel"] == pytest.approx(1.0)
    assert roas["band_lo"] == pytest.approx(1.9 / 2.5)
    assert roas["band_hi"] == pytest.approx(3.4 / 2.5)
    assert roas["benchmark"] == "2.50x, peers" and roas["standing"].startswith("Middle")


def test_standing_axis_ticks_stay_in_the_domain(frames):
    spec = charts.to_spec(charts.benchmark_standing(frames["benchmarks"]))
    x = spec["layer"][4]["encoding"]["x"]
    low, high = x["scale"]["domain"]
    assert low < 1 < high and all(low <= t <= high for t in x["axis"]["values"])
    assert 1 in x["axis"]["values"]


def test_trend_dropdown_band_and_filter(frames):
    spec = charts.to_spec(charts.benchmark_trend(frames["benchmark_trend"]))
    (param,) = spec["params"]
    assert param["bind"]["input"] == "select"
    assert param["bind"]["options"] == ["Google Ads", "Facebook"]
    assert param["value"] == "Google Ads"
    band, lines = spec["layer"]
    assert band["mark"]["type"] == "rect"
    (band_data,) = [v for k, v in spec["datasets"].items() if k == band["data"]["name"]]
    assert band_data == [{"lo": 25.0, "hi": 75.0}]
    assert lines["transform"] == [{"filter": "datum.platform_label == benchmark_platform"}]
    assert lines["encoding"]["y"]["scale"]["domain"] == [0, 100]
    (points,) = [v for k, v in spec["datasets"].items() if k == lines["data"]["name"]]
    assert len(points) == 8  # the month without a percentile is left out
    first = points[0]
    assert first["shown"] == "2.70%" and first["median"] == "3.17%" and first["edition"] == "2024"


def test_builders_check_columns_and_do_not_mutate(frames):
    for builder, name in (
        (charts.benchmark_standing, "benchmarks"),
        (charts.benchmark_trend, "benchmark_trend"),
    ):
        before = frames[name].copy()
        builder(frames[name])
        pd.testing.assert_frame_equal(frames[name], before)
        with pytest.raises(ValueError, match="needs column"):
            builder(pd.DataFrame({"x": [1]}))


def test_a_table_without_published_columns_still_draws():
    """The analysis leaves the pub_* columns out when no row has a published figure."""
    frame = pd.DataFrame(
        {"platform_label": ["Reddit"], "metric_label": ["CPC"], "unit": ["money"],
         "higher_is_better": [False], "value": [1.0], "low": [0.9], "high": [1.1],
         "pub_median": [None], "peer_median": [2.0], "peer_vs": ["better"]}
    )  # fmt: skip
    (row,) = rows(charts.to_spec(charts.benchmark_standing(frame)))
    assert row["rel"] == pytest.approx(2.0) and row["verdict"] == "better"
    empty = pd.DataFrame(columns=["platform_label", "metric", "metric_label", "month", "value",
                                  "pub_median", "pub_edition", "pub_pct"])  # fmt: skip
    spec = charts.to_spec(charts.benchmark_trend(empty))
    assert spec["params"][0]["bind"]["options"] == ["(none)"]
