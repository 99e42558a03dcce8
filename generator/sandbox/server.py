"""Run the sandbox on 127.0.0.1: in a background thread (``serve``, for tests that hold the
app), or in a process of its own (``serve_process``, for the demo and the CLI, so that the
platforms' side of the wire does not share a core with the sync that talks to it)."""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import uvicorn
from starlette.applications import Starlette

from generator.sandbox.faults import Faults

__all__ = ["RunningSandbox", "serve", "serve_process"]


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox listening on loopback; ``base_url(platform)`` is what a connector is given."""

    url: str
    app: Starlette | None = None

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


@contextlib.contextmanager
def serve_process(
    *,
    end: date,
    now: datetime | None = None,
    seed: int = 7,
    port: int = 0,
    timeout: float = 120.0,
    faults: Faults | None = None,
) -> Iterator[RunningSandbox]:
    """Serve a fresh sandbox (``World(seed, end)``, with ``faults``) from a child process until
    the block ends.

    The child is ``python -m generator.sandbox``: it prints its URL, then serves until its
    standard input closes.

    Raises:
        RuntimeError: the sandbox did not come up within ``timeout`` seconds.
    """
    command = [
        sys.executable,
        "-m",
        "generator.sandbox",
        "--end",
        end.isoformat(),
        "--seed",
        str(seed),
        "--port",
        str(port),
    ]
    if now is not None:
        command += ["--now", now.isoformat()]
    if faults is not None:
        command += ["--faults", faults.to_json()]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([child.stdout], [], [], timeout)
        url = child.stdout.readline().strip() if ready else ""
        if not url.startswith("http"):
            raise RuntimeError(f"the sandbox did not start (exit code {child.poll()})")
        yield RunningSandbox(url=url)
    finally:
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
