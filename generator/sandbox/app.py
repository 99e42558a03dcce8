"""The sandbox ASGI app: every emulated platform mounted under its own prefix.

``create_app()`` serves ``/google_ads/...`` (and each further platform under its connector
name), all from one ``World``. Connectors reach it by ``base_url = <root>/<platform>``, either
over loopback (``server.serve``) or in-process through ``httpx.ASGITransport``.
"""

from __future__ import annotations

from datetime import datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from generator.sandbox import assets
from generator.sandbox.faults import Faults
from generator.sandbox.registry import platform_modules
from generator.sandbox.state import SandboxState
from generator.sandbox.world import World

__all__ = ["PLATFORMS", "create_app"]

#: Connector name -> module with ``routes()``, for every platform the sandbox emulates.
PLATFORMS = platform_modules()


def create_app(
    world: World | None = None, faults: Faults | None = None, now: datetime | None = None
) -> Starlette:
    """An app serving every platform from ``world`` (a fresh default world if None).

    ``now`` fixes the sandbox clock (default: the real time); ``app.state.sandbox.now`` can be
    replaced later to move it.
    """
    state = SandboxState(world=world or World(), faults=faults or Faults())
    if now is not None:
        state.now = lambda: now
    _ = state.world.performance  # simulate up front, not inside the first request
    routes = [Route("/", _index), Mount("/cdn", routes=assets.routes())] + [
        Mount(f"/{name}", routes=module.routes()) for name, module in PLATFORMS.items()
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = state
    return app


async def _index(request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    return JSONResponse(
        {
            "sandbox": "campaign-reporter",
            "platforms": sorted(PLATFORMS),
            "world": {
                "seed": state.world.seed,
                "end": state.world.end.isoformat(),
                "clients": [c.slug for c in state.world.clients],
            },
            "requests": dict(state.requests),
        }
    )
