"""A fake carrier messaging API (Twilio, Telnyx, Plivo send requests) over real HTTP.

Each carrier's documented send request is checked (path, authentication,
fields) and answered with its documented success body; every accepted send
is recorded in ``server.sent`` (carrier, the request's fields) so a test can
assert exactly what left, or that nothing did. The carrier's own callbacks
(delivery status, inbound texts) are posted by :func:`post_twilio` and
friends, signed the way each carrier documents.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "fedcba9876543210" * 2
PLIVO_ID = "MAABCDEFGHIJ01234567"
PLIVO_TOKEN = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1"
TELNYX_KEY = "KEY0123456789ABCDEF_abcdefghij"


@dataclass
class Sent:
    """One send the carrier accepted."""

    carrier: str
    id: str
    fields: dict[str, Any]
    form: list[tuple[str, str]] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    sent: list[Sent]
    fail_next: int


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: object) -> None:
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

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path
        if self.server.fail_next > 0:
            self.server.fail_next -= 1
            return self._answer(503, {"message": "try again"})
        if path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json":
            if self._basic() != (TWILIO_SID, TWILIO_TOKEN):
                return self._answer(401, {"code": 20003, "message": "Authenticate"})
            form = parse_qsl(raw.decode(), keep_blank_values=True)
            fields = dict(form)
            if not fields.get("To") or not fields.get("From"):
                return self._answer(400, {"code": 21604, "message": "A 'To' is required"})
            sid = "SM" + uuid.uuid4().hex
            self.server.sent.append(Sent("twilio", sid, fields, form))
            return self._answer(201, {"sid": sid, "status": "queued", "to": fields["To"],
                                      "from": fields["From"], "body": fields.get("Body", ""),
                                      "num_segments": "1", "account_sid": TWILIO_SID})
        if path == "/v2/messages":
            if self.headers.get("Authorization") != f"Bearer {TELNYX_KEY}":
                return self._answer(401, {"errors": [{"code": "10009"}]})
            body = json.loads(raw)
            message_id = str(uuid.uuid4())
            self.server.sent.append(Sent("telnyx", message_id, body))
            return self._answer(200, {"data": {
                "record_type": "message", "direction": "outbound", "id": message_id,
                "from": {"phone_number": body["from"]},
                "to": [{"phone_number": body["to"], "status": "queued"}],
                "text": body.get("text"), "parts": 1}})
        if path == f"/v1/Account/{PLIVO_ID}/Message/":
            if self._basic() != (PLIVO_ID, PLIVO_TOKEN):
                return self._answer(401, {"error": "authentication failed"})
            body = json.loads(raw)
            message_uuid = str(uuid.uuid4())
            self.server.sent.append(Sent("plivo", message_uuid, body))
            return self._answer(202, {"api_id": str(uuid.uuid4()),
                                      "message": "message(s) queued",
                                      "message_uuid": [message_uuid]})
        return self._answer(404, {"message": "not found"})


@contextmanager
def fake_messaging() -> Iterator[_Server]:
    """Serve the fake carriers on a free loopback port (``server.base_url``)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.sent = []
    server.fail_next = 0
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def twilio_signature(token: str, url: str, form: list[tuple[str, str]]) -> str:
    """Twilio's documented scheme: HMAC-SHA1 of the URL and the sorted parameters."""
    data = url + "".join(k + v for k, v in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def plivo_signature(token: str, url: str, nonce: str) -> str:
    """Plivo's V2 scheme: HMAC-SHA256 of the URL without query, then the nonce."""
    data = url.split("?", 1)[0] + nonce
    return base64.b64encode(hmac.new(token.encode(), data.encode(),
                                     hashlib.sha256).digest()).decode()


def post_twilio(url: str, form: list[tuple[str, str]], token: str = TWILIO_TOKEN) -> httpx.Response:
    """POST a form as Twilio does, signed."""
    return httpx.post(url, data=form, headers={  # type: ignore[arg-type]
        "X-Twilio-Signature": twilio_signature(token, url, form)}, timeout=10)


def post_plivo(url: str, form: list[tuple[str, str]], token: str = PLIVO_TOKEN) -> httpx.Response:
    """POST a form as Plivo does, signed (V2)."""
    nonce = uuid.uuid4().hex
    return httpx.post(url, data=form, headers={  # type: ignore[arg-type]
        "X-Plivo-Signature-V2": plivo_signature(token, url, nonce),
        "X-Plivo-Signature-V2-Nonce": nonce}, timeout=10)
