"""Replay hand-written platform responses through httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(platform: str, name: str):
    return json.loads((FIXTURES / platform / name).read_text())


class Replay:
    """A MockTransport that answers each path from a queue of responses and records requests.

    ``routes`` maps a path suffix to a list of answers; each answer is a JSON body, an
    ``httpx.Response``, or a callable taking the request. The last answer repeats.
    """

    def __init__(self, routes: dict[str, list]) -> None:
        self.routes = {k: list(v) for k, v in routes.items()}
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for suffix, answers in self.routes.items():
            if request.url.path.endswith(suffix):
                answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if isinstance(answer, httpx.Response):
                    return answer
                if isinstance(answer, Callable):
                    return answer(request)
                return httpx.Response(200, json=answer)
        return httpx.Response(404, json={"error": f"no route for {request.url.path}"})

    def to(self, suffix: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith(suffix)]


@pytest.fixture
def replay():
    return Replay


async def no_sleep(seconds: float) -> None:
    return None
