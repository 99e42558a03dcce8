"""The lake: canonical tables as Parquet, partitioned by dataset, client and month.

Layout under the lake root::

    <dataset>/client=<slug>/month=<YYYY-MM>/<source>--<account>.parquet   dated datasets
    creatives/client=<slug>/<source>--<account>.parquet                    versioned rows
    _state/<slug>/<source>--<account>.json                                  sync state
    _journal/<slug>/*.json, _locks/<slug>.lock                              commit machinery

One file holds one connector account's rows for one month, so writing a date range replaces
exactly those days for that client, source and account and touches nothing else. Writes are
atomic and idempotent (see ``files``); readers see whole files only. ``query`` runs DuckDB SQL
over views named after the datasets, with ``client`` and ``month`` columns from the partitions.

``_locks/<slug>.lock`` guards the client's directories: ``<dataset>/client=<slug>``,
``_state/<slug>`` and ``_journal/<slug>``. Every write to them (data, state, journal) holds it
from creating its temporary file to renaming it, and a writer first finishes any commit a
crashed run left in the client's journal. Opening a lake recovers (finishes the journals,
then deletes leftover temporary files) only the clients whose lock is free at that moment, and
only their directories: a live writer's files are never touched, and a reader never waits.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from generator.errors import LakeError, ReportError
from generator.lake.files import (
    Commit,
    account_file,
    atomic_write_bytes,
    locked,
    recover,
    roll_forward,
)
from generator.lake.state import StateStore
from generator.periods import Period
from generator.schema import TABLES, validate

__all__ = ["DATED", "Lake", "WriteResult"]

#: Datasets keyed by a day, and the column that gives it (timestamps count by their UTC day).
DATED = {
    "ad_performance": "date",
    "actions": "date",
    "site_funnel": "date",
    "touchpoints": "timestamp",
    "conversions": "timestamp",
    "site_events": "timestamp",
}
#: Datasets kept as versioned rows, and the columns that identify a row.
KEYED = {"creatives": ("platform", "account_id", "creative_id", "version")}

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class WriteResult:
    """What a write changed: rows now stored for the range, files replaced."""

    rows: int
    files: int


class Lake:
    """A Parquet lake rooted at ``root`` (created on first write).

    Opening a lake finishes any commit a crashed run left half-applied and deletes abandoned
    temporary files, for each client no one is writing (see the module docstring).

    Raises:
        LakeError: a crashed commit cannot be finished (the message says what to do).
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.state = StateStore(self.root / "_state", lock=self._lock)
        for client in self.clients():
            with self._lock(client, wait=False) as free:
                if free:  # else a live writer holds it, and finishes the journal itself
                    self._recover(client)

    # -- writing --------------------------------------------------------------------------

    def write_days(
        self,
        dataset: str,
        client: str,
        source: str,
        account_id: str,
        period: Period,
        table: pa.Table,
    ) -> WriteResult:
        """Replace the days of ``period`` for one client, source and account with ``table``.

        Every row must fall inside the period and belong to that source and account. Days of
        the period without rows in ``table`` end up empty (the platform reported nothing).

        Raises:
            SchemaError: the table does not fit the dataset's schema.
            LakeError: rows outside the period or of another source/account, or an I/O failure.
        """
        day_column = _dated(dataset)
        table = validate(table, TABLES[dataset])
        _check_slug(client)
        days = _days(table, day_column)
        self._check_rows(table, days, source, account_id, period, dataset)
        with self._writing(client):
            commit = Commit(self._journal(client))
            try:
                for month in period.months():
                    self._stage_month(
                        commit, dataset, client, source, account_id, month, period, table, days
                    )
                commit.apply()
            except ReportError:
                commit.discard()
                raise
            except (OSError, pa.ArrowException) as exc:
                commit.discard()
                raise LakeError(f"writing {dataset} for {client}/{source}: {exc}") from exc
        return WriteResult(rows=table.num_rows, files=len(period.months()))

    def merge(
        self, dataset: str, client: str, source: str, account_id: str, table: pa.Table
    ) -> WriteResult:
        """Add versioned rows (creatives); a key stored before is the same version seen again.

        A version is identified by its content, so seeing its key again updates the stored
        row: ``first_seen`` stays the earliest, ``last_seen`` becomes the latest (a new row
        without one was last seen when first seen), and every other column takes the new
        value where it has one and keeps the stored one where it has not (an image that
        could not be fetched today keeps yesterday's hash; one fetched only now fills in).
        """
        if dataset not in KEYED:
            raise LakeError(f"{dataset!r} is not a keyed dataset; use write_days")
        schema = TABLES[dataset]
        table = _seen(validate(table, schema))
        _check_slug(client)
        keys = list(KEYED[dataset])
        final = (
            self.root / dataset / f"client={client}" / account_file(source, account_id, ".parquet")
        )
        with self._writing(client):
            if final.exists():
                old = _seen(pq.read_table(final, schema=schema))
                table = validate(_combine(old, table, keys), schema)
            merged = table.sort_by([(k, "ascending") for k in keys])
            commit = Commit(self._journal(client))
            commit.stage(final, lambda tmp: _write_parquet(merged, tmp))
            commit.apply()
        return WriteResult(rows=merged.num_rows, files=1)

    def put_profile(self, client: str, profile: Mapping[str, object]) -> None:
        """Record who ``client`` is for peer benchmarks (industry, region): a small JSON file,
        replaced atomically at every sync, so the lake knows every client it holds data of."""
        _check_slug(client)
        body = json.dumps(dict(profile), indent=2, sort_keys=True).encode()
        with self._lock(client):
            atomic_write_bytes(self.root / "_profiles" / f"{client}.json", body)

    # -- reading --------------------------------------------------------------------------

    def profiles(self) -> dict[str, dict]:
        """Every client's recorded profile (``put_profile``), by slug."""
        found = {}
        for path in sorted((self.root / "_profiles").glob("*.json")):
            if _SLUG.match(path.stem):
                try:
                    found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise LakeError(f"unreadable client profile {path}: {exc}") from exc
        return found

    def clients(self) -> list[str]:
        """Slugs of every client with any data or state in the lake."""
        found = {p.name.removeprefix("client=") for p in self.root.glob("*/client=*")}
        found |= {p.name for p in (self.root / "_state").glob("*") if p.is_dir()}
        return sorted(c for c in found if _SLUG.match(c))

    def read(
        self,
        dataset: str,
        *,
        client: str | None = None,
        period: Period | None = None,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """Rows of ``dataset``, optionally for one client and period, in canonical form."""
        if dataset not in TABLES:
            raise LakeError(f"unknown dataset {dataset!r}; known: {', '.join(TABLES)}")
        where, params = [], []
        if client is not None:
            where.append("client = ?")
            params.append(client)
        if period is not None:
            day = _dated(dataset)
            expr = f"CAST(\"{day}\" AT TIME ZONE 'UTC' AS DATE)" if day == "timestamp" else day
            where.append(f"{expr} BETWEEN ? AND ?")
            params += [period.start, period.end]
        wanted = ", ".join(f'"{c}"' for c in (columns or TABLES[dataset].names))
        sql = f"SELECT {wanted} FROM {dataset}" + (f" WHERE {' AND '.join(where)}" if where else "")
        months = None
        if period is not None:  # partitions are months of the day (a UTC day for instants)
            months = (period.months()[0], period.months()[-1])
        return self.query(sql, params, client=client, months=months)

    def query(
        self,
        sql: str,
        params: Sequence[object] | None = None,
        *,
        client: str | None = None,
        months: tuple[str, str] | None = None,
    ) -> pa.Table:
        """Run DuckDB SQL over views of every dataset; returns an Arrow table.

        Each view has the dataset's canonical columns plus ``client`` (and ``month`` for
        dated datasets) from the partition path. Only the datasets the SQL reads (``FROM`` or
        ``JOIN`` them) get a view: making one reads the footer of each of its files.
        ``client`` and ``months`` (first, last) limit the views to those partitions, so that a
        query about one client or a few months does not open every file of a lake of many
        clients.
        """
        with duckdb.connect() as con:
            for dataset in TABLES:
                if re.search(rf"\b(?:FROM|JOIN)\s+\"?{dataset}\b", sql, re.IGNORECASE):
                    self._register(con, dataset, client, months)
            try:
                return con.sql(sql, params=list(params or [])).to_arrow_table()
            except duckdb.Error as exc:
                raise LakeError(f"query failed: {exc}") from exc

    # -- internals ------------------------------------------------------------------------

    def _register(
        self,
        con: duckdb.DuckDBPyConnection,
        dataset: str,
        client: str | None = None,
        months: tuple[str, str] | None = None,
    ) -> None:
        partition = f"client={client}" if client is not None else "*"
        depth = f"{partition}/*/*.parquet" if dataset in DATED else f"{partition}/*.parquet"
        valid = client is None or _SLUG.match(client)
        files = sorted((self.root / dataset).glob(depth)) if valid else []
        if months is not None and dataset in DATED:
            first, last = (f"month={m}" for m in months)
            files = [f for f in files if first <= f.parent.name <= last]
        if not files:
            empty = TABLES[dataset].empty_table().append_column("client", pa.array([], pa.string()))
            if dataset in DATED:
                empty = empty.append_column("month", pa.array([], pa.string()))
            con.register(f"_{dataset}_empty", empty)
            con.execute(f"CREATE VIEW {dataset} AS SELECT * FROM _{dataset}_empty")
            return
        listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        hive = (
            "{'client': VARCHAR, 'month': VARCHAR}" if dataset in DATED else "{'client': VARCHAR}"
        )
        con.execute(
            f"CREATE VIEW {dataset} AS SELECT * FROM read_parquet([{listing}], "
            f"hive_partitioning = true, hive_types = {hive}, union_by_name = true)"
        )

    def _stage_month(self, commit, dataset, client, source, account_id, month, period, new, days):
        final = (
            self.root
            / dataset
            / f"client={client}"
            / f"month={month}"
            / account_file(source, account_id, ".parquet")
        )
        month_period = Period.month(month)
        first, last = max(period.start, month_period.start), min(period.end, month_period.end)
        incoming = new.filter(_between(days, first, last))
        parts = [incoming]
        if final.exists():
            old = pq.read_table(final, schema=TABLES[dataset])
            keep = pc.invert(_between(_days(old, _dated(dataset)), first, last))
            parts.insert(0, old.filter(keep))
        merged = pa.concat_tables(parts)
        if merged.num_rows == 0:
            if final.exists():
                commit.delete(final)
            return
        merged = merged.sort_by(_sort_keys(merged, _dated(dataset)))
        commit.stage(final, lambda tmp: _write_parquet(merged, tmp))

    @staticmethod
    def _check_rows(table, days, source, account_id, period, dataset) -> None:
        if table.num_rows == 0:
            return
        outside = pc.invert(_between(days, period.start, period.end))
        if pc.any(outside).as_py():
            bad = table.filter(outside).column(_dated(dataset))[0].as_py()
            raise LakeError(
                f"{dataset}: row dated {bad} lies outside the period written ({period})"
            )
        for column, expected in (("source", source), ("account_id", account_id)):
            if column in table.column_names:
                other = pc.not_equal(table[column], expected)
                if pc.any(other).as_py():
                    got = table.filter(other)[column][0].as_py()
                    raise LakeError(
                        f"{dataset}: a row of {column} {got!r} was written as {expected!r}"
                    )

    def _lock(self, client: str, *, wait: bool = True):
        return locked(self.root / "_locks" / f"{client}.lock", wait=wait)

    @contextlib.contextmanager
    def _writing(self, client: str) -> Iterator[None]:
        """The client's lock, with any commit a crashed writer left finished first.

        A pending commit must land before a write reads the files it replaces, or rolling
        it forward later would put older data over the newer write.
        """
        with self._lock(client):
            try:
                roll_forward(self._journal(client))
            except OSError as exc:
                raise LakeError(f"finishing a commit of {client}: {exc}") from exc
            yield

    def _recover(self, client: str) -> None:
        """Finish the client's journals and sweep its directories; hold its lock."""
        folders = [*self.root.glob(f"*/client={client}"), self.root / "_state" / client]
        try:
            recover(self._journal(client), folders)
        except OSError as exc:
            raise LakeError(f"recovering the lake of {client}: {exc}") from exc

    def _journal(self, client: str) -> Path:
        return self.root / "_journal" / client


def _dated(dataset: str) -> str:
    if dataset not in DATED:
        raise LakeError(f"{dataset!r} is not a dated dataset (dated: {', '.join(DATED)})")
    return DATED[dataset]


def _days(table: pa.Table, column: str) -> pa.ChunkedArray:
    values = table[column]
    if pa.types.is_timestamp(values.type):
        return pc.cast(pc.floor_temporal(values, unit="day"), pa.date32())
    return values


def _between(days: pa.ChunkedArray, first: date, last: date) -> pa.ChunkedArray:
    lo, hi = pa.scalar(first, pa.date32()), pa.scalar(last, pa.date32())
    return pc.and_(pc.greater_equal(days, lo), pc.less_equal(days, hi))


def _sort_keys(table: pa.Table, day: str) -> list[tuple[str, str]]:
    keys = [day, "platform", "channel", "campaign_id", "ad_group_id", "ad_id", "user_id"]
    return [(k, "ascending") for k in keys if k in table.column_names]


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd")


def _check_slug(client: str) -> None:
    if not _SLUG.match(client):
        raise LakeError(f"client slug {client!r} is not valid (lowercase letters, digits, '-')")


def _seen(table: pa.Table) -> pa.Table:
    """Rows without ``last_seen`` were last seen when first seen."""
    if "last_seen" not in table.column_names:
        return table
    index = table.column_names.index("last_seen")
    filled = pc.coalesce(table["last_seen"], table["first_seen"])
    return table.set_column(index, table.schema.field(index), filled)


def _combine(old: pa.Table, new: pa.Table, keys: list[str]) -> pa.Table:
    """Stored and new versioned rows, one per key (see ``Lake.merge``). Row by row: a
    creatives file holds one account's versions, hundreds of rows."""
    rows = {tuple(r[k] for k in keys): r for r in old.to_pylist()}
    for row in new.to_pylist():
        key = tuple(row[k] for k in keys)
        stored = rows.get(key)
        if stored is not None:
            row = {c: stored[c] if v is None else v for c, v in row.items()}
            row["first_seen"] = min(stored["first_seen"], row["first_seen"])
            row["last_seen"] = max(stored["last_seen"], row["last_seen"])
        rows[key] = row
    return pa.Table.from_pylist(list(rows.values()), schema=old.schema)
