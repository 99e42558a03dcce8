"""Render the report's Markdown pages from ``site_templates/pages`` with the analysis.

Templates are Jinja2. Every ``{{ value }}`` passes ``finalize``: plain strings (which may come
from a platform) are escaped by ``escape.md``; only fragments built here (``Markup``) go in
as they are. Forgetting a filter therefore cannot inject markup into a report.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from generator.analytics import creative_tags
from generator.charts import to_spec
from generator.errors import BuildError
from generator.site import (
    benchmark_tables,
    catalog,
    creative_pages,
    formatting,
    fragments,
    gallery,
    narrative,
)
from generator.site.escape import md
from generator.site.report import Report
from generator.site.resources import templates_dir

__all__ = ["PAGES", "page_context", "render_pages"]

#: (template, page, nav title, section the page needs or None), in navigation order
PAGES = [
    ("overview.md.j2", "index.md", "Overview", None),
    ("channels.md.j2", "channels.md", "Channels", "channels"),
    ("campaigns.md.j2", "campaigns/index.md", "Campaigns", "campaigns"),
    ("creative_tests.md.j2", "tests/index.md", "A/B tests", "creative_tests"),
    (None, "funnels/", "Funnels", "funnel"),
    ("trends.md.j2", "trends.md", "Trends", "trends"),
    ("attribution.md.j2", "attribution.md", "Attribution", "attribution"),
    ("customers.md.j2", "customers.md", "Customer value", "customers"),
    ("benchmarks.md.j2", "benchmarks.md", "Benchmarks", "benchmarks"),
    ("methods.md.j2", "methods.md", "Methods & data", None),
]
CAMPAIGN_TEMPLATE = "campaign.md.j2"
TEST_TEMPLATE = "creative_test.md.j2"
FUNNEL_TEMPLATE = "funnel.md.j2"
_UNSAFE = re.compile(r"[<>&\"'`{}\\]")


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    if isinstance(value, str):
        return md(value)
    return value


@functools.cache
def _environment() -> jinja2.Environment:
    """The page templates' environment, made once per process (it compiles each template
    once; the data comes with each ``render``)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir() / "pages"),
        autoescape=False,  # Markdown output; escaping is done by _finalize instead
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=formatting.money,
        percent=formatting.percent,
        number=formatting.number,
        ratio=formatting.ratio,
        change=formatting.change,
        fmt=formatting.fmt,
    )
    return env


def page_context(report: Report, theme: str, root: str = "") -> dict[str, Any]:
    """What templates (and macros) can use: the summary plus fragment builders.

    ``root`` is the way back to the site root from the page ("" or "../").
    """
    summary = report.summary
    currency = summary["currency"]

    def chart(name: str, caption: str | None = None, **params: Any) -> Markup:
        spec = to_spec(catalog.build_chart(report, name, theme, **params), validate=False)
        suffix = "-".join(str(v) for v in params.values())
        return fragments.chart(spec, f"{name}-{suffix}" if suffix else name, caption=caption)

    def table(
        name: str, limit: int | None = None, campaign: str | None = None, funnel: str | None = None
    ) -> Markup:
        frame, columns = catalog.table_frame(report, name, funnel)
        if campaign is not None:
            frame = frame[frame["slug" if "slug" in frame else "campaign_slug"] == campaign]
        return fragments.table(
            frame, columns, currency=currency, limit=limit, link_base=f"{root}campaigns/"
        )

    def creative_gallery(campaign: str | None = None, limit: int = 12) -> Markup:
        ads = report.frames.get("ads")
        if ads is None:
            return Markup("")
        if campaign is not None:
            ads = ads[ads["campaign_slug"] == campaign]
        ident = f"gallery-{campaign}" if campaign else "gallery"
        return gallery.creative_gallery(
            _labelled(ads), currency=currency, limit=limit, root=root, gallery_id=ident
        )

    return {
        **summary,
        "root": root,
        "kpi_cards": lambda: fragments.kpi_cards(summary["cards"], currency),
        "chart": chart,
        "table": table,
        "creative_gallery": creative_gallery,
        "warnings": lambda: fragments.warnings(summary.get("warnings", [])),
        "box": fragments.facts,
        "health_sentences": lambda funnel: narrative.funnel_health(
            funnel, summary["previous"]["title"]
        ),
        "story": narrative.story(summary),
        "wins": narrative.wins(summary),
        "risks": narrative.risks(summary),
        "has": lambda section: section in summary.get("sections", []),
        "anomalies_found": "anomalies" in report.frames and not report.frames["anomalies"].empty,
        **_benchmarks(report),
        **_creatives(report, root),
    }


def _benchmarks(report: Report) -> dict[str, Any]:
    """The Benchmarks page's helpers: each reads the section's tables only when called, so
    pages of a report without the section never touch them."""
    summary = report.summary
    currency = summary["currency"]

    def bench() -> dict:
        return summary.get("benchmarks") or {}

    def industry() -> str:
        return bench().get("group", {}).get("industry", "")

    def sources() -> Markup:
        return benchmark_tables.sources(
            report.frame("benchmark_sources"), report.frame("benchmarks"), bench().get("stale", [])
        )

    def has_trend() -> bool:
        trend = report.frames.get("benchmark_trend")
        return trend is not None and "pub_pct" in trend and bool(trend["pub_pct"].notna().any())

    return {
        "benchmark_story": narrative.benchmarks(summary),
        "benchmark_platforms": lambda: benchmark_tables.platforms(report.frame("benchmarks")),
        "benchmark_table": lambda platform: benchmark_tables.table(
            report.frame("benchmarks"), platform, currency=currency, industry=industry()
        ),
        "benchmark_sources": sources,
        "benchmark_levels": lambda: benchmark_tables.levels(report.frame("benchmarks"), industry()),
        "benchmark_region": lambda: benchmark_tables.region_name(
            bench().get("group", {}).get("region")
        ),
        "benchmark_cards": lambda: benchmark_tables.cards(bench().get("counts", {})),
        "benchmark_has_trend": has_trend,
    }


def _creatives(report: Report, root: str) -> dict[str, Any]:
    """The creative pages' helpers (A/B tests, versions), each reading its tables when
    called."""
    summary = report.summary
    currency = summary["currency"]
    tests = (summary.get("creatives") or {}).get("tests", [])

    def ads_of(test: dict) -> pd.DataFrame:
        ads = report.frame("ads")
        order = {str(a): i for i, a in enumerate(test["arms"])}
        chosen = ads[ads["ad_id"].astype(str).isin(order)]
        if test.get("platform") and (chosen["platform"] == test["platform"]).any():
            chosen = chosen[chosen["platform"] == test["platform"]]
        return chosen.sort_values("ad_id", key=lambda c: c.astype(str).map(order))

    def campaign_tests(slug: str) -> Markup:
        mine = [t for t in tests if t.get("campaign_slug") == slug]
        if not mine:
            return Markup("")
        return Markup("<h3>A/B tests</h3>") + creative_pages.tests_table(mine, root)

    def creative_history(slug: str) -> Markup:
        ads = report.frame("ads")
        ids = ads.loc[(ads["campaign_slug"] == slug) & (ads["versions"] > 1), "ad_id"]
        if ids.empty:
            return Markup("")
        body = creative_pages.history(report.frame("creative_history"), ids, root)
        return Markup("<h3>Versions</h3>") + body if body else Markup("")

    def campaign_link(test: dict) -> Markup:
        name = md(str(test.get("campaign_name") or "its campaign"))
        slug = str(test.get("campaign_slug") or "")
        if re.match(r"^c-[0-9a-f]{12}$", slug):
            return Markup(f'<a href="{root}campaigns/{slug}.html">{name}</a>')
        return Markup(name)

    def overview_tests(limit: int = 3) -> Markup:
        shown = tests[:limit]
        rest = f" and {len(tests) - limit} more" if len(tests) > limit else ""
        return creative_pages.tests_table(shown, root) + Markup(
            f'<p><a href="{root}tests/index.html">All {len(tests)} tests{rest and ""}</a>'
            f" with their creatives, intervals and p-values.</p>"
        )

    return {
        "creative_tests_table": lambda: creative_pages.tests_table(tests, root),
        "creative_splits_table": lambda: creative_pages.splits_table(
            report.frame("creative_splits")
        ),
        "campaign_tests": campaign_tests,
        "creative_history": creative_history,
        "campaign_link": campaign_link,
        "overview_tests": overview_tests,
        "test_sentences": creative_pages.test_sentences,
        "arms_table": lambda test, metric: creative_pages.arms_table(
            test["results"][metric], metric
        ),
        "test_gallery": lambda test: gallery.creative_gallery(
            _labelled(ads_of(test)),
            currency=currency,
            limit=None,
            root=root,
            filters=False,
            gallery_id=f"gallery-{test['id']}",
        ),
    }


def _labelled(ads: pd.DataFrame) -> pd.DataFrame:
    """The ads with each tag's label for the gallery's chips."""
    if "tags" not in ads:
        return ads
    labels = [{t: creative_tags.tag_labels(t) for t in tags} for tags in ads["tags"]]
    return ads.assign(tag_labels=labels)


def render_pages(report: Report, docs: Path, theme: str) -> list[dict]:
    """Write every generated page into ``docs``; returns the navigation for them."""
    env = _environment()
    sections = set(report.summary.get("sections", [])) | {None}
    nav: list[dict] = []
    for template, page, title, section in PAGES:
        if section not in sections:
            continue
        if template is None:
            nav.append({title: _funnel_pages(env, report, docs, theme)})
            continue
        root = "../" * page.count("/")
        _write(env, template, docs / page, page_context(report, theme, root))
        if page == "campaigns/index.md":
            nav.append({title: [page, *_campaign_pages(env, report, docs, theme)]})
        elif page == "tests/index.md":
            # the tests' own pages stay out of the menu (an ad group each: hundreds for a big
            # client, and every page would carry them all); the index and campaigns link them
            _test_pages(env, report, docs, theme)
            nav.append({title: page})
        else:
            nav.append({title: page})
    return nav


def _campaign_pages(env, report: Report, docs: Path, theme: str) -> list[dict]:
    context = page_context(report, theme, "../")
    entries = []
    for campaign in report.summary.get("campaigns", []):
        page = f"campaigns/{campaign['slug']}.md"
        _write(env, CAMPAIGN_TEMPLATE, docs / page, {**context, "campaign": campaign})
        entries.append({_short(campaign["campaign_name"]): page})
    return entries


def _test_pages(env, report: Report, docs: Path, theme: str) -> None:
    context = page_context(report, theme, "../")
    for test in report.summary["creatives"]["tests"]:
        _write(env, TEST_TEMPLATE, docs / f"tests/{test['id']}.md", {**context, "test": test})


def _funnel_pages(env, report: Report, docs: Path, theme: str) -> list[dict]:
    context = page_context(report, theme, "../")
    entries = []
    for funnel in report.summary["funnel"]["funnels"]:
        page = f"funnels/{funnel['slug']}.md"
        _write(env, FUNNEL_TEMPLATE, docs / page, {**context, "this": funnel})
        entries.append({_short(funnel["name"]): page})
    return entries


def _short(name: str, size: int = 48) -> str:
    """A nav title: characters that mean something to HTML or Jinja removed (the site's
    plugin escapes every title as well: this keeps a platform's markup out of the menu),
    cut short (a 300-character name would swamp the menu). The page's own heading keeps the
    full name."""
    name = " ".join(_UNSAFE.sub("", str(name)).split())
    return name if len(name) <= size else name[: size - 1] + "…"


def _write(env: jinja2.Environment, template: str, target: Path, context: dict) -> None:
    try:
        text = env.get_template(template).render(context)
    except jinja2.TemplateError as exc:
        raise BuildError(f"rendering {template}: {exc}") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
