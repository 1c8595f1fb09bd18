"""A call in progress: its identity, its legs, and the events addressed to it.

The engine routes every ARI event about one of the call's channels, bridges,
playbacks or recordings into the call's queue; the call's own task reads them
in order. Nothing else mutates a call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from switchboard.callflow.routes import NumberRoute
from switchboard.callflow.verbs import DialOutcome
from switchboard.models import CallLogStatus

Event = dict[str, Any]


class CallerGone(Exception):
    """The caller hung up: the flow stops wherever it is."""


@dataclass(slots=True)
class Leg:
    """A dialled channel of the call."""

    leg_sid: str
    channel_id: str
    target: str
    endpoint: str
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    dial_status: str | None = None
    cause: int | None = None
    gone: bool = False  # Asterisk said the channel left the app or was destroyed


@dataclass(slots=True)
class Call:
    """State of one call, owned by its task."""

    call_sid: str
    channel_id: str
    channel_name: str
    linkedid: str
    from_number: str
    to_number: str
    direction: str
    started_at: datetime
    route: NumberRoute | None = None
    simulate: str = ""
    bench_id: str = ""
    app_driven: bool = False
    on_hold: bool = False
    # Set for calls placed through the API: where their status callbacks go.
    status_callback_url: str | None = None
    voice_url: str | None = None
    status: CallLogStatus = CallLogStatus.INCOMING_CALL
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    caller_answered: bool = False
    caller_gone: bool = False
    hangup_cause: int | None = None
    last_outcome: DialOutcome = DialOutcome.NOT_DIALLED
    answered_by: str | None = None
    legs: dict[str, Leg] = field(default_factory=dict)
    bridge_id: str | None = None
    queue: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)

    def is_caller_end(self, event: Event) -> bool:
        """Whether ``event`` says the caller's channel is gone."""
        kind = event.get("type")
        if kind not in ("StasisEnd", "ChannelDestroyed", "ChannelHangupRequest"):
            return False
        if kind == "ChannelHangupRequest" and event.get("soft"):
            return False
        return bool(event.get("channel", {}).get("id") == self.channel_id)

    async def next_event(self, timeout: float | None) -> Event | None:
        """The next event, or ``None`` after ``timeout`` seconds.

        Raises:
            CallerGone: when the event says the caller hung up.
        """
        try:
            event = await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None
        if self.is_caller_end(event):
            self.caller_gone = True
            cause = event.get("cause")
            if isinstance(cause, int) and self.hangup_cause is None:
                self.hangup_cause = cause
            raise CallerGone
        return event
