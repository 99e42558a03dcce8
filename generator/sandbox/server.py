"""Run the sandbox on 127.0.0.1 in a background thread (for the demo and the CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

__all__ = ["RunningSandbox", "serve"]


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox listening on loopback; ``base_url(platform)`` is what a connector is given."""

    url: str
    app: Starlette

    def base_url(self, platform: str) -> str:
        return f"{self.url}/{platform}"


@contextlib.contextmanager
def serve(app: Starlette, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningSandbox]:
    """Serve ``app`` until the block ends; port 0 picks a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name="sandbox", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.01)
    bound_host, bound_port = sock.getsockname()[:2]
    try:
        yield RunningSandbox(url=f"http://{bound_host}:{bound_port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
