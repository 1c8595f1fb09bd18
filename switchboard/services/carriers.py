"""Carrier credentials: shape checks and a live validity check over HTTP.

``check_shape`` refuses credentials that cannot be right (a Twilio Account SID
is ``AC`` + 32 hex digits, ...). :class:`CarrierClient` then asks the
carrier's own REST API whether the credentials are valid and the account owns
the number, and points the number at our webhooks. It takes the carriers'
base URLs, so a deployment (or a test with a local fake carrier) points it
anywhere. An unreachable carrier is a
:class:`CarrierUnavailable` (HTTP 502), never a silent success.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from switchboard.services.exceptions import BadRequest, ProviderFailed, ServiceError

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


@dataclass(frozen=True)
class Webhooks:
    """Our URLs a carrier number is pointed at (the built-in voice app by default)."""

    voice_url: str
    status_url: str


class WebhookSetupFailed(ServiceError):
    """The carrier refused to point the number at our webhooks (seed 004: 500)."""

    status = 500
    code = "webhook_setup_failed"
    default_message = "Failed to set up integration webhooks"


class CarrierClient:
    """Talks to a carrier's REST API: credential and ownership checks, webhooks."""

    def __init__(
        self,
        *,
        base_urls: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Configure the client.

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
        await self.connect(creds, e164, webhooks=None)

    async def connect(
        self, creds: CarrierCredentials, e164: str, *, webhooks: Webhooks | None
    ) -> None:
        """Verify as :meth:`verify`, then point the number at ``webhooks``.

        Twilio: the number's ``VoiceUrl``/``StatusCallback``. Plivo: an
        application with our answer/hangup URLs, assigned to the number.
        Telnyx: a TeXML application (the given App ID, or a new one) assigned
        to the number.

        Raises:
            BadRequest: as :meth:`verify`.
            CarrierUnavailable: the carrier could not be reached.
            WebhookSetupFailed: the carrier refused the webhook configuration.
        """
        if creds.integration == "sip":
            return
        base = self._base_urls[creds.integration].rstrip("/")
        async with httpx.AsyncClient(
            base_url=base, timeout=self._timeout, transport=self._transport
        ) as client:
            api = _CARRIERS[creds.integration](client, creds)
            try:
                ref = await api.lookup(e164)
                if ref is None:
                    raise BadRequest(
                        f"Phone number is not owned by this {creds.integration} account",
                        field="phone_number",
                    )
                if webhooks is not None:
                    await api.configure(ref, webhooks)
            except httpx.TransportError as exc:
                raise CarrierUnavailable(
                    f"{creds.integration.capitalize()} API at {base} is unreachable: "
                    f"{type(exc).__name__}"
                ) from exc


class _Carrier:
    """One carrier's REST calls; ``lookup`` returns the carrier's id of a number."""

    name = ""

    def __init__(self, client: httpx.AsyncClient, creds: CarrierCredentials) -> None:
        self.client = client
        self.account = creds.account_id or ""
        self.token = creds.auth_token or ""

    async def lookup(self, e164: str) -> str | None:
        raise NotImplementedError

    async def configure(self, ref: str, hooks: Webhooks) -> None:
        raise NotImplementedError

    def _ok(self, resp: httpx.Response) -> dict[str, Any]:
        if resp.status_code >= 300:
            raise WebhookSetupFailed(
                f"Failed to set up {self.name} webhooks: HTTP {resp.status_code}"
            )
        return _json(resp, self.name) if resp.content else {}


class _Twilio(_Carrier):
    name = "twilio"

    async def lookup(self, e164: str) -> str | None:
        path = f"/2010-04-01/Accounts/{self.account}/IncomingPhoneNumbers.json"
        resp = await self.client.get(path, params={"PhoneNumber": e164},
                                     auth=(self.account, self.token))
        _raise_for_auth(resp, self.name)
        numbers = _json(resp, self.name).get("incoming_phone_numbers", [])
        return next((str(n.get("sid")) for n in numbers if n.get("phone_number") == e164), None)

    async def configure(self, ref: str, hooks: Webhooks) -> None:
        path = f"/2010-04-01/Accounts/{self.account}/IncomingPhoneNumbers/{ref}.json"
        form = {"VoiceUrl": hooks.voice_url, "VoiceMethod": "POST",
                "StatusCallback": hooks.status_url, "StatusCallbackMethod": "POST"}
        self._ok(await self.client.post(path, data=form, auth=(self.account, self.token)))


class _Plivo(_Carrier):
    name = "plivo"

    async def lookup(self, e164: str) -> str | None:
        digits = e164.lstrip("+")
        resp = await self.client.get(f"/v1/Account/{self.account}/Number/{digits}/",
                                     auth=(self.account, self.token))
        if resp.status_code == 404:
            return None
        _raise_for_auth(resp, self.name)
        return digits

    async def configure(self, ref: str, hooks: Webhooks) -> None:
        auth = (self.account, self.token)
        app = self._ok(await self.client.post(
            f"/v1/Account/{self.account}/Application/", auth=auth,
            json={"app_name": "switchboard", "answer_url": hooks.voice_url,
                  "answer_method": "POST", "hangup_url": hooks.status_url,
                  "hangup_method": "POST"}))
        app_id = app.get("app_id")
        if not app_id:
            raise WebhookSetupFailed("Failed to set up plivo webhooks: no application id")
        self._ok(await self.client.post(f"/v1/Account/{self.account}/Number/{ref}/", auth=auth,
                                        json={"app_id": app_id}))


class _Telnyx(_Carrier):
    name = "telnyx"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def lookup(self, e164: str) -> str | None:
        resp = await self.client.get("/v2/phone_numbers", params={"filter[phone_number]": e164},
                                     headers=self._headers())
        _raise_for_auth(resp, self.name)
        numbers = _json(resp, self.name).get("data", [])
        return next((str(n.get("id")) for n in numbers if n.get("phone_number") == e164), None)

    async def configure(self, ref: str, hooks: Webhooks) -> None:
        app_id = self.account
        if not app_id:
            created = self._ok(await self.client.post(
                "/v2/texml_applications", headers=self._headers(),
                json={"friendly_name": "switchboard", "voice_url": hooks.voice_url,
                      "voice_method": "post", "status_callback": hooks.status_url}))
            app_id = str((created.get("data") or {}).get("id") or "")
            if not app_id:
                raise WebhookSetupFailed("Failed to set up telnyx webhooks: no application id")
        self._ok(await self.client.patch(f"/v2/phone_numbers/{ref}", headers=self._headers(),
                                         json={"connection_id": app_id}))


_CARRIERS: dict[str, type[_Carrier]] = {"twilio": _Twilio, "plivo": _Plivo, "telnyx": _Telnyx}


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
