"""File exports as a source: CSV or XLSX from channels without an API.

Offline media, affiliate networks and newsletters send spreadsheets. A ``file`` account in
client.yml names the export, its channel (the ``platform`` column, e.g. ``newsletter``) and
which of its columns mean what (``config.FileExport``). Each sync re-reads the whole file and
replaces exactly the days it covers, so a corrected export corrects the lake and an export of
only the latest month leaves earlier months alone. Rows for the same day and ad are summed
(exports often split a day by placement). A bad cell stops the account with an error naming
file, line and column; what the lake already holds stays.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from generator.config import AccountConfig, Client, FileExport, resolve_export_path
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.exports import Cells, read_rows
from generator.connectors.normalize import utc_now
from generator.errors import ConnectorError
from generator.schema import ACTIONS, AD_PERFORMANCE, from_rows

__all__ = ["FileSource"]

_IDS = ("campaign", "ad_group", "ad")
_COUNTS = ("impressions", "clicks", "video_views")


@dataclass(frozen=True)
class _Account:
    client: Client
    config: AccountConfig
    export: FileExport
    path: Path


class FileSource(Connector):
    """CSV/XLSX exports, one file per ``file`` account."""

    platform = "file"
    api_version = "file-1"
    datasets = ("ad_performance", "actions")
    has_creatives = False
    rereads_all = True
    shared_across_clients = False
    lookback_days = 0

    def __init__(self, credentials: Mapping[str, str], **options: Any) -> None:
        super().__init__(credentials, **options)
        self._accounts: dict[str, _Account] = {}
        self._rows: dict[str, tuple[tuple[float, int], list[dict[str, Any]]]] = {}

    def configure(self, client: Client, account: AccountConfig, env: Mapping[str, str]) -> None:
        assert account.file is not None
        path = resolve_export_path(client, account, env)
        self._accounts[account.account_id] = _Account(client, account, account.file, path)

    async def account_info(self, account_id: str) -> AccountInfo:
        account = self._account(account_id)
        name = account.config.name or account.path.name
        currency = account.export.currency or account.client.currency
        return AccountInfo(account_id, name, currency, account.client.timezone)

    async def coverage(self, account_id: str) -> tuple[date, date] | None:
        rows = self._read(account_id)
        return (min(r["date"] for r in rows), max(r["date"] for r in rows)) if rows else None

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        rows = [r for r in self._read(account_id) if start <= r["date"] <= end]
        return from_rows(rows, AD_PERFORMANCE)

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        action = self._account(account_id).export.action_type
        rows = [
            {
                **r,
                "action_type": action,
                "attribution_window": "default",
                "count": r["conversions"],
            }
            for r in self._read(account_id)
            if start <= r["date"] <= end and (r["conversions"] or r["value_micros"])
        ]
        return from_rows(rows, ACTIONS)

    def _account(self, account_id: str) -> _Account:
        if account_id not in self._accounts:
            raise ConnectorError(
                f"file account {account_id!r} was not configured", platform=self.platform
            )
        return self._accounts[account_id]

    def _read(self, account_id: str) -> list[dict[str, Any]]:
        """The export's rows in canonical form, read again only when the file changed."""
        account = self._account(account_id)
        try:
            stat = account.path.stat()
            key = (stat.st_mtime, stat.st_size)
        except OSError:
            key = (0.0, -1)
        cached = self._rows.get(account_id)
        if cached is None or cached[0] != key:
            self._rows[account_id] = (key, _canonical(account))
        return self._rows[account_id][1]


def _canonical(account: _Account) -> list[dict[str, Any]]:
    """Parse, convert and sum the export's rows per day and ad."""
    export, cells = account.export, Cells(str(account.path), account.export)
    records = read_rows(account.path, export)
    digest = hashlib.sha256(account.path.read_bytes()).hexdigest()[:12]
    constants = {
        "platform": export.channel,
        "source": "file",
        "account_id": account.config.account_id,
        "account_timezone": account.client.timezone,
        "currency": export.currency or account.client.currency,
        "fetched_at": utc_now(),
        "api_version": f"{export.kind}:{digest}",
    }
    summed: dict[tuple, dict[str, Any]] = {}
    for line, raw in records:
        row = _row(raw, line, cells, export.columns)
        key = (row["date"], row["campaign_id"], row["ad_group_id"], row["ad_id"])
        if key not in summed:
            summed[key] = {**constants, **row}
            continue
        for metric in (*_COUNTS, "spend_micros", "conversions", "value_micros"):
            summed[key][metric] += row[metric]
    return sorted(summed.values(), key=lambda r: (r["date"], r["campaign_id"], r["ad_id"]))


def _row(raw: dict[str, Any], line: int, cells: Cells, columns: Mapping[str, str]) -> dict:
    """One export row in canonical columns (ids fall back to names, then to the level above)."""

    def cell(name: str) -> Any:
        return raw.get(columns[name]) if name in columns else None

    row: dict[str, Any] = {"date": cells.date(cell("date"), line, columns["date"])}
    parent = None
    for level in _IDS:
        given = [n for n in (f"{level}_id", f"{level}_name") if n in columns]
        ident = cells.text(cell(given[0]), line, columns[given[0]]) if given else parent
        name = cell(f"{level}_name") if f"{level}_name" in columns else None
        row[f"{level}_id"] = ident
        row[f"{level}_name"] = str(name).strip() if name not in (None, "") else ident
        parent = ident
    for name in _COUNTS:
        row[name] = cells.count(cell(name), line, columns[name]) if name in columns else 0
    row["conversions"] = (
        float(cells.number(cell("conversions"), line, columns["conversions"]))
        if "conversions" in columns
        else 0.0
    )
    for money in ("spend", "value"):
        if money in columns:
            row[f"{money}_micros"] = cells.micros(cell(money), line, columns[money], major=True)
        elif f"{money}_micros" in columns:
            header = columns[f"{money}_micros"]
            row[f"{money}_micros"] = cells.micros(
                cell(f"{money}_micros"), line, header, major=False
            )
        else:
            row[f"{money}_micros"] = 0
    return row
