"""A real HTTP server standing in for a customer's webhook application.

It runs ``http.server`` in a thread, answers each path with a configured
response, records every request, and checks ``X-Twilio-Signature`` with its
own implementation of the provider's scheme (written here, independent of
``switchboard.callflow.signature``). It can be stopped and started again on the
same port to play a target that is down for a while.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


def independent_signature(token: str, url: str, form: list[tuple[str, str]]) -> str:
    """The provider's documented algorithm, from its description."""
    data = url
    by_name: dict[str, list[str]] = {}
    for name, value in form:
        by_name.setdefault(name, []).append(value)
    for name in sorted(by_name):
        for value in sorted(by_name[name]):
            data += name + value
    mac = hmac.new(token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


@dataclass
class Received:
    """One request the receiver got."""

    method: str
    path: str
    url: str
    headers: dict[str, str]
    form: dict[str, str]
    signature_ok: bool


@dataclass
class Reply:
    """What to answer: status, body, content type, and a delay before answering."""

    status: int = 200
    body: str = "<Response/>"
    content_type: str = "application/xml"
    delay: float = 0.0


Route = Callable[[Received], Reply]


@dataclass
class Receiver:
    """The server; ``routes`` maps a path (without query) to a reply or a function."""

    token: str
    routes: dict[str, Reply | Route] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def handle(self) -> None:
                # A client that gave up (timeout, size cap) is not a server error.
                with contextlib.suppress(ConnectionError):
                    super().handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                form = parse_qsl(body, keep_blank_values=True)
                url = receiver.base_url + self.path
                header = self.headers.get("X-Twilio-Signature", "")
                expected = independent_signature(receiver.token, url, form)
                received = Received(
                    method=self.command,
                    path=urlsplit(self.path).path,
                    url=url,
                    headers={k: v for k, v in self.headers.items()},
                    form=dict(form),
                    signature_ok=hmac.compare_digest(header, expected),
                )
                with receiver._lock:
                    receiver.received.append(received)
                route = receiver.routes.get(received.path, Reply(status=404, body="not found"))
                reply = route if isinstance(route, Reply) else route(received)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _handle
            do_POST = _handle

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def requests_to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
