"""Build one client's report site for one period with MkDocs Material.

The build happens in a scratch folder, ``<out>/.scratch/``, outside the published sites:
pages rendered, the agency's commentary copied, assets and the Vega bundle written, a
``mkdocs.yml`` that INHERITs the base configuration and applies the client's branding, then
``mkdocs build``. Unless agency.yml says ``site: {noindex: false}``, every page asks search
engines not to index it (a robots meta tag, see ``overrides/main.html``) and the site has a
``robots.txt`` that disallows everything. Only a complete site replaces the previous one at
``<out>/sites/<client>/<period>/``; a failed build leaves the old site in place.

A build holds a lock on its scratch folder while it runs; a folder nobody holds belongs to a
build that was killed and is removed by the next build (of any client: builds of other
clients running at the same time hold theirs).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from generator import charts
from generator.config import Agency, Client
from generator.creatives import THUMBNAIL, AssetStore
from generator.errors import BuildError
from generator.lake.files import atomic_write_bytes
from generator.site import archive, vega
from generator.site.plugin import NAME as PLUGIN
from generator.site.plugin import ReportPlugin
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
        store: the client's creative images; the thumbnails its ads show are copied into
            the site, and an ad whose image is not there says why (``asset_note``).

    Raises:
        BuildError: naming the page or file that failed.
    """
    period = report.summary["period"]["label"]
    final = out / "sites" / client.slug / period
    final.parent.mkdir(parents=True, exist_ok=True)
    _sweep_published(final.parent)
    with _scratch(out / ".scratch", f"build-{client.slug}-{period}-") as work:
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
        if agency.site.noindex:
            (docs / "robots.txt").write_text(ROBOTS, encoding="utf-8")
        ads = _creative_images(docs, report, store)
        if ads is not None:  # the pages, and the macros of authored pages, see the notes
            report = Report(report.summary, {**report.frames, "ads": ads})
            results = _analysis_copy(results, work / "analysis", ads)
        pages = render_pages(report, docs, theme)
        nav = [*pages[:-1], *_commentary(docs, client), pages[-1]]
        config = _write_config(work, client, agency, report, results, theme, logo, nav)
        _mkdocs_build(config, f"{client.slug} {period}", client.folder)
        _publish(work / "site", final, work / "previous")
        archive.update(final.parent, noindex=agency.site.noindex)
    return final


@contextlib.contextmanager
def _scratch(root: Path, prefix: str) -> Iterator[Path]:
    """A new folder under ``root``, locked while the build runs, removed after it.

    The folder is made and locked under a name the sweep ignores, then renamed: a build
    starting at the same moment never sees it unlocked.
    """
    root.mkdir(parents=True, exist_ok=True)
    _sweep(root)
    claim = Path(tempfile.mkdtemp(prefix=".claim-", dir=root))
    handle = os.open(claim, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        work = root / (prefix + claim.name.removeprefix(".claim-"))
        claim.rename(work)
        try:
            yield work
        finally:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        os.close(handle)  # releases the lock, as a killed build's exit does


def _sweep(root: Path) -> None:
    """Remove the scratch folders of builds that are gone (nobody holds their lock).

    A ``.claim-*`` folder is renamed a moment after it is made; one an hour old belongs to a
    build killed in that moment (it is empty).
    """
    for folder in root.iterdir():
        if folder.name.startswith(".claim-") and _age(folder) > 3600:
            shutil.rmtree(folder, ignore_errors=True)
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        try:
            handle = os.open(folder, os.O_RDONLY)
        except OSError:
            continue  # removed meanwhile
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a running build's
        else:
            log.info("removing %s, left by a build that did not finish", folder)
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(handle)


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


#: what a site's robots.txt says unless agency.yml turns ``site.noindex`` off
ROBOTS = "User-agent: *\nDisallow: /\n"


def _creative_images(docs: Path, report: Report, store: AssetStore | None) -> pd.DataFrame | None:
    """Copy the thumbnails of this client's creatives (and only those) into the site.

    Returns the ads table with ``asset_note``, why an ad's image is not shown where it is
    not (removed by retention, refused or not found at download, missing from the store);
    None when there is nothing to say (or no store, or no creatives).
    """
    ads = report.frames.get("ads")
    if store is None or ads is None or "asset_sha256" not in ads:
        return None
    target = docs / "assets" / "creatives"
    refused = {
        (account, ad): reason
        for accounts in store.missing().values()
        for account, ads_of in accounts.items()
        for ad, reason in ads_of.items()
    }
    copied: dict[str, str | None] = {}
    notes = []
    for account, ad, sha in ads[["account_id", "ad_id", "asset_sha256"]].itertuples(index=False):
        if not isinstance(sha, str) or not _SHA.match(sha):
            reason = refused.get((str(account), str(ad)))
            notes.append(f"image not stored: {reason}"[:300] if reason else None)
            continue
        if sha not in copied:
            copied[sha] = _copy_thumbnail(store, sha, target)
        notes.append(copied[sha])
    for sha in _other_images(report, ads):  # carousel cards, earlier versions
        if sha not in copied:
            copied[sha] = _copy_thumbnail(store, sha, target)
    return ads.assign(asset_note=notes) if any(notes) else None


def _other_images(report: Report, ads: pd.DataFrame) -> list[str]:
    """The images the pages show besides each ad's own: its carousel's cards and the
    pictures of its creative's earlier versions."""
    found = []
    for cards in ads.get("cards", []):
        if cards is not None and len(cards):
            found += [card.get("asset_sha256") for card in cards]
    history = report.frames.get("creative_history")
    if history is not None and "asset_sha256" in history:
        shown = set(ads["ad_id"].astype(str))
        found += history.loc[history["ad_id"].astype(str).isin(shown), "asset_sha256"].tolist()
    return [sha for sha in dict.fromkeys(found) if isinstance(sha, str) and _SHA.match(sha)]


_SHA = re.compile(r"^[0-9a-f]{64}$")


def _copy_thumbnail(store: AssetStore, sha: str, target: Path) -> str | None:
    """Copy the asset's thumbnail into the site; None, or why it is not there."""
    source = store.find(sha, THUMBNAIL)
    if source is not None:
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / f"{sha}.webp")
        return None
    gone = (store.manifest(sha) or {}).get("removed")
    if isinstance(gone, dict) and gone.get("reason") == "retention":
        return f"asset removed after {int(gone.get('retention_days') or 0)} days (retention policy)"
    return "image missing from the asset store"


def _analysis_copy(results: Path, folder: Path, ads: pd.DataFrame) -> Path:
    """The analysis for the macros of authored pages, with the ads table the pages show."""
    shutil.copytree(results, folder)
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(ads, preserve_index=False), sink)
    atomic_write_bytes(folder / "ads.parquet", sink.getvalue().to_pybytes())
    return folder


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _sweep_published(client_root: Path) -> None:
    """What earlier versions left among a client's published sites when a build was killed:
    ``.build-*`` scratch folders go; a ``.old-<period>`` is the last site of a period whose
    new site never arrived, and is put back if the period has none."""
    for folder in client_root.glob(".build-*"):
        shutil.rmtree(folder, ignore_errors=True)
    for folder in client_root.glob(".old-*"):
        site = folder.with_name(folder.name.removeprefix(".old-"))
        if site.exists():
            shutil.rmtree(folder, ignore_errors=True)
        else:
            folder.rename(site)


def _commentary(docs: Path, client: Client) -> list[dict[str, str]]:
    """Copy the agency's pages for this client; return their nav entries.

    The entries carry no title: the plugin takes it from the rendered page (its front
    matter's title or first heading, macros rendered and escaped, see ``site.plugin``).
    """
    nav = []
    for page in client.commentary:
        target = docs / "commentary" / page.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)
        nav.append(f"commentary/{page.name}")
    return nav


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
        "not_in_nav": "/tests/g-*.md\n/tests/t-*.md",  # linked from the A/B tests page
        "extra": {
            "version": {"provider": "mike", "default": "latest", "alias": True},
            "report_data": str(results.resolve()),
            "chart_theme": theme,
            "generator": False,
            "noindex": agency.site.noindex,
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
        config = load_config(str(config_file))
        config.plugins[PLUGIN] = ReportPlugin()
        build(config)
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


def _publish(built: Path, final: Path, trash: Path) -> None:
    """Swap the new site in; the previous one stays until the new one is complete.

    ``trash`` (in the build's scratch folder, on the same file system) receives the previous
    site, so nothing but complete sites ever stands among the published ones.
    """
    if final.exists():
        final.rename(trash)
    built.rename(final)
    shutil.rmtree(trash, ignore_errors=True)
