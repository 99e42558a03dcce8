"""Small pieces every emulated platform uses: request readers, refusals, handlers, replies.

A platform module writes its handlers as ``serve(request, state)`` and wraps them with
``handler(platform, serve, gate=...)``: the wrapper counts the request, runs the platform's
gate (faults, version, auth, throttle), and turns a ``Refused`` raised anywhere into the
platform's own error response.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from generator.sandbox.state import SandboxState

__all__ = ["Refused", "bearer", "handler", "json_reply", "read_form"]

Serve = Callable[[Request, SandboxState], Awaitable[Response]]
Gate = Callable[[Request, SandboxState], Awaitable[None]]


class Refused(Exception):
    """Stop handling and answer with ``response`` (the platform's error shape)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def handler(platform: str, serve: Serve, *, gate: Gate | None = None):
    """A Starlette endpoint running ``serve`` behind ``gate`` for ``platform``."""

    async def handle(request: Request) -> Response:
        state: SandboxState = request.app.state.sandbox
        state.requests[platform] += 1
        try:
            if gate is not None:
                await gate(request, state)
            return await serve(request, state)
        except Refused as refused:
            return refused.response

    return handle


def json_reply(
    state: SandboxState,
    body: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    truncate: bool = True,
) -> Response:
    """A JSON response; a successful one may be cut short when faults say so."""
    payload = json.dumps(body, separators=(",", ":")).encode()
    if truncate and status < 300:
        payload = state.faults.truncate(payload)
    return Response(payload, status, headers=headers, media_type="application/json")


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a dict (last value wins)."""
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


def bearer(request: Request) -> str:
    """The token of an ``Authorization: Bearer`` header, or ""."""
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""
