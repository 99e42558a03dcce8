from datetime import date

import altair as alt
import pandas as pd
import pytest

import generator.charts as charts


def daily():
    return pd.DataFrame(
        {
            "date": [date(2026, 10, 1), date(2026, 10, 1), date(2026, 10, 2)],
            "platform": ["Google Ads", "Facebook", "Google Ads"],
            "spend": [120.5, 80.0, 99.25],
        }
    )


def platforms():
    return pd.DataFrame(
        {
            "platform": ["Google Ads", "Facebook"],
            "spend": [300.0, 100.0],
            "conversions": [10.0, 30.0],
        }
    )


def test_the_public_api():
    assert set(charts.__all__) == {
        "DEFAULT_THEME",
        "PLATFORM_LABELS",
        "daily_spend",
        "platform_mix",
        "register",
        "to_spec",
        "with_theme",
    }


def test_daily_spend_spec(snapshot):
    spec = charts.to_spec(charts.daily_spend(daily(), currency="EUR"))
    assert spec == snapshot
    colours = spec["encoding"]["color"]["scale"]
    assert colours["domain"] == ["Facebook", "Google Ads"]
    assert spec["params"][0]["bind"] == "legend"


def test_platform_mix_spec(snapshot):
    spec = charts.to_spec(charts.platform_mix(platforms()))
    assert spec == snapshot
    shares = {
        (r["platform"], r["measure"]): r["share"] for r in spec["datasets"][spec["data"]["name"]]
    }
    assert shares[("Google Ads", "Spend")] == 0.75 and shares[("Facebook", "Conversions")] == 0.75


def test_a_registered_theme_brands_the_chart():
    name = charts.register("client-test", "#112233", "#445566")
    spec = charts.to_spec(charts.daily_spend(daily(), theme=name))
    assert spec["config"]["mark"]["color"] == "#112233"
    assert spec["config"]["range"]["category"][:2] == ["#112233", "#445566"]
    assert spec["usermeta"] == {"theme": "client-test"}
    assert alt.theme.active != name  # builders never switch the global theme


def test_builders_do_not_mutate_and_check_columns():
    frame = daily()
    before = frame.copy()
    charts.daily_spend(frame)
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(ValueError, match="needs column"):
        charts.platform_mix(frame)
    zero = platforms().assign(conversions=0.0)
    assert charts.to_spec(charts.platform_mix(zero))
