"""The file source: CSV/XLSX exports mapped by client.yml, with errors that point at the cell."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import pytest
import yaml
from openpyxl import Workbook

from generator.config import load_client
from generator.connectors import get_connector
from generator.errors import ConfigError, ExportInvalid

NEWSLETTER = """Newsletter performance
Exported 2026-11-24 12:00 UTC
Send date,Campaign,Email,Opens,Clicks,Cost,Orders,Revenue
10/01/2026,Weekly picks,Issue 40,"12,400",310,"$1,234.50",9,"$1,104.25"
10/01/2026,Weekly picks,Issue 40,100,10,$0.50,1,$10.00
10/08/2026,Weekly picks,Issue 41,"11,900",295,$980.00,0,
Total,,,"24,400",615,"$2,215.00",10,"$1,114.25"
"""

COLUMNS = {
    "date": "Send date",
    "campaign_name": "Campaign",
    "ad_name": "Email",
    "impressions": "Opens",
    "clicks": "Clicks",
    "spend": "Cost",
    "conversions": "Orders",
    "value": "Revenue",
}


def client_with(tmp_path, file_section: dict, account_id: str = "newsletter"):
    folder = tmp_path / "acme"
    folder.mkdir(exist_ok=True)
    data = {
        "slug": "acme",
        "name": "Acme",
        "industry": "ecommerce",
        "currency": "USD",
        "timezone": "America/New_York",
        "accounts": [{"platform": "file", "account_id": account_id, "file": file_section}],
    }
    (folder / "client.yml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return load_client(folder)


def newsletter_section(**overrides):
    section = {
        "path": "exports/newsletter.csv",
        "channel": "newsletter",
        "skip_rows": 2,
        "skip_footer": 1,
        "date_format": "%m/%d/%Y",
        "columns": COLUMNS,
    }
    return {**section, **overrides}


def write(tmp_path, name, text):
    path = tmp_path / "acme" / "exports" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


async def fetch(client, dataset="ad_performance", start=date(2026, 1, 1), end=date(2026, 12, 31)):
    account = client.accounts[0]
    async with get_connector("file", {}) as connector:
        connector.configure(client, account, {})
        return await connector.fetch(dataset, account.account_id, start, end)


def test_a_csv_export_with_preamble_footer_and_us_formats(tmp_path):
    client = client_with(tmp_path, newsletter_section())
    write(tmp_path, "newsletter.csv", NEWSLETTER)
    rows = asyncio.run(fetch(client)).to_pylist()
    assert [(r["date"], r["ad_id"]) for r in rows] == [
        (date(2026, 10, 1), "Issue 40"),
        (date(2026, 10, 8), "Issue 41"),
    ]
    first = rows[0]  # the two Issue 40 lines of Oct 1 summed
    assert (first["impressions"], first["clicks"], first["conversions"]) == (12_500, 320, 10.0)
    assert (first["spend_micros"], first["value_micros"]) == (1_235_000_000, 1_114_250_000)
    assert first["platform"] == "newsletter" and first["source"] == "file"
    assert first["campaign_id"] == first["campaign_name"] == "Weekly picks"
    assert first["ad_group_id"] == "Weekly picks"  # no ad group column: the campaign's
    assert first["currency"] == "USD" and first["account_timezone"] == "America/New_York"
    assert first["api_version"].startswith("csv:")
    assert rows[1]["value_micros"] == 0  # an empty cell is zero


def test_actions_carry_the_configured_action_in_the_default_window(tmp_path):
    client = client_with(tmp_path, newsletter_section(action_type="purchase"))
    write(tmp_path, "newsletter.csv", NEWSLETTER)
    actions = asyncio.run(fetch(client, "actions")).to_pylist()
    assert [(a["action_type"], a["attribution_window"], a["count"]) for a in actions] == [
        ("purchase", "default", 10.0)
    ]
    assert actions[0]["value_micros"] == 1_114_250_000


def test_only_the_requested_days_are_returned_and_coverage_spans_the_file(tmp_path):
    client = client_with(tmp_path, newsletter_section())
    write(tmp_path, "newsletter.csv", NEWSLETTER)
    rows = asyncio.run(fetch(client, start=date(2026, 10, 2), end=date(2026, 10, 31)))
    assert rows.column("date").to_pylist() == [date(2026, 10, 8)]

    async def span():
        async with get_connector("file", {}) as connector:
            connector.configure(client, client.accounts[0], {})
            return await connector.coverage("newsletter")

    assert asyncio.run(span()) == (date(2026, 10, 1), date(2026, 10, 8))


def test_european_numbers_and_iso_dates(tmp_path):
    text = "Datum;Kampagne;Kosten;Umsatz\n2026-10-01;Herbst;1.234,50 €;2.000,00 €\n"
    columns = {"date": "Datum", "campaign_name": "Kampagne", "spend": "Kosten", "value": "Umsatz"}
    section = {
        "path": "exports/de.csv",
        "channel": "affiliates",
        "delimiter": ";",
        "decimal": ",",
        "currency": "EUR",
        "columns": columns,
    }
    client = client_with(tmp_path, section)
    write(tmp_path, "de.csv", text)
    (row,) = asyncio.run(fetch(client)).to_pylist()
    assert (row["spend_micros"], row["value_micros"], row["currency"]) == (
        1_234_500_000,
        2_000_000_000,
        "EUR",
    )


@pytest.mark.parametrize(
    ("cell", "column", "problem"),
    [
        ('"$12,5x"', "Cost", "'$12,5x' is not a number"),
        ("-4", "Opens", "must be a number of 0 or more"),
        ("12.5", "Opens", "is not a whole number"),
        ("($3.00)", "Cost", "must be a number of 0 or more"),
    ],
)
def test_a_bad_cell_names_file_line_and_column(tmp_path, cell, column, problem):
    values = {"Opens": "100", "Cost": "$1.00"} | {column: cell}
    text = NEWSLETTER.replace(
        '10/08/2026,Weekly picks,Issue 41,"11,900",295,$980.00,0,',
        f"10/08/2026,Weekly picks,Issue 41,{values['Opens']},295,{values['Cost']},0,",
    )
    client = client_with(tmp_path, newsletter_section())
    path = write(tmp_path, "newsletter.csv", text)
    with pytest.raises(ExportInvalid) as err:
        asyncio.run(fetch(client))
    assert err.value.file == str(path) and err.value.line == 6 and err.value.column == column
    assert problem in str(err.value) and f"line 6, column {column!r}" in str(err.value)


def test_a_bad_date_and_an_empty_campaign(tmp_path):
    client = client_with(tmp_path, newsletter_section())
    write(tmp_path, "newsletter.csv", NEWSLETTER.replace("10/08/2026", "2026-10-08"))
    with pytest.raises(ExportInvalid, match=r"line 6, column 'Send date'.*%m/%d/%Y"):
        asyncio.run(fetch(client))
    write(tmp_path, "newsletter.csv", NEWSLETTER.replace("10/08/2026,Weekly picks", "10/08/2026,"))
    with pytest.raises(ExportInvalid, match=r"line 6, column 'Campaign': is empty"):
        asyncio.run(fetch(client))


def test_a_renamed_header_and_a_missing_file_are_explained(tmp_path):
    client = client_with(tmp_path, newsletter_section())
    write(tmp_path, "newsletter.csv", NEWSLETTER.replace("Orders", "Purchases"))
    with pytest.raises(ExportInvalid, match=r"line 3: no column 'Orders' in the header \(found:"):
        asyncio.run(fetch(client))
    (tmp_path / "acme" / "exports" / "newsletter.csv").unlink()
    with pytest.raises(ExportInvalid, match="does not exist"):
        asyncio.run(fetch(client))


def test_text_that_is_not_utf8_is_refused_with_the_fix(tmp_path):
    client = client_with(tmp_path, newsletter_section())
    path = write(tmp_path, "newsletter.csv", "")
    path.write_bytes(NEWSLETTER.replace("Weekly", "Wöchentlich").encode("latin-1"))
    with pytest.raises(ExportInvalid, match="save the export as CSV UTF-8"):
        asyncio.run(fetch(client))


def workbook(path, rows, *, notes=True):
    book = Workbook()
    if notes:
        book.active.title = "Notes"
        book.active.append(["Radio flight report"])
        sheet = book.create_sheet("Daily")
    else:
        sheet = book.active
    for row in rows:
        sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


RADIO = {
    "date": "Day",
    "campaign_name": "Campaign",
    "ad_group_name": "Station",
    "ad_id": "Spot id",
    "impressions": "Listeners",
    "clicks": "Calls",
    "spend": "Spend",
    "conversions": "Appointments",
}


def test_an_xlsx_export_with_excel_dates_numbers_and_a_chosen_sheet(tmp_path):
    section = {
        "path": "exports/radio.xlsx",
        "channel": "offline",
        "sheet": "Daily",
        "action_type": "lead",
        "columns": RADIO,
    }
    client = client_with(tmp_path, section, "radio")
    header = [
        "Day",
        "Campaign",
        "Station",
        "Spot id",
        "Listeners",
        "Calls",
        "Spend",
        "Appointments",
    ]
    workbook(
        tmp_path / "acme" / "exports" / "radio.xlsx",
        [
            header,
            [datetime(2026, 10, 1), "Morning drive", "KQED", 7, 51000, 12, 410.35, 3],
            [datetime(2026, 10, 2), "Morning drive", "KQED", 7, 49000, 9, 0.1, 2],
            [None, None, None, None, None, None, None, None],
        ],
    )
    rows = asyncio.run(fetch(client)).to_pylist()
    assert [(r["date"], r["ad_id"], r["ad_group_id"]) for r in rows] == [
        (date(2026, 10, 1), "7", "KQED"),
        (date(2026, 10, 2), "7", "KQED"),
    ]
    assert [r["spend_micros"] for r in rows] == [410_350_000, 100_000]  # exact from floats
    assert rows[0]["api_version"].startswith("xlsx:")
    actions = asyncio.run(fetch(client, "actions")).to_pylist()
    assert {a["action_type"] for a in actions} == {"lead"}


def test_xlsx_problems_name_the_sheet_or_the_cell(tmp_path):
    section = {
        "path": "exports/radio.xlsx",
        "channel": "offline",
        "sheet": "Weekly",
        "columns": RADIO,
    }
    client = client_with(tmp_path, section, "radio")
    path = tmp_path / "acme" / "exports" / "radio.xlsx"
    header = [
        "Day",
        "Campaign",
        "Station",
        "Spot id",
        "Listeners",
        "Calls",
        "Spend",
        "Appointments",
    ]
    workbook(path, [header, ["not a day", "Drive", "KQED", 7, 1, 1, 1, 1]])
    with pytest.raises(ExportInvalid, match=r"no sheet 'Weekly' \(sheets: Notes, Daily\)"):
        asyncio.run(fetch(client))
    client = client_with(tmp_path, {**section, "sheet": "Daily"}, "radio")
    with pytest.raises(ExportInvalid, match=r"line 2, column 'Day': 'not a day' is not a date"):
        asyncio.run(fetch(client))
    path.write_bytes(b"PK\x03\x04 not a workbook")
    with pytest.raises(ExportInvalid, match="not a readable XLSX"):
        asyncio.run(fetch(client))


def test_file_accounts_are_checked_when_the_config_loads(tmp_path):
    with pytest.raises(ConfigError, match="needs a 'file:' section"):
        client_with(tmp_path, None)
    with pytest.raises(ConfigError, match="unknown column 'cost'"):
        client_with(tmp_path, newsletter_section(columns={**COLUMNS, "cost": "Cost"}))
    with pytest.raises(ConfigError, match="map at least 'date'"):
        client_with(tmp_path, newsletter_section(columns={"campaign_name": "Campaign"}))
    with pytest.raises(ConfigError, match="either 'spend' or 'spend_micros'"):
        client_with(tmp_path, newsletter_section(columns={**COLUMNS, "spend_micros": "X"}))
    with pytest.raises(ConfigError, match="channel"):
        client_with(tmp_path, newsletter_section(channel="News Letter"))


def test_paths_may_name_an_environment_variable(tmp_path):
    from generator.config import resolve_export_path

    client = client_with(tmp_path, newsletter_section(path="${EXPORTS}/n.csv"))
    account = client.accounts[0]
    assert resolve_export_path(client, account, {"EXPORTS": "/srv/drop"}).as_posix() == (
        "/srv/drop/n.csv"
    )
    with pytest.raises(ConfigError, match="EXPORTS is not set"):
        resolve_export_path(client, account, {})
