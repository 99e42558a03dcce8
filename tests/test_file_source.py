"""File exports through the whole sync: the demo's vendor files, corrections, broken files."""

from __future__ import annotations

import asyncio
import csv
import io
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import duckdb
import httpx
import pytest
from openpyxl import load_workbook

from generator import pipeline
from generator.config import load_client
from generator.connectors import files, get_connector
from generator.connectors.exports import Cells, read_rows
from generator.errors import ExportInvalid
from generator.lake import Lake
from generator.pipeline.syncing import download_exports
from generator.sandbox import create_app, serve

from .connectors.test_files import client_with
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


# -- large exports (issue 13): streamed into columns, to exactly the rows of before

EXPORT_COLUMNS = {
    "date": "Day",
    "campaign_id": "Campaign ID",
    "campaign_name": "Campaign",
    "ad_group_name": "Placement",
    "ad_id": "Ad ID",
    "ad_name": "Ad",
    "impressions": "Impressions",
    "clicks": "Clicks",
    "video_views": "Views",
    "spend": "Cost",
    "conversions": "Conversions",
    "value": "Revenue",
}


def export_lines(seed: int = 13, count: int = 400) -> list[list[str]]:
    """Lines as vendors write them: days out of order and revisited, the same day and ad
    split over lines far apart (names as the first of them says), fractional conversions
    whose sum depends on the order of adding, quoted thousands, empty cells."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        day = date(2026, 9, 28) + timedelta(days=rng.randrange(8))  # across a month's end
        campaign, ad = rng.randrange(3), rng.randrange(4)
        impressions = rng.choice([0, 7, 1_250, 12_400])
        lines.append(
            [
                f"{day:%m/%d/%Y}",
                f"c{campaign}",
                rng.choice([f"Campaign {campaign}", f"Campaign {campaign} (renamed)"]),
                rng.choice(["Feed", "Stories"]),
                f"{campaign}-{ad}",
                rng.choice([f"Ad {ad}", ""]),
                f"{impressions:,}",
                str(impressions // 40),
                rng.choice(["", "3"]),
                f"${rng.randrange(0, 500_000) / 100:,.2f}",
                rng.choice(["0", "0.1", "0.2", "0.7", "1.3", ""]),
                rng.choice(["", "$19.99", "$1,104.25"]),
            ]
        )
    return lines


def write_export(folder, lines, *, blank_every: int = 37):
    out = io.StringIO()
    out.write("Vendor report\nGenerated 2026-10-06\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS.values())
    for i, line in enumerate(lines, 1):
        writer.writerow(line)
        if i % blank_every == 0:
            writer.writerow([""] * len(line))  # blank rows are skipped but keep their number
    writer.writerow(["Total"])
    path = folder / "export.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def export_client(tmp_path, path):
    section = {
        "path": str(path),
        "channel": "affiliates",
        "skip_rows": 2,
        "skip_footer": 1,
        "date_format": "%m/%d/%Y",
        "columns": EXPORT_COLUMNS,
    }
    return client_with(tmp_path, section, account_id="affiliates")


METRICS = ("impressions", "clicks", "spend_micros", "value_micros")


def rows_as_before(path, export) -> list[dict]:
    """The rows as the file source made them before it streamed: every line parsed at once,
    summed per day and ad in a dict, sorted by day, campaign and ad (stable)."""
    cells, summed = Cells(str(path), export), {}
    for line, raw in list(read_rows(path, export)):
        row = files._row(raw, line, cells, export.columns)
        key = (row["date"], row["campaign_id"], row["ad_group_id"], row["ad_id"])
        if key not in summed:
            summed[key] = row
            continue
        for metric in (*METRICS, "video_views", "conversions"):
            summed[key][metric] += row[metric]
    return sorted(summed.values(), key=lambda r: (r["date"], r["campaign_id"], r["ad_id"]))


def fetch_windows(client, windows, dataset="ad_performance"):
    async def run():
        account = client.accounts[0]
        async with get_connector("file", {}) as connector:
            connector.configure(client, account, {})
            span = await connector.coverage(account.account_id)
            tables = [await connector.fetch(dataset, account.account_id, *w) for w in windows]
        return span, tables

    return asyncio.run(run())


MONTHS = [(date(2026, 9, 1), date(2026, 9, 30)), (date(2026, 10, 1), date(2026, 10, 31))]


def arranged(lines: list[list[str]], arrangement: str) -> list[list[str]]:
    if arrangement == "sorted":  # by day and ad, as most vendors write: nothing to reorder
        return sorted(lines, key=lambda x: (datetime.strptime(x[0], "%m/%d/%Y"), x[1], x[4]))
    if arrangement == "reversed":
        return lines[::-1]
    if arrangement == "64-bit mid-file":  # a count and a cost past 32 bits, halfway through
        return [
            *lines[:200],
            [*lines[200][:6], "3,000,000,000", *lines[200][7:9], "$9,999.00", *lines[200][10:]],
            *lines[201:],
        ]
    return lines


@pytest.mark.parametrize("arrangement", ["random", "sorted", "reversed", "64-bit mid-file"])
def test_the_columns_read_give_exactly_the_rows_of_before(tmp_path, arrangement):
    """The sums (their float digits too), names and order of rows are those of the
    line-at-a-time reader, whatever the order of the lines: a day's lines and a day-and-ad's
    lines are far apart, days revisited, windows end at a month's end."""
    path = write_export(tmp_path, arranged(export_lines(), arrangement))
    client = export_client(tmp_path, path)
    expected = rows_as_before(path, client.accounts[0].file)
    assert len(expected) < 400  # lines were folded
    span, tables = fetch_windows(client, MONTHS)
    assert span == (date(2026, 9, 28), date(2026, 10, 5))
    got = [r for t in tables for r in t.to_pylist()]
    assert [{k: r[k] for k in expected[0]} for r in got] == expected
    assert {(r["platform"], r["source"], r["account_id"]) for r in got} == {
        ("affiliates", "file", "affiliates")
    }
    _, actions = fetch_windows(client, MONTHS, "actions")
    converted = [r for r in expected if r["conversions"] or r["value_micros"]]
    assert [
        (a["date"], a["ad_id"], a["count"], a["value_micros"])
        for t in actions
        for a in t.to_pylist()
    ] == [(r["date"], r["ad_id"], r["conversions"], r["value_micros"]) for r in converted]


def test_float_sums_keep_the_order_of_the_lines(tmp_path):
    """0.1 + (0.2 + 0.7) is not (0.1 + 0.2) + 0.7 in floats: sums add in the file's order."""
    line = ["10/01/2026", "c1", "C", "Feed", "a", "A", "1", "0", "", "$1.00"]
    lines = [[*line, c, ""] for c in ("0.1", "0.2", "0.7", "1e-17")]
    path = write_export(tmp_path, lines)
    (table,) = fetch_windows(export_client(tmp_path, path), MONTHS[1:])[1]
    assert table.column("conversions").to_pylist() == [((0.1 + 0.2) + 0.7) + 1e-17]


def test_a_bad_cell_far_into_the_export_names_its_line(tmp_path):
    lines = export_lines(count=60)
    lines[49][6] = "lots"  # the 50th data line: 2 preamble lines, a header, one blank row
    path = write_export(tmp_path, lines)
    with pytest.raises(ExportInvalid) as caught:
        fetch_windows(export_client(tmp_path, path), MONTHS)
    assert "export.csv, line 54, column 'Impressions'" in str(caught.value)
    assert "'lots' is not a number" in str(caught.value)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            [["10/01/2026", "c", "C", "F", "a", "A", str(2**63), "0", "", "$1", "0", ""]],
            "too large",
        ),
        (
            [["10/01/2026", "c", "C", "F", "a", "A", str(2**62), "0", "", "$1", "0", ""]] * 2,
            "the impressions of one day and ad add up to too much",
        ),
    ],
)
def test_numbers_beyond_64_bits_are_refused_not_wrapped(tmp_path, lines, message):
    path = write_export(tmp_path, lines)
    with pytest.raises(ExportInvalid, match=message):
        fetch_windows(export_client(tmp_path, path), MONTHS)


def test_an_export_of_only_a_header_covers_nothing(tmp_path):
    path = write_export(tmp_path, [])
    span, tables = fetch_windows(export_client(tmp_path, path), MONTHS)
    assert span is None and [t.num_rows for t in tables] == [0, 0]


def test_rows_are_read_as_they_are_taken(tmp_path):
    """The first rows come before a broken byte far into the file is even read."""
    path = tmp_path / "export.csv"
    path.write_bytes(b"Day,Campaign\n" + b"10/01/2026,a\n" * 50_000 + b"10/02/2026,\xff\n")
    export = only_date_and_campaign(tmp_path, path)
    rows = read_rows(path, export)
    assert next(rows) == (2, {"Day": "10/01/2026", "Campaign": "a"})
    with pytest.raises(ExportInvalid, match="not UTF-8"):
        list(rows)


def test_the_footer_is_held_back_and_blank_rows_keep_their_number(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Day,Campaign\n10/01/2026,a\n\n10/02/2026,b\n,\nTotal,\nNote,\n")
    export = only_date_and_campaign(tmp_path, path, skip_footer=2)
    assert list(read_rows(path, export)) == [
        (2, {"Day": "10/01/2026", "Campaign": "a"}),
        (4, {"Day": "10/02/2026", "Campaign": "b"}),
    ]
    short = export.model_copy(update={"skip_footer": 100})
    assert list(read_rows(path, short)) == []


def only_date_and_campaign(tmp_path, path, **overrides):
    columns = {"date": "Day", "campaign_name": "Campaign"}
    section = {"path": str(path), "channel": "affiliates", "columns": columns, **overrides}
    return client_with(tmp_path, section).accounts[0].file
