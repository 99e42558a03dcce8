import asyncio
import base64

import httpx
import pytest

from generator.connectors.auth import NoAuth, OAuth2Refresh, StaticToken
from generator.errors import AuthFailed


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def token_server(answers):
    seen = []

    def handle(request):
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        return httpx.Response(answer[0], json=answer[1])

    return httpx.AsyncClient(transport=httpx.MockTransport(handle)), seen


def oauth(clock, **kw):
    return OAuth2Refresh(
        "demo",
        "https://auth.test/token",
        client_id="cid",
        client_secret="csecret",
        refresh_token="refresh-1",
        clock=clock,
        **kw,
    )


async def test_refreshes_before_expiry_and_after_invalidate():
    http, seen = token_server(
        [
            (200, {"access_token": "a1", "expires_in": 3600}),
            (200, {"access_token": "a2", "expires_in": 3600}),
        ]
    )
    clock = Clock()
    auth = oauth(clock)
    assert await auth.headers(http) == {"Authorization": "Bearer a1"}
    clock.now += 3000
    assert await auth.headers(http) == {"Authorization": "Bearer a1"}  # still fresh
    clock.now += 545  # inside the 60 s skew before expiry
    assert await auth.headers(http) == {"Authorization": "Bearer a2"}
    auth.invalidate()
    await auth.headers(http)
    assert len(seen) == 3 and auth.refreshes == 3


async def test_concurrent_requests_share_one_refresh():
    http, seen = token_server([(200, {"access_token": "a1", "expires_in": 3600})])
    auth = oauth(Clock())
    await asyncio.gather(*(auth.headers(http) for _ in range(10)))
    assert len(seen) == 1


async def test_a_rotated_refresh_token_is_handed_over():
    rotated = []
    http, seen = token_server(
        [(200, {"access_token": "a1", "expires_in": 60, "refresh_token": "refresh-2"})]
    )
    auth = oauth(Clock(), on_rotate=rotated.append, basic_auth=True)
    await auth.headers(http)
    assert rotated == ["refresh-2"] and auth.refresh_token == "refresh-2"
    basic = base64.b64encode(b"cid:csecret").decode()
    assert seen[0].headers["authorization"] == f"Basic {basic}"
    assert b"client_secret" not in seen[0].content


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (400, {"error": "invalid_grant"}, "invalid_grant"),
        (200, {"nothing": 1}, "200"),
        (500, "oops", "500"),
    ],
)
async def test_rejected_refresh(status, body, message):
    http, _ = token_server([(status, body)])
    with pytest.raises(AuthFailed, match=message) as err:
        await oauth(Clock()).headers(http)
    assert "refresh-1" not in str(err.value) and "csecret" not in str(err.value)


async def test_unreachable_token_endpoint():
    def down(request):
        raise httpx.ConnectError("refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(down))
    with pytest.raises(AuthFailed, match="unreachable"):
        await oauth(Clock()).headers(http)


async def test_missing_credentials_and_static_tokens():
    with pytest.raises(AuthFailed, match="missing credentials: client_secret, refresh_token"):
        OAuth2Refresh("demo", "u", client_id="c", client_secret="", refresh_token="")
    with pytest.raises(AuthFailed, match="no access token"):
        StaticToken("demo", "")
    token = StaticToken("demo", "long-lived-token", header="Access-Token", prefix="")
    assert await token.headers(None) == {"Access-Token": "long-lived-token"}
    token.invalidate()
    assert await NoAuth().headers(None) == {}
    NoAuth().invalidate()
