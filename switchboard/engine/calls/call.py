"""A call in progress: its identity, its legs, and what is addressed to it.

The engine routes every ARI event about one of the call's channels, bridges,
playbacks or recordings into the call's :class:`~switchboard.engine.calls.commands.Mailbox`,
and call control sends its commands there too; the call's own task reads
them in order. Nothing else mutates a call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from switchboard.callflow.routes import NumberRoute
from switchboard.callflow.verbs import DialOutcome
from switchboard.engine.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelHangupRequest,
    StasisEnd,
)
from switchboard.engine.ari.facade import Channel, quietly
from switchboard.engine.calls.commands import (
    CallNotConnected,
    Envelope,
    HangupCall,
    Mailbox,
)
from switchboard.models import CallLogStatus


class CallerGone(Exception):  # noqa: N818 - it names what happened
    """The caller hung up: the flow stops wherever it is."""


@dataclass(slots=True)
class Leg:
    """A dialled channel of the call."""

    leg_sid: str
    channel: Channel
    target: str
    endpoint: str
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    dial_status: str | None = None
    cause: int | None = None
    gone: bool = False  # Asterisk said the channel left the app or was destroyed

    @property
    def channel_id(self) -> str:
        """The leg's channel id."""
        return self.channel.id


@dataclass(slots=True)
class Call:
    """State of one call, owned by its task."""

    call_sid: str
    caller: Channel
    channel_name: str
    linkedid: str
    from_number: str
    to_number: str
    direction: str
    started_at: datetime
    route: NumberRoute | None = None
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
    talking_to: Leg | None = None  # the leg bridged with the caller now
    mailbox: Mailbox = field(default_factory=Mailbox)

    @property
    def channel_id(self) -> str:
        """The caller's channel id."""
        return self.caller.id

    def is_caller_end(self, event: AriEvent) -> bool:
        """Whether ``event`` says the caller's channel is gone."""
        if isinstance(event, ChannelHangupRequest):
            return not event.soft and event.channel.id == self.caller.id
        if isinstance(event, StasisEnd | ChannelDestroyed):
            return event.channel.id == self.caller.id
        return False

    async def next_event(self, timeout: float | None) -> AriEvent | None:
        """The next event, or ``None`` after ``timeout`` seconds.

        A hang-up command is carried out on the way (the caller's end then
        arrives as an event); no other command reaches a call that is not
        taking them (:meth:`Mailbox.send` refuses it).

        Raises:
            CallerGone: when the event says the caller hung up.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            item = await self.receive(left)
            if not isinstance(item, Envelope):
                return item
            self.refuse_command(item)  # answered already if it was a hang-up

    async def receive(self, timeout: float | None) -> AriEvent | Envelope | None:
        """The next event or command (hang-ups carried out here), or ``None`` after ``timeout``.

        Raises:
            CallerGone: when an event says the caller hung up.
        """
        item = await self.mailbox.receive(timeout)
        if isinstance(item, Envelope):
            if isinstance(item.command, HangupCall):
                if not self.caller_gone:
                    await quietly(self.caller.hangup(item.command.reason))
                item.done("hung-up")
            return item
        if item is not None and self.is_caller_end(item):
            self.caller_gone = True
            cause = getattr(item, "cause", None)
            if isinstance(cause, int) and self.hangup_cause is None:
                self.hangup_cause = cause
            raise CallerGone
        return item

    def refuse_command(self, envelope: Envelope) -> None:
        """Refuse a command this phase of the call cannot carry out."""
        envelope.refuse(CallNotConnected("the call is not connected to anyone"))
