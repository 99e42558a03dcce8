"""The README tells the truth: its platform table and its commands match the code."""

from __future__ import annotations

import re

import pytest
import typer.main

from generator.charts import PLATFORM_LABELS
from generator.cli import app
from generator.config import load_clients
from generator.connectors import CONNECTORS, connector_class

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
#: connector -> how the README's platform table names it: the report's label, except for the
#: connectors that are not one reported platform
NAMES = {
    **{c: PLATFORM_LABELS[c] for c in CONNECTORS if c in PLATFORM_LABELS and c != "file"},
    "meta": "Meta (Facebook + Instagram)",
    "ga4": "Google Analytics 4",
    "file": "CSV / XLSX exports",
}
#: what the README says a connector reads -> the canonical tables that means
READS = {
    "performance": "ad_performance",
    "actions": "actions",
    "site events": "site_funnel",
}


def _platform_rows() -> dict[str, list[str]]:
    section = README.split("## Platforms", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    cells = [[c.strip() for c in row.strip("|").split(" | ")] for row in rows[1:]]
    return {c[0]: c[1:] for c in cells if not set(c[0]) <= {"-"}}


def test_every_connector_has_a_row_and_nothing_is_planned():
    rows = _platform_rows()
    assert set(rows) == set(NAMES.values())
    assert set(NAMES) == set(CONNECTORS)
    assert not re.search(r"\b(planned|next|coming soon)\b", README.split("## Platforms")[1])


@pytest.mark.parametrize("connector", sorted(CONNECTORS))
def test_a_platform_row_matches_its_connector(connector):
    reads, api, _auth, _limits = _platform_rows()[NAMES[connector]]
    cls = connector_class(connector)
    for words, table in READS.items():
        assert (words in reads) == (table in cls.datasets), (connector, words)
    assert ("creatives" in reads) == cls.has_creatives, connector
    if connector != "file":
        assert re.search(rf"(?<![\w.]){re.escape(cls.api_version)}(?![\w])", api), api


def test_the_demo_uses_every_ad_platform_with_its_proper_name():
    clients = load_clients(REPO / "content")
    used = {a.platform for c in clients for a in c.accounts}
    assert used == set(CONNECTORS)
    for platform in set(CONNECTORS) - {"meta", "ga4", "file"}:
        assert PLATFORM_LABELS[platform] in NAMES[platform]
        assert PLATFORM_LABELS[platform] in README.split("## Platforms")[1].split("\n## ")[0]


def test_the_commands_table_lists_every_command():
    section = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`campaign-report ([a-z-]+)", section))
    commands = {c.name for c in typer.main.get_command(app).commands.values()}
    assert listed == commands
