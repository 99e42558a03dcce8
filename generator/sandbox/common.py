"""Small request helpers every emulated platform uses."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

__all__ = ["bearer", "read_form"]


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a dict (last value wins)."""
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


def bearer(request: Request) -> str:
    """The token of an ``Authorization: Bearer`` header, or ""."""
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""
