"""A small report site built from hostile configuration and commentary (issue 13, item 1).

Every string an agency writes (client name, agency name, a commentary page's title, body and
front matter) carries script; the site must show each as text and run none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.config import Agency, Client
from generator.site.build import build_site
from generator.site.report import Report

from ..report_data import make_report


def img(n: int) -> str:
    """An image whose onerror marks ``window.__xss`` with ``n`` (and opens a dialog)."""
    return f'<img src=x onerror="window.__xss={n};alert({n})">'


CLIENT = f"Acme {img(1)} & Sons"
AGENCY = f"Lighthouse {img(2)}"
#: the commentary page's title as written; the macro in it renders the client's name
TITLE = "Notes <script>window.__xss=3</script> for {{ client.name }}"
TITLE_SHOWN = f"Notes <script>window.__xss=3</script> for {CLIENT}"
FRONT_TITLE = f"Plan {img(9)}"
NOTES = f"""# {TITLE}

Written for {{{{ client.name }}}} by {{{{ agency.name }}}}.

<script>window.__xss=4</script>

An image {img(5)} and <b>bold</b> and <sup>2</sup>.

[click me](javascript:window.__xss=6) and
[a real link](https://example.com/ "<img src=x onerror=window.__xss=11>")
and <abbr title="<img src=x onerror=window.__xss=12>">ROAS</abbr>

A paragraph with a handler{{: onclick="window.__xss=7" #__config }}

<div id="chart-daily-spend" onmouseover="window.__xss=8">{{"$schema": "x"}}</div>

> **Markdown** stays `<b>Markdown</b>`.

ROAS was {{{{ metric("roas") }}}}.

{{{{ table("campaigns", 1) }}}}

{{{{ chart("daily_spend") }}}}
"""
PLAN = f"""---
title: '{FRONT_TITLE}'
description: '{img(10)}'
---

Nothing else.
"""


@dataclass(frozen=True)
class HostileSite:
    out: Path
    site: Path
    content: Path


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory) -> HostileSite:
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "content" / "acme"
    folder.mkdir(parents=True)
    (folder / "notes.md").write_text(NOTES, encoding="utf-8")
    (folder / "plan.md").write_text(PLAN, encoding="utf-8")
    client = Client.model_validate(
        {
            "slug": "acme",
            "name": CLIENT,
            "industry": "retail",
            "currency": "USD",
            "timezone": "UTC",
            "accounts": [{"platform": "google_ads", "account_id": "1"}],
            "folder": folder,
        }
    )
    report = make_report()
    report.summary["client"] = {**report.summary["client"], "name": CLIENT}
    report.summary["agency"] = {"name": AGENCY}
    out = root / "out"
    results = out / "results" / "acme"
    report.save(results)
    site = build_site(Report.load(results), client, Agency(name=AGENCY), out, results)
    return HostileSite(out, site, folder)
