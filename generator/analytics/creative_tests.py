"""Creative A/B tests: ad-group comparisons, declared tests and tag splits.

``compare_arms`` compares arms of (successes, trials) for a metric of ``METRICS`` (CTR: clicks
of impressions; CVR: conversions of clicks) with a control: the difference with a Wald interval,
the pooled two-proportion z-test (Holm-adjusted across arms), P(best) under Beta(1, 1) priors
by seeded Monte Carlo, the trials still needed at the wanted power, and a verdict. "Too little
data" also covers pairs whose expected successes or failures under the pooled rate fall below 5,
where the normal approximation is not to be trusted (analytics-conventions.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from generator.analytics._columns import require
from generator.analytics.abtest import adjust_p_values, sample_size
from generator.errors import ReportError

__all__ = [
    "ARM_COLUMNS",
    "METRICS",
    "Arm",
    "DeclaredTest",
    "ad_group_tests",
    "compare_arms",
    "cumulative",
    "declared_tests",
    "split_by_tag",
]

#: metric -> (successes column, trials column)
METRICS = {"ctr": ("clicks", "impressions"), "cvr": ("conversions", "clicks")}
#: the columns of ``compare_arms``, in order
ARM_COLUMNS = (
    "arm", "is_control", "successes", "trials", "rate", "diff", "diff_low", "diff_high",
    "p_value", "p_holm", "prob_best", "needed", "verdict",
)  # fmt: skip
GROUP_KEYS = ("platform", "account_id", "campaign_id", "ad_group_id")
#: expected successes or failures below this make the z-test untrustworthy
MIN_EXPECTED = 5


@dataclass(frozen=True)
class Arm:
    """One variant of a test: ``successes`` of ``trials`` (floats: platforms model fractions)."""

    name: str
    successes: float
    trials: float


@dataclass(frozen=True)
class DeclaredTest:
    """A test declared in client.yml: ad ids (the first is the control), metric and window.

    Raises:
        ReportError: for an unknown metric, fewer than two or repeated variants, or an end
            before the start.
    """

    name: str
    variants: tuple[str, ...]
    metric: str
    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        # YAML reads numeric ids as numbers; the data's ids are strings
        object.__setattr__(self, "variants", tuple(str(v) for v in self.variants))
        _metric_columns(self.metric)
        if len(self.variants) < 2 or len(set(self.variants)) != len(self.variants):
            raise ReportError(f"test {self.name!r} needs two or more distinct ad ids as variants")
        if self.end is not None and self.end < self.start:
            raise ReportError(f"test {self.name!r} ends ({self.end}) before it starts")


def compare_arms(
    arms: Sequence[Arm],
    *,
    control: int | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    min_trials: int = 100,
    draws: int = 20_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Compare every arm with the control (see the module docstring for each column).

    Args:
        arms: two or more arms with distinct names and at least one trial each.
        control: index of the control arm; default the arm with the most trials (the first
            of equals).
        alpha: significance level of the tests and 1 - the level of the interval.
        power: the power ``needed`` is sized for.
        min_trials: arms (or controls) with fewer trials get "too little data".
        draws: Monte Carlo draws for ``prob_best``; ``seed`` fixes them.

    Returns:
        One row per arm in input order, columns ``ARM_COLUMNS``; the control's ``diff`` is 0
        and its ``diff_low``, ``diff_high``, ``p_value``, ``p_holm`` and ``needed`` missing.

    Raises:
        ReportError: for fewer than two arms, repeated names, counts that are negative, not
            finite or successes above trials, an arm without trials, a control out of range,
            ``alpha``/``power`` outside (0, 1), or ``draws`` < 1.
    """
    s, n = _validate_arms(arms, alpha, power, draws)
    c = int(np.argmax(n)) if control is None else control
    if not (isinstance(c, int | np.integer) and 0 <= c < len(arms)):
        raise ReportError(f"control must be an arm index from 0 to {len(arms) - 1}, not {c!r}")
    rate = s / n
    diff = rate - rate[c]
    half = stats.norm.ppf(1 - alpha / 2) * np.sqrt(
        rate * (1 - rate) / n + rate[c] * (1 - rate[c]) / n[c]
    )
    others = np.arange(len(arms)) != c
    p_value = np.where(others, _z_test(s, n, c), np.nan)
    p_holm = np.full(len(arms), np.nan)
    p_holm[others] = adjust_p_values(p_value[others], "holm")
    out = pd.DataFrame(
        {
            "arm": [arm.name for arm in arms],
            "is_control": ~others,
            "successes": s,
            "trials": n,
            "rate": rate,
            "diff": diff,
            "diff_low": np.where(others, diff - half, np.nan),
            "diff_high": np.where(others, diff + half, np.nan),
            "p_value": p_value,
            "p_holm": p_holm,
            "prob_best": _prob_best(s, n, draws, seed),
            "needed": pd.array(_needed(rate, n, c, alpha, power), dtype="Int64"),
        }
    )
    out["verdict"] = _verdicts(s, n, c, p_holm, diff, alpha, min_trials)
    return out


def ad_group_tests(ads: pd.DataFrame, *, metric: str = "ctr", **options) -> pd.DataFrame:
    """Compare the ads of every ad group in which two or more ads served.

    Args:
        ads: one row per ad (rows of one ad are summed) with ``platform``, ``account_id``,
            ``campaign_id``, ``ad_group_id``, ``ad_id``, ``ad_name`` and the metric's columns.
        metric: a key of ``METRICS``; ads without trials for it are left out.
        options: passed to ``compare_arms``.

    Returns:
        The group keys, ``test`` ("g-" + 10 hex digits of sha256 of the group keys, stable
        across runs), ``metric``, ``ad_id``, ``ad_name`` and ``ARM_COLUMNS`` (``arm`` is the
        ad id); ads in ad id order within a group, groups in key order.

    Raises:
        ReportError: for a missing column, an unknown metric, bad counts or options.
    """
    succ, trial = _metric_columns(metric)
    require(ads, (*GROUP_KEYS, "ad_id", "ad_name", succ, trial), "ads")
    keys = [*GROUP_KEYS, "ad_id"]
    per_ad = (
        ads[[*keys, "ad_name", succ, trial]]
        .astype(dict.fromkeys(keys, str))
        .groupby(keys, sort=True)
        .agg(ad_name=("ad_name", "first"), successes=(succ, "sum"), trials=(trial, "sum"))
        .reset_index()
    )
    served = per_ad[per_ad["trials"] > 0]
    frames = []
    for group, rows in served.groupby(list(GROUP_KEYS), sort=True):
        if len(rows) < 2:
            continue
        arms = [
            Arm(a, x, t) for a, x, t in zip(rows.ad_id, rows.successes, rows.trials, strict=True)
        ]
        result = compare_arms(arms, **options)
        head = dict(zip(GROUP_KEYS, group, strict=True), test=_group_id(group), metric=metric)
        frames.append(_prefix(result, head, ad_id=rows.ad_id, ad_name=rows.ad_name))
    columns = [*GROUP_KEYS, "test", "metric", "ad_id", "ad_name", *ARM_COLUMNS]
    return _concat(frames, columns)


def declared_tests(daily: pd.DataFrame, tests: Sequence[DeclaredTest], **options) -> pd.DataFrame:
    """Compare the variants of each declared test over its window.

    Each variant is summed over ``start <= date <= end`` (no end: to the last day). The
    first variant that served is the control (normally the first declared). A variant
    without trials in the window gets verdict "no data" and is left out of the comparison;
    ``found`` says whether its ad id appears in ``daily`` at all (False: a typo in client.yml).

    Args:
        daily: ``date``, ``ad_id``, ``ad_name`` and the metrics' columns, one row per ad and day.
        tests: the declared tests.
        options: passed to ``compare_arms`` (except ``control``).

    Returns:
        ``test``, ``metric``, ``start``, ``end``, ``ad_id``, ``ad_name``, ``found`` and
        ``ARM_COLUMNS``, one row per declared variant in declared order.

    Raises:
        ReportError: for a missing column, bad counts or options, or a ``control`` option.
    """
    if "control" in options:
        raise ReportError("a declared test's control is its first variant; do not pass control")
    columns = {c for test in tests for c in _metric_columns(test.metric)}
    require(daily, ("date", "ad_id", "ad_name", *sorted(columns)), "daily")
    ids = daily["ad_id"].astype(str)
    dates = pd.to_datetime(daily["date"])
    names = daily.groupby(ids)["ad_name"].first()
    frames = []
    for test in tests:
        inside = dates >= pd.Timestamp(test.start)
        if test.end is not None:
            inside &= dates <= pd.Timestamp(test.end)
        succ, trial = _metric_columns(test.metric)
        sums = daily.loc[inside, [succ, trial]].groupby(ids[inside]).sum()
        result = _declared_arms(test.variants, sums, succ, trial, options)
        head = {"test": test.name, "metric": test.metric, "start": test.start, "end": test.end}
        found = [v in names.index for v in test.variants]
        named = names.reindex(list(test.variants))
        frames.append(_prefix(result, head, ad_id=test.variants, ad_name=named, found=found))
    columns = ["test", "metric", "start", "end", "ad_id", "ad_name", "found", *ARM_COLUMNS]
    return _concat(frames, columns)


def cumulative(
    daily: pd.DataFrame,
    variants: Sequence[str],
    metric: str,
    *,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """The cumulative rate of each variant day by day, for the side-by-side chart.

    Args:
        daily: ``date``, ``ad_id`` and the metric's columns.
        variants: the ad ids to follow (ids absent from ``daily`` give no rows).
        metric: a key of ``METRICS``.
        start, end: optional inclusive window.

    Returns:
        ``date``, ``ad_id``, ``successes``, ``trials`` (running sums) and ``rate`` (missing
        while trials are 0), variants in the given order, dates ascending.

    Raises:
        ReportError: for a missing column or an unknown metric.
    """
    succ, trial = _metric_columns(metric)
    require(daily, ("date", "ad_id", succ, trial), "daily")
    rows = daily[["date", "ad_id", succ, trial]].astype({"ad_id": str})
    keep = rows["ad_id"].isin([str(v) for v in variants])
    dates = pd.to_datetime(rows["date"])
    if start is not None:
        keep &= dates >= pd.Timestamp(start)
    if end is not None:
        keep &= dates <= pd.Timestamp(end)
    rows = rows[keep]
    order = {str(v): i for i, v in enumerate(variants)}
    out = (
        rows.rename(columns={succ: "successes", trial: "trials"})
        .groupby(["ad_id", "date"], sort=True)[["successes", "trials"]]
        .sum()
        .reset_index()
        .sort_values(["ad_id", "date"], key=lambda c: c.map(order) if c.name == "ad_id" else c)
    )
    out[["successes", "trials"]] = out.groupby("ad_id")[["successes", "trials"]].cumsum()
    out["rate"] = (out["successes"] / out["trials"].where(out["trials"] > 0)).astype("float64")
    return out[["date", "ad_id", "successes", "trials", "rate"]].reset_index(drop=True)


def split_by_tag(
    ads: pd.DataFrame, tag: str, *, metric: str = "ctr", **options
) -> pd.DataFrame | None:
    """Compare ads with a tag against ads without it, pooling each side's sums.

    Pooling treats the ads of a side as one arm, so a side's rate is its sums' ratio; a
    difference may come from which ads carry the tag as much as from the tag itself.

    Args:
        ads: one row per ad with a boolean column ``tag`` and the metric's columns.
        tag: the name of the boolean column; the arms are named ``tag`` and ``"not " + tag``.
        metric: a key of ``METRICS``.
        options: passed to ``compare_arms``; the control is the untagged side unless given.

    Returns:
        ``metric`` and ``ARM_COLUMNS`` for the two arms, or None when either side has no
        trials (nothing to compare).

    Raises:
        ReportError: for a missing column, a tag column that is not boolean, an unknown
            metric, bad counts or options.
    """
    succ, trial = _metric_columns(metric)
    require(ads, (tag, succ, trial), "ads")
    flags = ads[tag]
    if flags.isna().any() or not flags.isin([True, False]).all():
        raise ReportError(f"column {tag!r} must hold only True or False to split ads by it")
    flags = flags.astype(bool)
    sides = [(tag, ads.loc[flags]), (f"not {tag}", ads.loc[~flags])]
    arms = [Arm(name, rows[succ].sum(), rows[trial].sum()) for name, rows in sides]
    if any(arm.trials <= 0 for arm in arms):
        return None
    options = {"control": 1, **options}  # the question is what the tag adds to the rest
    return _prefix(compare_arms(arms, **options), {"metric": metric})


def _validate_arms(arms, alpha, power, draws) -> tuple[np.ndarray, np.ndarray]:
    if len(arms) < 2:
        raise ReportError("a comparison needs at least two arms")
    if len({arm.name for arm in arms}) != len(arms):
        raise ReportError("arm names must be distinct")
    if not (0 < alpha < 1 and 0 < power < 1) or draws < 1:
        raise ReportError("alpha and power must lie strictly between 0 and 1, draws be >= 1")
    try:
        s = np.array([arm.successes for arm in arms], dtype=np.float64)
        n = np.array([arm.trials for arm in arms], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ReportError(f"arm counts must be numbers: {error}") from None
    bad = ~np.isfinite(s) | ~np.isfinite(n) | (s < 0) | (s > n)
    if bad.any():
        names = [arm.name for arm, b in zip(arms, bad, strict=True) if b]
        raise ReportError(
            f"arm(s) {names} have counts that are missing, negative or successes above trials;"
            " a rate above 1 cannot be tested as a proportion"
        )
    if (n <= 0).any():
        raise ReportError("each arm needs at least one trial")
    return s, n


def _z_test(s: np.ndarray, n: np.ndarray, c: int) -> np.ndarray:
    """Pooled two-proportion z-test of each arm against arm ``c``, two-sided (NaN: no test)."""
    pooled = (s + s[c]) / (n + n[c])
    se = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n[c]))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (s / n - s[c] / n[c]) / se
    return np.where(se > 0, 2 * stats.norm.sf(np.abs(z)), np.nan)


def _prob_best(s: np.ndarray, n: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """P(arm has the highest rate) under Beta(1 + s, 1 + n - s) posteriors, by sampling."""
    rng = np.random.default_rng(seed)
    samples = rng.beta(1 + s, 1 + n - s, size=(draws, len(s)))
    return np.bincount(samples.argmax(axis=1), minlength=len(s)) / draws


def _needed(rate, n, c, alpha, power) -> list[int | None]:
    """Trials each arm still needs to detect its observed difference (None: no difference)."""
    out: list[int | None] = []
    for i, (p, trials) in enumerate(zip(rate, n, strict=True)):
        size = None if i == c else sample_size(rate[c], p, alpha=alpha, power=power)
        out.append(None if size is None else max(0, int(np.ceil(size - trials))))
    return out


def _verdicts(s, n, c, p_holm, diff, alpha, min_trials) -> list[str]:
    pooled = (s + s[c]) / (n + n[c])
    expected = np.minimum(n, n[c]) * np.minimum(pooled, 1 - pooled)  # smallest cell
    thin = (n < min_trials) | (n[c] < min_trials) | (expected < MIN_EXPECTED) | np.isnan(p_holm)
    significant = p_holm < alpha
    verdicts = np.select(
        [thin, significant & (diff > 0), significant & (diff < 0)],
        ["too little data", "winner", "loser"],
        "not yet significant",
    ).tolist()
    rest = [v for i, v in enumerate(verdicts) if i != c]
    if n[c] < min_trials:
        verdicts[c] = "too little data"
    elif "winner" in rest:
        verdicts[c] = "loser"
    elif all(v == "loser" for v in rest):
        verdicts[c] = "winner"
    else:
        verdicts[c] = "control"
    return verdicts


def _declared_arms(variants, sums: pd.DataFrame, succ: str, trial: str, options) -> pd.DataFrame:
    """ARM_COLUMNS for a declared test: served variants compared, the rest "no data"."""
    counts = sums.reindex(list(variants)).fillna(0)
    served = [v for v in variants if counts.at[v, trial] > 0]
    arms = [Arm(v, counts.at[v, succ], counts.at[v, trial]) for v in served]
    if len(arms) >= 2:
        result = compare_arms(arms, control=0, **options).set_index("arm")
    else:
        result = _blank(arms, "too little data", control=True)
    missing = [Arm(v, 0.0, 0.0) for v in variants if v not in served]
    parts = [part for part in (result, _blank(missing, "no data")) if len(part)]
    both = pd.concat(parts) if parts else result
    return both.reindex(list(variants)).rename_axis("arm").reset_index()[list(ARM_COLUMNS)]


def _blank(arms: Sequence[Arm], verdict: str, *, control: bool = False) -> pd.DataFrame:
    """ARM_COLUMNS (indexed by arm) for arms that are not compared."""
    s = np.array([arm.successes for arm in arms], dtype=np.float64)
    n = np.array([arm.trials for arm in arms], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, s / n, np.nan)
    frame = pd.DataFrame({"arm": [arm.name for arm in arms], "successes": s, "trials": n})
    frame = frame.assign(rate=rate, is_control=control, verdict=verdict)
    frame["needed"] = pd.array([None] * len(arms), dtype="Int64")
    return frame.reindex(columns=list(ARM_COLUMNS)).set_index("arm")


def _prefix(result: pd.DataFrame, head: dict, **columns) -> pd.DataFrame:
    """``result`` with constant ``head`` columns and per-row ``columns`` in front."""
    front = pd.DataFrame({k: [v] * len(result) for k, v in head.items()}, index=result.index)
    for name, values in columns.items():
        front[name] = list(values)
    return pd.concat([front, result], axis=1)


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def _group_id(keys: tuple) -> str:
    text = json.dumps([str(k) for k in keys])
    return "g-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def _metric_columns(metric: str) -> tuple[str, str]:
    if metric not in METRICS:
        raise ReportError(f"unknown test metric {metric!r}; use one of {sorted(METRICS)}")
    return METRICS[metric]
