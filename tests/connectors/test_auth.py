import asyncio
import base64

import httpx
import pytest

from generator.connectors.auth import NoAuth, OAuth1, OAuth2Refresh, StaticToken
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


async def test_the_token_endpoint_is_retried_when_briefly_down():
    http, seen = token_server([(503, {}), (502, {}), (200, {"access_token": "a1"})])
    auth = oauth(Clock())
    assert await auth.headers(http) == {"Authorization": "Bearer a1"}
    assert len(seen) == 3


async def test_a_token_endpoint_down_for_good_is_an_auth_failure():
    def handle(request):
        raise httpx.ConnectTimeout("down")

    http = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    with pytest.raises(AuthFailed, match="unreachable"):
        await oauth(Clock(), attempts=2).headers(http)


def test_oauth1_signature_matches_the_published_example():
    # X's developer documentation, "Creating a signature": the worked example's inputs and
    # its published signature hCtSmYh+iHYCEqBWrE7C7hYmtUk=
    auth = OAuth1(
        "x",
        consumer_key="xvz1evFS4wEEPTGEFPHBog",
        consumer_secret="kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        token_secret="LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        clock=lambda: 1318622958,
        nonce=lambda: "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
    )
    request = httpx.Request(
        "POST",
        "https://api.twitter.com/1.1/statuses/update.json",
        params={"include_entities": "true"},
        data={"status": "Hello Ladies + Gentlemen, a signed OAuth request!"},
    )
    auth.sign(request)
    header = request.headers["Authorization"]
    assert header.startswith('OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog"')
    assert 'oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"' in header
    assert 'oauth_timestamp="1318622958"' in header and 'oauth_version="1.0"' in header


async def test_oauth1_signs_every_request_through_the_api_client():
    from generator.connectors.http import ApiClient

    seen = []

    def handle(request):
        seen.append(request.headers.get("authorization", ""))
        return httpx.Response(200, json={})

    auth = OAuth1("x", consumer_key="ck", consumer_secret="cs", token="t", token_secret="ts")
    api = ApiClient("x", httpx.AsyncClient(transport=httpx.MockTransport(handle)), auth=auth)
    await api.call("GET", "https://ads-api.x.com/12/accounts", params={"count": "5"})
    await api.call("GET", "https://ads-api.x.com/12/accounts", params={"count": "5"})
    assert all(h.startswith("OAuth ") for h in seen) and seen[0] != seen[1]  # fresh nonces
    assert await auth.headers(None) == {} and auth.invalidate() is None


def test_oauth1_names_missing_credentials():
    with pytest.raises(AuthFailed, match="access_token_secret"):
        OAuth1("x", consumer_key="ck", consumer_secret="cs", token="t", token_secret="")
