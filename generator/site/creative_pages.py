"""The HTML pieces of the creative pages: the A/B tests' tables, a creative's version
history and the tag splits. Every value from the data is escaped here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd
from markupsafe import Markup

from generator.analytics.creative_report import METRIC_LABELS
from generator.site import formatting, gallery
from generator.site.fragments import escape

__all__ = ["arms_table", "history", "splits_table", "tests_table"]

_SHA = re.compile(r"^[0-9a-f]{64}$")
_SLUG = re.compile(r"^[a-z]-[0-9a-f]{10,12}$")
_TRIALS = {"ctr": "impressions", "cvr": "clicks"}
_SUCCESSES = {"ctr": "clicks", "cvr": "conversions"}
_VERDICT_CLASS = {
    "winner": "good",
    "loser": "bad",
    "control": "",
    "not yet significant": "",
    "too little data": "muted",
    "no data": "muted",
}


def tests_table(tests: Iterable[Mapping], root: str = "") -> Markup:
    """One line per test: its name (a link to its page), campaign, arms, days and the verdict
    on each metric."""
    rows = []
    for test in tests:
        ident = str(test["id"])
        link = f"{root}tests/{ident}.html" if _SLUG.match(ident) else None
        name = escape(test.get("name") or "Test")
        name = Markup(f'<a href="{link}">{name}</a>') if link else name
        campaign = escape(test.get("campaign_name") or "—")
        slug = str(test.get("campaign_slug") or "")
        if _SLUG.match(slug):
            campaign = Markup(f'<a href="{root}campaigns/{slug}.html">{campaign}</a>')
        cells = [
            name,
            campaign,
            escape(test.get("platform") or "—"),
            escape(str(len(test.get("arms", [])))),
            escape(str(test.get("days") or "—")),
            *(_verdict_cell(test["results"][m], test) for m in ("ctr", "cvr")),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Test", "Campaign", "Platform", "Ads", "Days", "CTR", "Conversion rate")
    )
    return Markup(
        f'<div class="md-typeset__table report-table"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _verdict_cell(result: Mapping, test: Mapping) -> Markup:
    verdict = str(result.get("verdict") or "")
    if verdict == "winner":
        names = {a["ad_id"]: a["name"] for a in result["arms"]}
        winner = str(names.get(result.get("winner"), result.get("winner")))
        return Markup(f'<span class="verdict good">{escape(_short(winner))} wins</span>')
    return Markup(
        f'<span class="verdict {_VERDICT_CLASS.get(verdict, "")}">{escape(verdict)}</span>'
    )


def arms_table(result: Mapping, metric: str) -> Markup:
    """A test's arms on one metric: the rate, the difference from the control with its 95%
    interval, the p-values (raw and Holm-adjusted), the probability of being best, the
    sample still needed and the verdict."""
    trials, successes = _TRIALS[metric], _SUCCESSES[metric]
    head = [
        "Ad", successes.capitalize(), trials.capitalize(), _title(METRIC_LABELS[metric]),
        "Difference (95% interval)", "p", "p (Holm)", "P(best)",
        f"{trials.capitalize()} still needed", "Verdict",
    ]  # fmt: skip
    rows = []
    for arm in result["arms"]:
        control = bool(arm.get("is_control"))
        diff = "control" if control else _interval(arm)
        needed = arm.get("needed")
        cells = [
            escape(_short(str(arm["name"]), 60))
            + (Markup(" <em>(control)</em>") if control else ""),
            escape(formatting.number(arm.get("successes"), 0)),
            escape(formatting.number(arm.get("trials"), 0)),
            escape(formatting.percent(arm.get("rate"))),
            escape(diff),
            escape(_p(arm.get("p_value"))),
            escape(_p(arm.get("p_holm"))),
            escape(formatting.percent(arm.get("prob_best"), 0)),
            escape(formatting.number(needed, 0) if needed else "—"),
            _verdict(str(arm.get("verdict") or "")),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return Markup(
        f'<div class="md-typeset__table report-table"><table><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _interval(arm: Mapping) -> str:
    diff, low, high = (_number(arm.get(k)) for k in ("diff", "diff_low", "diff_high"))
    if diff is None:
        return "—"
    text = f"{diff * 100:+.2f} pts"
    if low is not None and high is not None:
        text += f" ({low * 100:+.2f} to {high * 100:+.2f})"
    return text


def _number(value) -> float | None:
    """A number, or None for a missing one (None, NaN, pandas' NA)."""
    try:
        return None if value is None or pd.isna(value) else float(value)
    except (TypeError, ValueError):
        return None


def _p(value) -> str:
    value = _number(value)
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _verdict(verdict: str) -> Markup:
    return Markup(
        f'<span class="verdict {_VERDICT_CLASS.get(verdict, "")}">{escape(verdict)}</span>'
    )


def history(frame: pd.DataFrame, ad_ids: Iterable[str], root: str = "") -> Markup:
    """The versions of these ads' creatives that changed: each version's picture (or copy),
    when syncs first and last saw it, and what changed from the one before."""
    if frame.empty or "ad_id" not in frame:
        return Markup("")
    wanted = {str(a) for a in ad_ids}
    rows = frame[frame["ad_id"].astype(str).isin(wanted)]
    blocks = []
    for ad, versions in rows.groupby(rows["ad_id"].astype(str), sort=True):
        if len(versions) < 2:
            continue
        items = []
        for v in versions.sort_values("version_number").to_dict("records"):
            sha = v.get("asset_sha256")
            picture = (
                f'<img src="{root}assets/creatives/{sha}.webp" alt="" loading="lazy">'
                if isinstance(sha, str) and _SHA.match(sha)
                else ""
            )
            seen = f"{_date(v.get('first_seen'))} – {_date(v.get('last_seen'))}"
            changed = v.get("changed")
            if isinstance(changed, list | tuple) or hasattr(changed, "tolist"):
                changed = ", ".join(str(c) for c in list(changed))
            items.append(
                f'<li class="creative-version">{picture}<div><strong>Version '
                f"{int(v['version_number'])}</strong> · {escape(seen)}"
                f'<br><span class="changed">{escape(str(changed or ""))}</span><br>'
                f"{escape(str(v.get('headline') or ''))}</div></li>"
            )
        blocks.append(
            f'<div class="creative-history" id="{escape(gallery.history_id(ad))}"><p>Ad '
            f"{escape(ad)}: {len(items)} versions</p><ol>{''.join(items)}</ol></div>"
        )
    return Markup("".join(blocks))


def _date(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "?"
    return pd.Timestamp(value).strftime("%-d %b %Y")


def splits_table(splits: pd.DataFrame) -> Markup:
    """Each client tag's ads against the rest, on CTR and conversion rate."""
    if splits.empty:
        return Markup("")
    rows = []
    for (tag, metric), part in splits.groupby(["tag", "metric"], sort=True):
        tagged = part[~part["arm"].str.startswith("not ")].iloc[0]
        rest = part[part["arm"].str.startswith("not ")].iloc[0]
        cells = [
            escape(tag),
            escape(_title(METRIC_LABELS.get(metric, metric))),
            escape(f"{formatting.percent(tagged['rate'])} ({int(tagged['ads'])} ads)"),
            escape(f"{formatting.percent(rest['rate'])} ({int(rest['ads'])} ads)"),
            escape(_interval(tagged.to_dict())),
            escape(_p(None if pd.isna(tagged["p_value"]) else tagged["p_value"])),
            _verdict(str(tagged["verdict"])),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Tag",
            "Metric",
            "With the tag",
            "Without",
            "Difference (95% interval)",
            "p",
            "Verdict",
        )
    )
    return Markup(
        f'<div class="md-typeset__table report-table"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _title(label: str) -> str:
    return label[:1].upper() + label[1:]


def _short(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def test_sentences(test: Mapping) -> Markup:
    """What a test shows, metric by metric, in a sentence or two each."""
    out = []
    for metric in ("cvr", "ctr"):
        result = test["results"][metric]
        arms = result["arms"]
        label = METRIC_LABELS[metric]
        control = next((a for a in arms if a.get("is_control")), None)
        winner = next((a for a in arms if a["ad_id"] == result.get("winner")), None)
        if winner is not None and control is not None and winner is not control:
            best, base = formatting.percent(winner["rate"]), formatting.percent(control["rate"])
            text = (
                f"**{_short(str(winner['name']), 60)} has the best {label}**: {best} against "
                f"{base} for the control ({_interval(winner)}, Holm-adjusted p = "
                f"{_p(winner['p_holm'])}); a {formatting.percent(winner.get('prob_best'), 0)} "
                "chance of being the best."
            )
        elif winner is not None:  # the control beats every other ad
            text = (
                f"**{_short(str(winner['name']), 60)}, the control, has the best {label}**: "
                f"{formatting.percent(winner['rate'])}, and every other ad trails it significantly."
            )
        elif result["verdict"] == "too little data":
            text = f"Too little data to compare the ads on {label} yet."
        else:
            needed = [a["needed"] for a in arms if a.get("needed")]
            rates = ", ".join(
                f"{_short(str(a['name']), 30)} {formatting.percent(a['rate'])}"
                for a in arms
                if a.get("rate") is not None
            )
            text = f"No ad differs from the control on {label} beyond chance yet ({rates})."
            if needed:
                text += (
                    f" About {formatting.number(min(needed), 0)} {_TRIALS[metric]} per ad would "
                    "settle a difference of the size seen."
                )
        out.append(f"<p>{_bold(text)}</p>")
    return Markup("".join(out))


def _bold(text: str) -> Markup:
    """``text`` escaped, with its leading **…** in bold."""
    head, sep, rest = (
        text.partition("**")[2].partition("**") if text.startswith("**") else ("", "", text)
    )
    if sep:
        return Markup(f"<strong>{escape(head)}</strong>{escape(rest)}")
    return escape(text)
