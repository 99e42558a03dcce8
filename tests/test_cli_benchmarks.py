"""``campaign-report benchmarks import/list``: fast, on temporary folders, no sandbox."""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from generator import cli, cli_common
from generator.cli import app

from .pipeline.test_benchmark_editions import write_edition

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """A console wide enough that table cells are not folded across lines."""
    wide = Console(emoji=False, width=200)
    monkeypatch.setattr(cli, "console", wide)
    monkeypatch.setattr(cli_common, "console", wide)


def _run(*args):
    return runner.invoke(app, ["benchmarks", *map(str, args)])


def test_list_shows_the_seed_editions_with_age_and_staleness(tmp_path):
    result = _run("list", "--out", tmp_path, "--today", "2026-12-07")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    ws_2026 = next(x for x in lines if "wordstream-search" in x and " 2026 " in x)
    for cell in ("WordStream / LocaliQ", "2026-06-01", "2026-03-31", "6 mo", "seed", " C "):
        assert cell in ws_2026
    assert "stale" not in ws_2026
    ws_2018 = next(x for x in lines if "wordstream-search" in x and " 2018 " in x)
    assert "102 mo stale" in ws_2018
    assert "klaviyo-email" in result.output and "mailchimp-email" in result.output
    assert "published more than 18 months before 2026-12-07" in result.output
    assert str((tmp_path / "benchmarks").resolve()) in result.output
    assert not (tmp_path / "benchmarks").exists()


def test_import_then_list(tmp_path):
    path = write_edition(tmp_path / "acme.csv", [{}])
    result = _run("import", path, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "added     acme-search 2027" in result.output and "1 rows imported" in result.output
    assert str((tmp_path / "out" / "benchmarks").resolve()) in result.output
    listed = _run("list", "--out", tmp_path / "out", "--today", "2027-07-01")
    row = next(x for x in listed.output.splitlines() if "acme-search" in x)
    assert "imported" in row and "1 mo" in row and "Acme" in row


def test_a_duplicate_is_refused_until_replaced_with_a_reason(tmp_path):
    out = tmp_path / "out"
    path = write_edition(tmp_path / "acme.csv", [{}])
    assert _run("import", path, "--out", out).exit_code == 0

    again = _run("import", path, "--out", out)
    assert again.exit_code == 1
    text = again.output.replace("\n", " ")
    assert "error:" in text and "acme-search 2027" in text and '--replace --reason "..."' in text

    no_reason = _run("import", path, "--out", out, "--replace")
    assert no_reason.exit_code == 1 and "--reason" in no_reason.output

    replaced = _run("import", path, "--out", out, "--replace", "--reason", "typo in CPC")
    assert replaced.exit_code == 0, replaced.output
    assert "replaced  acme-search 2027" in replaced.output
    history = (out / "benchmarks" / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["reason"] for x in history] == ["typo in CPC"]


def test_a_bad_file_names_line_and_column(tmp_path):
    path = write_edition(tmp_path / "acme.csv", [{}, {"value": "twelve"}])
    result = _run("import", path, "--out", tmp_path / "out")
    assert result.exit_code == 1
    text = result.output.replace("\n", " ")
    assert "error:" in text and "line 3, column 'value': 'twelve'" in text
    assert not (tmp_path / "out").exists()


def test_a_missing_file(tmp_path):
    result = _run("import", tmp_path / "nope.csv", "--out", tmp_path)
    assert result.exit_code == 1 and "file not found" in result.output
