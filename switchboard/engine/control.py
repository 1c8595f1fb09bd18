"""Live call control: place, list, hang up, hold and transfer calls in progress.

The API's calls service talks to the engine only through :class:`CallControl`.
Commands on a live call travel as typed commands
(:mod:`switchboard.engine.calls.commands`) into the call's mailbox and are
carried out by the call's own task; errors are typed (:class:`CallControlError`
subclasses) so the service can answer 404, 409 or 503 without knowing the
engine's insides, and a command the call cannot take is refused at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard.callflow.routes import NumberRoute
from switchboard.engine.ari.exceptions import AriError
from switchboard.engine.calls.call import Call
from switchboard.engine.calls.commands import (
    AsteriskUnavailable,
    CallBusy,
    CallControlError,
    CallNotConnected,
    CallNotFound,
    Command,
    Envelope,
    HangupCall,
    HoldCall,
    TransferCall,
    UnholdCall,
)
from switchboard.engine.calls.outbound import OutboundCallHandler
from switchboard.engine.events import CallRegistry

__all__ = [
    "AsteriskUnavailable",
    "CallBusy",
    "CallControl",
    "CallControlError",
    "CallNotConnected",
    "CallNotFound",
    "LiveCall",
    "NumberNotUsable",
]


class NumberNotUsable(CallControlError):
    """The caller ID is not an active number of the tenant."""

    error_id = "number-not-usable"


@dataclass(frozen=True, slots=True)
class LiveCall:
    """A call in progress, as the API shows it."""

    call_sid: str
    direction: str
    from_number: str
    to_number: str
    status: str
    started_at: datetime
    answered_at: datetime | None
    answered_by: str | None
    connected: bool
    on_hold: bool


class CallControl:
    """The engine's call-control surface."""

    def __init__(
        self,
        *,
        registry: CallRegistry,
        outbound: OutboundCallHandler,
        lookup: Callable[[str], NumberRoute | None],
        spawn: Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]],
    ) -> None:
        self._registry = registry
        self._outbound = outbound
        self._lookup = lookup
        self._spawn = spawn

    async def place_call(
        self,
        tenant_id: str,
        *,
        from_number: str,
        to_number: str,
        record: bool = False,
        status_callback_url: str | None = None,
        url: str | None = None,
        call_sid: str | None = None,
    ) -> LiveCall:
        """Originate a call from one of the tenant's numbers.

        Raises:
            NumberNotUsable: ``from_number`` is not an active number of the tenant.
            AsteriskUnavailable: Asterisk refused or is unreachable; nothing rings.
        """
        route = self._lookup(from_number)
        if route is None or route.tenant_id != tenant_id or not route.enabled:
            raise NumberNotUsable(f"{from_number} is not an active number of this account")
        try:
            call = await self._outbound.place(
                route,
                to_number=to_number,
                record=record,
                status_callback_url=status_callback_url,
                url=url,
                call_sid=call_sid,
            )
        except AriError as exc:
            raise AsteriskUnavailable(f"Asterisk could not place the call: {exc}") from exc
        task = self._spawn(self._outbound.run(call, record), f"call-{call.call_sid}")
        task.add_done_callback(lambda _t: self._registry.remove(call))
        return _live(call)

    def live_calls(self, tenant_id: str) -> list[LiveCall]:
        """The tenant's calls in progress, oldest first."""
        calls = [c for c in self._registry.all() if c.route and c.route.tenant_id == tenant_id]
        return [_live(c) for c in sorted(calls, key=lambda c: c.started_at)]

    def get(self, tenant_id: str, call_sid: str) -> LiveCall | None:
        """A call in progress, or ``None`` (it may have ended)."""
        call = self._registry.by_sid(call_sid)
        if call is None or call.route is None or call.route.tenant_id != tenant_id:
            return None
        return _live(call)

    async def hangup(self, tenant_id: str, call_sid: str) -> None:
        """End a call in progress.

        Raises:
            CallNotFound: no such call in progress for the tenant.
        """
        await self.send(tenant_id, HangupCall(call_sid))

    async def hold(self, tenant_id: str, call_sid: str, *, on: bool) -> None:
        """Put the caller on hold (the other party hears hold) or take it off.

        Raises:
            CallNotFound: no such call in progress for the tenant.
            CallNotConnected: the caller is not talking to anyone.
            CallBusy: a transfer is under way.
            AsteriskUnavailable: Asterisk refused.
        """
        await self.send(tenant_id, HoldCall(call_sid) if on else UnholdCall(call_sid))

    async def transfer(
        self,
        tenant_id: str,
        call_sid: str,
        *,
        target: str,
        transfer_type: str = "blind",
        timeout: int = 30,
    ) -> str:
        """Move a connected caller to ``target``; ``transferred`` or ``no-answer``.

        Raises:
            CallNotFound: no such call in progress for the tenant (or it ended).
            CallNotConnected: the caller is not talking to anyone to transfer from.
            CallBusy: another transfer is under way.
        """
        command = TransferCall(call_sid, target=target, transfer_type=transfer_type,
                               timeout=timeout)
        return await self.send(tenant_id, command)

    async def send(self, tenant_id: str, command: Command) -> str:
        """Hand ``command`` to its call's task and wait for the outcome.

        Raises:
            CallControlError: the call is not the tenant's, has ended, or cannot
                take this command now (typed, never a timeout).
        """
        call = self._find(tenant_id, command.call_sid)
        envelope = Envelope(command)
        call.mailbox.send(envelope)
        return await envelope.reply

    def _find(self, tenant_id: str, call_sid: str) -> Call:
        call = self._registry.by_sid(call_sid)
        if call is None or call.route is None or call.route.tenant_id != tenant_id:
            raise CallNotFound(f"no call {call_sid} in progress")
        return call


def _live(call: Call) -> LiveCall:
    return LiveCall(
        call_sid=call.call_sid,
        direction=call.direction,
        from_number=call.from_number,
        to_number=call.to_number,
        status=str(call.status),
        started_at=call.started_at,
        answered_at=call.answered_at,
        answered_by=call.answered_by,
        connected=call.bridge_id is not None,
        on_hold=call.on_hold,
    )
