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
OWNED = {"+12125551234", "+12125551235", "+12125551236", "+12125551239"}
REFUSES_WEBHOOKS = "+12125551239"
# What each number was pointed at: e164 -> {"voice_url", "status_url"} (or {"app": id}).
HOOKS: dict[str, dict[str, str]] = {}
_APPS: dict[str, dict[str, str]] = {}


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
            found = [{"phone_number": wanted, "sid": "PN" + wanted[1:]}] if wanted in OWNED else []
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
            data = [{"phone_number": wanted, "id": "num" + wanted[1:]}] if wanted in OWNED else []
            return self._send(200, {"data": data})
        return self._send(500, {"error": "unexpected"})

    def _body(self) -> dict[str, str]:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return dict(json.loads(raw))
        return {k: v[0] for k, v in parse_qs(raw).items()}

    def do_POST(self) -> None:
        url = urlparse(self.path)
        parts = url.path.strip("/").split("/")
        body = self._body()
        if url.path.startswith("/2010-04-01/Accounts/") and len(parts) == 5:
            if self._basic() != (TWILIO_SID, TWILIO_TOKEN):
                return self._send(401, {"message": "Authenticate"})
            e164 = "+" + parts[4].removesuffix(".json")[2:]
            if e164 == REFUSES_WEBHOOKS:
                return self._send(400, {"message": "VoiceUrl refused"})
            HOOKS[e164] = {"voice_url": body["VoiceUrl"], "status_url": body["StatusCallback"]}
            return self._send(200, {"sid": parts[4]})
        if url.path.endswith("/Application/"):
            app_id = f"app{len(_APPS) + 1}"
            _APPS[app_id] = {"voice_url": body["answer_url"], "status_url": body["hangup_url"]}
            return self._send(201, {"app_id": app_id, "message": "created"})
        if url.path.startswith("/v1/Account/") and parts[3] == "Number":
            e164 = "+" + parts[4]
            if e164 == REFUSES_WEBHOOKS:
                return self._send(400, {"error": "refused"})
            HOOKS[e164] = _APPS[body["app_id"]]
            return self._send(202, {"message": "changed"})
        if url.path == "/v2/texml_applications":
            app_id = f"texml{len(_APPS) + 1}"
            _APPS[app_id] = {"voice_url": body["voice_url"], "status_url": body["status_callback"]}
            return self._send(201, {"data": {"id": app_id}})
        return self._send(500, {"error": "unexpected"})

    def do_PATCH(self) -> None:
        url = urlparse(self.path)
        body = self._body()
        if url.path.startswith("/v2/phone_numbers/"):
            e164 = "+" + url.path.rsplit("/", 1)[1][3:]
            if e164 == REFUSES_WEBHOOKS:
                return self._send(422, {"errors": [{"detail": "refused"}]})
            app = body["connection_id"]
            HOOKS[e164] = _APPS.get(app, {"app": app})
            return self._send(200, {"data": {"id": url.path.rsplit("/", 1)[1]}})
        return self._send(500, {"error": "unexpected"})


@contextmanager
def fake_carrier() -> Iterator[str]:
    """Serve the fake carrier on a free loopback port; yields its base URL."""
    HOOKS.clear()
    _APPS.clear()
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
