"""The Benchmarks section of a report: "is that good?", per platform and metric.

For each ad platform the client ran in the period and each metric (CTR, CPC, CPM, conversion
rate, CPA, ROAS), the client's value with a 95% interval (Wilson for rates, a bootstrap over
days for cost ratios) stands against two benchmarks, each labelled on the page:

- **published**: the newest edition in force of a published figure (``benchmark_seed``), at the
  most specific industry level that has one, with its modelled log-normal bands and the
  client's modelled percentile;
- **peers**: the agency's own portfolio (``peers``): every other client's eligible accounts over
  the trailing window, one account one vote, released only under the anonymity rules and,
  where a published figure exists, blended toward it while the cohort is small.

Nothing here names a peer or shows one peer's number: the peer columns are cohort statistics
(Harrell-Davis quantiles, never one value) and a size band. The trend is the client's monthly
value against the edition in force in each month.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from generator.analytics import benchmarks as bm
from generator.analytics import peers
from generator.analytics.benchmark_seed import BenchmarkRow, Figure, select
from generator.config import AD_PLATFORMS
from generator.periods import Period

__all__ = ["METRIC_LABELS", "Inputs", "section"]

#: metric -> (label, unit on the page: "percent" | "money" | "ratio")
METRIC_LABELS = {
    "ctr": ("CTR", "percent"),
    "cpc": ("CPC", "money"),
    "cpm": ("CPM", "money"),
    "cvr": ("Conversion rate", "percent"),
    "cpa": ("CPA", "money"),
    "roas": ("ROAS", "ratio"),
}
#: rates: (successes, trials) for Wilson's interval; the other metrics are cost ratios
_RATES = {"ctr": ("clicks", "impressions"), "cvr": ("conversions", "clicks")}
_SUMS = ("spend", "impressions", "clicks", "conversions", "value")
_MONEY = {"cpc", "cpm", "cpa"}
_COUNT = re.compile(r"\s*\(\d+\)")


@dataclass(frozen=True)
class Inputs:
    """What the section reads, prepared by the pipeline (all money in the reporting currency).

    ``own``: the client's daily sums per platform id over the trend months (date, platform,
    spend, impressions, clicks, conversions, value). ``portfolio``: window sums per client,
    platform and account for every client of the lake (this one included; it is left out of
    its own cohort). ``usd``: one US dollar in the reporting currency (published costs are USD).
    """

    own: pd.DataFrame
    portfolio: pd.DataFrame
    profiles: Mapping[str, peers.Profile]
    published: Sequence[BenchmarkRow]
    industries: tuple[str, ...]
    spec: peers.PeerSpec
    group_name: str | None = None
    platforms: tuple[str, ...] | None = None
    rules: peers.Rules = field(default_factory=peers.Rules)
    usd: float = 1.0
    currency: str = "USD"
    industry_name: Callable[[str], str] = str


def section(
    inputs: Inputs, client: str, period: Period, label: Callable[[str], str] = str
) -> tuple[dict, dict[str, pd.DataFrame]] | None:
    """The summary and tables of the Benchmarks section, or None when the client ran no ad
    platform in the period."""
    own = inputs.own
    current = own[(own["date"] >= period.start) & (own["date"] <= period.end)]
    platforms = sorted(set(current.loc[current["spend"] > 0, "platform"]) & set(AD_PLATFORMS))
    if inputs.platforms is not None:
        platforms = [p for p in platforms if p in inputs.platforms]
    if not platforms:
        return None
    values = peers.account_values(inputs.portfolio, inputs.rules)
    spec = _spec(inputs, client)
    rows = [
        _row(inputs, current, values, spec, client, platform, metric, period, label)
        for platform in platforms
        for metric in METRIC_LABELS
    ]
    table = pd.DataFrame([r for r in rows if r is not None])
    if table.empty:
        return None
    trend = _trend(inputs, own, platforms, period, label)
    summary = _summary(inputs, table, spec, period)
    return summary, {"benchmarks": table, "benchmark_trend": trend, **_sources(inputs, table)}


def _spec(inputs: Inputs, client: str) -> peers.PeerSpec:
    """The peer spec with ``spend_band: same`` resolved to the client's own band."""
    if inputs.spec.spend_band != "same":
        return inputs.spec
    mine = inputs.portfolio[inputs.portfolio["client"] == client]["spend"].sum()
    monthly = mine / (inputs.rules.window_days / 30.44)
    return peers.PeerSpec(inputs.spec.industry, inputs.spec.region, peers.spend_band(monthly))


def _row(inputs, current, values, spec, client, platform, metric, period, label) -> dict | None:
    days = current[current["platform"] == platform].groupby("date")[list(_SUMS)].sum()
    own = _value(days.sum(), metric)
    if own is None:
        return None
    higher = peers.METRICS[metric].higher_is_better
    low, high = _interval(days, metric)
    name, unit = METRIC_LABELS[metric]
    row = {
        "platform": platform,
        "platform_label": label(platform),
        "metric": metric,
        "metric_label": name,
        "unit": unit,
        "higher_is_better": higher,
        "value": own,
        "low": low,
        "high": high,
    }
    figure = select(
        inputs.published,
        platform=platform,
        metric=metric,
        industries=inputs.industries,
        as_of=period.end,
    )
    row.update(_published(inputs, figure, own, low, high, higher, metric))
    cohort = peers.cohort(
        values,
        inputs.profiles,
        client=client,
        spec=spec,
        platform=platform,
        metric=metric,
        own=own,
        rules=inputs.rules,
    )
    row.update(_peers(inputs, cohort, row, low, high, higher))
    return row


def _value(sums: pd.Series, metric: str) -> float | None:
    spec = peers.METRICS[metric]
    denominator = float(sums[spec.denominator])
    if denominator <= 0:
        return None
    value = float(sums[spec.numerator]) * spec.scale / denominator
    return value if value > 0 else None


def _interval(days: pd.DataFrame, metric: str) -> tuple[float | None, float | None]:
    if metric in _RATES:
        successes, trials = _RATES[metric]
        found = bm.wilson(float(days[successes].sum()), float(days[trials].sum()))
    else:
        spec = peers.METRICS[metric]
        numerator = days[spec.numerator].to_numpy(dtype=float) * spec.scale
        found = bm.bootstrap_ratio(numerator, days[spec.denominator].to_numpy(dtype=float))
    return found if found is not None else (None, None)


def _published(inputs, figure: Figure | None, own, low, high, higher, metric) -> dict:
    if figure is None:
        return {"pub_median": None}
    factor = inputs.usd if metric in _MONEY else 1.0
    median = figure.median * factor
    p25, _, p75 = bm.modelled_bands(median, figure.sigma)
    pct = bm.modelled_percentile(own, median, figure.sigma, higher_is_better=higher)
    row = figure.row
    return {
        "pub_median": median,
        "pub_p25": p25 if higher else p75,  # P25 and P75 of standing: the worse and the better
        "pub_p75": p75 if higher else p25,
        "pub_pct": bm.shown_percentile(pct),
        "pub_standing": bm.standing(pct),
        "pub_vs": _versus(low, high, median, higher),
        "pub_level": figure.level,
        "pub_level_name": inputs.industry_name(figure.level),
        "pub_source": row.source_id,
        "pub_publisher": row.publisher,
        "pub_title": row.report_title,
        "pub_edition": row.edition,
        "pub_grade": row.grade,
        "pub_provisional": figure.provisional,
        "pub_stale": figure.stale,
        "pub_age_months": figure.age_months,
        "pub_converted": figure.converted,
        "pub_definition": row.definition or "",
        "pub_statistic": row.statistic,
        "sigma": figure.sigma,
        "sigma_source": figure.sigma_source,
    }


def _peers(inputs, cohort: peers.Cohort, row: dict, low, high, higher) -> dict:
    summary = cohort.summary
    out = {
        "peer_level": cohort.level,
        "peer_level_name": inputs.industry_name(cohort.level),
        "peer_relaxed": "; ".join(cohort.relaxed),
        "peer_size": cohort.size,
        # the reason without the exact count: sizes reach the page as bands only
        "peer_suppressed": _COUNT.sub("", summary.get("suppressed") or ""),
        "peer_median": summary.get("median"),
        "peer_p25": summary.get("p25"),
        "peer_p75": summary.get("p75"),
        "peer_pct": None if cohort.percentile is None else bm.shown_percentile(cohort.percentile),
        "peer_standing": None if cohort.percentile is None else bm.standing(cohort.percentile),
    }
    median = out["peer_median"]
    out["peer_vs"] = None if median is None else _versus(low, high, median, higher)
    if median is not None and row.get("pub_median"):
        weight = {"n": cohort.n, "n0": inputs.rules.n0}
        out["blend_median"] = bm.blend(median, row["pub_median"], **weight)
        if out["peer_p25"] is not None:
            # the cohort's quartiles are of the raw values; the page shows worse and better
            worse, better = (out["peer_p25"], out["peer_p75"])
            worse, better = (worse, better) if higher else (better, worse)
            out["blend_p25"] = bm.blend(worse, row["pub_p25"], **weight)
            out["blend_p75"] = bm.blend(better, row["pub_p75"], **weight)
    return out


def _versus(low, high, benchmark: float, higher: bool) -> str | None:
    """ "better", "worse" or "in line": the interval against the benchmark, direction-aware."""
    if low is None or high is None:
        return None
    side = bm.significance(low, high, benchmark)
    if side == "in line":
        return side
    return "better" if (side == "above") == higher else "worse"


def _trend(inputs, own, platforms, period: Period, label) -> pd.DataFrame:
    """The client's monthly value and modelled percentile against the edition in force then."""
    frame = own[own["date"] <= period.end].assign(
        month=lambda f: pd.to_datetime(f["date"]).dt.to_period("M").astype(str)
    )
    monthly = frame.groupby(["platform", "month"])[list(_SUMS)].sum().reset_index()
    rows = []
    for sums in monthly.itertuples(index=False):
        if sums.platform not in platforms:
            continue
        end = Period.month(sums.month).end
        for metric in METRIC_LABELS:
            value = _value(pd.Series(sums._asdict()), metric)
            if value is None:
                continue
            figure = select(
                inputs.published,
                platform=sums.platform,
                metric=metric,
                industries=inputs.industries,
                as_of=end,
            )
            median = None if figure is None else figure.median * _factor(inputs, metric)
            pct = None
            if figure is not None:
                higher = peers.METRICS[metric].higher_is_better
                pct = bm.shown_percentile(
                    bm.modelled_percentile(value, median, figure.sigma, higher_is_better=higher)
                )
            rows.append(
                {
                    "platform": sums.platform,
                    "platform_label": label(sums.platform),
                    "metric": metric,
                    "metric_label": METRIC_LABELS[metric][0],
                    "month": sums.month,
                    "value": value,
                    "pub_median": median,
                    "pub_edition": None if figure is None else figure.row.edition,
                    "pub_source": None if figure is None else figure.row.source_id,
                    "pub_pct": pct,
                }
            )
    return pd.DataFrame(rows)


def _factor(inputs: Inputs, metric: str) -> float:
    return inputs.usd if metric in _MONEY else 1.0


def _sources(inputs: Inputs, table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The published rows behind the page's figures: the Sources section's citations."""
    used = set(table.get("pub_source", pd.Series(dtype=object)).dropna())
    editions = set(zip(table.get("pub_source", []), table.get("pub_edition", []), strict=False))
    seen, rows = set(), []
    for row in inputs.published:
        key = (row.source_id, row.edition)
        if row.source_id in used and key in editions and key not in seen:
            seen.add(key)
            rows.append(
                {
                    "source": row.source_id,
                    "publisher": row.publisher,
                    "title": row.report_title,
                    "url": row.url,
                    "edition": row.edition,
                    "published": row.published,
                    "window": _window(row.window_start, row.window_end),
                    "grade": row.grade,
                    "sample": _sample(row),
                }
            )
    return {"benchmark_sources": pd.DataFrame(rows)}


def _window(start: date | None, end: date | None) -> str:
    if start is None or end is None:
        return ""
    return f"{start:%b %Y} – {end:%b %Y}"


def _sample(row: BenchmarkRow) -> str:
    if not row.sample_size:
        return ""
    return f"{row.sample_size:,} {row.sample_unit or ''}".strip()


def _summary(inputs: Inputs, table: pd.DataFrame, spec: peers.PeerSpec, period: Period) -> dict:
    peer = pd.to_numeric(table["peer_pct"], errors="coerce")
    published = pd.to_numeric(table.get("pub_pct", pd.Series(np.nan, table.index)))
    ranked = table.assign(standing=peer.fillna(published)).dropna(subset=["standing"])
    pick = ["platform_label", "metric_label", "standing", "value", "unit"]
    strongest = ranked.nlargest(1, "standing")[pick].to_dict("records")
    weakest = ranked.nsmallest(1, "standing")[pick].to_dict("records")
    labels = [bm.standing(p) for p in ranked["standing"]]
    return {
        "group": {
            "name": inputs.group_name,
            "industry": spec.industry,
            "industry_name": inputs.industry_name(spec.industry),
            "region": spec.region,
            "spend_band": spec.spend_band,
        },
        "as_of": period.end.isoformat(),
        "window_days": inputs.rules.window_days,
        "currency": inputs.currency,
        "strongest": strongest[0] if strongest else None,
        "weakest": weakest[0] if weakest and len(ranked) > 1 else None,
        "counts": {k: labels.count(k) for k in ("Top 25%", "Middle", "Bottom 25%")},
        "rated": len(ranked),
        "provisional": bool(
            table.get("pub_provisional", pd.Series(dtype=bool)).fillna(False).any()
        ),
        "stale": sorted(
            {
                f"{r.pub_publisher} {r.pub_edition}"
                for r in table.itertuples()
                if getattr(r, "pub_stale", False) is True
            }
        ),
        "suppressed": int(table["peer_median"].isna().sum()),
        "levels": sorted(
            set(table["peer_level"]) | set(table.get("pub_level", pd.Series()).dropna())
        ),
    }
