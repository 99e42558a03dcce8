"""BG/NBD + Gamma-Gamma fits on 100,000 customers.

Usage: ``uv run python bench/analytics_cltv.py [--customers 100000] [--runs 3]``.

Customer summaries are simulated from the models themselves (weeks; BG/NBD r=0.24,
alpha=4.4, a=0.79, b=2.43, close to the CDNOW fit; Gamma-Gamma p=6, q=4, gamma=15), so the
fit should also recover the parameters. Measured: ``BetaGeo().fit`` plus ``GammaGamma().fit``
together, then the conditional expectations and a 12-period CLV for every customer.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

from generator.analytics.cltv import BetaGeo, GammaGamma, customer_lifetime_value

TRUE = {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.43, "p": 6.0, "q": 4.0, "gamma": 15.0}


def simulate(n: int, seed: int = 5):
    """(frequency, recency, T, monetary_value) drawn from BG/NBD and Gamma-Gamma."""
    rng = np.random.default_rng(seed)
    big_t = rng.uniform(4, 52, n)
    rate = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], n)
    drop = rng.beta(TRUE["a"], TRUE["b"], n)
    arrivals = rng.poisson(rate * big_t)
    # a customer leaves right after each purchase with probability `drop`
    lasting = rng.geometric(drop)
    x = np.minimum(arrivals, lasting)
    # the x-th of `arrivals` uniform times on (0, T) is T x Beta(x, arrivals - x + 1)
    recency = np.where(x > 0, big_t * rng.beta(np.maximum(x, 1), arrivals - x + 1), 0.0)
    nu = rng.gamma(TRUE["q"], 1 / TRUE["gamma"], n)
    spend = np.where(x > 0, rng.gamma(TRUE["p"] * np.maximum(x, 1)) / (nu * np.maximum(x, 1)), 0.0)
    return x.astype(float), recency, big_t, spend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    x, tx, t, z = simulate(args.customers)
    print(f"{args.customers:,} customers, {int((x > 0).sum()):,} with a repeat purchase")
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        purchases = BetaGeo().fit(x, tx, t)
        spend = GammaGamma().fit(x, z)
        times.append(time.perf_counter() - started)
    print(
        f"BG/NBD + Gamma-Gamma fit: median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f})"
    )
    fitted = {**purchases.params_, **spend.params_}
    print("fitted vs true: " + ", ".join(f"{k} {fitted[k]:.3f}/{v}" for k, v in TRUE.items()))
    started = time.perf_counter()
    purchases.conditional_expected_purchases(12, x, tx, t)
    purchases.probability_alive(x, tx, t)
    customer_lifetime_value(purchases, spend, x, tx, t, z, periods=12, period_length=4.35)
    print(f"predictions + 12-period CLV for all customers: {time.perf_counter() - started:.2f} s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
