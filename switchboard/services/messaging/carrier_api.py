"""Carriers' HTTP messaging APIs (Twilio, Telnyx, Plivo) behind the transport interface.

Each carrier as it documents its send request and answer:

* Twilio: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form
  ``From``, ``To``, ``Body``, ``MediaUrl`` (repeated), ``StatusCallback``;
  HTTP Basic (Account SID, Auth Token); answers 201 with the message's ``sid``.
* Telnyx: ``POST /v2/messages``, JSON ``from``, ``to``, ``text``,
  ``media_urls``, ``webhook_url``; ``Authorization: Bearer <API key>``;
  answers with ``data.id``.
* Plivo: ``POST /v1/Account/{auth_id}/Message/``, JSON ``src``, ``dst``,
  ``text``, ``type`` (``sms``/``mms``), ``media_urls``, ``url``, ``method``;
  HTTP Basic (Auth ID, Auth Token); answers 202 with ``message_uuid``.

A 4xx answer (other than 408/429) is permanent; 5xx, 408, 429, timeouts and
connection errors may be retried. Base URLs come from the settings
(``carrier_api_urls``), so a deployment or a test points them anywhere.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from switchboard.services.carriers import DEFAULT_BASE_URLS
from switchboard.services.messaging.transport import Delivery, Handoff, TransportError

_RETRYABLE = frozenset({408, 425, 429})


class CarrierMessaging:
    """One carrier's messaging API as a :class:`~.transport.MessageTransport`."""

    def __init__(
        self,
        integration: str,
        client: httpx.AsyncClient,
        *,
        base_urls: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Args: ``integration`` twilio, telnyx or plivo; the shared HTTP client."""
        if integration not in DEFAULT_BASE_URLS:
            raise ValueError(f"no messaging API for {integration!r}")
        self.integration = integration
        self._client = client
        self._base = {**DEFAULT_BASE_URLS, **(base_urls or {})}[integration].rstrip("/")
        self._timeout = timeout

    async def send(self, delivery: Delivery) -> Handoff:
        """Post the text to the carrier; ``sending`` until its status callback."""
        request = getattr(self, f"_{self.integration}")(delivery)
        try:
            response = await self._client.send(request)
        except httpx.HTTPError as exc:
            raise TransportError(f"{self.integration} unreachable: {type(exc).__name__}",
                                 permanent=False) from exc
        body = _json(response)
        if response.status_code >= 300:
            detail = str(body.get("message") or body.get("error") or body.get("errors") or "")
            raise TransportError(
                f"{self.integration} answered HTTP {response.status_code} {detail}".strip(),
                permanent=400 <= response.status_code < 500
                and response.status_code not in _RETRYABLE,
                code=str(body.get("code") or response.status_code),
            )
        return Handoff(provider_id=self._provider_id(body), status="sending")

    def _provider_id(self, body: dict[str, Any]) -> str | None:
        if self.integration == "twilio":
            return _str(body.get("sid"))
        if self.integration == "telnyx":
            return _str((body.get("data") or {}).get("id"))
        uuids = body.get("message_uuid") or []
        return _str(uuids[0]) if isinstance(uuids, list) and uuids else None

    def _twilio(self, d: Delivery) -> httpx.Request:
        form: list[tuple[str, str]] = [("From", d.from_number), ("To", d.to_number),
                                       ("Body", d.body)]
        form += [("MediaUrl", url) for url in d.media_urls]
        if d.status_url:
            form.append(("StatusCallback", d.status_url))
        return self._client.build_request(
            "POST", f"{self._base}/2010-04-01/Accounts/{d.account_id}/Messages.json",
            content=urlencode(form),
            headers={**_basic(d), "Content-Type": "application/x-www-form-urlencoded"},
            timeout=self._timeout,
        )

    def _telnyx(self, d: Delivery) -> httpx.Request:
        payload: dict[str, Any] = {"from": d.from_number, "to": d.to_number, "text": d.body}
        if d.media_urls:
            payload["media_urls"] = list(d.media_urls)
        if d.status_url:
            payload["webhook_url"] = d.status_url
        return self._client.build_request(
            "POST", f"{self._base}/v2/messages", json=payload,
            headers={"Authorization": f"Bearer {d.auth_token or ''}"}, timeout=self._timeout,
        )

    def _plivo(self, d: Delivery) -> httpx.Request:
        payload: dict[str, Any] = {
            "src": d.from_number.lstrip("+"), "dst": d.to_number.lstrip("+"), "text": d.body,
            "type": "mms" if d.media_urls else "sms",
        }
        if d.media_urls:
            payload["media_urls"] = list(d.media_urls)
        if d.status_url:
            payload.update(url=d.status_url, method="POST")
        return self._client.build_request(
            "POST", f"{self._base}/v1/Account/{d.account_id}/Message/", json=payload,
            headers=_basic(d), timeout=self._timeout,
        )


def _basic(d: Delivery) -> dict[str, str]:
    token = base64.b64encode(f"{d.account_id or ''}:{d.auth_token or ''}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _str(value: Any) -> str | None:
    return str(value) if value else None
