"""The small mechanisms platform modules share: shared reads, lineage, chunks, versions."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from generator.connectors.base import Connector
from generator.connectors.incremental import date_chunks
from generator.connectors.jobs import gather_all
from generator.connectors.normalize import Col, content_version
from generator.connectors.payloads import json_list, json_object
from generator.schema import AD_PERFORMANCE, CREATIVES


class Demo(Connector):
    platform, api_version = "tiktok", "v1.3"
    datasets = ("ad_performance", "actions")


async def test_one_read_feeds_each_dataset_once():
    connector, reads = Demo({}), []

    async def read():
        reads.append(1)
        return f"rows {len(reads)}"

    key = ("7", date(2026, 10, 1), date(2026, 10, 31))
    assert await connector.shared("ad_performance", key, read) == "rows 1"
    assert await connector.shared("actions", key, read) == "rows 1"
    assert connector._shared == {}  # dropped once every dataset has read it
    assert await connector.shared("actions", key, read) == "rows 2"  # a new run reads again
    assert await connector.shared("actions", key, read) == "rows 3"


def test_normalize_adds_the_lineage_every_row_carries():
    fields = {
        "date": Col("day", "date", required=True),
        "campaign_id": Col("c", "id", required=True),
        "ad_id": Col("a", "id", required=True),
        "impressions": Col("i", "count", default=0),
        "clicks": Col("k", "count", default=0),
        "spend_micros": Col("s", "major", default=0),
        "conversions": Col("v", "number", default=0.0),
        "value_micros": Col("w", "major", default=0),
    }
    record = {"day": "2026-10-01", "c": 1, "a": 2, "i": "10", "s": "1.5"}
    table = Demo({}).normalize(
        [record], fields, AD_PERFORMANCE, account_id="7", account_timezone="UTC", currency="USD"
    )
    (row,) = table.to_pylist()
    assert (row["platform"], row["source"], row["api_version"]) == ("tiktok", "tiktok", "v1.3")
    assert row["spend_micros"] == 1_500_000 and row["fetched_at"] is not None
    creative = {"creative_id": Col("id", "id", required=True), "version": Col("v", required=True)}
    creative["format"] = Col("f", required=True)
    (made,) = (
        Demo({})
        .normalize([{"id": 5, "v": "x", "f": "image"}], creative, CREATIVES, account_id="7")
        .to_pylist()
    )
    assert made["first_seen"] == made["fetched_at"].date()


def test_download_urls_move_under_the_sandbox_only_when_it_replaces_the_hosts():
    url = "https://bucket.s3.amazonaws.com/reports/1.json.gz?X-Amz-Signature=abc"
    assert Demo({}).rebase(url, "s3") == url
    sandbox = Demo({}, base_url="http://127.0.0.1:9/amazon_ads")
    assert sandbox.rebase(url, "s3") == (
        "http://127.0.0.1:9/amazon_ads/s3/reports/1.json.gz?X-Amz-Signature=abc"
    )
    assert sandbox.rebase("http://127.0.0.1:9/amazon_ads/x", "s3") == (
        "http://127.0.0.1:9/amazon_ads/x"
    )


def test_date_chunks_cover_the_range_without_overlap():
    pieces = date_chunks(date(2026, 1, 1), date(2026, 3, 15), 30)
    assert pieces == [
        (date(2026, 1, 1), date(2026, 1, 30)),
        (date(2026, 1, 31), date(2026, 3, 1)),
        (date(2026, 3, 2), date(2026, 3, 15)),
    ]
    assert date_chunks(date(2026, 1, 2), date(2026, 1, 1), 30) == []


def test_content_versions_change_with_what_the_reader_sees():
    assert content_version("Sale", None, "https://a") == content_version("Sale", "", "https://a")
    assert content_version("Sale", "img1") != content_version("Sale", "img2")
    assert len(content_version("x")) == 16


async def test_gather_all_waits_for_every_job_before_raising():
    finished = []

    async def ok(n):
        finished.append(n)
        return n

    async def broken():
        raise RuntimeError("job 2 failed")

    assert await gather_all([ok(1), ok(2)]) == [1, 2]
    with pytest.raises(RuntimeError, match="job 2"):
        await gather_all([broken(), ok(3)])
    assert finished == [1, 2, 3]


def test_json_parsers_refuse_the_wrong_shape():
    assert json_object(httpx.Response(200, json={"a": 1})) == {"a": 1}
    assert json_list(httpx.Response(200, json=[{"a": 1}])) == [{"a": 1}]
    with pytest.raises(ValueError, match="object"):
        json_object(httpx.Response(200, json=[1]))
    with pytest.raises(ValueError, match="array"):
        json_list(httpx.Response(200, json={"a": 1}))
