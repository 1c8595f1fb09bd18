"""Carrier credentials: shape checks and a live validity check over HTTP.

``check_shape`` refuses credentials that cannot be right (a Twilio Account SID
is ``AC`` + 32 hex digits, ...). :class:`CarrierVerifier` then asks the
carrier's own REST API whether the credentials are valid and the account owns
the number. It takes the carriers' base URLs, so a deployment (or a test
with a local fake carrier) points it anywhere. An unreachable carrier is a
:class:`CarrierUnavailable` (HTTP 502), never a silent success.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from switchboard.services.exceptions import BadRequest, ProviderFailed

INTEGRATIONS = ("twilio", "telnyx", "plivo", "sip")

DEFAULT_BASE_URLS: Mapping[str, str] = {
    "twilio": "https://api.twilio.com",
    "telnyx": "https://api.telnyx.com",
    "plivo": "https://api.plivo.com",
}

_TWILIO_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_PLIVO_ID = re.compile(r"^(MA|SA)[A-Z0-9]{18}$")
_PLIVO_TOKEN = re.compile(r"^[A-Za-z0-9]{30,64}$")
_TELNYX_KEY = re.compile(r"^KEY[A-Za-z0-9_\-]{16,200}$")


class CarrierUnavailable(ProviderFailed):
    """The carrier's API could not be reached or failed (HTTP 502)."""

    code = "carrier_unavailable"


@dataclass(frozen=True)
class CarrierCredentials:
    """What a client gives to connect a carrier account.

    Attributes:
        integration: ``twilio``, ``telnyx``, ``plivo`` or ``sip``.
        account_id: Twilio Account SID, Plivo Auth ID, Telnyx App ID.
        auth_token: Twilio/Plivo Auth Token, Telnyx API key.
    """

    integration: str
    account_id: str | None
    auth_token: str | None


def check_shape(creds: CarrierCredentials) -> None:
    """Refuse credentials whose shape cannot be valid for their carrier.

    Raises:
        BadRequest: naming the field (``integration``, ``account_id`` or
            ``auth_token``).
    """
    kind = creds.integration
    account = creds.account_id or ""
    token = creds.auth_token or ""
    if kind not in INTEGRATIONS:
        raise BadRequest("integration must be one of " + ", ".join(INTEGRATIONS),
                         field="integration")
    if kind == "twilio":
        if not _TWILIO_SID.match(account):
            raise BadRequest("Twilio Account SID must be AC followed by 32 hex digits",
                             field="account_id")
        if not _HEX32.match(token):
            raise BadRequest("Twilio Auth Token must be 32 hex digits", field="auth_token")
    elif kind == "plivo":
        if not _PLIVO_ID.match(account):
            raise BadRequest("Plivo Auth ID must be MA or SA followed by 18 letters or digits",
                             field="account_id")
        if not _PLIVO_TOKEN.match(token):
            raise BadRequest("Plivo Auth Token must be 30 to 64 letters or digits",
                             field="auth_token")
    elif kind == "telnyx" and not _TELNYX_KEY.match(token):
        raise BadRequest("Telnyx API key must start with KEY", field="auth_token")


class CarrierVerifier:
    """Checks credentials and number ownership against a carrier's REST API."""

    def __init__(
        self,
        *,
        base_urls: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Configure the verifier.

        Args:
            base_urls: Base URL per integration; missing ones use the carrier's.
            timeout: Seconds for each request.
            transport: An httpx transport (tests may pass one; normally None).
        """
        self._base_urls = {**DEFAULT_BASE_URLS, **(base_urls or {})}
        self._timeout = timeout
        self._transport = transport

    async def verify(self, creds: CarrierCredentials, e164: str) -> None:
        """Check that the credentials are valid and the account owns ``e164``.

        A generic ``sip`` trunk has no carrier API and passes.

        Raises:
            BadRequest: the carrier refused the credentials, or the account
                does not own the number.
            CarrierUnavailable: the carrier could not be reached or failed.
        """
        if creds.integration == "sip":
            return
        base = self._base_urls[creds.integration].rstrip("/")
        async with httpx.AsyncClient(
            base_url=base, timeout=self._timeout, transport=self._transport
        ) as client:
            try:
                if creds.integration == "twilio":
                    owned = await self._twilio(client, creds, e164)
                elif creds.integration == "plivo":
                    owned = await self._plivo(client, creds, e164)
                else:
                    owned = await self._telnyx(client, creds, e164)
            except httpx.TransportError as exc:
                raise CarrierUnavailable(
                    f"{creds.integration.capitalize()} API at {base} is unreachable: "
                    f"{type(exc).__name__}"
                ) from exc
        if not owned:
            raise BadRequest(
                f"Phone number is not owned by this {creds.integration} account",
                field="phone_number",
            )

    async def _twilio(
        self, client: httpx.AsyncClient, creds: CarrierCredentials, e164: str
    ) -> bool:
        auth = (creds.account_id or "", creds.auth_token or "")
        path = f"/2010-04-01/Accounts/{creds.account_id}/IncomingPhoneNumbers.json"
        resp = await client.get(path, params={"PhoneNumber": e164}, auth=auth)
        _raise_for_auth(resp, "twilio")
        numbers = _json(resp, "twilio").get("incoming_phone_numbers", [])
        return any(n.get("phone_number") == e164 for n in numbers)

    async def _plivo(
        self, client: httpx.AsyncClient, creds: CarrierCredentials, e164: str
    ) -> bool:
        auth = (creds.account_id or "", creds.auth_token or "")
        resp = await client.get(f"/v1/Account/{creds.account_id}/Number/{e164.lstrip('+')}/",
                                auth=auth)
        if resp.status_code == 404:
            return False
        _raise_for_auth(resp, "plivo")
        return True

    async def _telnyx(
        self, client: httpx.AsyncClient, creds: CarrierCredentials, e164: str
    ) -> bool:
        headers = {"Authorization": f"Bearer {creds.auth_token}"}
        resp = await client.get("/v2/phone_numbers", params={"filter[phone_number]": e164},
                                headers=headers)
        _raise_for_auth(resp, "telnyx")
        return any(n.get("phone_number") == e164 for n in _json(resp, "telnyx").get("data", []))


def _raise_for_auth(resp: httpx.Response, integration: str) -> None:
    if resp.status_code in (401, 403):
        raise BadRequest(f"Invalid {integration} credentials", field="auth_token")
    if resp.status_code >= 400:
        raise CarrierUnavailable(
            f"{integration.capitalize()} API answered HTTP {resp.status_code}"
        )


def _json(resp: httpx.Response, integration: str) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError as exc:
        raise CarrierUnavailable(f"{integration.capitalize()} API answered with no JSON") from exc
    if not isinstance(body, dict):
        raise CarrierUnavailable(f"{integration.capitalize()} API answered unexpected JSON")
    return body
