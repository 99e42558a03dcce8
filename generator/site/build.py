"""Build one client's report site for one period with MkDocs Material.

The build happens in a scratch folder next to the output: pages rendered, the agency's
commentary copied, assets and the Vega bundle written, a ``mkdocs.yml`` that INHERITs the
base configuration and applies the client's branding, then ``mkdocs build``. Only a complete
site replaces the previous one at ``<out>/sites/<client>/<period>/``; a failed build leaves
the old site in place.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import yaml

from generator import charts
from generator.config import Agency, Client
from generator.creatives import THUMBNAIL, AssetStore
from generator.errors import BuildError
from generator.site import archive, vega
from generator.site.render import render_pages
from generator.site.report import Report
from generator.site.resources import base_config, templates_dir

__all__ = ["build_site"]

log = logging.getLogger("generator.site")


def build_site(
    report: Report,
    client: Client,
    agency: Agency,
    out: Path,
    results: Path,
    store: AssetStore | None = None,
) -> Path:
    """Build the site for ``report`` and return the folder it was published to.

    Args:
        report: the analysis (already loaded from ``results``).
        client, agency: configuration (branding, commentary pages).
        out: the output root; the site goes to ``out/sites/<client>/<period>/``.
        results: the analysis folder (handed to the macros for authored pages).
        store: where creatives' images are; their thumbnails are copied into the site.

    Raises:
        BuildError: naming the page or file that failed.
    """
    period = report.summary["period"]["label"]
    final = out / "sites" / client.slug / period
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".build-{client.slug}-{period}-", dir=final.parent))
    try:
        docs = work / "docs"
        theme = charts.register(
            f"client-{client.slug}", client.branding.primary_color, client.branding.accent_color
        )
        logo = _assets(docs, client, out / ".cache")
        if client.branding.logo and logo is None:
            report.summary.setdefault("warnings", []).append(
                f"The logo {client.branding.logo!r} named in client.yml was not found; "
                "the report shows the client's name instead."
            )
        _creative_images(docs, report, store)
        pages = render_pages(report, docs, theme)
        nav = [*pages[:-1], *_commentary(docs, client), pages[-1]]
        config = _write_config(work, client, agency, report, results, theme, logo, nav)
        _mkdocs_build(config, f"{client.slug} {period}", client.folder)
        _publish(work / "site", final)
        archive.update(final.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def _assets(docs: Path, client: Client, cache: Path) -> str | None:
    assets = docs / "assets"
    shutil.copytree(templates_dir() / "assets", assets)
    shutil.copyfile(vega.bundle(cache), assets / "vega.js")
    b = client.branding
    (assets / "brand.css").write_text(
        ":root, [data-md-color-scheme=default] {\n"
        f"  --md-primary-fg-color: {b.primary_color};\n"
        f"  --md-primary-fg-color--light: {b.primary_color}cc;\n"
        f"  --md-primary-fg-color--dark: {b.primary_color};\n"
        f"  --md-accent-fg-color: {b.accent_color};\n"
        f"  --report-accent: {b.accent_color};\n}}\n",
        encoding="utf-8",
    )
    if not b.logo:
        return None
    source = (client.folder / b.logo).resolve()
    if not source.is_file() or client.folder.resolve() not in source.parents:
        log.warning("%s: logo %s not found", client.slug, b.logo)
        return None
    target = assets / f"logo{source.suffix.lower()}"
    shutil.copyfile(source, target)
    return f"assets/{target.name}"


def _creative_images(docs: Path, report: Report, store: AssetStore | None) -> None:
    """Copy the thumbnails of this client's creatives (and only those) into the site."""
    ads = report.frames.get("ads")
    if store is None or ads is None or "asset_sha256" not in ads:
        return
    target = docs / "assets" / "creatives"
    for sha in ads["asset_sha256"].dropna().unique():
        source = store.path(str(sha), THUMBNAIL)
        if source.exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / f"{sha}.webp")


def _commentary(docs: Path, client: Client) -> list[dict[str, str]]:
    """Copy the agency's pages for this client; return their nav entries."""
    nav = []
    for page in client.commentary:
        target = docs / "commentary" / page.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)
        title = _title(page)
        nav.append({title: f"commentary/{page.name}"})
    return nav


def _title(page: Path) -> str:
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return page.stem.replace("-", " ").replace("_", " ").capitalize()


def _write_config(work, client, agency, report, results, theme, logo, nav) -> Path:
    period = report.summary["period"]
    config = {
        "INHERIT": str(base_config()),
        "site_name": f"{client.name} · {period['title']}",
        "site_description": f"{agency.name}: performance report for {client.name}",
        "docs_dir": "docs",
        "site_dir": "site",
        "copyright": f"Prepared by {agency.name}",
        "nav": nav,
        "extra": {
            "version": {"provider": "mike", "default": "latest", "alias": True},
            "report_data": str(results.resolve()),
            "chart_theme": theme,
            "generator": False,
        },
    }
    # here and absolute: MkDocs resolves a relative custom_dir against the child mkdocs.yml
    # (this scratch folder), not the INHERITed base that would name it
    config["theme"] = {"custom_dir": str(templates_dir() / "overrides")}
    if logo:
        config["theme"]["logo"] = logo
    path = work / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _mkdocs_build(config_file: Path, label: str, commentary: Path) -> None:
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's end-of-life banner
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    problems = _Collect()
    loggers = [logging.getLogger(n) for n in ("mkdocs", "mkdocs_macros", "material")]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
        logger.addHandler(problems)
    try:
        build(load_config(str(config_file)))
    except (MkDocsException, OSError, ValueError, SystemExit) as exc:
        detail = "; ".join(problems.messages[-3:]) or str(exc)
        detail = detail.replace("commentary/", f"{commentary}/")
        raise BuildError(f"building the {label} site failed: {detail}") from exc
    finally:
        for logger in loggers:
            logger.removeHandler(problems)


class _Collect(logging.Handler):
    """Keeps the warnings of a build so that a failure can say what went wrong, and where."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = " ".join(record.getMessage().split("```")[0].split())  # drop tracebacks
        self.messages.append(text[:400])


def _publish(built: Path, final: Path) -> None:
    """Swap the new site in; the previous one stays until the new one is complete."""
    trash = final.with_name(f".old-{final.name}")
    shutil.rmtree(trash, ignore_errors=True)
    if final.exists():
        final.rename(trash)
    built.rename(final)
    shutil.rmtree(trash, ignore_errors=True)
