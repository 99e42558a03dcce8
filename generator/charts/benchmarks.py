"""The Benchmarks page: where each metric stands against the industry, and how that moved.

``benchmark_standing`` draws every platform x metric as one bullet row on a shared log scale,
the client's value divided by the benchmark median and turned so that right is always better
(a CPC half the median sits at 2x, like a CTR twice the median). ``benchmark_trend`` follows
the modelled percentile month by month, against the published edition in force each month.

Tooltips carry the real numbers, formatted by each row's unit, since the x position alone is
a ratio.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from generator.analytics.benchmark_report import METRIC_LABELS
from generator.charts._common import numbers, require
from generator.charts.spec import with_theme
from generator.charts.theme import DEFAULT_THEME

__all__ = ["benchmark_standing", "benchmark_trend"]

_NUMERIC = [
    "value",
    "low",
    "high",
    "pub_median",
    "pub_p25",
    "pub_p75",
    "pub_pct",
    "peer_median",
    "peer_p25",
    "peer_p75",
    "peer_pct",
]
_TEXT = ["pub_publisher", "pub_edition", "pub_standing", "peer_standing", "peer_size", "pub_vs",
         "peer_vs"]  # fmt: skip
_VERDICTS = ["better", "in line", "worse", "not tested"]
_VERDICT_COLOURS = ["#188038", "#5f6368", "#c5221f", "#9aa0a6"]
_TICKS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]
_BAND, _MEDIAN, _PEER = "#dadce0", "#202124", "#e07a1f"


def benchmark_standing(
    frame: pd.DataFrame,
    *,
    currency: str = "USD",
    title: str = "Every metric against its benchmark",
    theme: str = DEFAULT_THEME,
) -> alt.LayerChart:
    """One bullet row per platform and metric against its benchmark median (log scale, right
    is better): the grey band is the middle half (published modelled P25-P75, or the peers'
    quartiles where nothing is published), the black tick the median, the orange tick the
    peers' median, the dot the client with its 95% interval. Rows without any benchmark are
    left out.

    ``frame``: the report's ``benchmarks`` table (platform_label, metric_label, unit,
    higher_is_better, value, low, high, pub_median, peer_median; the other ``pub_*`` and
    ``peer_*`` columns when present).
    """
    required = ["platform_label", "metric_label", "unit", "higher_is_better", "value", "low",
                "high", "pub_median", "peer_median"]  # fmt: skip
    require(frame, required, "benchmark_standing")
    data = _standing_rows(frame, currency)
    chart = alt.layer(*_bullets(data)).properties(
        title=alt.TitleParams(
            text=title,
            subtitle="Grey band: the middle half · black tick: the median · orange tick: "
            "the peers' median · dot: you, the line its 95% interval",
        ),
        width="container",
        height=max(80, 20 * len(data)),
    )
    return with_theme(chart, theme)


def _bullets(data: pd.DataFrame) -> list[alt.Chart]:
    """The layers of the bullet rows: band, median tick, peers' tick, interval, point."""
    base = alt.Chart(data).encode(
        y=alt.Y("row:N", sort=data["row"].tolist(), title=None, axis=alt.Axis(labelLimit=240))
    )
    domain, ticks = _log_axis(data)
    axis = {
        "title": "Against the benchmark median (log scale; right is better)",
        "scale": alt.Scale(type="log", domain=domain, nice=False),
        "axis": alt.Axis(values=ticks, labelExpr="format(datum.value, '~g') + '×'", grid=True),
    }
    tooltip = [
        alt.Tooltip("row:N", title="metric"),
        alt.Tooltip("you:N", title="you (95% interval)"),
        alt.Tooltip("benchmark:N", title="benchmark median"),
        alt.Tooltip("band:N", title="middle half"),
        alt.Tooltip("peers:N", title="peers' median"),
        alt.Tooltip("standing:N"),
    ]
    verdict = alt.Color(
        "verdict:N",
        title="Against the median",
        scale=alt.Scale(domain=_VERDICTS, range=_VERDICT_COLOURS),
    )
    return [
        base.mark_bar(height=12, color=_BAND).encode(
            x=alt.X("band_lo:Q", **axis),
            x2=alt.X2("band_hi:Q"),
            tooltip=tooltip,
        ),
        base.mark_tick(color=_MEDIAN, thickness=2, size=18).encode(
            x=alt.X("one:Q"), tooltip=tooltip
        ),
        base.mark_tick(color=_PEER, thickness=2, size=14).encode(
            x=alt.X("peer_rel:Q"), tooltip=tooltip
        ),
        base.mark_rule(strokeWidth=2, color="#3c4043").encode(
            x=alt.X("low_rel:Q"), x2=alt.X2("high_rel:Q"), tooltip=tooltip
        ),
        base.mark_point(filled=True, size=70, opacity=1).encode(
            x=alt.X("rel:Q", **axis), color=verdict, tooltip=tooltip
        ),
    ]


def _standing_rows(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The rows with a benchmark, positions relative to its median, texts for the tooltip."""
    data = numbers(frame.reindex(columns=[*frame.columns, *_missing(frame)]), _NUMERIC)
    published = data["pub_median"] > 0
    median = data["pub_median"].where(published, data["peer_median"])
    data = data.assign(published=published, median=median)
    data = data[(data["median"] > 0) & (data["value"] > 0)].reset_index(drop=True)
    higher = data["higher_is_better"].astype(bool).to_numpy()
    pub = data["published"].to_numpy()
    lo = np.where(pub, data["pub_p25"], data["peer_p25"])
    hi = np.where(pub, data["pub_p75"], data["peer_p75"])

    def rel(values) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(higher, values / data["median"], data["median"] / values)
        return np.where(np.isfinite(out) & (out > 0), out, np.nan)

    texts = [_texts(r, currency) for r in data.to_dict("records")]
    return pd.DataFrame(
        {
            "row": data["platform_label"].astype(str) + " · " + data["metric_label"].astype(str),
            "rel": rel(data["value"]),
            "low_rel": rel(data["low"]),
            "high_rel": rel(data["high"]),
            "band_lo": rel(lo),
            "band_hi": rel(hi),
            "peer_rel": rel(data["peer_median"]),
            "one": 1.0,
            "verdict": [t.pop("verdict") for t in texts],
        }
    ).join(pd.DataFrame(texts, columns=["you", "benchmark", "band", "peers", "standing"]))


def _log_axis(data: pd.DataFrame) -> tuple[list[float], list[float]]:
    """A log domain around every position drawn (1 always in it) and round ticks inside it:
    Vega's own ticks on a log scale crowd the axis with 3x, 4x, 5x, ..."""
    drawn = data[["rel", "low_rel", "high_rel", "band_lo", "band_hi", "peer_rel"]].to_numpy()
    drawn = drawn[np.isfinite(drawn)]
    low = min(float(drawn.min()) if drawn.size else 1.0, 1 / 1.5) / 1.15
    high = max(float(drawn.max()) if drawn.size else 1.0, 1.5) * 1.15
    ticks = [t for t in _TICKS if low <= t <= high]
    return [low, high], ticks


def _missing(frame: pd.DataFrame) -> list[str]:
    return [c for c in [*_NUMERIC, *_TEXT] if c not in frame.columns]


def _texts(row: dict, currency: str) -> dict:
    """The tooltip's words for one row (the x position is only a ratio)."""
    unit = row["unit"]
    interval = _range(row["low"], row["high"], unit, currency)
    you = f"{_shown(row['value'], unit, currency)} ({interval})"
    if row["published"]:
        edition = " ".join(str(row[k]) for k in ("pub_publisher", "pub_edition") if _text(row[k]))
        benchmark = f"{_shown(row['pub_median'], unit, currency)}, published ({edition})"
        band = _range(row["pub_p25"], row["pub_p75"], unit, currency, "modelled")
        standing = _standing(row["pub_standing"], row["pub_pct"], "modelled")
        verdict = row["pub_vs"]
    else:
        benchmark = f"{_shown(row['peer_median'], unit, currency)}, peers"
        band = _range(row["peer_p25"], row["peer_p75"], unit, currency, "peers")
        standing = _standing(row["peer_standing"], row["peer_pct"], "among peers")
        verdict = row["peer_vs"]
    peers = _shown(row["peer_median"], unit, currency)
    if _text(row["peer_size"]):
        peers += f" ({row['peer_size']})"
    return {
        "you": you,
        "benchmark": benchmark,
        "band": band,
        "peers": peers,
        "standing": standing,
        "verdict": verdict if verdict in _VERDICTS else "not tested",
    }


def _text(value) -> bool:
    return isinstance(value, str) and bool(value)


def _standing(label, pct, kind: str) -> str:
    if not _text(label):
        return "—"
    return f"{label} (percentile {pct:.0f}, {kind})" if pct == pct else str(label)


def _shown(value, unit: str, currency: str) -> str:
    """A value as the tables show it (``formatting`` lives in the site package, above us)."""
    if value is None or value != value:
        return "—"
    if unit == "percent":
        return f"{value * 100:.2f}%"
    if unit == "ratio":
        return f"{value:.2f}x"
    return f"{value:,.2f} {currency}"


def _range(low, high, unit: str, currency: str, kind: str = "") -> str:
    if low is None or high is None or low != low or high != high:
        return "—"
    low, high = sorted((low, high))
    text = f"{_shown(low, unit, currency)} – {_shown(high, unit, currency)}"
    return f"{text} ({kind})" if kind else text


def benchmark_trend(
    frame: pd.DataFrame,
    *,
    currency: str = "USD",
    title: str = "Your modelled percentile, month by month",
    theme: str = DEFAULT_THEME,
) -> alt.LayerChart:
    """The modelled percentile of each metric per month against the published edition in
    force that month; a dropdown picks the platform, the shaded band is the middle half.

    ``frame``: the report's ``benchmark_trend`` table (platform_label, metric, metric_label,
    month "YYYY-MM", value, pub_median, pub_edition, pub_pct; ``pub_publisher`` when known).
    """
    required = ["platform_label", "metric", "metric_label", "month", "value", "pub_median",
                "pub_edition", "pub_pct"]  # fmt: skip
    require(frame, required, "benchmark_trend")
    data = _trend_rows(frame, currency)
    options = list(dict.fromkeys(data["platform_label"])) or ["(none)"]
    shown = set(data["metric_label"])
    metrics = [label for label, _ in METRIC_LABELS.values() if label in shown]
    pick = alt.param(
        name="benchmark_platform",
        value=options[0],
        bind=alt.binding_select(options=options, name="Platform "),
    )
    chart = (
        alt.layer(*_trend_layers(data, metrics))
        .add_params(pick)
        .properties(
            title=alt.TitleParams(text=title, subtitle="Shaded: the middle half (25th to 75th)"),
            width="container",
            height=260,
        )
    )
    return with_theme(chart, theme)


def _trend_layers(data: pd.DataFrame, metrics: list[str]) -> list[alt.Chart]:
    """The shaded middle half and the lines of the platform picked in the dropdown."""
    middle = (
        alt.Chart(pd.DataFrame({"lo": [25.0], "hi": [75.0]}))
        .mark_rect(color="#e8eaed", opacity=0.7)
        .encode(y=alt.Y("lo:Q"), y2=alt.Y2("hi:Q"))
    )
    lines = (
        alt.Chart(data)
        .transform_filter("datum.platform_label == benchmark_platform")
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y", tickCount="month")),
            y=alt.Y(
                "pub_pct:Q",
                title="Modelled percentile (higher is better)",
                scale=alt.Scale(domain=[0, 100]),
            ),
            # a fixed domain: a metric keeps its colour from platform to platform
            color=alt.Color("metric_label:N", title=None, scale=alt.Scale(domain=metrics)),
            tooltip=[
                alt.Tooltip("platform_label:N", title="platform"),
                alt.Tooltip("metric_label:N", title="metric"),
                alt.Tooltip("month:T", format="%B %Y"),
                alt.Tooltip("shown:N", title="value"),
                alt.Tooltip("pub_pct:Q", format=".0f", title="modelled percentile"),
                alt.Tooltip("edition:N", title="edition in force"),
                alt.Tooltip("median:N", title="its median"),
            ],
        )
    )
    return [middle, lines]


def _trend_rows(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    data = numbers(frame, ["value", "pub_median", "pub_pct"]).dropna(subset=["pub_pct"])
    units = [METRIC_LABELS.get(m, ("", "money"))[1] for m in data["metric"]]
    publisher = data["pub_publisher"] if "pub_publisher" in data else pd.Series("", data.index)
    editions = [
        " ".join(str(p) for p in (pub, ed) if _text(p))
        for pub, ed in zip(publisher, data["pub_edition"], strict=True)
    ]
    return pd.DataFrame(
        {
            "platform_label": data["platform_label"].astype(str),
            "metric_label": data["metric_label"].astype(str),
            "month": data["month"].astype(str) + "-01",
            "pub_pct": data["pub_pct"],
            "shown": [_shown(v, u, currency) for v, u in zip(data["value"], units, strict=True)],
            "edition": editions,
            "median": [
                _shown(v, u, currency) for v, u in zip(data["pub_median"], units, strict=True)
            ],
        }
    )
