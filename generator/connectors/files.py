"""File exports as a source: CSV or XLSX from channels without an API.

Offline media, affiliate networks and newsletters send spreadsheets. A ``file`` account in
client.yml names the export, its channel (the ``platform`` column, e.g. ``newsletter``) and
which of its columns mean what (``config.FileExport``). Each sync re-reads the whole file and
replaces exactly the days it covers, so a corrected export corrects the lake and an export of
only the latest month leaves earlier months alone. Rows for the same day and ad are summed
(exports often split a day by placement). A bad cell stops the account with an error naming
file, line and column; what the lake already holds stays.

The file is read as a stream into compact columns (typed arrays): a line costs its day, a
code for its ids and names (each distinct text is kept once) and its numbers, 4 bytes each
until one needs 8; about 36 bytes in all, less than the line's own text. Each window a sync
asks for is summed from those columns. Nothing holds the file, a line's text or a dict per
line beyond the line being read, so memory grows with the number of lines, a small multiple
of the file's size at most.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.config import AccountConfig, Client, FileExport, resolve_export_path
from generator.connectors.base import AccountInfo, Connector
from generator.connectors.exports import Cells, read_rows
from generator.connectors.normalize import utc_now
from generator.errors import ConnectorError, ExportInvalid
from generator.schema import ACTIONS, AD_PERFORMANCE, validate

__all__ = ["FileSource"]

_IDS = ("campaign", "ad_group", "ad")
_COUNTS = ("impressions", "clicks", "video_views")
_INTEGERS = (*_COUNTS, "spend_micros", "value_micros")
#: what names a line's ad: its ids, then its names (a sum takes the names of its first line)
_ENTITY = (*(f"{level}_id" for level in _IDS), *(f"{level}_name" for level in _IDS))
_EPOCH = date(1970, 1, 1).toordinal()
_INT64_MAX = 2**63 - 1
#: a window's tables come from the C allocator, which returns them when they are freed;
#: pyarrow's default (mimalloc) keeps freed pages, about 30 MB more over a 40 MB export
_POOL = pa.system_memory_pool()


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
        self._exports: dict[str, tuple[tuple[float, int], _Export]] = {}

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
        days = self._read(account_id).days
        if not len(days):
            return None
        first, last = (date.fromordinal(int(day) + _EPOCH) for day in (days.min(), days.max()))
        return first, last

    async def fetch_performance(self, account_id: str, start: date, end: date) -> pa.Table:
        export = self._read(account_id)
        return _conform(_days(export, start, end), export.constants, AD_PERFORMANCE)

    async def fetch_actions(self, account_id: str, start: date, end: date) -> pa.Table:
        export = self._read(account_id)
        days = _days(export, start, end)
        converted = pc.or_(
            pc.not_equal(days["conversions"], 0), pc.not_equal(days["value_micros"], 0)
        )
        days = days.filter(converted)
        days = days.append_column("count", days["conversions"])
        action = self._account(account_id).export.action_type
        constants = {**export.constants, "action_type": action, "attribution_window": "default"}
        return _conform(days, constants, ACTIONS)

    def _account(self, account_id: str) -> _Account:
        if account_id not in self._accounts:
            raise ConnectorError(
                f"file account {account_id!r} was not configured", platform=self.platform
            )
        return self._accounts[account_id]

    def _read(self, account_id: str) -> _Export:
        """The export in columns, read again only when the file changed."""
        account = self._account(account_id)
        try:
            stat = account.path.stat()
            key = (stat.st_mtime, stat.st_size)
        except OSError:
            key = (0.0, -1)
        cached = self._exports.get(account_id)
        if cached is None or cached[0] != key:
            self._exports.pop(account_id, None)  # the old copy is let go before the new is read
            self._exports[account_id] = (key, _read_export(account))
        return self._exports[account_id][1]


@dataclass(frozen=True)
class _Export:
    """An export read once, in columns with one value per data line in file order: ``days``
    (since 1970-01-01), ``entities`` (a row of ``names``, whose ``ids`` row is ``same_ids``
    of it: an export repeats a few ads on every line, so each text is kept once) and the
    ``numbers`` of ``_INTEGERS`` and ``conversions``."""

    days: np.ndarray
    entities: np.ndarray
    numbers: dict[str, np.ndarray]
    names: pa.Table  # the _ENTITY columns
    same_ids: np.ndarray
    ranks: tuple[np.ndarray, np.ndarray]  # of each entity's campaign_id, ad_id, in str order
    constants: dict[str, Any]
    file: str


def _read_export(account: _Account) -> _Export:
    """Parse and convert every line of the export, streamed (see the module docstring)."""
    export, cells = account.export, Cells(str(account.path), account.export)
    lines = _Lines()
    with closing(read_rows(account.path, export)) as rows:  # a bad cell closes the file too
        for line, raw in rows:
            lines.add(_row(raw, line, cells, export.columns))
    with account.path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()[:12]
    constants = {
        "platform": export.channel,
        "source": "file",
        "account_id": account.config.account_id,
        "account_timezone": account.client.timezone,
        "currency": export.currency or account.client.currency,
        "fetched_at": utc_now(),
        "api_version": f"{export.kind}:{digest}",
    }
    return lines.finish(constants, str(account.path))


class _Lines:
    """Canonical rows appended to typed arrays: 4 bytes a number until one needs 8."""

    def __init__(self) -> None:
        self.days, self.entities = array("i"), array("i")
        self.numbers = {name: array("i") for name in _INTEGERS} | {"conversions": array("d")}
        self._entities: dict[tuple, int] = {}

    def add(self, row: dict[str, Any]) -> None:
        self.days.append(row["date"].toordinal() - _EPOCH)
        entity = tuple(row[key] for key in _ENTITY)
        self.entities.append(self._entities.setdefault(entity, len(self._entities)))
        for name, column in self.numbers.items():
            try:
                column.append(row[name])
            except OverflowError:  # beyond 32 bits: the column becomes 64-bit, once
                self.numbers[name] = array("q", column)
                self.numbers[name].append(row[name])

    def finish(self, constants: dict[str, Any], file: str) -> _Export:
        """The lines as an ``_Export`` (the arrays are shared, not copied)."""
        entities = list(self._entities)
        texts = list(zip(*entities, strict=True)) or [()] * len(_ENTITY)
        names = pa.table([pa.array(t, pa.string()) for t in texts], names=list(_ENTITY))
        ids: dict[tuple, int] = {}
        same_ids = [ids.setdefault(entity[: len(_IDS)], len(ids)) for entity in entities]
        return _Export(
            _view(self.days),
            _view(self.entities),
            {name: _view(column) for name, column in self.numbers.items()},
            names,
            np.array(same_ids, dtype=np.int32),
            (_ranks([e[0] for e in entities]), _ranks([e[2] for e in entities])),
            constants,
            file,
        )


def _ranks(values: list[str]) -> np.ndarray:
    """Each value's place among the distinct values, as Python orders strings."""
    place = {value: rank for rank, value in enumerate(sorted(set(values)))}
    return np.array([place[v] for v in values], dtype=np.int32)


def _view(column: array) -> np.ndarray:
    return np.frombuffer(
        column, dtype={"i": np.int32, "q": np.int64, "d": np.float64}[column.typecode]
    )


def _days(export: _Export, start: date, end: date) -> pa.Table:
    """The lines of ``start``..``end`` summed per day and ad, in canonical columns, ordered by
    day, campaign and ad; a sum takes the names of its first line."""
    days = export.days
    lines = np.flatnonzero(
        (days >= start.toordinal() - _EPOCH) & (days <= end.toordinal() - _EPOCH)
    )
    # each day and ad's lines side by side, in file order (sorted, not hashed: a hash
    # aggregation over every line costs several times the lines' own memory)
    ads = export.same_ids[export.entities[lines]]
    order = _by_day_and_ad(days[lines], ads)
    if order is not None:
        lines, ads = lines[order], ads[order]
    starts = _first_of_each(days[lines], ads)
    sums = {
        name: _sum_integers(export.numbers[name][lines].astype(np.int64), starts, name, export.file)
        for name in _INTEGERS
    }
    sums["conversions"] = _sum_floats(export.numbers["conversions"][lines], starts)
    # by day, campaign and ad as Python sorts them, equals in the order of their first line
    first = lines[starts]
    entities = export.entities[first]
    campaigns, ads = (rank[entities] for rank in export.ranks)
    order = np.lexsort((first, ads, campaigns, days[first]))
    first, entities = first[order], entities[order]
    columns = {"date": pa.array(days[first]).cast(pa.date32())}
    names = pc.take(export.names, entities, memory_pool=_POOL)
    columns |= {name: names[name] for name in names.column_names}
    columns |= {name: values[order] for name, values in sums.items()}
    return pa.table(columns)


def _by_day_and_ad(days: np.ndarray, ads: np.ndarray) -> np.ndarray | None:
    """The order that sorts lines (given in file order) by day and ad, None if they are."""
    same_day = days[1:] == days[:-1]
    if np.all((days[1:] > days[:-1]) | (same_day & (ads[1:] >= ads[:-1]))):
        return None
    return np.lexsort((np.arange(len(days)), ads, days))  # stable: file order among equals


def _first_of_each(days: np.ndarray, ads: np.ndarray) -> np.ndarray:
    """Positions where a new (day, ad) starts in lines sorted by them."""
    new = np.ones(len(days), dtype=bool)
    new[1:] = (days[1:] != days[:-1]) | (ads[1:] != ads[:-1])
    return np.flatnonzero(new)


def _sum_integers(values: np.ndarray, starts: np.ndarray, name: str, file: str) -> np.ndarray:
    """Exact sums of each run from ``starts``; a sum beyond int64 is an error, never a wrap."""
    if len(starts) == len(values):
        return values  # nothing to add up: one line per day and ad
    sums, ends = np.add.reduceat(values, starts), np.append(starts[1:], len(values))
    for group in np.flatnonzero(np.add.reduceat(values.astype(np.float64), starts) >= 2.0**62):
        if sum(values[starts[group] : ends[group]].tolist()) > _INT64_MAX:  # Python ints: exact
            raise ExportInvalid(f"the {name} of one day and ad add up to too much", file=file)
    return sums


def _sum_floats(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of each run from ``starts``, added one by one in file order (NumPy's pairwise
    sums differ in the last digit), as a row-at-a-time reader would."""
    sums = values[starts]
    ends = np.append(starts[1:], len(values))
    for group in np.flatnonzero(ends - starts > 1):
        total = sums[group]
        for value in values[starts[group] + 1 : ends[group]].tolist():
            total += value
        sums[group] = total
    return sums


def _conform(days: pa.Table, constants: Mapping[str, Any], schema: pa.Schema) -> pa.Table:
    """``days`` with ``constants`` as columns, as the canonical ``schema``."""
    columns = {name: days[name] for name in days.column_names if name in schema.names}
    for name, value in constants.items():
        if name in schema.names:
            columns[name] = pa.repeat(
                pa.scalar(value, schema.field(name).type), days.num_rows, memory_pool=_POOL
            )
    return validate(pa.table(columns), schema)


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
