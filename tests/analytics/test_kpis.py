import pandas as pd
import pytest

from generator.analytics.kpis import change, compute, ratio, summarize
from generator.errors import ReportError


def frame():
    # hand-computed: platform a sums to 1000 imp, 50 clicks, $100 spend, 5 conv, $400 value
    return pd.DataFrame(
        {
            "platform": ["a", "a", "b", "c"],
            "impressions": [600, 400, 0, 1000],
            "clicks": [30, 20, 0, 10],
            "spend_micros": [60_000_000, 40_000_000, 0, 25_000_000],
            "conversions": [2.0, 3.0, 0.0, 0.0],
            "value_micros": [150_000_000, 250_000_000, 0, 0],
            "currency": ["USD"] * 4,
        }
    )


def test_ratios_of_sums_by_group():
    out = compute(frame(), by=["platform"]).set_index("platform")
    a = out.loc["a"]
    assert a["ctr"] == pytest.approx(0.05)
    assert a["cpc"] == pytest.approx(2.0)
    assert a["cpm"] == pytest.approx(100.0)
    assert a["cvr"] == pytest.approx(0.1)
    assert a["cpa"] == pytest.approx(20.0)
    assert a["roas"] == pytest.approx(4.0)
    assert a["aov"] == pytest.approx(80.0)


def test_zero_denominators_are_null_not_inf_or_nan():
    out = compute(frame(), by=["platform"]).set_index("platform")
    assert out.loc["b"].isna().all()
    c = out.loc["c"]
    assert pd.isna(c["cpa"]) and pd.isna(c["aov"]) and c["roas"] == 0.0
    assert str(out["cpa"].dtype) == "Float64"


def test_the_total_is_not_the_average_of_ratios():
    total = compute(frame()).iloc[0]
    assert total["cpc"] == pytest.approx(125 / 60)
    assert total["cpc"] != pytest.approx((2.0 + 2.5) / 2)


def test_components_and_custom_kpis():
    out = compute(
        frame(),
        by=["platform"],
        kpis=["roas", "profit"],
        components=True,
        custom={"profit": "(value - spend) / spend"},
    ).set_index("platform")
    assert list(out.columns) == [
        "impressions",
        "clicks",
        "spend",
        "conversions",
        "value",
        "roas",
        "profit",
    ]
    assert out.loc["a", "spend"] == 100.0 and out.loc["a", "profit"] == pytest.approx(3.0)
    assert pd.isna(out.loc["b", "profit"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"kpis": ["roi"]}, "unknown KPI 'roi'"), ({"by": ["region"]}, "no such column")],
)
def test_bad_requests(kwargs, message):
    with pytest.raises(ReportError, match=message):
        compute(frame(), **kwargs)


def test_mixed_currencies_are_refused_unless_grouped():
    mixed = frame().assign(currency=["USD", "EUR", "USD", "USD"])
    with pytest.raises(ReportError, match="mix currencies"):
        compute(mixed)
    assert len(compute(mixed, by=["currency"])) == 2


def test_missing_components():
    with pytest.raises(ReportError, match="none of the KPI components"):
        summarize(pd.DataFrame({"x": [1]}))
    with pytest.raises(ReportError, match="needs the 'value' component"):
        compute(frame().drop(columns=["value_micros"]), kpis=["roas"])
    with pytest.raises(ReportError, match="needs 'video_views'"):
        compute(frame(), kpis=["vtr"], custom={"vtr": "video_views / impressions"})


def test_inputs_are_not_mutated():
    f = frame()
    before = f.copy()
    compute(f, by=["platform"], components=True)
    pd.testing.assert_frame_equal(f, before)


def test_change_and_ratio():
    assert change(110, 100) == pytest.approx(0.1)
    assert change(5, 0) is None and change(None, 3) is None and change(3, float("nan")) is None
    series = change(pd.Series([2.0, 1.0]), pd.Series([1.0, 0.0]))
    assert series.iloc[0] == 1.0 and pd.isna(series.iloc[1])
    assert ratio(pd.Series([1]), pd.Series([4]), 100).iloc[0] == 25.0
