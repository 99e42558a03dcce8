"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

``smtp_server(inbox=None, **options)`` starts one on 127.0.0.1 at a port the system picks
(so parallel runs never collide) and stops it after the test; ``options`` go to aiosmtpd
(``authenticator``, ``auth_require_tls``, ``tls_context``, ``ssl_context``, ...). An
``Inbox`` can script failures: ``replies`` answers the first DATA commands (``"451 ..."``),
``refuse`` answers RCPT for some addresses (``{"x@y.example": "550 ..."}``).

``server`` is a loopback HTTP endpoint that records each POST (``Posted``) and answers as
scripted per path: what chat hooks and webhooks are sent to.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    """One message as the server got it: the envelope and the raw bytes."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class Inbox:
    """aiosmtpd handler that stores accepted messages and answers as scripted."""

    replies: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    data_commands: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address.casefold() in self.refuse:
            return self.refuse[address.casefold()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.data_commands += 1
        if self.replies:
            return self.replies.pop(0)
        data = envelope.original_content or envelope.content
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), data))
        return "250 Message accepted"


class _Loopback(Controller):
    """A controller bound to port 0: it learns the port the system chose before it checks
    that the server answers (aiosmtpd's own check would dial port 0)."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    inbox: Inbox


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., SmtpServer]]:
    started: list[Controller] = []

    def start(inbox: Inbox | None = None, **options) -> SmtpServer:
        inbox = Inbox() if inbox is None else inbox
        controller = _Loopback(inbox, hostname="127.0.0.1", port=0, **options)
        controller.start()
        started.append(controller)
        return SmtpServer("127.0.0.1", controller.port, inbox)

    yield start
    for controller in started:
        controller.stop()


# -- a loopback HTTP endpoint (chat hooks and webhooks) ---------------------------------


@dataclass(frozen=True)
class Posted:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class _Recorder(BaseHTTPRequestHandler):
    server: Loopback

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, reply = self.server.answer(Posted(self.path, headers, body))
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format, *args):  # keep the test output quiet
        pass


class Loopback(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that records each POST and answers from a script per
    path (the last answer repeats; 200 "ok" when nothing is scripted)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.received: list[Posted] = []
        self._script: dict[str, list[tuple[int, dict[str, str], bytes]]] = {}
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def script(self, path: str, *answers: tuple[int, dict[str, str], bytes]) -> None:
        self._script[path] = list(answers)

    def answer(self, request: Posted) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.received.append(request)
            queue = self._script.get(request.path) or [(200, {}, b"ok")]
            return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def server(monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)  # loopback must not go through a proxy
    loopback = Loopback()
    thread = threading.Thread(target=loopback.serve_forever, daemon=True)
    thread.start()
    yield loopback
    loopback.shutdown()
    loopback.server_close()
    thread.join(timeout=5)
