"""What every verb does with a call's own channel: answer, hang up, play, wait."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime

from switchboard.engine.ari.events import AriEvent, PlaybackFinished
from switchboard.engine.ari.facade import Ari, quietly
from switchboard.engine.calls.call import Call
from switchboard.engine.events import CallRegistry


class CallChannel:
    """Answer, hang up, play and wait on a call's caller channel."""

    def __init__(self, *, ari: Ari, registry: CallRegistry, clock: Callable[[], datetime]) -> None:
        self.ari = ari
        self.registry = registry
        self.clock = clock
        self.on_answer: Callable[[Call], None] | None = None

    async def answer(self, call: Call) -> None:
        """Answer the caller's channel once."""
        if call.caller_answered:
            return
        await call.caller.answer()
        call.caller_answered = True
        call.answered_at = call.answered_at or self.clock()
        if self.on_answer is not None:
            self.on_answer(call)

    async def hangup(self, call: Call, *, reason: str = "normal") -> None:
        """Hang the caller up (if still there)."""
        if not call.caller_gone:
            await quietly(call.caller.hangup(reason))

    async def wait_for(
        self, call: Call, predicate: Callable[[AriEvent], bool], *, timeout: float
    ) -> AriEvent | None:
        """The first event matching ``predicate`` (others are dropped), or ``None``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            event = await call.next_event(left)
            if event is not None and predicate(event):
                return event
        return None

    async def start_playback(self, call: Call, media: str) -> str:
        """Start playing ``media`` to the caller; returns the playback id."""
        playback_id = str(uuid.uuid4())
        self.registry.attach(playback_id, call)
        await call.caller.play(media, playback_id)
        return playback_id

    async def play(self, call: Call, media: str) -> None:
        """Play ``media`` (an ARI media URI such as ``sound:vm-intro``) to the end."""
        await self.answer(call)
        playback_id = await self.start_playback(call, media)
        try:
            await self.wait_for(call, lambda e: is_playback_end(e, playback_id), timeout=3600)
        finally:
            self.registry.detach(playback_id)

    async def pause(self, call: Call, seconds: float) -> None:
        """Keep the caller in silence; a hangup ends it early."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            await call.next_event(left)


def is_playback_end(event: AriEvent, playback_id: str) -> bool:
    """Whether ``event`` ends playback ``playback_id`` (done, failed or stopped)."""
    return isinstance(event, PlaybackFinished) and event.playback.id == playback_id
