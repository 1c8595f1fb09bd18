"""The ``Dial`` verb on ARI: ring targets at once, bridge the first to answer."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from switchboard import ids
from switchboard.callflow.routes import dial_string
from switchboard.callflow.rules import parse_target
from switchboard.callflow.status import CallEvent, CallStatus, next_status
from switchboard.callflow.verbs import Dial, DialOutcome, DialTarget
from switchboard.engine.ari.exceptions import AriRequestError
from switchboard.engine.calllog import CallLogWriter
from switchboard.engine.calls.call import Call, CallerGone, Event, Leg
from switchboard.engine.calls.channel_ops import CallChannel
from switchboard.engine.calls.recorder import KeptRecording, Recorder

log = logging.getLogger(__name__)

# An engine-made event asking a connected call to move to another party.
TRANSFER_EVENT = "SwitchboardTransfer"

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
        self, *, channel: CallChannel, app: str, writer: CallLogWriter, recorder: Recorder
    ) -> None:
        self._ch = channel
        self._app = app
        self._writer = writer
        self._recorder = recorder

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
        trunk = call.route.trunk if call.route else None
        legs: list[Leg] = []
        for target in verb.targets[:10]:
            endpoint = dial_string(target, trunk, simulate=bool(call.simulate))
            if not endpoint:
                log.warning("target unreachable", extra={"target": target.value})
                continue
            leg = Leg(
                leg_sid=ids.call_sid(),
                channel_id=str(uuid.uuid4()),
                target=target.value,
                endpoint=endpoint,
                started_at=self._ch.clock(),
            )
            legs.append(leg)
            call.legs[leg.channel_id] = leg
            self._ch.registry.attach(leg.channel_id, call)
        return legs

    async def _ring_caller(self, call: Call) -> bool:
        await self._ch.quietly("POST", f"channels/{call.channel_id}/ring")
        return True

    async def _start_leg(self, call: Call, leg: Leg, verb: Dial) -> bool:
        caller_id = verb.caller_id or call.from_number
        variables = {"CALLERID(num)": caller_id, "CALLERID(name)": caller_id}
        if call.simulate:
            variables["__SB_SIMULATE"] = call.simulate
        if call.bench_id:
            variables["__SB_BENCH_ID"] = call.bench_id
        body: dict[str, object] = {
            "endpoint": leg.endpoint,
            "app": self._app,
            "appArgs": f"leg,{call.call_sid}",
            "originator": call.channel_id,
            "callerId": caller_id,
            "timeout": max(1, min(600, verb.timeout)),
            "variables": variables,
        }
        try:
            # One request: Asterisk dials at once and the leg joins Stasis when it
            # answers (Dial events report its progress; a timeout ends it with
            # cause 19). create + dial would cost two round trips on the call's path.
            await self._ch.ari.request("POST", f"channels/{leg.channel_id}", body=body)
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
            kind = event.get("type")
            if kind == "Dial":
                peer = event.get("peer", {}).get("id")
                status = str(event.get("dialstatus", ""))
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
            elif kind == "ChannelDestroyed":
                channel_id = event.get("channel", {}).get("id")
                if channel_id in pending:
                    leg = pending.pop(channel_id)
                    cause = event.get("cause")
                    leg.cause = cause if isinstance(cause, int) else None
                    outcome = _CAUSE_OUTCOME.get(leg.cause or 0, DialOutcome.FAILED)
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
        await asyncio.gather(
            *(
                self._ch.quietly("DELETE", f"channels/{leg.channel_id}", {"reason": reason})
                for leg in legs
            )
        )
        for leg in legs:
            self._end_leg(leg, outcome)

    async def _talk(self, call: Call, leg: Leg, bridge_id: str, verb: Dial) -> Leg:
        """Wait while the two talk; carry out transfers. Returns the last leg.

        Ends at ``timeLimit``, when the called party leaves, or (``hangupOnStar``)
        when the caller presses ``*``: the caller then goes on with the next verb.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + verb.time_limit
        while (left := deadline - loop.time()) > 0:
            event = await call.next_event(left)
            if event is None:
                break
            kind = event.get("type")
            if kind == TRANSFER_EVENT:
                leg = await self._transfer(call, leg, bridge_id, event)
            elif (verb.hangup_on_star and _pressed(event, call, "*")) or _gone(event, leg):
                break
        return leg

    async def _transfer(self, call: Call, current: Leg, bridge_id: str, event: Event) -> Leg:
        """Move the caller from ``current`` to the transfer target.

        Blind: the current party is dropped first, then the target rings.
        Warm: the target rings while the two keep talking; only once it
        answers does it replace the current party. If the target does not
        answer, a warm transfer leaves the call as it was and a blind one
        ends it (nobody is left to talk to).
        """
        done: asyncio.Future[str] = event["done"]
        target = parse_target(str(event["target"]))
        blind = event.get("transfer_type", "blind") != "warm"
        if blind:
            await self._ch.quietly(
                "POST", f"bridges/{bridge_id}/removeChannel", {"channel": current.channel_id}
            )
            await self._drop_legs([current], DialOutcome.COMPLETED)
        verb = Dial(
            targets=(DialTarget(kind=target.kind, value=target.value, slot=1),),
            timeout=int(event.get("timeout", 30)),
        )
        legs = self._make_legs(call, verb)
        started = [leg for leg in legs if await self._start_leg(call, leg, verb)]
        ringing = {leg.channel_id: leg for leg in started}
        self._log_legs(call, legs, ringing)
        winner, _ = await self._await_answer(call, ringing, verb.timeout)
        if winner is None:
            done.set_result("no-answer")
            if blind:
                await self._ch.hangup(call)
            return current
        await self._ch.ari.request(
            "POST", f"bridges/{bridge_id}/addChannel", {"channel": winner.channel_id}
        )
        if not blind:
            await self._ch.quietly(
                "POST", f"bridges/{bridge_id}/removeChannel", {"channel": current.channel_id}
            )
            await self._drop_legs([current], DialOutcome.COMPLETED)
        call.answered_by = winner.target
        self._writer.update_call(call.call_sid, answered_by=winner.target)
        self._writer.update_leg(
            winner.leg_sid, dial_status="answered", answered_at=winner.answered_at
        )
        done.set_result("transferred")
        return winner

    async def _connect(self, call: Call, leg: Leg, verb: Dial) -> tuple[int, KeptRecording | None]:
        """Bridge the caller with the answering leg until one side hangs up.

        Returns:
            Seconds the two talked.
        """
        await self._ch.answer(call)
        bridge_id = str(uuid.uuid4())
        self._ch.registry.attach(bridge_id, call)
        call.bridge_id = bridge_id
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
            await self._ch.ari.request("POST", "bridges", {"type": "mixing", "bridgeId": bridge_id})
            try:
                await self._ch.ari.request(
                    "POST",
                    f"bridges/{bridge_id}/addChannel",
                    {"channel": f"{call.channel_id},{leg.channel_id}"},
                )
            except AriRequestError as exc:
                # A side hung up between the answer and the bridge: a very short call.
                log.info("hung up before bridging", extra={"error": str(exc)})
            else:
                if verb.record != "do-not-record":
                    recording = await self._recorder.start_mixmonitor(
                        call, dual=verb.record.endswith("dual")
                    )
                leg = await self._talk(call, leg, bridge_id, verb)
        finally:
            leg.ended_at = self._ch.clock()
            self._writer.update_leg(leg.leg_sid, ended_at=leg.ended_at)
            if not leg.gone:  # the called party hanging up is the usual end
                await self._ch.quietly("DELETE", f"channels/{leg.channel_id}")
            await self._ch.quietly("DELETE", f"bridges/{bridge_id}")
            self._ch.registry.detach(bridge_id)
            call.bridge_id = None
            if recording is not None:
                kept = await self._recorder.finish_mixmonitor(call, recording, source="DialVerb")
        answered = leg.answered_at or leg.ended_at
        return max(0, round((leg.ended_at - answered).total_seconds())), kept


def _pressed(event: Event, call: Call, digit: str) -> bool:
    """Whether the caller pressed ``digit``."""
    return (
        event.get("type") == "ChannelDtmfReceived"
        and event.get("digit") == digit
        and event.get("channel", {}).get("id") == call.channel_id
    )


def _entered_stasis(leg: Leg, event: Event) -> bool:
    """Whether ``leg`` (answered) has joined the Stasis app and can be bridged."""
    return (
        event.get("type") == "StasisStart" and event.get("channel", {}).get("id") == leg.channel_id
    )


def _gone(event: Event, leg: Leg) -> bool:
    """Whether ``leg`` left the call (``leg.gone`` if it left Asterisk's app too)."""
    kind = event.get("type")
    if event.get("channel", {}).get("id") != leg.channel_id:
        return False
    if kind in ("ChannelDestroyed", "StasisEnd"):
        leg.gone = True
        return True
    return kind == "ChannelLeftBridge"
