"""A fake carrier cloud API (Twilio, Plivo, Telnyx shapes) served over real HTTP.

The only fake the suite allows: this machine has no internet, so the carrier's
REST API is played by a local HTTP server that knows one account per carrier.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "fedcba9876543210" * 2
PLIVO_ID = "MAABCDEFGHIJ01234567"
PLIVO_TOKEN = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1"
TELNYX_KEY = "KEY0123456789ABCDEF_abcdefghij"
OWNED = {"+12125551234", "+12125551235", "+12125551236"}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: object) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _basic(self) -> tuple[str, str]:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return "", ""
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user, password

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        if url.path.startswith("/2010-04-01/Accounts/"):
            if self._basic() != (TWILIO_SID, TWILIO_TOKEN) or parts[2] != TWILIO_SID:
                return self._send(401, {"code": 20003, "message": "Authenticate"})
            wanted = query.get("PhoneNumber", [""])[0]
            found = [{"phone_number": wanted, "sid": "PN1"}] if wanted in OWNED else []
            return self._send(200, {"incoming_phone_numbers": found})
        if url.path.startswith("/v1/Account/"):
            if self._basic() != (PLIVO_ID, PLIVO_TOKEN) or parts[2] != PLIVO_ID:
                return self._send(401, {"error": "authentication failed"})
            if "+" + parts[4] in OWNED:
                return self._send(200, {"number": parts[4]})
            return self._send(404, {"error": "not found"})
        if url.path == "/v2/phone_numbers":
            if self.headers.get("Authorization") != f"Bearer {TELNYX_KEY}":
                return self._send(401, {"errors": [{"code": "10009"}]})
            wanted = query.get("filter[phone_number]", [""])[0]
            return self._send(200, {"data": [{"phone_number": wanted}] if wanted in OWNED else []})
        return self._send(500, {"error": "unexpected"})


@contextmanager
def fake_carrier() -> Iterator[str]:
    """Serve the fake carrier on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def dead_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
