"""Report files as platforms deliver them: gzip JSON, gzip CSV, a ZIP holding one CSV.

Each reader raises ``ValueError`` for a body it cannot read, which ``ApiClient.call`` treats
as a garbled answer (retried, then ``ResponseInvalid``), so a download cut short is fetched
again rather than stored half.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
import zlib
from typing import Any

import httpx

__all__ = ["csv_records", "gunzip", "gunzip_json", "json_list", "json_object", "unzip_text"]

#: the largest report a download may inflate to (a guard against a decompression bomb)
MAX_INFLATED = 2 * 1024**3


def gunzip(body: bytes) -> bytes:
    """The bytes of a gzip body (passed through when the transport already inflated it)."""
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            data = stream.read(MAX_INFLATED + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"not a readable gzip file ({exc})") from None
    if len(data) > MAX_INFLATED:
        raise ValueError("the report inflates past 2 GiB")
    return data


def gunzip_json(body: bytes) -> Any:
    """A gzip-compressed (or plain) JSON document."""
    return json.loads(gunzip(body))


def unzip_text(body: bytes, *, suffix: str = ".csv", encoding: str = "utf-8-sig") -> str:
    """The text of the single ``suffix`` member of a ZIP archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            members = [i for i in archive.infolist() if i.filename.lower().endswith(suffix)]
            if len(members) != 1:
                raise ValueError(f"expected one {suffix} file in the archive, found {len(members)}")
            if members[0].file_size > MAX_INFLATED:
                raise ValueError("the report inflates past 2 GiB")
            return archive.read(members[0]).decode(encoding)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ValueError(f"not a readable ZIP archive ({exc})") from None


def csv_records(text: str, *, skip: int = 0, footer: str | None = None) -> list[dict[str, str]]:
    """Rows of a CSV with a header line, as dicts.

    Args:
        skip: preamble lines before the header (report name, date range, ...).
        footer: rows whose first cell starts with this end the data (copyright lines).
    """
    lines = text.splitlines()[skip:]
    records = []
    for row in csv.DictReader(lines):
        first = next(iter(row.values()), "") or ""
        if footer is not None and first.startswith(footer):
            break
        records.append(row)
    return records


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object (``ApiClient.call`` parse): anything else is garbled."""
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError(f"expected a JSON object, got {type(body).__name__}")
    return body


def json_list(response: httpx.Response) -> list[dict[str, Any]]:
    """The body as a JSON array of objects (rows)."""
    body = response.json()
    if not isinstance(body, list) or not all(isinstance(row, dict) for row in body):
        raise ValueError("expected a JSON array of objects")
    return body
