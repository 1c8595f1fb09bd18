"""Typed one-line helpers over ``request`` for what the call engine needs.

Each helper names one ARI resource operation (Asterisk 22's REST API) and
returns the decoded JSON (a dict for an object, a list for a listing) or
``None`` for 204 answers. The only helper with logic is :meth:`originate`,
which must stay idempotent across reconnects: one request, one call.
"""

from __future__ import annotations

import abc
from typing import Any

from switchboard.engine.ari.exceptions import (
    AriConflict,
    AriNotConnected,
    AriNotFound,
    AriOriginateInDoubt,
    AriTimeout,
)
from switchboard.engine.ari.protocol import Query

Json = dict[str, Any]


class AriOperations(abc.ABC):
    """ARI resource helpers; a subclass supplies the transport."""

    @property
    @abc.abstractmethod
    def app(self) -> str:
        """The Stasis application name new channels are sent to."""

    @abc.abstractmethod
    async def request(
        self,
        method: str,
        uri: str,
        query: Query | None = None,
        body: Any = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """Send one REST request and return its decoded answer."""

    @abc.abstractmethod
    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the transport is connected."""

    # Channels -------------------------------------------------------------

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
        other_channel_id: str | None = None,
        reconnect_wait: float = 10.0,
    ) -> Json:
        """Dial ``endpoint`` and put the answered channel into this app.

        Idempotent per ``channel_id``: if the answer is lost (disconnect or
        timeout) the request is not sent again; instead, once connected, the
        channel is looked up. A retry with the same id that meets "channel
        already exists" (409) returns the existing channel.

        Args:
            endpoint: e.g. ``PJSIP/alice`` or ``Local/100@sb-test``.
            channel_id: the engine's id for the new channel (its call leg).
            app_args: Stasis arguments, comma-separated.
            caller_id: ``"Name" <number>`` or a number.
            timeout: seconds to ring before giving up.
            variables: channel variables to set.
            originator: id of the channel that caused this one (linkedid).
            other_channel_id: id of the second half of a Local channel.
            reconnect_wait: seconds to wait for a reconnect to settle a lost answer.

        Returns:
            The channel snapshot.

        Raises:
            AriOriginateInDoubt: the request went out, its answer was lost and
                the channel does not exist (never created, or already ended).
            AriNotConnected: not connected, nothing was sent.
        """
        body: Json = {
            "endpoint": endpoint,
            "app": self.app,
            "timeout": timeout,
            "variables": variables or {},
        }
        optional = {
            "appArgs": app_args,
            "callerId": caller_id,
            "originator": originator,
            "otherChannelId": other_channel_id,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        try:
            result: Json = await self.request("POST", f"channels/{channel_id}", body=body)
            return result
        except AriConflict:
            return await self.get_channel(channel_id)
        except (AriNotConnected, AriTimeout) as lost:
            if isinstance(lost, AriNotConnected) and not lost.details.get("sent"):
                raise
            return await self._originate_outcome(channel_id, lost, reconnect_wait)

    async def _originate_outcome(self, channel_id: str, lost: Exception, wait: float) -> Json:
        await self.wait_connected(wait)
        try:
            return await self.get_channel(channel_id)
        except AriNotFound:
            raise AriOriginateInDoubt(
                f"originate of {channel_id} was sent but its answer was lost and the"
                " channel does not exist; not re-sent",
                channel_id=channel_id,
                cause=str(lost),
            ) from None

    async def create_channel(
        self,
        endpoint: str,
        *,
        channel_id: str,
        app_args: str | None = None,
        originator: str | None = None,
        variables: dict[str, str] | None = None,
        other_channel_id: str | None = None,
    ) -> Json:
        """Create a channel without dialing it (dial later with :meth:`dial`)."""
        query: Query = {
            "endpoint": endpoint,
            "app": self.app,
            "channelId": channel_id,
            "appArgs": app_args,
            "originator": originator,
            "otherChannelId": other_channel_id,
        }
        result: Json = await self.request(
            "POST", "channels/create", query, {"variables": variables or {}}
        )
        return result

    async def dial(
        self, channel_id: str, caller_channel_id: str | None = None, timeout: int | None = None
    ) -> None:
        """Dial a channel made by :meth:`create_channel`."""
        await self.request(
            "POST", f"channels/{channel_id}/dial", {"caller": caller_channel_id, "timeout": timeout}
        )

    async def get_channel(self, channel_id: str) -> Json:
        """The channel snapshot (raises ``AriNotFound`` when it is gone)."""
        result: Json = await self.request("GET", f"channels/{channel_id}")
        return result

    async def list_channels(self) -> list[Json]:
        """Every channel Asterisk has (not only this app's)."""
        result: list[Json] = await self.request("GET", "channels")
        return result

    async def answer(self, channel_id: str) -> None:
        """Answer a channel."""
        await self.request("POST", f"channels/{channel_id}/answer")

    async def ring(self, channel_id: str) -> None:
        """Indicate ringing to the caller."""
        await self.request("POST", f"channels/{channel_id}/ring")

    async def ring_stop(self, channel_id: str) -> None:
        """Stop indicating ringing."""
        await self.request("DELETE", f"channels/{channel_id}/ring")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        """Hang up (``reason``: normal, busy, congestion, no_answer, ...)."""
        await self.request("DELETE", f"channels/{channel_id}", {"reason": reason})

    async def play(
        self, channel_id: str, media: str | list[str], playback_id: str, *, lang: str | None = None
    ) -> Json:
        """Play ``sound:``/``recording:``/``tone:`` media; returns the playback."""
        result: Json = await self.request(
            "POST", f"channels/{channel_id}/play/{playback_id}", {"media": media, "lang": lang}
        )
        return result

    async def stop_playback(self, playback_id: str) -> None:
        """Stop a playback."""
        await self.request("DELETE", f"playbacks/{playback_id}")

    async def record_channel(
        self,
        channel_id: str,
        name: str,
        format: str = "wav",  # noqa: A002 - ARI's parameter name
        max_duration: int = 0,
        max_silence: int = 0,
        beep: bool = False,
        terminate_on: str = "none",
        if_exists: str = "fail",
    ) -> Json:
        """Record a channel into ``name``; returns the live recording."""
        query: Query = {
            "name": name,
            "format": format,
            "maxDurationSeconds": max_duration,
            "maxSilenceSeconds": max_silence,
            "beep": beep,
            "terminateOn": terminate_on,
            "ifExists": if_exists,
        }
        result: Json = await self.request("POST", f"channels/{channel_id}/record", query)
        return result

    async def stop_recording(self, name: str) -> None:
        """Stop a live recording and keep the file."""
        await self.request("POST", f"recordings/live/{name}/stop")

    async def get_variable(self, channel_id: str, variable: str) -> str:
        """A channel variable or dialplan function value."""
        result: Json = await self.request(
            "GET", f"channels/{channel_id}/variable", {"variable": variable}
        )
        return str(result.get("value", ""))

    async def set_variable(self, channel_id: str, variable: str, value: str) -> None:
        """Set a channel variable."""
        await self.request(
            "POST", f"channels/{channel_id}/variable", {"variable": variable, "value": value}
        )

    async def continue_in_dialplan(
        self,
        channel_id: str,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
    ) -> None:
        """Leave Stasis and continue in the dialplan."""
        query: Query = {"context": context, "extension": extension, "priority": priority}
        await self.request("POST", f"channels/{channel_id}/continue", query)

    async def redirect(self, channel_id: str, endpoint: str) -> None:
        """Redirect a channel to another endpoint (e.g. SIP 302)."""
        await self.request("POST", f"channels/{channel_id}/redirect", {"endpoint": endpoint})

    async def move(self, channel_id: str, app: str, app_args: str | None = None) -> None:
        """Move a channel to another Stasis application."""
        await self.request("POST", f"channels/{channel_id}/move", {"app": app, "appArgs": app_args})

    async def snoop(
        self,
        channel_id: str,
        snoop_id: str,
        *,
        spy: str = "none",
        whisper: str = "none",
        app_args: str | None = None,
    ) -> Json:
        """Create a snoop channel (``spy``/``whisper``: none, in, out, both)."""
        query: Query = {"spy": spy, "whisper": whisper, "app": self.app, "appArgs": app_args}
        result: Json = await self.request("POST", f"channels/{channel_id}/snoop/{snoop_id}", query)
        return result

    # Bridges --------------------------------------------------------------

    async def create_bridge(
        self,
        type: str = "mixing",
        bridge_id: str | None = None,
        name: str | None = None,  # noqa: A002
    ) -> Json:
        """Create a bridge (``type``: mixing, holding, dtmf_events, proxy_media)."""
        uri = f"bridges/{bridge_id}" if bridge_id else "bridges"
        result: Json = await self.request("POST", uri, {"type": type, "name": name})
        return result

    async def add_to_bridge(self, bridge_id: str, channel_id: str | list[str]) -> None:
        """Add one or more channels to a bridge."""
        await self.request("POST", f"bridges/{bridge_id}/addChannel", {"channel": channel_id})

    async def remove_from_bridge(self, bridge_id: str, channel_id: str | list[str]) -> None:
        """Remove one or more channels from a bridge."""
        await self.request("POST", f"bridges/{bridge_id}/removeChannel", {"channel": channel_id})

    async def destroy_bridge(self, bridge_id: str) -> None:
        """Destroy a bridge (its channels stay up)."""
        await self.request("DELETE", f"bridges/{bridge_id}")

    async def record_bridge(
        self,
        bridge_id: str,
        name: str,
        format: str = "wav",  # noqa: A002 - ARI's parameter name
        max_duration: int = 0,
        beep: bool = False,
        if_exists: str = "fail",
    ) -> Json:
        """Record a bridge's mixed audio; returns the live recording."""
        query: Query = {
            "name": name,
            "format": format,
            "maxDurationSeconds": max_duration,
            "beep": beep,
            "ifExists": if_exists,
        }
        result: Json = await self.request("POST", f"bridges/{bridge_id}/record", query)
        return result

    async def list_bridges(self) -> list[Json]:
        """Every bridge Asterisk has."""
        result: list[Json] = await self.request("GET", "bridges")
        return result

    # Applications ---------------------------------------------------------

    async def get_application(self, app: str | None = None) -> Json:
        """The application's state: its channel and bridge ids (for resync)."""
        result: Json = await self.request("GET", f"applications/{app or self.app}")
        return result
