"""Signed provider-style webhook requests: how Switchboard calls a customer's URL.

Voice-URL fetches (the engine) and callbacks (the outbox's delivery) build
their requests here, so both sign the same way: ``X-Twilio-Signature`` over
the URL and the sorted form parameters, keyed by the tenant's auth token
(:mod:`switchboard.callflow.signature`), with an idempotency token a retry
reuses.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from switchboard.callflow.signature import compute_signature

USER_AGENT = "Switchboard/0.1"
SIGNATURE_HEADER = "X-Twilio-Signature"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


def url_with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` appended to its query string (how GET carries them)."""
    if not params:
        return url
    parts = urlsplit(url)
    extra = urlencode(list(params.items()))
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def signed_request(
    client: httpx.AsyncClient,
    *,
    url: str,
    method: str,
    params: Mapping[str, str],
    auth_token: str,
    user_agent: str = USER_AGENT,
    idempotency_token: str | None = None,
) -> httpx.Request:
    """Build a signed provider-style webhook request.

    POST sends ``params`` form-encoded and signs URL + sorted params; GET puts
    them in the query string and signs the resulting URL alone.

    Args:
        client: The HTTP client (its defaults, e.g. headers, apply).
        url: The webhook URL.
        method: ``POST`` or ``GET``.
        params: The form parameters.
        auth_token: The tenant's auth token, the signing key.
        user_agent: The ``User-Agent`` header.
        idempotency_token: ``I-Twilio-Idempotency-Token``; a random one when
            ``None``. Retries of one delivery must reuse the same token.

    Returns:
        The request, ready for ``client.send``.
    """
    method = method.upper()
    headers = {
        "User-Agent": user_agent,
        IDEMPOTENCY_HEADER: idempotency_token or str(uuid.uuid4()),
        "Accept": "application/xml, text/xml, */*",
    }
    if method == "GET":
        full_url = url_with_query(url, params)
        headers[SIGNATURE_HEADER] = compute_signature(auth_token, full_url)
        return client.build_request("GET", full_url, headers=headers)
    if method != "POST":
        raise ValueError(f"webhook method must be GET or POST, not {method!r}")
    headers[SIGNATURE_HEADER] = compute_signature(auth_token, url, params)
    return client.build_request("POST", url, data=dict(params), headers=headers)
