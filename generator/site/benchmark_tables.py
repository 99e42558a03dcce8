"""The Benchmarks page's HTML: one table per platform, the sources, the overview's card.

Each row of the analysis' ``benchmarks`` table carries its own unit (money, percent or a
ratio), so the cells are formatted here row by row rather than by ``fragments.table``'s
columns. Every string (platform and metric names, publishers, titles, editions, reasons)
passes ``fragments.escape``; a source's URL is kept only when it is http(s) and goes into
its attribute escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import pandas as pd
from markupsafe import Markup

from generator.site import formatting
from generator.site.escape import safe_url
from generator.site.fragments import escape

__all__ = ["cards", "levels", "percentile", "platforms", "region_name", "sources", "table"]

_UNITS = {"money": "currency"}
_NUM = ' class="num"'
_HEAD = ["Metric", "You (95% interval)", "Published median", "Modelled standing",
         "Peers' median", "Peer standing"]  # fmt: skip
_VERSUS = {
    "better": ("significantly better", "kpi-good"),
    "worse": ("significantly worse", "kpi-bad"),
    "in line": ("in line: no significant difference", "kpi-neutral"),
}


def platforms(frame: pd.DataFrame) -> list[dict]:
    """The platforms of the table in its order: ``[{"key", "label"}]``."""
    pairs = dict.fromkeys(zip(frame["platform"], frame["platform_label"], strict=True))
    return [{"key": key, "label": label} for key, label in pairs]


def table(frame: pd.DataFrame, platform: str, *, currency: str, industry: str) -> Markup:
    """The benchmarks of one platform as an HTML table; ``industry`` is the client's own
    industry id (a figure of another level says which one it is)."""
    rows = [_clean(r) for r in frame[frame["platform"] == platform].to_dict("records")]
    if not any(r.get("pub_median") is not None or r.get("peer_median") is not None for r in rows):
        return _nothing(rows)
    head = "".join(
        f"<th{_NUM if i == 1 else ''}>{escape(label)}</th>" for i, label in enumerate(_HEAD)
    )
    body = "".join(_row(r, currency, industry) for r in rows)
    return Markup(
        f'<div class="report-table"><table class="report benchmarks"><thead><tr>{head}</tr>'
        f"</thead><tbody>{body}</tbody></table></div>"
    )


def _nothing(rows: list[dict]) -> Markup:
    """A platform without any benchmark: one sentence instead of a table of dashes."""
    if not rows:
        return Markup("")
    reason = rows[0].get("peer_suppressed") or ""
    text = (
        f"No benchmark for {rows[0]['platform_label']} this period: no published figure "
        f"covers it, and the peers' figures are withheld ({reason or 'too few companies'})."
    )
    return Markup(f"<p>{escape(text)}</p>")


def _clean(record: Mapping) -> dict:
    """The row with pandas' missing values (NaN, NA) as None."""
    return {k: (None if _missing(v) else v) for k, v in record.items()}


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array is a value
        return False


def _row(row: dict, currency: str, industry: str) -> str:
    cells = [
        _cell(row["metric_label"], "higher is better" if row["higher_is_better"] else
              "lower is better"),
        _cell(_fmt(row["value"], row, currency), _range(row.get("low"), row.get("high"), row,
                                                        currency), numeric=True),
        _published(row, currency, industry),
        _standing(row.get("pub_standing"), row.get("pub_pct"), row.get("pub_vs")),
        _peers(row, currency, industry),
        _peer_standing(row),
    ]  # fmt: skip
    return f"<tr>{''.join(cells)}</tr>"


def _cell(main: str, *notes: str | Markup | None, numeric: bool = False) -> str:
    """A cell: its value, then notes in small print (text is escaped, Markup kept)."""
    lines = "".join(
        n if isinstance(n, Markup) else f'<br><small class="kpi-neutral">{escape(n)}</small>'
        for n in notes
        if n
    )
    return f"<td{_NUM if numeric else ''}>{escape(main)}{lines}</td>"


def _versus(versus) -> Markup | None:
    """Whether the 95% interval clears the median, in words and colour."""
    if versus not in _VERSUS:
        return None
    said, tone = _VERSUS[versus]
    return Markup(f'<br><small class="{tone}">{escape(said)}</small>')


def _fmt(value, row: Mapping, currency: str) -> str:
    return formatting.fmt(value, _UNITS.get(row["unit"], row["unit"]), currency)


def _range(low, high, row: Mapping, currency: str) -> str:
    if low is None or high is None:
        return ""
    return f"{_fmt(low, row, currency)} – {_fmt(high, row, currency)}"


def _mark(text: str, kind: str) -> Markup:
    """A visible badge (the overview's status pills): provisional, stale."""
    return Markup(f'<br><span class="kpi-status kpi-{kind}">{escape(text)}</span>')


def _published(row: Mapping, currency: str, industry: str) -> str:
    if row.get("pub_median") is None:
        return _cell("—", "no published figure")
    edition = " ".join(str(row[k]) for k in ("pub_publisher", "pub_edition") if row.get(k))
    notes: list[str | Markup] = [edition]
    if row.get("pub_level") and row["pub_level"] != industry:
        notes.append(f"(industry level: {row.get('pub_level_name') or row['pub_level']})")
    if row.get("pub_converted") is True:
        notes.append("median estimated from a mean")
    if row.get("pub_provisional") is True:
        notes.append(_mark("provisional", "at_risk"))
    if row.get("pub_stale") is True:
        age = row.get("pub_age_months")
        notes.append(_mark(f"stale: {age:.0f} months old" if age else "stale", "off_track"))
    return _cell(_fmt(row["pub_median"], row, currency), *notes)


def _standing(label, pct, versus) -> str:
    if not label:
        return _cell("—")
    return _cell(str(label), percentile(pct), _versus(versus))


def _peers(row: Mapping, currency: str, industry: str) -> str:
    reason = row.get("peer_suppressed") or ""
    if row.get("peer_median") is None:
        # the size band repeats a "fewer than 5 other companies" reason
        size = None if reason.startswith("fewer than") else row.get("peer_size")
        return _cell("—", f"withheld: {reason}" if reason else "withheld", size)
    notes = [row.get("peer_size")]
    if row.get("peer_level") and row["peer_level"] != industry:
        notes.append(f"(industry level: {row.get('peer_level_name') or row['peer_level']})")
    relaxed = row.get("peer_relaxed") or ""
    notes += [f"any {part}" for part in ("region", "spend band") if part in relaxed.split("; ")]
    if row.get("blend_median") is not None:
        notes.append(f"blended with published: {_fmt(row['blend_median'], row, currency)}")
    return _cell(_fmt(row["peer_median"], row, currency), *notes)


def _peer_standing(row: Mapping) -> str:
    if row.get("peer_standing"):
        return _standing(row["peer_standing"], row.get("peer_pct"), row.get("peer_vs"))
    if row.get("peer_median") is None:
        return _cell("—")
    reason = row.get("peer_suppressed") or ""
    return _cell("—", reason or None, _versus(row.get("peer_vs")))


def percentile(value) -> str:
    """``61st percentile``; the modelled ends are capped, and say so."""
    if value is None:
        return ""
    value = round(float(value))
    if value >= 95:
        return "95th percentile or above"
    if value <= 5:
        return "5th percentile or below"
    suffix = "th" if 10 <= value % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix} percentile"


def sources(frame: pd.DataFrame, benchmarks: pd.DataFrame, stale: Iterable[str]) -> Markup:
    """The citations: publisher, title, edition, window, sample, grade and a link (http(s)
    only); editions older than the stale limit and provisional figures are marked."""
    if frame.empty:
        return Markup("<p>No published figure applies to these platforms this period.</p>")
    stale = set(stale)
    provisional = _provisional(benchmarks)
    items = []
    for source in (_clean(r) for r in frame.to_dict("records")):
        facts = [
            f"edition {source['edition']}" if source.get("edition") else "",
            f"published {source['published']}" if source.get("published") else "",
            f"data {source['window']}" if source.get("window") else "",
            f"sample {source['sample']}" if source.get("sample") else "",
            f"grade {source['grade']}" if source.get("grade") else "",
        ]
        marks = ""
        if (source.get("source"), source.get("edition")) in provisional:
            marks += f" {_badge('provisional figures', 'at_risk')}"
        if f"{source.get('publisher')} {source.get('edition')}" in stale:
            marks += f" {_badge('stale edition', 'off_track')}"
        items.append(
            f"<li><strong>{escape(source.get('publisher') or '')}</strong>, "
            f"<em>{escape(source.get('title') or '')}</em>: "
            f"{escape(' · '.join(f for f in facts if f))}{marks}{_link(source.get('url'))}</li>"
        )
    return Markup(f'<ul class="benchmark-sources">{"".join(items)}</ul>')


def _badge(text: str, kind: str) -> str:
    return f'<span class="kpi-status kpi-{kind}">{escape(text)}</span>'


def _provisional(benchmarks: pd.DataFrame) -> set[tuple]:
    if "pub_provisional" not in benchmarks:
        return set()
    rows = benchmarks[benchmarks["pub_provisional"].fillna(False).astype(bool)]
    return set(zip(rows["pub_source"], rows["pub_edition"], strict=True))


def _link(url) -> str:
    """`` · <a>host</a>`` for an http(s) URL, nothing for any other."""
    url = safe_url(url)
    if url is None:
        return ""
    host = urlsplit(url).hostname or url
    return (
        f' · <a href="{escape(url)}" rel="noopener noreferrer" target="_blank">{escape(host)}</a>'
    )


def levels(frame: pd.DataFrame, industry: str) -> list[str]:
    """The names of the industry levels used other than the client's own, broadest last."""
    names: dict[str, str] = {}
    for level, name in (("pub_level", "pub_level_name"), ("peer_level", "peer_level_name")):
        if level in frame and name in frame:
            for key, label in zip(frame[level], frame[name], strict=True):
                if isinstance(key, str) and key != industry:
                    names[key] = label if isinstance(label, str) and label else key
    return [names[k] for k in sorted(names, key=lambda k: (k == "all", -k.count("/"), k))]


def region_name(region: str | None) -> str:
    """``north_america`` -> ``North America``, ``us_west`` -> ``US West``."""
    if not region:
        return ""
    words = re.split(r"[_\-\s]+", region)
    return " ".join(w.upper() if len(w) <= 2 else w.capitalize() for w in words if w)


def cards(counts: Mapping[str, int]) -> Markup:
    """The overview's card: how many metrics stand in the top 25%, the middle, the bottom."""
    kinds = {"Top 25%": "kpi-good", "Middle": "kpi-neutral", "Bottom 25%": "kpi-bad"}
    items = "".join(
        f'<div class="kpi-card"><span class="kpi-label">{escape(label)}</span>'
        f'<span class="kpi-value {kind}">{escape(formatting.number(counts.get(label, 0)))}'
        '</span><span class="kpi-change kpi-neutral">metrics</span></div>'
        for label, kind in kinds.items()
    )
    return Markup(f'<div class="kpi-grid">{items}</div>')
