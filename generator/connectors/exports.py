"""Reading CSV and XLSX exports into rows that remember their line, and their cells' meaning.

``read_rows`` gives ``(line, {header: cell})`` pairs as it reads the file: the line is what a
spreadsheet shows (1-based, counting preamble lines), so an error can send the reader
straight to the cell.
``Cells`` converts one cell to a date, a count, a number or exact micros, accepting what
exports really contain ("$1,234.50", "1.234,50", "12 %", Excel dates and numbers) and raising
``ExportInvalid`` naming file, line and column for anything else.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections import deque
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from generator.config import FileExport
from generator.connectors.normalize import major_to_micros
from generator.errors import ExportInvalid

__all__ = ["Cells", "read_rows"]

#: a currency symbol or ISO code before or after an amount ("$12", "12 €", "USD 12")
_CURRENCY = re.compile(r"^(?:[A-Z]{3}|[$€£¥₹])|(?:[A-Z]{3}|[$€£¥₹])$")
_INT64_MAX = 2**63 - 1


def read_rows(path: Path, export: FileExport) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every data row of the export with its line number (blank rows left out), streamed: the
    file is read as the rows are taken, and only the footer's few lines are held back.

    Raises:
        ExportInvalid: the file is missing, unreadable, or lacks a mapped header (on the call);
            a line that cannot be read (when the rows reach it).
    """
    if not path.is_file():
        raise ExportInvalid(
            "the export does not exist; check file.path in client.yml", file=str(path)
        )
    rows = _xlsx(path, export) if export.kind == "xlsx" else _csv(path, export)
    try:
        header_line, header = next(rows)
    except StopIteration:
        raise ExportInvalid("the export has no header row", file=str(path)) from None
    names = [str(h).strip() if h is not None else "" for h in header]
    missing = [h for h in export.columns.values() if h not in names]
    if missing:
        rows.close()
        raise ExportInvalid(
            f"no column {missing[0]!r} in the header (found: {', '.join(n for n in names if n)})",
            file=str(path),
            line=header_line,
        )
    return _body(rows, names, export.skip_footer)


def _body(
    rows: Generator[tuple[int, list[Any]], None, None], names: list[str], skip_footer: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The rows after the header as dicts, less the last ``skip_footer`` (blank ones count)."""
    held: deque[tuple[int, list[Any]]] = deque()
    with closing(rows):
        for row in rows:
            held.append(row)
            if len(held) <= skip_footer:
                continue
            line, cells = held.popleft()
            if any(c not in (None, "") for c in cells):
                yield line, dict(zip(names, cells, strict=False))


def _csv(path: Path, export: FileExport) -> Generator[tuple[int, list[Any]], None, None]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            for index, cells in enumerate(csv.reader(stream, delimiter=export.delimiter), 1):
                if index > export.skip_rows:
                    yield index, cells
    except UnicodeDecodeError:
        raise ExportInvalid(
            "not UTF-8 text; save the export as CSV UTF-8", file=str(path)
        ) from None
    except csv.Error as exc:
        raise ExportInvalid(f"not a readable CSV ({exc})", file=str(path)) from None


def _xlsx(path: Path, export: FileExport) -> Generator[tuple[int, list[Any]], None, None]:
    from openpyxl import load_workbook  # loaded only when an XLSX export is configured
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ExportInvalid(f"not a readable XLSX workbook ({exc})", file=str(path)) from None
    try:
        if export.sheet is not None and export.sheet not in book.sheetnames:
            raise ExportInvalid(
                f"no sheet {export.sheet!r} (sheets: {', '.join(book.sheetnames)})", file=str(path)
            )
        sheet = book[export.sheet] if export.sheet else book.worksheets[0]
        for index, cells in enumerate(sheet.iter_rows(values_only=True), 1):
            if index > export.skip_rows:
                yield index, list(cells)
    finally:
        book.close()


@dataclass(frozen=True)
class Cells:
    """Cell conversion for one export (its date format and decimal separator)."""

    file: str
    export: FileExport

    def date(self, value: Any, line: int, column: str) -> date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = str(value or "").strip()
        fmt = self.export.date_format
        try:
            return datetime.strptime(text, fmt).date() if fmt else date.fromisoformat(text[:10])
        except ValueError:
            expected = fmt or "YYYY-MM-DD (or set file.date_format)"
            raise self._bad(value, f"is not a date in the form {expected}", line, column) from None

    def number(self, value: Any, line: int, column: str) -> Decimal:
        """A non-negative decimal; empty means 0."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return Decimal(0)
        if isinstance(value, bool):
            raise self._bad(value, "is not a number", line, column)
        text = value if isinstance(value, str) else repr(value)
        if isinstance(value, str) and value.strip().startswith("("):
            raise self._bad(value, "must be a number of 0 or more", line, column)  # (12.00)
        if isinstance(value, str):
            text = _CURRENCY.sub("", text.strip().replace("\u00a0", "").replace(" ", ""))
            thousands = "," if self.export.decimal == "." else "."
            text = text.replace(thousands, "").replace(self.export.decimal, ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise self._bad(value, "is not a number", line, column) from None
        if not number.is_finite() or number < 0:
            raise self._bad(value, "must be a number of 0 or more", line, column)
        return number

    def count(self, value: Any, line: int, column: str) -> int:
        number = self.number(value, line, column)
        if number != number.to_integral_value():
            raise self._bad(value, "is not a whole number", line, column)
        return self._bounded(int(number), value, line, column)

    def micros(self, value: Any, line: int, column: str, *, major: bool) -> int:
        if not major:
            return self.count(value, line, column)
        micros = major_to_micros(str(self.number(value, line, column)))
        return self._bounded(micros, value, line, column)

    def text(self, value: Any, line: int, column: str) -> str:
        text = "" if value is None else str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))  # an id typed as a number in Excel
        if not text:
            raise ExportInvalid("is empty", file=self.file, line=line, column=column)
        return text

    def _bounded(self, number: int, value: Any, line: int, column: str) -> int:
        if number > _INT64_MAX:  # the canonical counts and micros are 64-bit
            raise self._bad(value, "is too large", line, column)
        return number

    def _bad(self, value: Any, problem: str, line: int, column: str) -> ExportInvalid:
        return ExportInvalid(
            f"{str(value)[:40]!r} {problem}", file=self.file, line=line, column=column
        )
