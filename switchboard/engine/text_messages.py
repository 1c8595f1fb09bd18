"""SIP MESSAGE through Asterisk over ARI: send texts, receive them as typed events.

Sending is ARI ``sendMessage`` (``to`` is a PJSIP message destination:
``pjsip:<endpoint>`` for a desk phone, or ``pjsip:<trunk>/sip:<number>@<host>``
through a trunk). Receiving needs ``res_pjsip_messaging`` and a subscription
of the application to each PJSIP endpoint (``endpoint:PJSIP/<name>``;
Asterisk 22 has no technology-wide endpoint to subscribe to:
``endpoint:PJSIP`` answers "Event source does not exist"), made as endpoints
appear in Asterisk and again after every ARI reconnect. Asterisk then hands
every out-of-call MESSAGE from those endpoints to the application as a
``TextMessageReceived`` event (decoded at the edge,
:mod:`switchboard.engine.ari.events`), turned here into a
:class:`ReceivedText` for the handler the composition root set (the
messaging services; the engine itself stores nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from switchboard.engine.ari.events import AriEvent, TextMessageReceived
from switchboard.engine.ari.facade import Ari

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReceivedText:
    """A MESSAGE Asterisk received from one of its PJSIP endpoints.

    Attributes:
        endpoint: The PJSIP endpoint it came from (a desk phone or a trunk).
        from_uri: Its ``From`` (``"Alice" <sip:alice@host>``).
        to_uri: Its ``To`` as Asterisk gives it (``pjsip:bob@host``).
        body: The text.
    """

    endpoint: str
    from_uri: str
    to_uri: str
    body: str


def received(event: TextMessageReceived) -> ReceivedText:
    """The text of a ``TextMessageReceived`` event."""
    return ReceivedText(
        endpoint=event.endpoint.resource if event.endpoint is not None else "",
        from_uri=event.message.from_,
        to_uri=event.message.to,
        body=event.message.body,
    )


class TextMessages:
    """The engine's SIP MESSAGE side."""

    def __init__(
        self, ari: Ari, *, spawn: Callable[[Coroutine[Any, Any, Any], str], object]
    ) -> None:
        self._ari = ari
        self._spawn = spawn
        self.handler: Callable[[ReceivedText], Coroutine[Any, Any, None]] | None = None
        self.received = 0
        self._subscribed: frozenset[str] = frozenset()

    async def follow(self, endpoints: frozenset[str]) -> None:
        """Receive the messages of these PJSIP endpoints (those not yet followed).

        Call it once the endpoints exist in Asterisk (after PJSIP is reloaded).
        """
        new = sorted(endpoints - self._subscribed)
        if not new:
            return
        await self._ari.subscribe_endpoints([f"PJSIP/{name}" for name in new])
        self._subscribed |= frozenset(new)

    def forget_subscriptions(self) -> None:
        """After an ARI reconnect: subscribe again to everything on the next :meth:`follow`."""
        self._subscribed = frozenset()

    async def send(self, to: str, from_: str, body: str) -> None:
        """Send one MESSAGE; Asterisk answers once it has queued it.

        Raises:
            AriError: Asterisk is unreachable or refused (e.g. unknown endpoint).
        """
        await self._ari.send_message(to, from_, body)

    def handle(self, event: AriEvent) -> bool:
        """Take a ``TextMessageReceived`` event (``True``), or leave the event (``False``)."""
        if not isinstance(event, TextMessageReceived):
            return False
        text = received(event)
        self.received += 1
        if self.handler is None:
            log.warning("text received with no handler", extra={"endpoint": text.endpoint})
        else:
            self._spawn(self.handler(text), f"text-{text.endpoint}")
        return True
