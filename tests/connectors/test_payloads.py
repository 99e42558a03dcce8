import gzip
import io
import json
import zipfile

import pytest

from generator.connectors.payloads import csv_records, gunzip, gunzip_json, unzip_text


def zipped(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_gzip_json_and_plain_json_both_read():
    rows = [{"date": "2026-11-01", "cost": 1.5}]
    assert gunzip_json(gzip.compress(json.dumps(rows).encode())) == rows
    assert gunzip_json(json.dumps(rows).encode()) == rows  # already inflated by the transport


def test_a_cut_gzip_is_a_value_error_so_the_download_is_retried():
    body = gzip.compress(b"x" * 10_000)
    with pytest.raises(ValueError, match="gzip"):
        gunzip(body[: len(body) // 2])


def test_the_single_csv_of_a_zip_with_its_preamble_and_footer():
    text = (
        '\ufeff"Report Name: Ad performance"\n"Report Time: 11/1/2026"\n'
        "TimePeriod,AdId,Spend\n2026-11-01,7,1.25\n2026-11-02,7,0.75\n"
        '"©2026 Microsoft Corporation. All rights reserved. "\n'
    )
    records = csv_records(unzip_text(zipped({"report.csv": text})), skip=2, footer="©")
    assert records == [
        {"TimePeriod": "2026-11-01", "AdId": "7", "Spend": "1.25"},
        {"TimePeriod": "2026-11-02", "AdId": "7", "Spend": "0.75"},
    ]


def test_archives_without_exactly_one_csv_or_broken_are_refused():
    with pytest.raises(ValueError, match="found 2"):
        unzip_text(zipped({"a.csv": "x", "b.csv": "y"}))
    with pytest.raises(ValueError, match="ZIP"):
        unzip_text(b"PK\x03\x04 not really")
