"""File exports through the whole sync: the demo's vendor files, corrections, broken files."""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from datetime import UTC, date, datetime

import duckdb
import httpx
import pytest
from openpyxl import load_workbook

from generator import pipeline
from generator.config import load_client
from generator.lake import Lake
from generator.pipeline.syncing import download_exports
from generator.sandbox import create_app, serve

from .test_pipeline import only_google

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
START = date(2026, 6, 1)


def run(clients, lake, exports):
    return asyncio.run(
        pipeline.sync(clients, lake, start=START, env={"CAMPAIGN_EXPORTS": str(exports)}, now=NOW)
    )


def world_totals(world, account_id):
    con = duckdb.connect()
    con.register("p", world.reported(NOW.date()))
    return con.sql(
        "SELECT count(DISTINCT date), sum(impressions)::BIGINT, sum(clicks)::BIGINT, "
        "sum(spend_micros)::BIGINT, sum(conversions)::BIGINT, sum(value_micros)::BIGINT "
        f"FROM p WHERE account_id = '{account_id}' AND date BETWEEN '{START}' AND '2026-11-23'"
    ).fetchall()[0]


def lake_totals(lake, account_id):
    return tuple(
        lake.query(
            "SELECT count(DISTINCT date), sum(impressions)::BIGINT, sum(clicks)::BIGINT, "
            "sum(spend_micros)::BIGINT, sum(conversions)::BIGINT, sum(value_micros)::BIGINT "
            f"FROM ad_performance WHERE account_id = '{account_id}'"
        )
        .to_pylist()[0]
        .values()
    )


@pytest.fixture(scope="module")
def vendor_files(world, tmp_path_factory):
    """The demo's exports as the sandbox serves them, saved like an agency would."""
    folder = tmp_path_factory.mktemp("exports")
    from tests.conftest import REPO

    clients = [load_client(REPO / "content" / slug) for slug in ("northwind", "harbor")]
    with serve(create_app(world, now=NOW)) as sandbox:
        saved = download_exports(clients, sandbox.base_url("file"), folder)
        missing = httpx.get(f"{sandbox.base_url('file')}/exports/harbor/nothing.csv")
    assert missing.status_code == 404
    return folder, saved


def test_the_demo_exports_look_like_vendor_files(vendor_files):
    folder, saved = vendor_files
    assert sorted(p.name for p in saved) == ["newsletter.csv", "offline.xlsx"]
    text = (folder / "northwind" / "newsletter.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Northwind Outfitters") and lines[2].startswith("Send date,")
    assert lines[-1].startswith("Total,") and '"$' in text  # dollar amounts with separators
    book = load_workbook(io.BytesIO((folder / "harbor" / "offline.xlsx").read_bytes()))
    assert book.sheetnames == ["Notes", "Daily"]
    assert isinstance(book["Daily"]["A2"].value, datetime)


def test_the_exports_sync_to_exactly_the_worlds_numbers(world, content, tmp_path, vendor_files):
    folder, _ = vendor_files
    lake = Lake(tmp_path / "lake")
    clients = [only_google(content, "northwind", "file"), only_google(content, "harbor", "file")]
    outcome = run(clients, lake, folder)
    assert [o.status for o in outcome] == ["ok", "ok"], [o.message for o in outcome]
    for account in ("newsletter", "offline"):
        assert lake_totals(lake, account) == world_totals(world, account)
    channels = lake.query("SELECT DISTINCT platform, source FROM ad_performance ORDER BY 1")
    assert channels.to_pylist() == [
        {"platform": "newsletter", "source": "file"},
        {"platform": "offline", "source": "file"},
    ]
    leads = lake.query(
        "SELECT sum(count) AS n FROM actions WHERE account_id = 'offline' AND action_type = 'lead'"
    )
    assert leads.to_pylist()[0]["n"] == world_totals(world, "offline")[4]


def test_a_corrected_partial_export_replaces_only_its_days(content, tmp_path, vendor_files):
    folder, _ = vendor_files
    lake = Lake(tmp_path / "lake")
    client = only_google(content, "northwind", "file")
    run([client], lake, folder)
    before = lake.query(
        "SELECT date, sum(clicks)::BIGINT AS clicks FROM ad_performance GROUP BY 1 ORDER BY 1"
    ).to_pylist()

    # the vendor re-sends only November 2026, with every click count corrected to 1
    lines = (folder / "northwind" / "newsletter.csv").read_text(encoding="utf-8-sig").splitlines()
    header, *rows = list(csv.reader(lines[2:-1]))
    november = [[*r[:5], "1", *r[6:]] for r in rows if r[0].startswith("11/") and "/2026" in r[0]]
    sends = Counter(datetime.strptime(r[0], "%m/%d/%Y").date() for r in november)
    corrected = tmp_path / "corrected"
    (corrected / "northwind").mkdir(parents=True)
    with (corrected / "northwind" / "newsletter.csv").open("w", newline="") as stream:
        stream.write("\n".join(lines[:2]) + "\n")
        csv.writer(stream).writerows([header, *november, ["Total"]])
    (outcome,) = run([client], lake, corrected)
    assert outcome.status == "ok"
    after = {
        r["date"]: r["clicks"]
        for r in lake.query(
            "SELECT date, sum(clicks)::BIGINT AS clicks FROM ad_performance GROUP BY 1"
        ).to_pylist()
    }
    for row in before:
        if row["date"] >= date(2026, 11, 1):
            assert after[row["date"]] == sends[row["date"]]  # one click per email now
        else:
            assert after[row["date"]] == row["clicks"]  # October and before untouched


def test_a_broken_export_fails_the_account_and_keeps_what_is_stored(
    content, tmp_path, vendor_files
):
    folder, _ = vendor_files
    lake = Lake(tmp_path / "lake")
    client = only_google(content, "northwind", "file")
    run([client], lake, folder)
    stored = lake_totals(lake, "newsletter")
    broken = tmp_path / "broken"
    (broken / "northwind").mkdir(parents=True)
    lines = (folder / "northwind" / "newsletter.csv").read_text(encoding="utf-8-sig").splitlines()
    lines[10] = "13/45/2026" + lines[10][len("MM/DD/YYYY") :]
    (broken / "northwind" / "newsletter.csv").write_text("\n".join(lines))
    (outcome,) = run([client], lake, broken)
    assert outcome.status == "failed"
    assert "newsletter.csv, line 11, column 'Send date'" in outcome.message
    assert lake_totals(lake, "newsletter") == stored
    assert lake.state.get("northwind", "file", "newsletter").status == "failed"
