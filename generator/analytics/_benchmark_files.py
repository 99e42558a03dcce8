"""Reading benchmark files (CSV, XLSX, YAML) into records that remember their line.

Private to ``benchmark_seed``, which validates the records and re-exports the error. A record
is one row's non-empty cells by column, with the line a reader sees in an editor or a
spreadsheet (the header is line 1), and for YAML each field's own line.
"""

from __future__ import annotations

import csv
import re
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from generator.errors import ConfigError, ReportError
from generator.yamlsafe import read_mapping

__all__ = ["MAX_FILE_BYTES", "MAX_LISTED", "MAX_ROWS", "BenchmarkFileError", "Record", "read"]

#: limits of a benchmark file (the seed has about 500 rows and 200 KB)
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
#: problems listed in one error message; the rest are counted
MAX_LISTED = 20


class BenchmarkFileError(ReportError):
    """A benchmark file that cannot be read; lists every bad cell (line, column, value).

    Attributes:
        file: the file.
        problems: one text per bad cell, e.g. ``line 7, column 'value': 'abc': not a number``.
    """

    def __init__(self, message: str, *, file: str, problems: Sequence[str] = ()) -> None:
        self.file = file
        self.problems = tuple(problems)
        listed = "".join(f"\n  {p}" for p in self.problems[:MAX_LISTED])
        more = len(self.problems) - MAX_LISTED
        rest = f"\n  and {more} more" if more > 0 else ""
        super().__init__(f"{file}: {message}{listed}{rest}")


@dataclass(frozen=True)
class Record:
    """One row of a file before validation: where it is, and its cells by column."""

    line: int
    values: dict[str, Any]
    lines: Mapping[str, int]  # a cell's own line, where it differs (YAML)


def read(path: Path, columns: Sequence[str], required: Sequence[str]) -> tuple[list[Record], str]:
    """The records of a ``.csv``, ``.xlsx`` or ``.yml``/``.yaml`` file, and what its lines
    are called (``row`` in a spreadsheet, ``line`` otherwise).

    Raises:
        BenchmarkFileError: the file is missing, too large, of an unknown kind or unreadable,
            has unknown, missing or repeated columns, or more than ``MAX_ROWS`` rows.
    """
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_records(path, columns, required), "line"
    if suffix == ".xlsx":
        return _xlsx_records(path, columns, required), "row"
    if suffix in (".yml", ".yaml"):
        return _yaml_records(path), "line"
    raise BenchmarkFileError("not a .csv, .xlsx, .yml or .yaml file", file=str(path))


def _check_file(path: Path) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise BenchmarkFileError("file not found", file=str(path)) from None
    except OSError as exc:
        raise BenchmarkFileError(f"cannot read the file: {exc}", file=str(path)) from None
    if not path.is_file():
        raise BenchmarkFileError("not a file", file=str(path))
    if size > MAX_FILE_BYTES:
        raise BenchmarkFileError(
            f"the file is larger than {MAX_FILE_BYTES // 2**20} MB, the most a benchmark file "
            "may be; split it by edition",
            file=str(path),
        )


def _header(
    names: Sequence[Any], path: Path, columns: Sequence[str], required: Sequence[str]
) -> list[str]:
    header = ["" if n is None else str(n).strip() for n in names]
    unknown = [n for n in header if n and n not in columns]
    missing = [c for c in required if c not in header]
    twice = sorted({n for n in header if n and header.count(n) > 1})
    for problem, names_ in (("unknown", unknown), ("missing", missing), ("repeated", twice)):
        if names_:
            raise BenchmarkFileError(
                f"line 1: {problem} column(s) {', '.join(map(repr, names_))}; the columns "
                f"are {', '.join(columns)} (required: {', '.join(required)})",
                file=str(path),
            )
    return header


def _cells(header: list[str], cells: Sequence[Any]) -> dict[str, Any] | None:
    """A row's non-empty cells by column (None for a blank row); Excel datetimes -> dates."""
    values = {}
    for name, cell in zip(header, cells, strict=False):
        if isinstance(cell, str):
            cell = cell.strip()
        if isinstance(cell, datetime):
            cell = cell.date()
        if name and cell not in (None, ""):
            values[name] = cell
    return values or None


def _bounded(records: list[Record], path: Path) -> None:
    if len(records) > MAX_ROWS:
        raise BenchmarkFileError(
            f"more than {MAX_ROWS:,} rows; split the file by edition", file=str(path)
        )


def _csv_records(path: Path, columns: Sequence[str], required: Sequence[str]) -> list[Record]:
    records: list[Record] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.reader(stream)
            header = _header(next(reader, []), path, columns, required)
            for line, cells in enumerate(reader, 2):
                values = _cells(header, cells)
                if values is not None:
                    records.append(Record(line, values, {}))
                    _bounded(records, path)
    except UnicodeDecodeError:
        raise BenchmarkFileError("not UTF-8 text; save it as CSV UTF-8", file=str(path)) from None
    except csv.Error as exc:
        raise BenchmarkFileError(f"not a readable CSV ({exc})", file=str(path)) from None
    return records


def _xlsx_records(path: Path, columns: Sequence[str], required: Sequence[str]) -> list[Record]:
    from openpyxl import load_workbook  # only when an XLSX file is imported
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise BenchmarkFileError(f"not a readable XLSX workbook ({exc})", file=str(path)) from None
    try:
        sheet = book.worksheets[0]
        first = next(sheet.iter_rows(max_row=1, values_only=True), ())
        header = _header(first, path, columns, required)
        records: list[Record] = []
        body = sheet.iter_rows(min_row=2, max_col=len(header), values_only=True)
        for line, cells in enumerate(body, 2):
            values = _cells(header, cells)
            if values is not None:
                records.append(Record(line, values, {}))
                _bounded(records, path)
        return records
    finally:
        book.close()


def _yaml_records(path: Path) -> list[Record]:
    text = path.read_text(encoding="utf-8", errors="replace")
    offset = 1 if _is_bare_list(text) else 0
    data, lines = _read_yaml(path, text, offset)
    items = data.get("rows")
    if set(data) != {"rows"} or not isinstance(items, list):
        raise BenchmarkFileError(
            "expected a list of rows, or 'rows:' with a list of rows", file=str(path)
        )
    records: list[Record] = []
    for index, item in enumerate(items):
        line = lines.get(("rows", index), 0) - offset
        if not isinstance(item, dict):
            raise BenchmarkFileError(
                f"line {line}: a row is a mapping of column: value", file=str(path)
            )
        here = {str(k): lines.get(("rows", index, k), line + offset) - offset for k in item}
        values = _cells(list(here), list(item.values())) or {}
        records.append(Record(line, values, here))
        _bounded(records, path)
    return records


def _is_bare_list(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "---", "%")):
            return stripped.startswith(("-", "["))
    return False


def _read_yaml(path: Path, text: str, offset: int) -> tuple[dict, dict]:
    """``read_mapping`` (limits, line numbers); a bare list is read as ``rows:`` + the list,
    indented, with every line number shifted back."""
    try:
        if not offset:
            return read_mapping(path)
        body = "".join(
            "\n" if line.strip() == "---" else "  " + line
            for line in text.splitlines(keepends=True)
        )
        with tempfile.TemporaryDirectory() as folder:
            wrapped = Path(folder) / path.name
            wrapped.write_text("rows:\n" + body, encoding="utf-8")
            return read_mapping(wrapped)
    except ConfigError as exc:
        message = str(exc).removeprefix(f"{exc.file}: ")
        message = re.sub(r"line (\d+)", lambda m: f"line {int(m[1]) - offset}", message, count=1)
        raise BenchmarkFileError(message, file=str(path)) from None
