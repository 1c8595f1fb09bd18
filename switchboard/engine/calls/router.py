"""Every call in progress and what runs them, over one ARI transport.

:class:`CallRouter` is the engine's call side without its connections: it
takes each typed ARI event to the call it concerns (starting an inbound
call's task on its ``StasisStart``), places outbound calls, answers call
control, and adopts channels an earlier engine left in Stasis. The engine
builds it over the websocket client; the fast call-flow specifications
build the very same object over a replayed tape.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from switchboard import ids
from switchboard.callflow.routes import NumberRoute
from switchboard.engine.ari.events import AriEvent, StasisStart
from switchboard.engine.ari.facade import Ari, quietly
from switchboard.engine.calllog import CallLogWriter
from switchboard.engine.calls.call import Call
from switchboard.engine.calls.edge import CallEdge, TrunkDialing
from switchboard.engine.calls.executor import FlowExecutor
from switchboard.engine.calls.inbound import InboundCallHandler
from switchboard.engine.calls.outbound import OutboundCallHandler
from switchboard.engine.calls.recorder import Ami
from switchboard.engine.calls.voice_app import VoiceApp
from switchboard.engine.control import CallControl
from switchboard.engine.events import CallRegistry
from switchboard.engine.media import MediaCache
from switchboard.engine.recordings import RecordingStore
from switchboard.models import CallDirection

log = logging.getLogger(__name__)

DID_CONTEXT = "switchboard-did"
FALLBACK_CONTEXT = "switchboard-fallback"

Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]


class CallRouter:
    """Routes ARI events to calls and owns the handlers that run them."""

    def __init__(
        self,
        *,
        ari: Ari,
        ami: Ami,
        writer: CallLogWriter,
        recordings: RecordingStore,
        lookup: Callable[[str], NumberRoute | None],
        clock: Callable[[], datetime],
        voice_app: VoiceApp,
        spawn: Spawn,
        media: MediaCache | None = None,
        recording_url: Callable[[str], str] = lambda sid: sid,
        edge: CallEdge | None = None,
    ) -> None:
        self.ari = ari
        self.registry = CallRegistry()
        self.edge: CallEdge = edge or TrunkDialing()
        self._clock = clock
        self._spawn = spawn
        self.executor = FlowExecutor(
            ari=ari,
            ami=ami,
            registry=self.registry,
            writer=writer,
            recordings=recordings,
            clock=clock,
            media=media,
            voice_app=voice_app,
            recording_url=recording_url,
            edge=self.edge,
        )
        self.inbound = InboundCallHandler(
            executor=self.executor,
            writer=writer,
            lookup=lookup,
            clock=clock,
            voice_app=voice_app,
        )
        self.outbound = OutboundCallHandler(
            ari=ari,
            registry=self.registry,
            executor=self.executor,
            writer=writer,
            voice_app=voice_app,
            clock=clock,
        )
        self.control = CallControl(
            registry=self.registry, outbound=self.outbound, lookup=lookup, spawn=spawn
        )

    def on_event(self, event: AriEvent) -> None:
        """Hand ``event`` to its call; an inbound ``StasisStart`` starts a call."""
        if isinstance(event, StasisStart) and event.args and event.args[0] == "inbound":
            self._start_inbound(event)
            return
        call = self.registry.find(event)
        if call is not None:
            call.mailbox.put_event(event)

    def _start_inbound(self, event: StasisStart) -> None:
        """A new call: ``Stasis(app,inbound,<DID>,<linkedid>[,...edge arguments])``."""
        channel, args = event.channel, event.args
        call = Call(
            call_sid=ids.call_sid(),
            caller=self.ari.channel(channel.id),
            channel_name=channel.name,
            linkedid=args[2] if len(args) > 2 and args[2] else channel.id,
            from_number=channel.caller.number or "anonymous",
            to_number=args[1] if len(args) > 1 else channel.dialplan.exten,
            direction=CallDirection.INBOUND,
            started_at=self._clock(),
        )
        self.edge.arrived(call, args[3:])
        self.registry.add(call)
        task = self._spawn(self.inbound.handle(call), f"call-{call.call_sid}")
        task.add_done_callback(lambda _t: self._ended(call))

    def _ended(self, call: Call) -> None:
        self.registry.remove(call)
        self.edge.ended(call)

    async def adopt_orphans(self, channel_ids: list[str]) -> None:
        """Channels in Stasis that no call owns (the engine restarted under them)."""
        for channel_id in channel_ids:
            if self.registry.by_channel(channel_id) is None:
                await self._adopt_orphan(channel_id)

    async def _adopt_orphan(self, channel_id: str) -> None:
        channel = self.ari.channel(channel_id)
        try:
            snapshot = await channel.snapshot()
        except Exception:  # noqa: BLE001 - it may have just gone
            return
        if snapshot.dialplan.context == DID_CONTEXT:
            log.warning("orphaned caller handed to the fallback", extra={"channel": channel_id})
            await quietly(
                channel.continue_in_dialplan(
                    FALLBACK_CONTEXT, extension=snapshot.dialplan.exten, priority=1
                )
            )
        else:
            log.warning("orphaned leg hung up", extra={"channel": channel_id})
            await quietly(channel.hangup())
