"""A local preview of a published tree over HTTP (``campaign-report serve``).

Opened from disk a report works, but Material's version selector and search need HTTP to
behave exactly as they will on the host. The server binds to a loopback address only: the
reports are client confidential and a preview is for the person at this machine. It serves
files under its root and nothing a symlink would reach outside it, tells the browser not to
cache (a page reloaded after another publish shows the new one), and logs requests through
``logging`` at debug level instead of printing them.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
import socketserver
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from generator.distribute.hosting import PublishError

__all__ = ["PreviewServer", "make_server", "serve"]

log = logging.getLogger("generator.distribute.preview")


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server for one folder; ``url`` is where a browser finds it."""

    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer's own looks up a host name (a DNS query on some machines): not needed
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


class _PreviewServer6(PreviewServer):
    address_family = socket.AF_INET6


class _Handler(SimpleHTTPRequestHandler):
    """Static files under ``directory``; anything resolving outside it is not found."""

    def send_head(self):  # type: ignore[override]
        target = Path(self.translate_path(self.path)).resolve()
        if not target.is_relative_to(Path(self.directory).resolve()):
            self.send_error(404, "File not found")
            return None
        return super().send_head()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8000) -> PreviewServer:
    """A server for ``root``, bound and listening but not yet serving (``serve_forever``).

    Args:
        root: the published tree (``publish``'s destination).
        host: a loopback address (``127.0.0.1``, ``::1``) or ``localhost``.
        port: the port; 0 picks a free one (read it from ``url``).

    Raises:
        PublishError: ``root`` is not a folder, ``host`` is not loopback, or the port is
            taken.
    """
    if not root.is_dir():
        raise PublishError(f"{root} is not a folder; publish the sites there first")
    address = _loopback(host)
    handler = functools.partial(_Handler, directory=str(root.resolve()))
    server_class = _PreviewServer6 if address.version == 6 else PreviewServer
    try:
        return server_class((str(address), port), handler)
    except OSError as exc:
        raise PublishError(f"cannot listen on {host}:{port} ({exc}); pick another --port") from exc


def serve(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``root`` until interrupted; ``on_ready`` receives the URL once listening."""
    with make_server(root, host, port) as server:
        if on_ready is not None:
            on_ready(server.url)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            log.info("preview stopped")


def _loopback(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The loopback address ``host`` names; anything else would show the reports to the
    network."""
    try:
        address = ipaddress.ip_address("127.0.0.1" if host == "localhost" else host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise PublishError(
            f"the preview binds to a loopback address only (127.0.0.1, ::1), not {host!r}: "
            "the reports are confidential; copy the published folder to a host to share them"
        )
    return address
