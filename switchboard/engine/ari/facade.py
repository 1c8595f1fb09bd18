"""The one way the engine speaks ARI: :class:`Ari`, :class:`Channel` and :class:`Bridge`.

Every request the call flow, call control and the engine make of Asterisk
goes through these handles, so ARI's resource paths and parameter names are
written once, here. They sit on any :class:`Transport` — the websocket
client (:class:`~switchboard.engine.ari.client.AriClient`) in production, a
recorded-call replayer in the fast tests — and add nothing to a request's
cost: a handle is a frozen pair of the transport and an id.

Errors are the transport's (:mod:`switchboard.engine.ari.exceptions`):
``AriNotFound`` when the channel or bridge is gone, ``AriConflict`` when it
is not in a state to do that. :func:`quietly` runs a request whose failure
only matters to the log, which is most requests on a channel that may have
hung up meanwhile.

:meth:`Ari.originate` is the only operation with logic: it is idempotent
per channel id across reconnects (one request, one call).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard.engine.ari.events import ChannelSnapshot, decode_channel
from switchboard.engine.ari.exceptions import (
    AriConflict,
    AriNotConnected,
    AriNotFound,
    AriOriginateInDoubt,
    AriTimeout,
)
from switchboard.engine.ari.protocol import Query

log = logging.getLogger(__name__)


class Transport(Protocol):
    """What the handles need: one REST request at a time, and the application's name."""

    @property
    def app(self) -> str:
        """The Stasis application new channels are sent to."""

    async def request(
        self,
        method: str,
        uri: str,
        query: Query | None = None,
        body: Any = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """Send one request; its decoded JSON answer (``None`` for 204)."""

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until requests can be sent."""


async def quietly(request: Awaitable[Any]) -> bool:
    """Await ``request``, logging and swallowing its failure (a channel may be gone).

    Returns:
        Whether the request worked.
    """
    try:
        await request
    except Exception as exc:  # noqa: BLE001 - gone channels and bridges are normal here
        log.debug("ari request failed", extra={"error": str(exc)})
        return False
    return True


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel of Asterisk's, by id."""

    ari: Transport
    id: str

    async def answer(self) -> None:
        """Answer it."""
        await self.ari.request("POST", f"channels/{self.id}/answer")

    async def ring(self) -> None:
        """Indicate ringing to it."""
        await self.ari.request("POST", f"channels/{self.id}/ring")

    async def hangup(self, reason: str = "normal") -> None:
        """Hang it up (``reason``: normal, busy, congestion, no_answer, rejected, ...)."""
        await self.ari.request("DELETE", f"channels/{self.id}", {"reason": reason})

    async def play(self, media: str, playback_id: str) -> None:
        """Start playing ``sound:``/``tone:``/``recording:`` media as playback ``playback_id``."""
        await self.ari.request(
            "POST", f"channels/{self.id}/play", {"media": media, "playbackId": playback_id}
        )

    async def record(
        self,
        name: str,
        *,
        max_duration: int = 0,
        max_silence: int = 0,
        beep: bool = False,
        terminate_on: str = "none",
        if_exists: str = "overwrite",
        format: str = "wav",  # noqa: A002 - ARI's parameter name
    ) -> None:
        """Record what it says into the live recording ``name`` (a file in Asterisk's spool)."""
        query: Query = {
            "name": name,
            "format": format,
            "maxDurationSeconds": max_duration,
            "maxSilenceSeconds": max_silence,
            "ifExists": if_exists,
            "beep": beep,
            "terminateOn": terminate_on,
        }
        await self.ari.request("POST", f"channels/{self.id}/record", query)

    async def send_dtmf(self, digits: str) -> None:
        """Send DTMF ``digits`` (``w`` waits half a second) to it."""
        await self.ari.request("POST", f"channels/{self.id}/dtmf", {"dtmf": digits})

    async def continue_in_dialplan(
        self, context: str | None = None, extension: str | None = None, priority: int | None = None
    ) -> None:
        """Let it leave the application and go on in the dialplan."""
        query: Query = {"context": context, "extension": extension, "priority": priority}
        await self.ari.request("POST", f"channels/{self.id}/continue", query)

    async def hold(self) -> None:
        """Indicate hold to the other side (it stays in its bridge; see DESIGN.md)."""
        await self.ari.request("POST", f"channels/{self.id}/hold")

    async def unhold(self) -> None:
        """Stop indicating hold."""
        await self.ari.request("DELETE", f"channels/{self.id}/hold")

    async def start_moh(self, moh_class: str | None = None) -> None:
        """Play music on hold to it."""
        await self.ari.request("POST", f"channels/{self.id}/moh", {"mohClass": moh_class})

    async def stop_moh(self) -> None:
        """Stop its music on hold."""
        await self.ari.request("DELETE", f"channels/{self.id}/moh")

    async def mute(self, direction: str = "both") -> None:
        """Mute it (``in``: what it sends, ``out``: what it hears, ``both``)."""
        await self.ari.request("POST", f"channels/{self.id}/mute", {"direction": direction})

    async def unmute(self, direction: str = "both") -> None:
        """Unmute it."""
        await self.ari.request("DELETE", f"channels/{self.id}/mute", {"direction": direction})

    async def get_variable(self, name: str) -> str:
        """A channel variable or dialplan function's value."""
        result = await self.ari.request("GET", f"channels/{self.id}/variable", {"variable": name})
        return str(result.get("value", "")) if isinstance(result, dict) else ""

    async def set_variable(self, name: str, value: str) -> None:
        """Set a channel variable."""
        await self.ari.request(
            "POST", f"channels/{self.id}/variable", {"variable": name, "value": value}
        )

    async def snapshot(self) -> ChannelSnapshot:
        """Its state now (``AriNotFound`` when it is gone)."""
        return decode_channel(await self.ari.request("GET", f"channels/{self.id}"))


@dataclass(frozen=True, slots=True)
class Bridge:
    """A bridge of Asterisk's, by id."""

    ari: Transport
    id: str

    async def add(self, *channels: Channel) -> None:
        """Put ``channels`` into it (they leave any other bridge)."""
        await self.ari.request("POST", f"bridges/{self.id}/addChannel", {"channel": _ids(channels)})

    async def remove(self, *channels: Channel) -> None:
        """Take ``channels`` out of it (they stay up)."""
        await self.ari.request(
            "POST", f"bridges/{self.id}/removeChannel", {"channel": _ids(channels)}
        )

    async def destroy(self) -> None:
        """Destroy it; its channels stay up."""
        await self.ari.request("DELETE", f"bridges/{self.id}")

    async def start_moh(self, moh_class: str | None = None) -> None:
        """Play music on hold to everyone in it."""
        await self.ari.request("POST", f"bridges/{self.id}/moh", {"mohClass": moh_class})

    async def stop_moh(self) -> None:
        """Stop its music on hold."""
        await self.ari.request("DELETE", f"bridges/{self.id}/moh")


def _ids(channels: Iterable[Channel]) -> str:
    return ",".join(channel.id for channel in channels)


class Ari:
    """Asterisk's resources for one application, over one transport.

    Args:
        transport: carries the requests (the websocket client, or a replayer).
    """

    __slots__ = ("transport",)

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @property
    def app(self) -> str:
        """The Stasis application's name."""
        return self.transport.app

    def channel(self, channel_id: str) -> Channel:
        """The handle of channel ``channel_id`` (no request is made)."""
        return Channel(self.transport, channel_id)

    def bridge(self, bridge_id: str) -> Bridge:
        """The handle of bridge ``bridge_id`` (no request is made)."""
        return Bridge(self.transport, bridge_id)

    async def originate(
        self,
        endpoint: str,
        *,
        channel_id: str,
        app_args: str | None = None,
        caller_id: str | None = None,
        timeout: int = 30,
        variables: dict[str, str] | None = None,
        originator: str | None = None,
        reconnect_wait: float = 10.0,
    ) -> Channel:
        """Dial ``endpoint``; the channel joins this application when it answers.

        One request: Asterisk dials at once, ``Dial`` events report progress
        and a ring timeout ends the channel with cause 19. Idempotent per
        ``channel_id``: if the answer is lost (disconnect or timeout) the
        request is not sent again; once connected (within ``reconnect_wait``)
        the channel is looked up instead. A retry that meets "channel already
        exists" (409) gets the existing channel.

        Args:
            endpoint: e.g. ``PJSIP/alice`` or ``Local/100@sb-test``.
            channel_id: the engine's id for the new channel.
            app_args: Stasis arguments, comma-separated.
            caller_id: ``"Name" <number>`` or a number.
            timeout: seconds to ring before giving up.
            variables: channel variables to set on it.
            originator: id of the channel that caused this one (its linkedid).
            reconnect_wait: seconds to wait for a reconnect to settle a lost answer.

        Raises:
            AriOriginateInDoubt: the request went out, its answer was lost and
                the channel does not exist (never created, or already ended).
            AriNotConnected: not connected, nothing was sent.
            AriRequestError: Asterisk refused (e.g. an unknown endpoint).
        """
        body: dict[str, Any] = {
            "endpoint": endpoint,
            "app": self.transport.app,
            "timeout": timeout,
            "variables": variables or {},
        }
        optional = {"appArgs": app_args, "callerId": caller_id, "originator": originator}
        body.update({key: value for key, value in optional.items() if value is not None})
        channel = self.channel(channel_id)
        try:
            await self.transport.request("POST", f"channels/{channel_id}", body=body)
        except AriConflict:
            await channel.snapshot()  # it exists: the first attempt went through
        except (AriNotConnected, AriTimeout) as lost:
            if isinstance(lost, AriNotConnected) and not lost.details.get("sent"):
                raise
            await self._settle_lost_originate(channel, lost, reconnect_wait)
        return channel

    async def _settle_lost_originate(self, channel: Channel, lost: Exception, wait: float) -> None:
        await self.transport.wait_connected(wait)
        try:
            await channel.snapshot()
        except AriNotFound:
            raise AriOriginateInDoubt(
                f"originate of {channel.id} was sent but its answer was lost and the"
                " channel does not exist; not re-sent",
                channel_id=channel.id,
                cause=str(lost),
            ) from None

    async def create_bridge(self, bridge_id: str, kind: str = "mixing") -> Bridge:
        """Create bridge ``bridge_id`` (``kind``: mixing, holding, ...)."""
        await self.transport.request("POST", "bridges", {"type": kind, "bridgeId": bridge_id})
        return self.bridge(bridge_id)

    async def stop_playback(self, playback_id: str) -> None:
        """Stop a playback before its end."""
        await self.transport.request("DELETE", f"playbacks/{playback_id}")

    async def set_global(self, name: str, value: str) -> None:
        """Set a global dialplan variable."""
        query: Query = {"variable": name, "value": value}
        await self.transport.request("POST", "asterisk/variable", query)

    async def send_message(self, to: str, from_: str, body: str) -> None:
        """Send an out-of-call text (``to``: a message destination such as ``pjsip:alice``)."""
        await self.transport.request("PUT", "endpoints/sendMessage",
                                     {"to": to, "from": from_, "body": body})

    async def subscribe_endpoints(self, endpoints: Sequence[str]) -> None:
        """Receive these endpoints' events and texts (``PJSIP/alice``...)."""
        sources = ",".join(f"endpoint:{name}" for name in endpoints)
        await self.transport.request("POST", f"applications/{self.transport.app}/subscription",
                                     {"eventSource": sources})

    async def subscribe_only(self, event_types: Sequence[str]) -> list[str]:
        """Ask Asterisk for these event types only; the ids of the channels in the application."""
        application = await self.transport.request(
            "PUT",
            f"applications/{self.transport.app}/eventFilter",
            body={"allowed": [{"type": kind} for kind in event_types]},
        )
        channel_ids = application.get("channel_ids", []) if isinstance(application, dict) else []
        return [str(channel_id) for channel_id in channel_ids]
