"""Spreadsheet exports of the channels without an API, as agencies receive them.

The world's ``file`` accounts (Northwind's newsletter, Harbor's radio spots) are served as the
files their vendors send: ``GET /file/exports/<client>/<account>.csv|.xlsx``. The newsletter
tool exports a CSV with a two-line preamble, US dates, dollar amounts with thousands
separators and a totals line; the radio buyer sends a workbook whose first sheet is notes and
whose "Daily" sheet holds real Excel dates and numbers. ``content/<client>/client.yml`` maps
their columns; the demo downloads them before syncing, as an agency would from a shared drive.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyarrow.compute as pc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.sandbox.common import handler
from generator.sandbox.state import SandboxState
from generator.sandbox.world import Ad, World

__all__ = ["CREDENTIALS", "ENVIRONMENT", "EXPORTS", "export_bytes", "routes", "write_exports"]

CREDENTIALS: dict[str, str] = {}  # files need none
ENVIRONMENT: dict[str, str] = {}  # CAMPAIGN_EXPORTS is set per run, to where they were saved

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def routes() -> list[Route]:
    return [Route("/exports/{client}/{name}", handler("file", _export), methods=["GET"])]


async def _export(request: Request, state: SandboxState) -> Response:
    client, name = request.path_params["client"], request.path_params["name"]
    body = export_bytes(state.world, client, name, state.now())
    if body is None:
        return JSONResponse({"error": f"no export {client}/{name}"}, 404)
    media = _XLSX if name.endswith(".xlsx") else "text/csv; charset=utf-8"
    disposition = {"content-disposition": f'attachment; filename="{name}"'}
    return Response(body, headers=disposition, media_type=media)


def export_bytes(world: World, client: str, name: str, now: datetime) -> bytes | None:
    """The file ``name`` of ``client`` as its vendor sends it on ``now``, or None."""
    account_id = name.rpartition(".")[0]
    found = world.account("file", account_id)
    if found is None or found[0].slug != client or (client, name) not in EXPORTS:
        return None
    reported = world.reported(now.date())
    mask = pc.and_(
        pc.equal(reported["source"], "file"), pc.equal(reported["account_id"], account_id)
    )
    rows = sorted(reported.filter(mask).to_pylist(), key=lambda r: (r["date"], r["ad_id"]))
    ads = {ad.ad_id: ad for ad in world.ads_of("file", account_id)}
    return EXPORTS[(client, name)](rows, ads, now)


def write_exports(world: World, folder: Path, now: datetime) -> list[Path]:
    """Every demo export saved as ``folder/<client>/<file>`` (what the demo downloads)."""
    saved = []
    for client, name in EXPORTS:
        target = folder / client / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(export_bytes(world, client, name, now) or b"")
        saved.append(target)
    return saved


def _newsletter(rows: list[dict], ads: dict[str, Ad], now: datetime) -> bytes:
    out = io.StringIO()
    out.write("Northwind Outfitters — newsletter performance\n")
    out.write(f"Exported {now:%Y-%m-%d %H:%M} UTC\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "Send date",
            "Campaign",
            "Segment",
            "Email",
            "Opens",
            "Clicks",
            "Cost",
            "Orders",
            "Revenue",
        ]
    )
    totals = [0, 0, 0, 0.0, 0]
    for r in rows:
        ad = ads[r["ad_id"]]
        writer.writerow(
            [
                f"{r['date']:%m/%d/%Y}",
                ad.campaign.name,
                ad.ad_group_name,
                ad.name,
                r["impressions"],
                r["clicks"],
                _dollars(r["spend_micros"]),
                int(r["conversions"]),
                _dollars(r["value_micros"]),
            ]
        )
        for i, key in enumerate(("impressions", "clicks", "spend_micros", "conversions")):
            totals[i] += r[key]
        totals[4] += r["value_micros"]
    writer.writerow(
        [
            "Total",
            "",
            "",
            "",
            totals[0],
            totals[1],
            _dollars(totals[2]),
            int(totals[3]),
            _dollars(totals[4]),
        ]
    )
    return out.getvalue().encode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM


def _radio(rows: list[dict], ads: dict[str, Ad], now: datetime) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    notes = book.create_sheet("Notes")
    notes.append(["Harbor Dental Group — radio flight report"])
    notes.append([f"Prepared {now:%B %d, %Y}. Listeners are station estimates."])
    daily = book.create_sheet("Daily")
    daily.append(
        ["Day", "Campaign", "Station", "Spot", "Listeners", "Calls", "Spend", "Appointments"]
    )
    for r in rows:
        ad = ads[r["ad_id"]]
        daily.append(
            [
                datetime.combine(r["date"], datetime.min.time()),
                ad.campaign.name,
                ad.ad_group_name,
                ad.name,
                r["impressions"],
                r["clicks"],
                r["spend_micros"] / 1_000_000,
                int(r["conversions"]),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _dollars(micros: int) -> str:
    return f"${micros / 1_000_000:,.2f}"


#: (client, file name) -> how the vendor writes it
EXPORTS: dict[tuple[str, str], Callable[[list[dict], dict[str, Ad], datetime], bytes]] = {
    ("northwind", "newsletter.csv"): _newsletter,
    ("harbor", "offline.xlsx"): _radio,
}
