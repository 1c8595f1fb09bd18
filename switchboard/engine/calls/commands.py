"""Live-call commands: typed requests to a call's own task, and typed refusals.

Call control (the API) never touches a call: it sends a :data:`Command` into
the call's :class:`Mailbox`, beside its ARI events, and awaits the answer.
The call's task carries it out where it can — hold, unhold and transfers
while the caller is connected to someone, hang-up anywhere — and a command
the call cannot take now is refused at once with a typed error
(:class:`CallNotConnected`, :class:`CallBusy`, :class:`CallNotFound` once
the call has ended), never left to time out.

Commands are ``msgspec`` structs tagged by ``command``, so a later step can
carry the same objects between processes (:func:`encode_command`,
:func:`decode_command`); the reply future stays in the local
:class:`Envelope`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import msgspec

from switchboard.engine.ari.events import AriEvent


class CallCommand(msgspec.Struct, frozen=True, tag_field="command"):
    """Base of every command: the call it is for."""

    call_sid: str


class HangupCall(CallCommand, frozen=True, tag="hangup"):
    """End the call (the caller's channel is hung up; the flow stops)."""

    reason: str = "normal"


class HoldCall(CallCommand, frozen=True, tag="hold"):
    """Indicate hold to the party the caller is connected to."""


class UnholdCall(CallCommand, frozen=True, tag="unhold"):
    """Stop indicating hold."""


class TransferCall(CallCommand, frozen=True, tag="transfer"):
    """Move the connected caller to ``target`` (``blind`` or ``warm``)."""

    target: str
    transfer_type: str = "blind"
    timeout: int = 30


Command = HangupCall | HoldCall | UnholdCall | TransferCall

_command_decoder = msgspec.json.Decoder(Command)


def encode_command(command: Command) -> bytes:
    """``command`` as JSON (``{"command": "transfer", "call_sid": ..., ...}``)."""
    return msgspec.json.encode(command)


def decode_command(data: bytes | str) -> Command:
    """The command in ``data``.

    Raises:
        ValueError: not a command.
    """
    try:
        return _command_decoder.decode(data)
    except msgspec.MsgspecError as exc:
        raise ValueError(f"not a call command: {exc}") from exc


class CallControlError(Exception):
    """A call-control request that cannot be carried out."""

    error_id = "call-control-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CallNotFound(CallControlError):
    """No call in progress with that SID for this tenant (or it ended meanwhile)."""

    error_id = "call-not-found"


class CallNotConnected(CallControlError):
    """The call is not talking to anyone (still ringing, in a voice app, or left)."""

    error_id = "call-not-connected"


class CallBusy(CallControlError):
    """The call is carrying out another command (a transfer) and cannot take this one now."""

    error_id = "call-busy"


class AsteriskUnavailable(CallControlError):
    """Asterisk could not be reached or refused the request."""

    error_id = "asterisk-ari-not-initialized"


@dataclass(slots=True)
class Envelope:
    """A command on its way to a call's task, with the future its answer goes to."""

    command: Command
    reply: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def done(self, result: str) -> None:
        """Answer the command."""
        if not self.reply.done():
            self.reply.set_result(result)

    def refuse(self, error: CallControlError) -> None:
        """Refuse the command with a typed error."""
        if not self.reply.done():
            self.reply.set_exception(error)


_ALWAYS: frozenset[type[CallCommand]] = frozenset({HangupCall})
_WHILE_CONNECTED: frozenset[type[CallCommand]] = frozenset(
    {HangupCall, HoldCall, UnholdCall, TransferCall}
)


class Mailbox:
    """A call's inbox: ARI events from the engine, commands from call control.

    One waiter (the call's task) at a time; :meth:`receive` wakes on either.
    Commands are taken only when the phase asks for them (``commands=True``)
    and only those it accepts reach the queue at all: :meth:`send` refuses
    the rest at once.
    """

    __slots__ = ("_accepting", "_busy", "_closed", "_commands", "_events", "_waiter")

    def __init__(self) -> None:
        self._events: deque[AriEvent] = deque()
        self._commands: deque[Envelope] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._accepting: frozenset[type[CallCommand]] = _ALWAYS
        self._busy = False
        self._closed = False

    def put_event(self, event: AriEvent) -> None:
        """Queue an event for the call's task."""
        self._events.append(event)
        self._wake()

    def send(self, envelope: Envelope) -> None:
        """Queue a command, or refuse it now if the call cannot take it."""
        kind = type(envelope.command)
        if self._closed:
            envelope.refuse(CallNotFound("the call has ended"))
        elif kind not in self._accepting:
            envelope.refuse(CallNotConnected("the call is not connected to anyone"))
        elif self._busy and kind is not HangupCall:
            envelope.refuse(CallBusy("the call is carrying out another command"))
        else:
            self._commands.append(envelope)
            self._wake()

    @contextmanager
    def connected(self) -> Iterator[None]:
        """While the caller talks to someone: hold, unhold and transfers are taken."""
        self._accepting = _WHILE_CONNECTED
        try:
            yield
        finally:
            self._accepting = _ALWAYS
            self._refuse_pending(CallNotConnected("the call is no longer connected"))

    @contextmanager
    def busy(self) -> Iterator[None]:
        """While a command is carried out: others but hang-up are refused."""
        self._busy = True
        try:
            yield
        finally:
            self._busy = False

    def close(self) -> None:
        """The call ended: refuse what is pending and everything sent later."""
        self._closed = True
        self._refuse_pending(CallNotFound("the call has ended"), also_hangup=True)

    def _refuse_pending(self, error: CallControlError, *, also_hangup: bool = False) -> None:
        kept: deque[Envelope] = deque()
        for envelope in self._commands:
            if also_hangup or not isinstance(envelope.command, HangupCall):
                envelope.refuse(error)
            else:
                kept.append(envelope)
        self._commands = kept

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def receive(self, timeout: float | None) -> AriEvent | Envelope | None:
        """The next command (first) or event; ``None`` after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            if self._commands:
                return self._commands.popleft()
            if self._events:
                return self._events.popleft()
            if deadline is not None and loop.time() >= deadline:
                return None
            waiter = loop.create_future()
            self._waiter = waiter
            try:
                async with asyncio.timeout_at(deadline):
                    await waiter
            except TimeoutError:
                return None
            finally:
                self._waiter = None
