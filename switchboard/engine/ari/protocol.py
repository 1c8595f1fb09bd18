"""Pure encoding and decoding of ARI's REST-over-websocket frames.

Asterisk 22 accepts REST requests on the events websocket as a JSON text
frame of ``type`` ``RESTRequest`` and answers with an event of ``type``
``RESTResponse`` carrying the same ``request_id``::

    {"type": "RESTRequest", "request_id": "7", "method": "POST",
     "uri": "channels/abc/answer",
     "query_strings": [{"name": "reason", "value": "busy"}],
     "content_type": "application/json", "message_body": "{...}"}

    {"type": "RESTResponse", "request_id": "7", "status_code": 204,
     "reason_phrase": "No Content", "uri": "channels/abc/answer", ...}

The response's ``message_body`` is the JSON text an HTTP request would have
returned (absent or empty for 204). Nothing here does I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REST_REQUEST = "RESTRequest"
REST_RESPONSE = "RESTResponse"

QueryValue = str | int | float | bool | list[str] | tuple[str, ...] | None
Query = Mapping[str, QueryValue]


def query_value(value: QueryValue) -> str | None:
    """ARI's text form of a query value (``None`` means "leave it out").

    Booleans are ``true``/``false``; lists are comma-separated, as ARI's
    ``allowMultiple`` parameters expect.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def encode_request(
    request_id: str,
    method: str,
    uri: str,
    *,
    query: Query | None = None,
    body: Any = None,
) -> str:
    """The text frame of one REST request.

    Args:
        request_id: echoed back in the response; matches the two.
        method: HTTP method (``GET``, ``POST``, ``PUT``, ``DELETE``).
        uri: resource path without ``/ari/`` and without a leading slash.
        query: query parameters; ``None`` values are left out.
        body: JSON-serialisable body, sent as ``application/json``.
    """
    frame: dict[str, Any] = {
        "type": REST_REQUEST,
        "request_id": request_id,
        "method": method.upper(),
        "uri": uri.lstrip("/"),
    }
    if query:
        pairs = [
            {"name": name, "value": text}
            for name, value in query.items()
            if (text := query_value(value)) is not None
        ]
        if pairs:
            frame["query_strings"] = pairs
    if body is not None:
        frame["content_type"] = "application/json"
        frame["message_body"] = json.dumps(body, separators=(",", ":"))
    return json.dumps(frame, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class RestResponse:
    """A decoded ``RESTResponse`` event.

    Attributes:
        request_id: the id the request was sent with.
        status: HTTP status code.
        reason: the reason phrase (``Not Found``).
        body: the decoded JSON body, or ``None`` when there is none.
        uri: the request's URI as Asterisk echoes it.
    """

    request_id: str
    status: int
    reason: str
    body: Any
    uri: str

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    @property
    def error_message(self) -> str:
        """Asterisk's ``message`` from an error body, else the reason phrase."""
        if isinstance(self.body, dict) and isinstance(self.body.get("message"), str):
            return str(self.body["message"])
        return self.reason or f"HTTP {self.status}"


def decode_frame(text: str | bytes) -> dict[str, Any]:
    """Parse one websocket text frame into an event dict.

    Raises:
        ValueError: the frame is not a JSON object.
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"ARI frame is not a JSON object: {str(text)[:80]!r}")
    return data


def decode_body(raw: Any) -> Any:
    """Decode a ``message_body``: JSON text, an already-decoded value, or empty."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str | bytes):
        try:
            return json.loads(raw)
        except ValueError:
            return raw  # a plain-text body (rare); hand it over as is
    return raw


def parse_response(event: Mapping[str, Any]) -> RestResponse:
    """Turn a ``RESTResponse`` event into a :class:`RestResponse`.

    Raises:
        ValueError: the event is not a well-formed ``RESTResponse``.
    """
    if event.get("type") != REST_RESPONSE:
        raise ValueError(f"not a RESTResponse: {event.get('type')!r}")
    request_id = event.get("request_id")
    status = event.get("status_code")
    if not isinstance(request_id, str) or not isinstance(status, int):
        raise ValueError("RESTResponse without request_id or status_code")
    return RestResponse(
        request_id=request_id,
        status=status,
        reason=str(event.get("reason_phrase") or ""),
        body=decode_body(event.get("message_body")),
        uri=str(event.get("uri") or ""),
    )
