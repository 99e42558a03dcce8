"""CLV against the published CDNOW fits (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

The CDNOW sample (2,357 customers, 39-week calibration period ending 1997-09-30) is a small
copy of the dataset shipped by the ``lifetimes`` package; see tests/fixtures/cdnow/README.md.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from generator.analytics.cltv import (
    BetaGeo,
    GammaGamma,
    customer_lifetime_value,
    historic_clv,
    rfm_summary,
)
from generator.errors import ReportError

CDNOW = Path(__file__).resolve().parents[1] / "fixtures" / "cdnow"


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="module")
def beta_geo(summary) -> BetaGeo:
    return BetaGeo().fit(summary["x"], summary["t_x"], summary["T"])


@pytest.fixture(scope="module")
def gamma_gamma(summary) -> GammaGamma:
    return GammaGamma().fit(summary["x"], summary["zbar"])


def test_bg_nbd_reproduces_the_published_fit(beta_geo):
    # Fader, Hardie & Lee (2005), table 1 / the BG/NBD Excel note: LL = -9582.4
    assert beta_geo.params_ == pytest.approx(
        {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, abs=6e-4
    )
    assert beta_geo.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)


def test_gamma_gamma_reproduces_the_published_fit(gamma_gamma):
    # Fader & Hardie (2013), "The Gamma-Gamma model of monetary value": 946 repeat buyers
    assert gamma_gamma.params_ == pytest.approx({"p": 6.25, "q": 3.74, "gamma": 15.44}, abs=0.01)


def test_rfm_summary_reproduces_the_published_summary(summary):
    raw = pd.read_csv(
        CDNOW / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "day", "cds", "value"],
        dtype={"day": str},
    )
    raw["timestamp"] = pd.to_datetime(raw["day"], format="%Y%m%d")
    out = rfm_summary(raw, monetary_value="value", observation_end="1997-09-30", unit_days=7)
    merged = out.merge(summary, left_on="customer_id", right_on="ID", validate="1:1")
    assert len(merged) == 2357
    assert (merged["frequency"] == merged["x"]).all()
    for mine, published in [("recency", "t_x"), ("T_x", "T_y"), ("monetary_value", "zbar")]:
        assert np.abs(merged[mine] - merged[published]).max() < 0.0051  # published to 2 dp


def test_rfm_summary_by_hand():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c"],
            "timestamp": pd.to_datetime(
                [
                    "2026-01-01 09:00",
                    "2026-01-01 18:00",
                    "2026-01-05",
                    "2026-01-11",
                    "2026-01-03",
                    "2026-02-01",
                ],
                utc=True,
                format="ISO8601",
            ),
            "value": [10.0, 5.0, 20.0, 40.0, 7.0, 1.0],
        }
    )
    out = rfm_summary(tx, monetary_value="value", observation_end="2026-01-11")
    assert out.to_dict("list") == {
        "customer_id": ["a", "b"],  # c bought after the end
        "frequency": [2, 0],
        "recency": [10.0, 0.0],
        "T": [10.0, 8.0],
        "monetary_value": [30.0, 0.0],  # mean of the repeat days, the first day excluded
    }
    # an aware end counts by its UTC day, like aware transaction times
    aware_end = pd.Timestamp("2026-01-12 00:30", tz="Europe/Berlin")
    assert rfm_summary(tx, observation_end=aware_end)["T"].tolist() == [10.0, 8.0]
    plain = rfm_summary(tx.assign(timestamp=tx["timestamp"].dt.tz_localize(None)))
    assert "monetary_value" not in plain and plain["T"].tolist() == [31.0, 29.0, 0.0]


def expected_by_integration(model, t, x, tx, big_t):
    """E[Y(t)] = P(alive) x E over p ~ Beta(a, b + x) of (1 - ((alpha+T)/(alpha+T+pt))^(r+x))/p
    (lambda integrated out): an independent route to FHL's equation (10)."""
    r, alpha, a, b = (model.params_[k] for k in ("r", "alpha", "a", "b"))
    alive = model.probability_alive(x, tx, big_t)

    def integrand(p):
        return (1 - ((alpha + big_t) / (alpha + big_t + p * t)) ** (r + x)) / p

    value = integrate.quad(lambda p: integrand(p) * stats.beta.pdf(p, a, b + x), 0, 1)[0]
    return alive * value


@pytest.mark.parametrize(
    ("x", "tx", "big_t"), [(2, 30.43, 38.86), (0, 0, 38.86), (7, 35, 38.86), (1, 1.71, 20)]
)
def test_conditional_expectation_matches_integration(beta_geo, x, tx, big_t):
    mine = beta_geo.conditional_expected_purchases(39, [x], [tx], [big_t])[0]
    assert mine == pytest.approx(expected_by_integration(beta_geo, 39, x, tx, big_t), rel=1e-6)


def test_probability_alive_and_expected_spend_by_hand(beta_geo, gamma_gamma):
    r, alpha, a, b = (beta_geo.params_[k] for k in ("r", "alpha", "a", "b"))
    odds = a / (b + 1) * ((alpha + 38.86) / (alpha + 30.43)) ** (r + 2)
    assert beta_geo.probability_alive([2, 0], [30.43, 0], [38.86, 38.86]) == pytest.approx(
        [1 / (1 + odds), 1.0]
    )
    p, q, g = (gamma_gamma.params_[k] for k in ("p", "q", "gamma"))
    spend = gamma_gamma.conditional_expected_spend([0, 2], [0.0, 22.35])
    assert spend == pytest.approx([p * g / (q - 1), p * (g + 2 * 22.35) / (2 * p + q - 1)])


def test_discounted_clv(beta_geo, gamma_gamma):
    x, tx, t, z = [2, 0], [30.43, 0.0], [38.86, 38.86], [22.35, 0.0]
    clv = customer_lifetime_value(
        beta_geo,
        gamma_gamma,
        x,
        tx,
        t,
        z,
        periods=3,
        period_length=4.0,
        discount_rate=0.1,
        margin=0.5,
    )
    spend = gamma_gamma.conditional_expected_spend(x, z)
    steps = [beta_geo.conditional_expected_purchases(4.0 * k, x, tx, t) for k in range(4)]
    expected = sum(0.5 * spend * (steps[k] - steps[k - 1]) / 1.1**k for k in range(1, 4))
    assert clv == pytest.approx(expected)
    # without a spend model the customer's own mean is used; defaults: 30 units, 1% a period
    raw = customer_lifetime_value(beta_geo, None, x, tx, t, z, periods=1)
    month = beta_geo.conditional_expected_purchases(30.0, x, tx, t)
    assert raw == pytest.approx([22.35 * month[0] / 1.01, 0.0])


def test_historic_clv_by_hand():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "timestamp": pd.to_datetime(["2025-01-01", "2025-06-01", "2025-03-01", "2025-12-31"]),
            "value": [100.0, 50.0, 30.0, 20.0],
        }
    )
    out = historic_clv(tx, gross_margin=0.4, lifespan_years=3)
    years = 365 / 365.25
    assert out.average_order_value == 50.0 and out.orders == 4 and out.customers == 3
    assert out.purchase_frequency == pytest.approx(4 / 3 / years)
    assert out.clv == pytest.approx(50 * 4 / 3 / years * 0.4 * 3)
    empty = historic_clv(tx.iloc[:0], gross_margin=0.4, lifespan_years=3)
    assert empty.clv is None and empty.orders == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: BetaGeo().fit([1], [2], [1]), "recency cannot exceed T"),
        (lambda: BetaGeo().fit([0], [2], [3]), "without repeat purchases must have recency 0"),
        (lambda: BetaGeo().fit([-1], [0], [3]), ">= 0 and T > 0"),
        (lambda: BetaGeo().fit([1, 2], [0], [3]), "same length"),
        (lambda: BetaGeo().fit([np.nan], [0], [3]), "finite"),
        (lambda: BetaGeo().fit([0, 0], [0, 0], [3, 4]), "at least one customer with a repeat"),
        (lambda: BetaGeo().probability_alive([1], [1], [2]), "fit the BetaGeo model"),
        (lambda: GammaGamma().fit([0, 0], [0, 0]), "at least one customer with a repeat"),
        (lambda: GammaGamma().fit([1], [0.0]), "positive monetary_value"),
        (lambda: GammaGamma().fit([1], [1.0, 2.0]), "same length"),
        (lambda: GammaGamma().fit([1], [-1.0]), "finite and >= 0"),
        (lambda: GammaGamma().conditional_expected_spend([1], [1]), "fit the GammaGamma"),
        (lambda: rfm_summary(pd.DataFrame({"customer_id": [1]})), "lacks column.*'timestamp'"),
        (
            lambda: rfm_summary(pd.DataFrame({"customer_id": [None], "timestamp": ["2026-01-01"]})),
            "no customer id",
        ),
        (
            lambda: rfm_summary(pd.DataFrame({"customer_id": [1], "timestamp": ["never"]})),
            "no valid 'timestamp'",
        ),
        (
            lambda: rfm_summary(
                pd.DataFrame({"customer_id": [1], "timestamp": ["2026-01-01"], "v": [-3]}),
                monetary_value="v",
            ),
            "non-negative",
        ),
        (
            lambda: historic_clv(
                pd.DataFrame({"customer_id": [], "timestamp": [], "value": []}),
                gross_margin=2,
                lifespan_years=1,
            ),
            "gross_margin",
        ),
    ],
)
def test_bad_input_is_refused_clearly(call, message):
    with pytest.raises(ReportError, match=message):
        call()


def test_failures_of_the_optimiser_and_of_the_spend_model(summary):
    with pytest.raises(ReportError, match="did not converge"):
        BetaGeo(max_iter=1).fit(summary["x"], summary["t_x"], summary["T"])
    heavy = GammaGamma()
    heavy.params_ = {"p": 1.0, "q": 0.5, "gamma": 1.0}
    with pytest.raises(ReportError, match="q = 0.5 <= 1"):
        heavy.conditional_expected_spend([1], [1.0])
    with pytest.raises(ReportError, match="periods and period_length"):
        customer_lifetime_value(BetaGeo(), None, [1], [1], [2], [1], periods=0)
