from datetime import date

import httpx
import pytest

from generator.connectors.base import Connector
from generator.connectors.http import ApiClient
from generator.connectors.jobs import JobStatus, run_job, split_on_failure
from generator.connectors.paging import (
    CursorPaginator,
    NextLinkPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    PageRequest,
    PageTokenPaginator,
    dig,
    paginate,
)
from generator.errors import (
    ConnectorError,
    JobFailed,
    JobTimedOut,
    PlatformUnavailable,
    ResponseInvalid,
)

from .conftest import Replay


def api(routes):
    replay = Replay(routes)
    return ApiClient("demo", httpx.AsyncClient(transport=replay.transport)), replay


async def collect(client, first, paginator, **kw):
    return [page async for page in paginate(client, "GET", first, paginator, **kw)]


async def test_cursor_pages_until_there_is_no_next():
    client, replay = api(
        {
            "/ads": [
                {
                    "data": [1, 2],
                    "paging": {"cursors": {"after": "c1"}, "next": "https://x/ads?after=c1"},
                },
                {"data": [3], "paging": {"cursors": {"after": "c2"}}},
            ]
        }
    )
    pages = await collect(
        client, PageRequest("https://p.test/ads", {"limit": 2}), CursorPaginator()
    )
    assert [p["data"] for p in pages] == [[1, 2], [3]]
    assert replay.requests[1].url.params["after"] == "c1"
    assert replay.requests[1].url.params["limit"] == "2"


async def test_page_tokens_and_next_links():
    client, replay = api({"/rows": [{"rows": [1], "nextPageToken": "t1"}, {"rows": [2]}]})
    pages = await collect(client, PageRequest("https://p.test/rows"), PageTokenPaginator())
    assert len(pages) == 2 and replay.requests[1].url.params["pageToken"] == "t1"
    client, replay = api(
        {"/a": [{"paging": {"next_link": "https://p.test/b?cursor=9"}}], "/b": [{"paging": {}}]}
    )
    pages = await collect(client, PageRequest("https://p.test/a"), NextLinkPaginator())
    assert len(pages) == 2 and str(replay.requests[1].url) == "https://p.test/b?cursor=9"


async def test_offsets_in_a_json_body_stop_at_the_total():
    client, replay = api({":runReport": [{"rows": [1, 2], "rowCount": 5}]})
    paginator = OffsetPaginator(limit=2, total_path="rowCount", where="json")
    first = PageRequest("https://p.test/p:runReport", json={"limit": 2})
    pages = [p async for p in paginate(client, "POST", first, paginator)]
    assert len(pages) == 3
    import json

    assert [json.loads(r.content).get("offset", 0) for r in replay.requests] == [0, 2, 4]


async def test_offsets_without_a_total_stop_at_a_short_page():
    client, _ = api({"/x": [{"items": [1, 2]}, {"items": [3]}]})
    pages = await collect(
        client, PageRequest("https://p.test/x"), OffsetPaginator(limit=2, items_path="items")
    )
    assert len(pages) == 2
    assert OffsetPaginator(limit=2).next_page({"no": "list"}, PageRequest("u")) is None


async def test_numbered_pages():
    client, replay = api({"/r": [{"data": {"page_info": {"total_page": 3}}}]})
    pages = await collect(
        client, PageRequest("https://p.test/r", {"page": 1}), PageNumberPaginator()
    )
    assert len(pages) == 3 and replay.requests[2].url.params["page"] == "3"
    assert PageNumberPaginator().next_page({}, PageRequest("u")) is None


async def test_a_repeated_page_is_refused():
    client, _ = api({"/loop": [{"nextPageToken": "same"}]})
    with pytest.raises(ResponseInvalid, match="repeated a page"):
        await collect(client, PageRequest("https://p.test/loop"), PageTokenPaginator())
    client, _ = api({"/many": [{"items": [1]}]})
    with pytest.raises(ResponseInvalid, match="more than 3 pages"):
        await collect(
            client,
            PageRequest("https://p.test/many"),
            OffsetPaginator(limit=1, items_path="items"),
            max_pages=3,
        )


def test_dig():
    assert dig({"a": {"b": 1}}, "a.b") == 1
    assert dig({"a": [1]}, "a.b") is None and dig({"a": 1}, "") == {"a": 1}


class FakeJob:
    def __init__(self, statuses):
        self.statuses, self.submitted, self.sleeps = list(statuses), 0, []

    async def submit(self):
        self.submitted += 1
        return "job-1"

    async def poll(self, job_id):
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    async def fetch(self, job_id, status):
        return f"rows of {job_id}"

    async def sleep(self, seconds):
        self.sleeps.append(seconds)


async def test_a_job_is_polled_with_growing_delays():
    job = FakeJob([JobStatus(progress=10), JobStatus(progress=50), JobStatus(done=True)])
    seen = []
    result = await run_job(
        "demo", job.submit, job.poll, job.fetch, sleep=job.sleep, on_submitted=seen.append
    )
    assert result == "rows of job-1" and seen == ["job-1"]
    assert job.sleeps == [0.5, 0.8]


async def test_a_pending_job_is_resumed_not_resubmitted():
    job = FakeJob([JobStatus(done=True)])
    assert await run_job("demo", job.submit, job.poll, job.fetch, job_id="old-7") == "rows of old-7"
    assert job.submitted == 0


async def test_failed_and_timed_out_jobs():
    job = FakeJob([JobStatus(failed=True, detail="Job Failed")])
    with pytest.raises(JobFailed, match="Job Failed"):
        await run_job("demo", job.submit, job.poll, job.fetch, sleep=job.sleep)
    job = FakeJob([JobStatus(progress=1)])
    with pytest.raises(JobTimedOut) as err:
        await run_job("demo", job.submit, job.poll, job.fetch, sleep=job.sleep, timeout=0)
    assert err.value.job_id == "job-1"


async def test_a_failing_range_is_split_until_it_works():
    calls = []

    async def run(start, end):
        calls.append((start, end))
        if (end - start).days > 3:
            raise JobFailed("too much data", platform="demo")
        return [(start, end)]

    parts = await split_on_failure(
        run,
        date(2026, 10, 1),
        date(2026, 10, 10),
        lambda pieces: [p for piece in pieces for p in piece],
    )
    assert parts[0][0] == date(2026, 10, 1) and parts[-1][1] == date(2026, 10, 10)
    assert all((e - s).days <= 3 for s, e in parts)

    async def always(start, end):
        raise JobFailed("broken", platform="demo")

    with pytest.raises(JobFailed):
        await split_on_failure(always, date(2026, 10, 1), date(2026, 10, 2), list)


class Reports(Connector):
    platform, api_version, poll_delay = "demo", "v1", 0.001


class Job:
    """A platform-side report that finishes after ``polls`` polls; ids it never issued fail."""

    def __init__(self, polls):
        self.polls, self.issued, self.polled = polls, [], []

    async def submit(self):
        self.issued.append(f"job-{len(self.issued) + 1}")
        return self.issued[-1]

    async def poll(self, job_id):
        self.polled.append(job_id)
        if job_id not in self.issued:
            raise ConnectorError("Unsupported get request: unknown object", platform="demo")
        return JobStatus(done=self.polled.count(job_id) >= self.polls)

    async def fetch(self, job_id, status):
        return f"rows of {job_id}"


async def test_a_timed_out_report_stays_pending_and_the_next_run_resumes_it():
    connector, job = Reports({}), Job(polls=3)
    connector.job_timeout = 0
    with pytest.raises(JobTimedOut):
        await connector.run_report("7", "insights:2026-10", job.submit, job.poll, job.fetch)
    assert connector.pending == {"7": {"insights:2026-10": "job-1"}}
    connector.job_timeout = 60
    result = await connector.run_report("7", "insights:2026-10", job.submit, job.poll, job.fetch)
    assert result == "rows of job-1" and job.issued == ["job-1"]  # resumed, not resubmitted
    assert connector.pending == {"7": {}}


async def test_a_pending_report_the_platform_forgot_is_submitted_again():
    connector, job = Reports({}), Job(polls=1)
    connector.pending = {"7": {"insights:2026-10": "job-from-last-week"}}
    result = await connector.run_report("7", "insights:2026-10", job.submit, job.poll, job.fetch)
    assert result == "rows of job-1" and connector.pending == {"7": {}}


async def test_a_failed_report_is_not_kept_pending_and_transport_trouble_is_raised():
    connector = Reports({})

    async def failed(job_id):
        return JobStatus(failed=True, detail="Job Failed")

    job = Job(polls=1)
    with pytest.raises(JobFailed):
        await connector.run_report("7", "k", job.submit, failed, job.fetch)
    assert connector.pending == {"7": {}}

    async def down(job_id):
        raise PlatformUnavailable("gave up", platform="demo")

    connector.pending = {"7": {"k": "job-9"}}
    with pytest.raises(PlatformUnavailable):
        await connector.run_report("7", "k", job.submit, down, job.fetch)
    assert connector.pending == {"7": {"k": "job-9"}}  # still worth resuming later
