"""Customer lifetime value: historic, and probabilistic (BG/NBD + Gamma-Gamma).

Probabilistic CLV works on a customer summary (``rfm_summary``): ``frequency`` = number of
repeat purchases (purchase days after the first), ``recency`` = time from the first to the
last purchase, ``T`` = time from the first purchase to the end of observation, all in one
time unit, and ``monetary_value`` = mean value of the repeat purchases.

- ``BetaGeo`` is the BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the
  easy way"): purchases Poisson(lambda) while alive, lambda ~ Gamma(r, alpha), a drop-out
  chance p after each purchase, p ~ Beta(a, b). Fitted by maximum likelihood.
- ``GammaGamma`` (Fader & Hardie 2013, "The Gamma-Gamma model of monetary value"): the
  value of a transaction ~ Gamma(p, nu), nu ~ Gamma(q, gamma), independent of the
  purchase process. Fitted on customers with at least one repeat purchase.

Both follow the sklearn convention: hyperparameters in ``__init__``, ``fit`` validates and
returns ``self``, the estimates in ``params_``; the log-likelihoods are pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from generator.errors import ReportError

__all__ = [
    "BetaGeo",
    "GammaGamma",
    "HistoricClv",
    "beta_geo_log_likelihood",
    "customer_lifetime_value",
    "gamma_gamma_log_likelihood",
    "historic_clv",
    "rfm_summary",
]


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    customer_id: str = "customer_id",
    timestamp: str = "timestamp",
    monetary_value: str | None = None,
    observation_end=None,
    unit_days: float = 1.0,
) -> pd.DataFrame:
    """Per customer: ``frequency``, ``recency``, ``T`` (and ``monetary_value``).

    Purchases are counted per calendar day (several on one day are one purchase, their
    values summed); transactions after ``observation_end`` (default: the last one) are
    ignored. Times are in units of ``unit_days`` days (7 for weeks). ``monetary_value`` is
    the mean of the repeat purchase days' totals, 0 for customers without a repeat.

    Returns:
        A new frame sorted by customer: ``customer_id, frequency, recency, T[,
        monetary_value]``.

    Raises:
        ReportError: for missing columns, missing ids or times, or negative values.
    """
    columns = [customer_id, timestamp, *([monetary_value] if monetary_value else [])]
    _require(transactions, columns, "transactions")
    daily, end = _daily_totals(
        transactions, customer_id, timestamp, monetary_value, observation_end
    )
    first = daily.groupby(customer_id)["_day"].transform("min")
    per = daily.groupby(customer_id).agg(first=("_day", "min"), last=("_day", "max"))
    per["frequency"] = daily.groupby(customer_id).size() - 1
    per["recency"] = (per["last"] - per["first"]).dt.days / unit_days
    per["T"] = (end - per["first"]).dt.days / unit_days
    out = per[["frequency", "recency", "T"]].reset_index()
    if monetary_value is not None:
        repeat = daily[daily["_day"] > first]
        mean = repeat.groupby(customer_id)["_value"].mean()
        out["monetary_value"] = out[customer_id].map(mean).fillna(0.0).to_numpy(np.float64)
    return out


def _utc_days(times: pd.Series) -> pd.Series:
    """Calendar days; aware times count by their UTC day (as in the lake)."""
    times = pd.to_datetime(times)
    if times.dt.tz is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.dt.normalize()


def _daily_totals(transactions, customer_id, timestamp, monetary_value, observation_end):
    """One row per customer and purchase day (values summed) up to the end; and the end."""
    if transactions[customer_id].isna().any():
        raise ReportError("transactions: a row has no customer id")
    days = pd.to_datetime(transactions[timestamp], errors="coerce")
    if days.isna().any():
        raise ReportError(f"transactions: a row has no valid {timestamp!r}")
    days = _utc_days(days)
    if monetary_value is None:
        value = pd.Series(0.0, index=transactions.index)
    else:
        value = pd.to_numeric(transactions[monetary_value], errors="coerce")
        if (value.fillna(-1) < 0).any():
            raise ReportError(f"transactions: {monetary_value!r} must be a non-negative number")
    end = days.max() if observation_end is None else _utc_days(pd.Series([observation_end]))[0]
    data = pd.DataFrame({customer_id: transactions[customer_id], "_day": days, "_value": value})
    data = data[data["_day"] <= end]
    return data.groupby([customer_id, "_day"], sort=True)["_value"].sum().reset_index(), end


@dataclass(frozen=True)
class HistoricClv:
    """Historic CLV = average order value x purchase frequency x gross margin x lifespan."""

    customers: int
    orders: int
    revenue: float
    average_order_value: float | None
    purchase_frequency: float | None  # orders per customer per year
    gross_margin: float
    lifespan_years: float
    clv: float | None


def historic_clv(
    transactions: pd.DataFrame,
    *,
    gross_margin: float,
    lifespan_years: float,
    customer_id: str = "customer_id",
    timestamp: str = "timestamp",
    monetary_value: str = "value",
) -> HistoricClv:
    """Historic CLV from transactions; each row is an order.

    The purchase frequency is orders per customer per year over the observed span (first to
    last order day, inclusive). Values are None when there are no orders.
    """
    _require(transactions, [customer_id, timestamp, monetary_value], "transactions")
    if not 0 <= gross_margin <= 1 or lifespan_years <= 0:
        raise ReportError("gross_margin must lie in [0, 1] and lifespan_years be positive")
    revenue = float(pd.to_numeric(transactions[monetary_value]).sum())
    orders, customers = len(transactions), int(transactions[customer_id].nunique())
    if orders == 0:
        return HistoricClv(0, 0, 0.0, None, None, gross_margin, lifespan_years, None)
    days = pd.to_datetime(transactions[timestamp]).dt.normalize()
    years = ((days.max() - days.min()).days + 1) / 365.25
    aov, frequency = revenue / orders, orders / customers / years
    clv = aov * frequency * gross_margin * lifespan_years
    return HistoricClv(
        customers, orders, revenue, aov, frequency, gross_margin, lifespan_years, clv
    )


def beta_geo_log_likelihood(params, frequency, recency, T) -> tuple[float, np.ndarray]:  # noqa: N803
    """Sum of the BG/NBD log-likelihood over customers, and its gradient in log-parameters.

    ``params`` are ``log(r), log(alpha), log(a), log(b)``.
    """
    r, alpha, a, b = np.exp(params)
    x, tx, t = frequency, recency, T
    c = r + x
    repeat = x > 0
    a1 = special.gammaln(c) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    a3 = -c * np.log(alpha + t)
    bx1 = np.where(repeat, b + x - 1, 1.0)
    a4 = np.where(repeat, np.log(a) - np.log(bx1) - c * np.log(alpha + tx), -np.inf)
    total = a1 + a2 + np.logaddexp(a3, a4)
    w4 = np.where(repeat, special.expit(a4 - a3), 0.0)  # weight of the "dropped out" branch
    w3 = 1 - w4
    psi_ab, psi_abx = special.digamma(a + b), special.digamma(a + b + x)
    grad = np.array(
        [
            special.digamma(c) - special.digamma(r) + np.log(alpha)
            - w3 * np.log(alpha + t) - w4 * np.log(alpha + tx),
            r / alpha - w3 * c / (alpha + t) - w4 * c / (alpha + tx),
            psi_ab - psi_abx + w4 / a,
            psi_ab + special.digamma(b + x) - special.digamma(b) - psi_abx - w4 / bx1,
        ]
    )  # fmt: skip
    return float(total.sum()), grad.sum(axis=1) * np.array([r, alpha, a, b])


def gamma_gamma_log_likelihood(params, frequency, monetary_value) -> tuple[float, np.ndarray]:
    """Sum of the Gamma-Gamma log-likelihood of mean spends, and its gradient in
    log-parameters (``log(p), log(q), log(gamma)``); customers with frequency > 0 only."""
    p, q, g = np.exp(params)
    x, z = frequency, monetary_value
    px = p * x
    total = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(z)
        + px * np.log(x)
        - (px + q) * np.log(g + x * z)
    )
    psi = special.digamma(px + q)
    grad = np.array(
        [
            x * (psi - special.digamma(px) + np.log(z) + np.log(x) - np.log(g + x * z)),
            psi - special.digamma(q) + np.log(g) - np.log(g + x * z),
            q / g - (px + q) / (g + x * z),
        ]
    )
    return float(total.sum()), grad.sum(axis=1) * np.array([p, q, g])


class BetaGeo:
    """BG/NBD purchase model, fitted by maximum likelihood.

    Args:
        tol: gradient tolerance of the optimiser (on the mean log-likelihood).
        max_iter: iteration limit of the optimiser.
    """

    def __init__(self, *, tol: float = 1e-9, max_iter: int = 2000) -> None:
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, frequency, recency, T) -> BetaGeo:  # noqa: N803 (the literature's name)
        """Estimate ``params_`` = {r, alpha, a, b}; also sets ``log_likelihood_``.

        Raises:
            ReportError: for invalid summaries (negative, recency beyond T, recency without a
                repeat purchase), no repeat purchase at all, or an optimiser that fails.
        """
        x, tx, t = _summary(frequency, recency, T)
        if not (x > 0).any():
            raise ReportError("BG/NBD needs at least one customer with a repeat purchase")
        start = np.log([1.0, max(float(t.mean()), 1e-6), 1.0, 1.0])
        fitted, value = _maximise(beta_geo_log_likelihood, start, (x, tx, t), self, "BG/NBD")
        self.params_ = dict(zip(("r", "alpha", "a", "b"), np.exp(fitted), strict=True))
        self.log_likelihood_ = value
        return self

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:  # noqa: N803
        """Expected purchases in the next ``t`` time units given each customer's history."""
        r, alpha, a, b = self._params()
        x, tx, big_t = _summary(frequency, recency, T)
        t = np.asarray(t, dtype=np.float64)
        c = r + x
        z = t / (alpha + big_t + t)
        hyp = special.hyp2f1(c, b + x, a + b + x - 1, z)
        bracket = 1 - ((alpha + big_t) / (alpha + big_t + t)) ** c * hyp
        return (a + b + x - 1) / (a - 1) * bracket * self.probability_alive(x, tx, big_t)

    def probability_alive(self, frequency, recency, T) -> np.ndarray:  # noqa: N803
        """P(the customer is still active at the end of observation)."""
        r, alpha, a, b = self._params()
        x, tx, t = _summary(frequency, recency, T)
        repeat = x > 0
        bx1 = np.where(repeat, b + x - 1, 1.0)
        odds = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
        return np.where(repeat, special.expit(-odds), 1.0)

    def _params(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise ReportError("fit the BetaGeo model before predicting")
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]


class GammaGamma:
    """Gamma-Gamma spend model, fitted by maximum likelihood on repeat customers.

    Args:
        tol, max_iter: as for ``BetaGeo``.
    """

    def __init__(self, *, tol: float = 1e-9, max_iter: int = 2000) -> None:
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, frequency, monetary_value) -> GammaGamma:
        """Estimate ``params_`` = {p, q, gamma} from customers with ``frequency > 0``.

        Raises:
            ReportError: for mismatched or invalid inputs, a repeat customer whose mean
                spend is not positive, no repeat customer, or an optimiser that fails.
        """
        x, z = _spend(frequency, monetary_value)
        keep = x > 0
        if not keep.any():
            raise ReportError("Gamma-Gamma needs at least one customer with a repeat purchase")
        if (z[keep] <= 0).any():
            raise ReportError("Gamma-Gamma needs a positive monetary_value for repeat customers")
        start = np.log([1.0, 1.0, max(float(z[keep].mean()), 1e-6)])
        fitted, value = _maximise(
            gamma_gamma_log_likelihood, start, (x[keep], z[keep]), self, "Gamma-Gamma"
        )
        self.params_ = dict(zip(("p", "q", "gamma"), np.exp(fitted), strict=True))
        self.log_likelihood_ = value
        return self

    def conditional_expected_spend(self, frequency, monetary_value) -> np.ndarray:
        """Expected value of a customer's future transaction given their history.

        A weighted mean of the population mean ``p gamma / (q - 1)`` and the customer's own
        mean spend, the latter weighing more the more repeat purchases they made.
        """
        if not hasattr(self, "params_"):
            raise ReportError("fit the GammaGamma model before predicting")
        p, q, g = (self.params_[k] for k in ("p", "q", "gamma"))
        if q <= 1:
            raise ReportError(f"the fitted q = {q:.3g} <= 1: the expected spend is infinite")
        x, z = _spend(frequency, monetary_value)
        return p * (g + x * z) / (p * x + q - 1)


def customer_lifetime_value(
    purchases: BetaGeo,
    spend: GammaGamma | None,
    frequency,
    recency,
    T,  # noqa: N803
    monetary_value,
    *,
    periods: int = 12,
    period_length: float = 30.0,
    discount_rate: float = 0.01,
    margin: float = 1.0,
) -> np.ndarray:
    """Discounted CLV per customer over ``periods`` periods of ``period_length`` time units.

    CLV = sum over k of margin x expected spend x (E[purchases by k] - E[purchases by k-1])
    / (1 + discount_rate)^k, the expected spend from ``spend`` (or ``monetary_value`` itself
    when ``spend`` is None), the purchases from ``purchases``.
    """
    if periods < 1 or period_length <= 0 or discount_rate < 0 or margin < 0:
        raise ReportError("periods and period_length must be positive, rates non-negative")
    x, tx, t = _summary(frequency, recency, T)
    value = (
        np.asarray(monetary_value, dtype=np.float64)
        if spend is None
        else spend.conditional_expected_spend(x, monetary_value)
    )
    total, before = np.zeros(len(x)), np.zeros(len(x))
    for k in range(1, periods + 1):
        upto = purchases.conditional_expected_purchases(k * period_length, x, tx, t)
        total += margin * value * (upto - before) / (1 + discount_rate) ** k
        before = upto
    return total


# -- helpers ----------------------------------------------------------------------------------


def _maximise(loglik, start, args, model, name) -> tuple[np.ndarray, float]:
    n = len(args[0])

    def objective(params):
        value, grad = loglik(params, *args)
        return -value / n, -grad / n

    # log-parameters keep every parameter positive; the box keeps exp() finite
    result = optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-20.0, 20.0)] * len(start),
        options={"gtol": model.tol, "maxiter": model.max_iter},
    )
    if not np.all(np.isfinite(result.x)) or np.abs(result.jac).max() > 1e-4:
        raise ReportError(f"the {name} fit did not converge ({result.message})")
    return result.x, -float(result.fun) * n


def _summary(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # noqa: N803
    x, tx, t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
    if not (x.shape == tx.shape == t.shape):
        raise ReportError("frequency, recency and T must have the same length")
    if not (np.isfinite(x).all() and np.isfinite(tx).all() and np.isfinite(t).all()):
        raise ReportError("frequency, recency and T must be finite numbers")
    if (x < 0).any() or (tx < 0).any() or (t <= 0).any():
        raise ReportError("frequency and recency must be >= 0 and T > 0")
    if (tx > t + 1e-9).any():
        raise ReportError("recency cannot exceed T (the last purchase is after the end)")
    if ((x == 0) & (tx > 0)).any():
        raise ReportError("a customer without repeat purchases must have recency 0")
    return x, tx, t


def _spend(frequency, monetary_value) -> tuple[np.ndarray, np.ndarray]:
    x, z = (np.asarray(v, dtype=np.float64) for v in (frequency, monetary_value))
    if x.shape != z.shape:
        raise ReportError("frequency and monetary_value must have the same length")
    if not (np.isfinite(x).all() and np.isfinite(z).all()) or (x < 0).any() or (z < 0).any():
        raise ReportError("frequency and monetary_value must be finite and >= 0")
    return x, z


def _require(frame: pd.DataFrame, columns, name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReportError(f"{name} lacks column(s) {', '.join(map(repr, missing))}")
