"""The ``Dial`` verb on ARI: ring targets at once, bridge the first to answer."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from switchboard import ids
from switchboard.callflow.rules import parse_target
from switchboard.callflow.status import CallEvent, CallStatus, next_status
from switchboard.callflow.verbs import Dial, DialOutcome, DialTarget
from switchboard.engine.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelLeftBridge,
    StasisEnd,
    StasisStart,
)
from switchboard.engine.ari.events import (
    Dial as DialEvent,
)
from switchboard.engine.ari.exceptions import AriError, AriRequestError
from switchboard.engine.ari.facade import Bridge, quietly
from switchboard.engine.calllog import CallLogWriter
from switchboard.engine.calls.call import Call, CallerGone, Leg
from switchboard.engine.calls.channel_ops import CallChannel
from switchboard.engine.calls.commands import (
    AsteriskUnavailable,
    CallNotFound,
    Envelope,
    HoldCall,
    TransferCall,
    UnholdCall,
)
from switchboard.engine.calls.edge import CallEdge
from switchboard.engine.calls.recorder import KeptRecording, Recorder

log = logging.getLogger(__name__)

_RINGING = frozenset({"", "RINGING", "PROCEEDING", "PROGRESS"})
_DIALSTATUS_OUTCOME = {
    "BUSY": DialOutcome.BUSY,
    "NOANSWER": DialOutcome.NO_ANSWER,
    "CHANUNAVAIL": DialOutcome.FAILED,
    "CONGESTION": DialOutcome.FAILED,
    "CANCEL": DialOutcome.CANCELED,
}
# Q.850 causes of a leg destroyed before it answered.
_CAUSE_OUTCOME = {17: DialOutcome.BUSY, 18: DialOutcome.NO_ANSWER, 19: DialOutcome.NO_ANSWER}


@dataclass(frozen=True, slots=True)
class DialResult:
    """How a Dial ended: outcome, the answering leg and how long it talked."""

    outcome: DialOutcome
    leg: Leg | None = None
    seconds: int = 0
    recording: KeptRecording | None = None


def combine_outcomes(outcomes: list[DialOutcome]) -> DialOutcome:
    """One outcome for a dial that rang several targets and reached nobody."""
    for preferred in (DialOutcome.NO_ANSWER, DialOutcome.BUSY, DialOutcome.CANCELED):
        if preferred in outcomes:
            return preferred
    return DialOutcome.FAILED


class Dialer:
    """Runs ``Dial`` verbs for calls."""

    def __init__(
        self, *, channel: CallChannel, edge: CallEdge, writer: CallLogWriter, recorder: Recorder
    ) -> None:
        self._ch = channel
        self._edge = edge
        self._writer = writer
        self._recorder = recorder
        # The name of a caller who is a contact of the tenant (or None), in memory;
        # set by the composition root (services/call_directory.py).
        self.caller_name: Callable[[str, str], str | None] | None = None

    async def dial(self, call: Call, verb: Dial) -> DialResult:
        """Ring the verb's targets at once; bridge the first to answer.

        Raises:
            CallerGone: the caller hung up (the legs are dropped first).
        """
        legs = self._make_legs(call, verb)
        if not legs:
            return DialResult(DialOutcome.FAILED)
        started = await asyncio.gather(
            *(self._start_leg(call, leg, verb) for leg in legs), return_exceptions=True
        )
        if not call.caller_answered:
            # After the legs are dialling: Asterisk serves a connection's requests
            # in order, so ringback sent earlier would delay the targets' dial.
            await self._ring_caller(call)
        ringing = {
            leg.channel_id: leg for leg, ok in zip(legs, started, strict=False) if ok is True
        }
        self._log_legs(call, legs, ringing)
        try:
            winner, outcomes = await self._await_answer(call, ringing, verb.timeout)
        except CallerGone:
            await self._drop_legs(ringing.values(), DialOutcome.CANCELED)
            raise
        outcomes.extend(DialOutcome.FAILED for _ in range(len(legs) - len(ringing)))
        if winner is None:
            return DialResult(combine_outcomes(outcomes))
        losers = [leg for cid, leg in ringing.items() if cid != winner.channel_id]
        await self._drop_legs(losers, DialOutcome.CANCELED, reason="answered_elsewhere")
        seconds, recording = await self._connect(call, winner, verb)
        return DialResult(DialOutcome.COMPLETED, winner, seconds, recording)

    def _log_legs(self, call: Call, legs: list[Leg], ringing: dict[str, Leg]) -> None:
        """Write a leg row for every target tried (failed ones marked so)."""
        for leg in legs:
            self._writer.insert_leg(
                {
                    "call_sid": call.call_sid,
                    "leg_sid": leg.leg_sid,
                    "channel_id": leg.channel_id,
                    "role": "target",
                    "target": leg.target,
                    "started_at": leg.started_at,
                    "dial_status": None if leg.channel_id in ringing else "failed",
                }
            )

    def _make_legs(self, call: Call, verb: Dial) -> list[Leg]:
        legs: list[Leg] = []
        for target in verb.targets[:10]:
            endpoint = self._edge.endpoint(call, target)
            if not endpoint:
                log.warning("target unreachable", extra={"target": target.value})
                continue
            leg = Leg(
                leg_sid=ids.call_sid(),
                channel=self._ch.ari.channel(str(uuid.uuid4())),
                target=target.value,
                endpoint=endpoint,
                started_at=self._ch.clock(),
            )
            legs.append(leg)
            call.legs[leg.channel_id] = leg
            self._ch.registry.attach(leg.channel_id, call)
        return legs

    async def _ring_caller(self, call: Call) -> bool:
        await quietly(call.caller.ring())
        return True

    async def _start_leg(self, call: Call, leg: Leg, verb: Dial) -> bool:
        caller_id = verb.caller_id or call.from_number
        name = caller_id
        if self.caller_name is not None and call.route is not None:  # a contact's name
            name = self.caller_name(call.route.tenant_id, caller_id) or caller_id
        variables = {"CALLERID(num)": caller_id, "CALLERID(name)": name}
        shown = caller_id if name == caller_id else f'"{name}" <{caller_id}>'
        variables.update(self._edge.leg_variables(call))
        try:
            # One request: Asterisk dials at once and the leg joins Stasis when it
            # answers (Dial events report its progress; a timeout ends it with
            # cause 19). create + dial would cost two round trips on the call's path.
            await self._ch.ari.originate(
                leg.endpoint,
                channel_id=leg.channel_id,
                app_args=f"leg,{call.call_sid}",
                originator=call.channel_id,
                caller_id=shown,
                timeout=max(1, min(600, verb.timeout)),
                variables=variables,
                reconnect_wait=0,
            )
        except Exception as exc:  # noqa: BLE001 - an unreachable target is an outcome
            log.warning("could not ring target", extra={"target": leg.target, "error": str(exc)})
            leg.dial_status = "failed"
            return False
        return True

    async def _await_answer(
        self, call: Call, ringing: dict[str, Leg], timeout: int
    ) -> tuple[Leg | None, list[DialOutcome]]:
        """Wait for the first answer, or for every leg to fail."""
        pending = dict(ringing)
        outcomes: list[DialOutcome] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout + 5
        while pending and (left := deadline - loop.time()) > 0:
            event = await call.next_event(left)
            if event is None:
                break
            if isinstance(event, DialEvent):
                peer = event.peer.id
                status = event.dialstatus
                if peer not in pending or status in _RINGING:
                    continue
                leg = pending.pop(peer)
                leg.dial_status = status
                if status == "ANSWER":
                    leg.answered_at = self._ch.clock()
                    await self._ch.wait_for(  # it can be bridged once it is in Stasis
                        call, functools.partial(_entered_stasis, leg), timeout=5
                    )
                    return leg, outcomes
                outcome = _DIALSTATUS_OUTCOME.get(status, DialOutcome.FAILED)
                outcomes.append(outcome)
                self._end_leg(leg, outcome)
            elif isinstance(event, ChannelDestroyed) and event.channel.id in pending:
                leg = pending.pop(event.channel.id)
                leg.cause = event.cause
                outcome = _CAUSE_OUTCOME.get(leg.cause, DialOutcome.FAILED)
                outcomes.append(outcome)
                self._end_leg(leg, outcome)
        # No word from Asterisk in time about these: give up on them.
        outcomes.extend(DialOutcome.NO_ANSWER for _ in pending)
        await self._drop_legs(pending.values(), DialOutcome.NO_ANSWER)
        return None, outcomes

    def _end_leg(self, leg: Leg, outcome: DialOutcome) -> None:
        leg.ended_at = leg.ended_at or self._ch.clock()
        self._writer.update_leg(
            leg.leg_sid, dial_status=outcome.value, ended_at=leg.ended_at, hangup_cause=leg.cause
        )

    async def _drop_legs(
        self, legs: Iterable[Leg], outcome: DialOutcome, *, reason: str = "normal"
    ) -> None:
        legs = list(legs)
        await asyncio.gather(*(quietly(leg.channel.hangup(reason)) for leg in legs))
        for leg in legs:
            self._end_leg(leg, outcome)

    async def _talk(self, call: Call, leg: Leg, bridge: Bridge, verb: Dial) -> Leg:
        """Wait while the two talk; carry out live-call commands. Returns the last leg.

        Ends at ``timeLimit``, when the called party leaves, or (``hangupOnStar``)
        when the caller presses ``*``: the caller then goes on with the next verb.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + verb.time_limit
        with call.mailbox.connected():
            while (left := deadline - loop.time()) > 0:
                item = await call.receive(left)
                if item is None:
                    break
                if isinstance(item, Envelope):
                    leg = await self._command(call, leg, bridge, item)
                elif (verb.hangup_on_star and _pressed(item, call, "*")) or _gone(item, leg):
                    break
        return leg

    async def _command(self, call: Call, leg: Leg, bridge: Bridge, envelope: Envelope) -> Leg:
        """Carry out a command on a connected call; returns the leg now connected."""
        command = envelope.command
        try:
            with call.mailbox.busy():
                if isinstance(command, HoldCall | UnholdCall):
                    held = isinstance(command, HoldCall)
                    await (call.caller.hold() if held else call.caller.unhold())
                    call.on_hold = held
                    envelope.done("held" if held else "unheld")
                elif isinstance(command, TransferCall):
                    leg = await self._transfer(call, leg, bridge, command, envelope)
                else:
                    call.refuse_command(envelope)  # answered already if it was a hang-up
        except AriError as exc:
            envelope.refuse(AsteriskUnavailable(f"Asterisk refused: {exc}"))
        finally:
            envelope.refuse(CallNotFound("the call ended during the command"))
        return leg

    async def _transfer(
        self, call: Call, current: Leg, bridge: Bridge, command: TransferCall, envelope: Envelope
    ) -> Leg:
        """Move the caller from ``current`` to the transfer target.

        Blind: the current party is dropped first, then the target rings.
        Warm: the target rings while the two keep talking; only once it
        answers does it replace the current party. If the target does not
        answer, a warm transfer leaves the call as it was and a blind one
        ends it (nobody is left to talk to).
        """
        target = parse_target(command.target)
        blind = command.transfer_type != "warm"
        if blind:
            await quietly(bridge.remove(current.channel))
            await self._drop_legs([current], DialOutcome.COMPLETED)
        verb = Dial(
            targets=(DialTarget(kind=target.kind, value=target.value, slot=1),),
            timeout=command.timeout,
        )
        legs = self._make_legs(call, verb)
        started = [leg for leg in legs if await self._start_leg(call, leg, verb)]
        ringing = {leg.channel_id: leg for leg in started}
        self._log_legs(call, legs, ringing)
        winner, _ = await self._await_answer(call, ringing, verb.timeout)
        if winner is None:
            envelope.done("no-answer")
            if blind:
                await self._ch.hangup(call)
            return current
        await bridge.add(winner.channel)
        if not blind:
            await quietly(bridge.remove(current.channel))
            await self._drop_legs([current], DialOutcome.COMPLETED)
        call.answered_by = winner.target
        self._writer.update_call(call.call_sid, answered_by=winner.target)
        self._writer.update_leg(
            winner.leg_sid, dial_status="answered", answered_at=winner.answered_at
        )
        call.talking_to = winner
        envelope.done("transferred")
        return winner

    async def _connect(self, call: Call, leg: Leg, verb: Dial) -> tuple[int, KeptRecording | None]:
        """Bridge the caller with the answering leg until one side hangs up.

        Returns:
            Seconds the two talked.
        """
        await self._ch.answer(call)
        bridge = self._ch.ari.bridge(str(uuid.uuid4()))
        self._ch.registry.attach(bridge.id, call)
        call.bridge_id = bridge.id
        call.status = next_status(call.status, CallEvent.STAFF_ANSWERED)
        call.answered_by = leg.target
        self._writer.update_call(
            call.call_sid,
            event=CallEvent.STAFF_ANSWERED,
            call_status=CallStatus.IN_PROGRESS,
            answered_at=call.answered_at,
            answered_by=leg.target,
        )
        self._writer.update_leg(leg.leg_sid, dial_status="answered", answered_at=leg.answered_at)
        recording: str | None = None
        kept: KeptRecording | None = None
        try:
            await self._ch.ari.create_bridge(bridge.id)
            try:
                await bridge.add(call.caller, leg.channel)
            except AriRequestError as exc:
                # A side hung up between the answer and the bridge: a very short call.
                log.info("hung up before bridging", extra={"error": str(exc)})
            else:
                if verb.record != "do-not-record":
                    recording = await self._recorder.start_mixmonitor(
                        call, dual=verb.record.endswith("dual")
                    )
                call.talking_to = leg
                leg = await self._talk(call, leg, bridge, verb)
        finally:
            # A transfer may have connected someone else before the caller hung up.
            leg = call.talking_to or leg
            call.talking_to = None
            leg.ended_at = self._ch.clock()
            self._writer.update_leg(leg.leg_sid, ended_at=leg.ended_at)
            if not leg.gone:  # the called party hanging up is the usual end
                await quietly(leg.channel.hangup())
            await quietly(bridge.destroy())
            self._ch.registry.detach(bridge.id)
            call.bridge_id = None
            if recording is not None:
                kept = await self._recorder.finish_mixmonitor(call, recording, source="DialVerb")
        answered = leg.answered_at or leg.ended_at
        return max(0, round((leg.ended_at - answered).total_seconds())), kept


def _pressed(event: AriEvent, call: Call, digit: str) -> bool:
    """Whether the caller pressed ``digit``."""
    return (
        isinstance(event, ChannelDtmfReceived)
        and event.digit == digit
        and event.channel.id == call.channel_id
    )


def _entered_stasis(leg: Leg, event: AriEvent) -> bool:
    """Whether ``leg`` (answered) has joined the Stasis app and can be bridged."""
    return isinstance(event, StasisStart) and event.channel.id == leg.channel_id


def _gone(event: AriEvent, leg: Leg) -> bool:
    """Whether ``leg`` left the call (``leg.gone`` if it left Asterisk's app too)."""
    if isinstance(event, ChannelDestroyed | StasisEnd) and event.channel.id == leg.channel_id:
        leg.gone = True
        return True
    return isinstance(event, ChannelLeftBridge) and event.channel.id == leg.channel_id
