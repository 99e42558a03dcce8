import asyncio
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from generator.connectors import redact
from generator.connectors.http import ApiClient, default_verdict, retry_after
from generator.connectors.retry import RetryPolicy
from generator.connectors.verdicts import SlowDown
from generator.errors import ConnectorError, PlatformUnavailable, RateLimited

from .conftest import Replay


def client(replay, **kw):
    sleeps = []

    async def sleep(seconds):
        sleeps.append(seconds)

    api = ApiClient("demo", httpx.AsyncClient(transport=replay.transport), sleep=sleep, **kw)
    return api, sleeps


async def test_retry_after_header_is_honoured():
    replay = Replay({"/x": [httpx.Response(429, headers={"Retry-After": "7"}), {"ok": 1}]})
    api, sleeps = client(replay)
    assert (await api.call("GET", "https://p.test/x", parse=lambda r: r.json())) == {"ok": 1}
    assert sleeps == [7.0]


async def test_rate_limits_without_a_hint_back_off_and_are_bounded():
    replay = Replay({"/x": [httpx.Response(429)]})
    api, sleeps = client(replay, policy=RetryPolicy(rate_limit_wait=3.0, base=0.5, cap=1.0))
    with pytest.raises(RateLimited, match="still rate limited") as err:
        await api.call("GET", "https://p.test/x")
    assert sum(sleeps) <= 3.0 and len(sleeps) >= 3
    assert err.value.platform == "demo" and err.value.request == "GET /x"


async def test_timeouts_and_connection_errors_are_transient():
    calls = []

    def flaky(request):
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        if len(calls) == 2:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"ok": True})

    api, sleeps = client(Replay({"/x": [flaky]}))
    assert (await api.call("GET", "https://p.test/x")).json() == {"ok": True}
    assert len(sleeps) == 2 and api.stats.retries == 2 and api.stats.requests == 3


async def test_the_transient_budget_bounds_total_backoff():
    replay = Replay({"/x": [httpx.Response(502)]})
    api, sleeps = client(replay, policy=RetryPolicy(attempts=100, base=1.0, cap=1.0, budget=0.0))
    with pytest.raises(PlatformUnavailable):
        await api.call("GET", "https://p.test/x")
    assert sleeps == []


async def test_slow_down_pauses_before_returning():
    replay = Replay({"/x": [{"ok": 1}]})
    api, sleeps = client(replay, classify=lambda response, request: SlowDown(2.5))
    await api.call("GET", "https://p.test/x")
    assert sleeps == [2.5] and api.stats.waited_seconds == 2.5


def test_default_verdicts():
    request = httpx.Request("GET", "https://p.test/x")
    verdict = default_verdict(httpx.Response(404, text="nope", request=request), "demo", "GET /x")
    assert isinstance(verdict.error, ConnectorError) and "HTTP 404: nope" in str(verdict.error)
    assert default_verdict(httpx.Response(408), "demo", "").reason == "HTTP 408"


def test_retry_after_parsing():
    def parse(value):
        return retry_after(httpx.Response(429, headers={"Retry-After": value} if value else {}))

    assert parse("12") == 12.0
    assert parse("") is None and parse("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= parse(later) <= 31


async def test_the_limiter_spaces_requests():
    replay = Replay({"/x": [{"ok": 1}]})
    api, _ = client(replay, rate=20.0)
    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(api.call("GET", "https://p.test/x") for _ in range(30)))
    assert asyncio.get_running_loop().time() - started >= 0.4


def test_secrets_are_masked_in_log_records(caplog):
    redact.register_secret("s3cr3t-value-123")
    redact.register_secret("abc")  # too short to mask safely: ignored
    logger = logging.getLogger("generator.test")
    filt = redact.install(logger)
    try:
        with caplog.at_level(logging.INFO, logger="generator.test"):
            logger.info("token=%s and abc", "s3cr3t-value-123")
        assert "s3cr3t-value-123" not in caplog.text
        assert "token=*** and abc" in caplog.text
    finally:
        logger.removeFilter(filt)
    assert redact.redact("nothing here") == "nothing here"


async def test_consecutive_rate_limits_without_a_hint_wait_longer_each_time():
    replay = Replay({"/x": [httpx.Response(429)] * 4 + [{"ok": 1}]})
    api, sleeps = client(replay, policy=RetryPolicy(base=1.0, cap=100.0))
    await api.call("GET", "https://p.test/x")
    assert len(sleeps) == 4
    assert 0.5 <= sleeps[0] <= 1.0
    assert sleeps[3] >= 4.0  # the fourth wait's floor is half of 8 s


async def test_a_rejected_static_token_fails_at_once_naming_the_fix():
    from generator.connectors.auth import StaticToken
    from generator.errors import AuthFailed

    replay = Replay({"/x": [httpx.Response(401)]})
    api, _ = client(replay, auth=StaticToken("demo", "long-lived"))
    with pytest.raises(AuthFailed, match="renew the token"):
        await api.call("GET", "https://p.test/x")
    assert len(replay.requests) == 1


async def test_unauthenticated_calls_carry_no_platform_headers():
    from generator.connectors.auth import StaticToken

    replay = Replay({"/report.gz": [{"ok": 1}], "/api": [{"ok": 1}]})
    api, _ = client(replay, auth=StaticToken("demo", "tok"), headers={"DeveloperToken": "dev"})
    await api.call("GET", "https://s3.test/report.gz", authenticate=False)
    await api.call("GET", "https://p.test/api")
    download, call = replay.requests
    assert "developertoken" not in download.headers and "authorization" not in download.headers
    assert call.headers["developertoken"] == "dev" and call.headers["authorization"] == "Bearer tok"
