"""Pure encoding of ARI's REST-over-websocket request frames.

Asterisk 22 accepts REST requests on the events websocket as a JSON text
frame of ``type`` ``RESTRequest`` and answers with an event of ``type``
``RESTResponse`` carrying the same ``request_id``::

    {"type": "RESTRequest", "request_id": "7", "method": "POST",
     "uri": "channels/abc/answer",
     "query_strings": [{"name": "reason", "value": "busy"}],
     "content_type": "application/json", "message_body": "{...}"}

    {"type": "RESTResponse", "request_id": "7", "status_code": 204,
     "reason_phrase": "No Content", "uri": "channels/abc/answer", ...}

The response is an event like any other, decoded with every event in
:mod:`switchboard.engine.ari.events` (:class:`~switchboard.engine.ari.events.RestResponse`).
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

REST_REQUEST = "RESTRequest"

_encode = msgspec.json.Encoder().encode

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
        frame["message_body"] = _encode(body).decode()
    return _encode(frame).decode()  # a text frame: Asterisk reads no binary ones
