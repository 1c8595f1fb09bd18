"""The one interface every message transport speaks, and the SIP MESSAGE adapter.

A transport gets a :class:`Delivery` and either hands the text on
(:class:`Handoff`: the carrier's id, and whether it is already ``sent`` or
still ``sending`` until the carrier reports) or raises
:class:`TransportError` (``permanent`` when repeating cannot help).
Carriers' HTTP APIs are in :mod:`.carrier_api`; SIP MESSAGE through Asterisk
is :class:`SipTransport`, around the engine's ARI ``sendMessage``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from switchboard.engine.ari.exceptions import AriError, AriNotConnected, AriTimeout


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbound text as a transport needs it."""

    message_sid: str
    from_number: str
    to_number: str
    body: str
    media_urls: Sequence[str] = field(default_factory=tuple)
    route: str | None = None  # ARI ``to`` of a SIP MESSAGE
    account_id: str | None = None  # carrier account (Twilio SID, Plivo Auth ID)
    auth_token: str | None = None  # carrier token or API key
    status_url: str | None = None  # where the carrier reports delivery


@dataclass(frozen=True, slots=True)
class Handoff:
    """A transport took the text: its id there, and ``sent`` or ``sending``."""

    provider_id: str | None
    status: str


class TransportError(Exception):
    """A transport could not take the text."""

    def __init__(self, message: str, *, permanent: bool, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code


class MessageTransport(Protocol):
    """Sends one text."""

    async def send(self, delivery: Delivery) -> Handoff:
        """Hand ``delivery`` on, or raise :class:`TransportError`."""


SendText = Callable[[str, str, str], Awaitable[None]]


class SipTransport:
    """SIP MESSAGE through Asterisk (ARI ``PUT /endpoints/sendMessage``)."""

    def __init__(self, send_text: SendText) -> None:
        """Wrap the engine's ``send_text(to, from, body)``."""
        self._send_text = send_text

    async def send(self, delivery: Delivery) -> Handoff:
        """Ask Asterisk to send the MESSAGE; it answers once the request is queued."""
        if not delivery.route:
            raise TransportError("no SIP destination", permanent=True, code="no-route")
        try:
            await self._send_text(delivery.route, delivery.from_number, delivery.body)
        except (AriNotConnected, AriTimeout) as exc:
            raise TransportError(f"Asterisk unreachable: {exc}", permanent=False) from exc
        except AriError as exc:
            raise TransportError(f"Asterisk refused the message: {exc}", permanent=True,
                                 code="sip-refused") from exc
        return Handoff(provider_id=None, status="sent")
