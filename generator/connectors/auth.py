"""Authentication schemes, each one small class with one extension point: ``headers``.

``OAuth2Refresh`` exchanges a refresh token for short-lived access tokens, refreshes a minute
before expiry and once after a 401 (``invalidate``), serialises refreshes across concurrent
requests, and hands a rotated refresh token to ``on_rotate`` so it can be persisted.
``StaticToken`` covers long-lived tokens; ``OAuth1`` signs each request (X Ads). Only a
refreshable scheme gets a second chance after a 401. Secrets are registered for log redaction.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from typing import ClassVar, Protocol
from urllib.parse import parse_qsl, quote

import httpx

from generator.connectors.redact import register_secret
from generator.errors import AuthFailed

__all__ = ["Authenticator", "NoAuth", "OAuth1", "OAuth2Refresh", "StaticToken"]


class Authenticator(Protocol):
    #: whether ``invalidate`` then ``headers`` can produce a new token (a 401 is retried once)
    refreshable: ClassVar[bool]

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        """Headers that authenticate the next request (refreshing first if needed)."""

    def invalidate(self) -> None:
        """Forget the current access token (after the platform rejected it)."""


class NoAuth:
    refreshable: ClassVar[bool] = False

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        return {}

    def invalidate(self) -> None:
        return None


class StaticToken:
    """A long-lived token sent in ``header`` (``Authorization: Bearer`` by default)."""

    refreshable: ClassVar[bool] = False

    def __init__(
        self, platform: str, token: str, *, header: str = "Authorization", prefix: str = "Bearer "
    ) -> None:
        if not token:
            raise AuthFailed("no access token configured", platform=platform)
        register_secret(token)
        self._platform, self._value, self._header = platform, prefix + token, header

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        return {self._header: self._value}

    def invalidate(self) -> None:
        return None


class OAuth2Refresh:
    """The OAuth2 refresh-token grant.

    Args:
        platform: for error messages.
        token_url: the token endpoint (already rebased onto ``base_url`` when one is given).
        client_id, client_secret, refresh_token: the platform's credential names.
        basic_auth: send client credentials as HTTP Basic (Reddit, Amazon) instead of form
            fields (Google).
        extra: more form fields for the grant.
        on_rotate: called with a new refresh token when the platform rotates it.
        skew: refresh this many seconds before the token expires.
        attempts: tries of the token endpoint when it fails transiently (5xx, timeout).
    """

    refreshable: ClassVar[bool] = True

    def __init__(
        self,
        platform: str,
        token_url: str,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        basic_auth: bool = False,
        extra: Mapping[str, str] | None = None,
        on_rotate: Callable[[str], None] | None = None,
        skew: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        attempts: int = 4,
    ) -> None:
        missing = [
            n
            for n, v in (
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("refresh_token", refresh_token),
            )
            if not v
        ]
        if missing:
            raise AuthFailed(f"missing credentials: {', '.join(missing)}", platform=platform)
        for secret in (client_secret, refresh_token):
            register_secret(secret)
        self.platform, self.token_url = platform, token_url
        self._client = (client_id, client_secret)
        self.refresh_token = refresh_token
        self._basic, self._extra, self._on_rotate = basic_auth, dict(extra or {}), on_rotate
        self._skew, self._clock, self._attempts = skew, clock, max(1, attempts)
        self._access: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.refreshes = 0

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        if self._access is None or self._clock() >= self._expires - self._skew:
            async with self._lock:
                if self._access is None or self._clock() >= self._expires - self._skew:
                    await self._refresh(http)
        return {"Authorization": f"Bearer {self._access}"}

    def invalidate(self) -> None:
        self._access = None

    async def _refresh(self, http: httpx.AsyncClient) -> None:
        form = {"grant_type": "refresh_token", "refresh_token": self.refresh_token, **self._extra}
        headers = {"Accept": "application/json"}
        if self._basic:
            pair = f"{self._client[0]}:{self._client[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form |= {"client_id": self._client[0], "client_secret": self._client[1]}
        response = await self._post(http, form, headers)
        body = _json_or_empty(response)
        if response.status_code != 200 or "access_token" not in body:
            reason = body.get("error_description") or body.get("error") or response.status_code
            raise AuthFailed(
                f"refresh token rejected ({reason}); re-authorise the app and update the "
                "refresh token in the environment",
                platform=self.platform,
                request="POST token",
            )
        self._access = str(body["access_token"])
        register_secret(self._access)
        lifetime = float(body.get("expires_in", 3600))
        self._expires = self._clock() + lifetime
        self._skew = min(self._skew, lifetime / 10)
        self.refreshes += 1
        rotated = body.get("refresh_token")
        if rotated and rotated != self.refresh_token:
            register_secret(rotated)
            self.refresh_token = rotated
            if self._on_rotate:
                self._on_rotate(rotated)

    async def _post(self, http: httpx.AsyncClient, form: dict, headers: dict) -> httpx.Response:
        """POST the grant, retrying a token endpoint that is briefly down."""
        for attempt in range(1, self._attempts + 1):
            try:
                response = await http.post(self.token_url, data=form, headers=headers)
            except httpx.HTTPError as exc:
                if attempt == self._attempts:
                    raise AuthFailed(
                        f"token endpoint unreachable ({type(exc).__name__})",
                        platform=self.platform,
                        request="POST token",
                    ) from exc
            else:
                if response.status_code < 500 or attempt == self._attempts:
                    return response
            await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover


class OAuth1:
    """OAuth 1.0a HMAC-SHA1 request signing (RFC 5849), as X Ads requires.

    Every request is signed over its method, URL, query and form parameters, so the
    signature is computed in ``sign`` with the request in hand; there is no token to
    refresh (user tokens do not expire).
    """

    refreshable: ClassVar[bool] = False

    def __init__(
        self,
        platform: str,
        *,
        consumer_key: str,
        consumer_secret: str,
        token: str,
        token_secret: str,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        pairs = (("consumer_key", consumer_key), ("consumer_secret", consumer_secret))
        pairs += (("access_token", token), ("access_token_secret", token_secret))
        missing = [name for name, value in pairs if not value]
        if missing:
            raise AuthFailed(f"missing credentials: {', '.join(missing)}", platform=platform)
        for secret in (consumer_secret, token, token_secret):
            register_secret(secret)
        self.platform, self._key, self._token = platform, consumer_key, token
        self._signing_key = f"{_pct(consumer_secret)}&{_pct(token_secret)}".encode()
        self._clock, self._nonce = clock, nonce

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        return {}

    def invalidate(self) -> None:
        return None

    def sign(self, request: httpx.Request) -> None:
        """Set the request's ``Authorization: OAuth ...`` header."""
        oauth = {
            "oauth_consumer_key": self._key,
            "oauth_nonce": self._nonce(),
            "oauth_signature_method": "HMAC-SHA1",
            "oauth_timestamp": str(int(self._clock())),
            "oauth_token": self._token,
            "oauth_version": "1.0",
        }
        oauth["oauth_signature"] = self.signature(request, oauth)
        request.headers["Authorization"] = "OAuth " + ", ".join(
            f'{_pct(k)}="{_pct(v)}"' for k, v in sorted(oauth.items())
        )

    def signature(self, request: httpx.Request, oauth: Mapping[str, str]) -> str:
        """The base64 HMAC-SHA1 of the signature base string (RFC 5849 section 3.4)."""
        params = list(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params += parse_qsl(request.content.decode(), keep_blank_values=True)
        params += oauth.items()
        normal = "&".join(f"{k}={v}" for k, v in sorted((_pct(k), _pct(v)) for k, v in params))
        base_url = str(request.url.copy_with(query=None, fragment=None))
        base = "&".join((request.method.upper(), _pct(base_url), _pct(normal)))
        digest = hmac.new(self._signing_key, base.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()


def _pct(value: str) -> str:
    """RFC 3986 percent-encoding, as OAuth 1.0a requires (only unreserved kept)."""
    return quote(str(value), safe="~")


def _json_or_empty(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
