"""Runs verbs on ARI: the one place where a call flow touches Asterisk.

Forwarding rules, the built-in app and customers' voice documents all reach
the caller through :class:`FlowExecutor`. Each verb is a method; each waits
for the ARI events of its own channels through the call's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from switchboard import ids
from switchboard.engine.ari.protocol import Query
from switchboard.engine.calllog import CallLogWriter
from switchboard.engine.calls.call import Call, CallerGone, Event, Leg
from switchboard.engine.calls.routes import dial_string
from switchboard.engine.calls.verbs import (
    Dial,
    DialOutcome,
    Hangup,
    Pause,
    Play,
    Record,
    Reject,
    Verb,
)
from switchboard.engine.events import CallRegistry
from switchboard.engine.recordings import ASTERISK_SPOOL, RecordingStore
from switchboard.models import CallLogStatus, Voicemail

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


class Ari(Protocol):
    """What the executor needs of the ARI client."""

    async def request(
        self, method: str, uri: str, query: Query | None = None, body: Any = None
    ) -> Any:
        """Send one REST request; the decoded JSON answer."""


class Ami(Protocol):
    """What the executor needs of the AMI client."""

    async def mixmonitor(self, channel: str, file: str, options: str = "") -> None:
        """Start MixMonitor on ``channel`` into ``file``."""

    async def stop_mixmonitor(self, channel: str) -> None:
        """Stop MixMonitor on ``channel``."""


def combine_outcomes(outcomes: list[DialOutcome]) -> DialOutcome:
    """One outcome for a dial that rang several targets and reached nobody."""
    for preferred in (DialOutcome.NO_ANSWER, DialOutcome.BUSY, DialOutcome.CANCELED):
        if preferred in outcomes:
            return preferred
    return DialOutcome.FAILED


class FlowExecutor:
    """Executes a call's verbs, in order, against Asterisk."""

    def __init__(
        self,
        *,
        ari: Ari,
        ami: Ami,
        app: str,
        registry: CallRegistry,
        writer: CallLogWriter,
        recordings: RecordingStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._ari = ari
        self._ami = ami
        self._app = app
        self._registry = registry
        self._writer = writer
        self._recordings = recordings
        self._clock = clock

    async def run(self, call: Call, verbs: list[Verb]) -> None:
        """Run ``verbs`` until one ends the call or the caller hangs up."""
        try:
            for verb in verbs:
                only_after = getattr(verb, "only_after", None)
                if only_after is not None and call.last_outcome not in only_after:
                    continue
                if not await self._run_verb(call, verb):
                    break
        except CallerGone:
            log.info("caller hung up", extra={"status": call.status})

    async def _run_verb(self, call: Call, verb: Verb) -> bool:
        """Run one verb; ``False`` when the call is over."""
        match verb:
            case Dial():
                await self.dial(call, verb)
            case Record():
                await self.record(call, verb)
            case Play():
                await self.play(call, verb.url, loop=verb.loop)
            case Pause():
                await self.pause(call, verb.length)
            case Hangup():
                await self.hangup(call)
                return False
            case Reject():
                await self.hangup(call, reason="busy" if verb.reason == "busy" else "rejected")
                return False
            case _:
                log.warning("verb not supported here", extra={"verb": type(verb).__name__})
        return not call.caller_gone

    # -- small operations ------------------------------------------------------

    async def answer(self, call: Call) -> None:
        """Answer the caller's channel once."""
        if call.caller_answered:
            return
        await self._ari.request("POST", f"channels/{call.channel_id}/answer")
        call.caller_answered = True
        call.answered_at = call.answered_at or self._clock()

    async def hangup(self, call: Call, *, reason: str = "normal") -> None:
        """Hang the caller up (if still there)."""
        if call.caller_gone:
            return
        await self._quietly("DELETE", f"channels/{call.channel_id}", {"reason": reason})

    async def pause(self, call: Call, seconds: int) -> None:
        """Keep the caller in silence; a hangup ends it early."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            await call.next_event(left)

    async def play(self, call: Call, media: str, *, loop: int = 1) -> None:
        """Play ``media`` (an ARI media URI such as ``sound:vm-intro``) to the caller."""
        await self.answer(call)
        for _ in range(max(loop, 1)):
            await self._play_once(call, media)

    async def _play_once(self, call: Call, media: str) -> None:
        playback_id = str(uuid.uuid4())
        self._registry.attach(playback_id, call)
        try:
            await self._ari.request(
                "POST",
                f"channels/{call.channel_id}/play",
                {"media": media, "playbackId": playback_id},
            )
            await self._wait_for(
                call,
                lambda e: (
                    e.get("type") == "PlaybackFinished"
                    and e.get("playback", {}).get("id") == playback_id
                ),
                timeout=600,
            )
        finally:
            self._registry.detach(playback_id)

    async def _quietly(self, method: str, uri: str, query: Query | None = None) -> None:
        """A request whose failure only matters to the log (the channel may be gone)."""
        try:
            await self._ari.request(method, uri, query)
        except Exception as exc:  # noqa: BLE001 - gone channels are normal here
            log.debug("ari request failed", extra={"uri": uri, "error": str(exc)})

    async def _wait_for(
        self, call: Call, predicate: Callable[[Event], bool], *, timeout: float
    ) -> Event | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            event = await call.next_event(left)
            if event is not None and predicate(event):
                return event
        return None

    # -- Dial ------------------------------------------------------------------

    async def dial(self, call: Call, verb: Dial) -> DialOutcome:
        """Ring the verb's targets at once; bridge the first to answer.

        Returns:
            The dial's outcome, also stored as ``call.last_outcome``.
        """
        trunk = call.route.trunk if call.route else None
        legs: list[Leg] = []
        for target in verb.targets:
            endpoint = dial_string(target, trunk, simulate=bool(call.simulate))
            if not endpoint:
                log.warning("target unreachable", extra={"target": target.value})
                continue
            leg = Leg(
                leg_sid=ids.call_sid(),
                channel_id=str(uuid.uuid4()),
                target=target.value,
                endpoint=endpoint,
                started_at=self._clock(),
            )
            legs.append(leg)
            call.legs[leg.channel_id] = leg
            self._registry.attach(leg.channel_id, call)

        if not legs:
            call.last_outcome = DialOutcome.FAILED
            return call.last_outcome
        started = await asyncio.gather(
            *(self._start_leg(call, leg, verb.timeout) for leg in legs),
            *([self._ring_caller(call)] if not call.caller_answered else []),
            return_exceptions=True,
        )
        ringing = {
            leg.channel_id: leg for leg, ok in zip(legs, started, strict=False) if ok is True
        }
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
        try:
            winner, outcomes = await self._await_answer(call, ringing, verb.timeout)
        except CallerGone:
            await self._drop_legs(call, ringing.values(), DialOutcome.CANCELED)
            call.last_outcome = DialOutcome.CANCELED
            raise
        outcomes.extend(DialOutcome.FAILED for _ in range(len(legs) - len(ringing)))
        if winner is None:
            call.last_outcome = combine_outcomes(outcomes)
            return call.last_outcome
        losers = [leg for cid, leg in ringing.items() if cid != winner.channel_id]
        await self._drop_legs(call, losers, DialOutcome.CANCELED, reason="answered_elsewhere")
        await self._connect(call, winner, verb)
        call.last_outcome = DialOutcome.COMPLETED
        return call.last_outcome

    async def _ring_caller(self, call: Call) -> bool:
        await self._quietly("POST", f"channels/{call.channel_id}/ring")
        return True

    async def _start_leg(self, call: Call, leg: Leg, timeout: int) -> bool:
        variables = {"CALLERID(num)": call.from_number, "CALLERID(name)": call.from_number}
        if call.simulate:
            variables["__SB_SIMULATE"] = call.simulate
        if call.bench_id:
            variables["__SB_BENCH_ID"] = call.bench_id
        try:
            await self._ari.request(
                "POST",
                "channels/create",
                {
                    "endpoint": leg.endpoint,
                    "app": self._app,
                    "appArgs": f"leg,{call.call_sid}",
                    "channelId": leg.channel_id,
                    "originator": call.channel_id,
                },
                {"variables": variables},
            )
            await self._ari.request(
                "POST",
                f"channels/{leg.channel_id}/dial",
                {"caller": call.channel_id, "timeout": max(1, min(600, timeout))},
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
            kind = event.get("type")
            if kind == "Dial":
                peer = event.get("peer", {}).get("id")
                status = str(event.get("dialstatus", ""))
                if peer not in pending or status in _RINGING:
                    continue
                leg = pending.pop(peer)
                leg.dial_status = status
                if status == "ANSWER":
                    leg.answered_at = self._clock()
                    return leg, outcomes
                outcomes.append(_DIALSTATUS_OUTCOME.get(status, DialOutcome.FAILED))
                self._end_leg(leg, _DIALSTATUS_OUTCOME.get(status, DialOutcome.FAILED))
            elif kind == "ChannelDestroyed":
                channel_id = event.get("channel", {}).get("id")
                if channel_id in pending:
                    leg = pending.pop(channel_id)
                    cause = event.get("cause")
                    outcome = (
                        _CAUSE_OUTCOME.get(cause, DialOutcome.FAILED)
                        if isinstance(cause, int)
                        else DialOutcome.FAILED
                    )
                    leg.cause = cause if isinstance(cause, int) else None
                    outcomes.append(outcome)
                    self._end_leg(leg, outcome)
        # No word from Asterisk in time about these: give up on them.
        outcomes.extend(DialOutcome.NO_ANSWER for _ in pending)
        await self._drop_legs(call, pending.values(), DialOutcome.NO_ANSWER)
        return None, outcomes

    def _end_leg(self, leg: Leg, outcome: DialOutcome) -> None:
        leg.ended_at = leg.ended_at or self._clock()
        self._writer.update_leg(
            leg.leg_sid, dial_status=outcome.value, ended_at=leg.ended_at, hangup_cause=leg.cause
        )

    async def _drop_legs(
        self, call: Call, legs: Any, outcome: DialOutcome, *, reason: str = "normal"
    ) -> None:
        legs = list(legs)
        await asyncio.gather(
            *(
                self._quietly("DELETE", f"channels/{leg.channel_id}", {"reason": reason})
                for leg in legs
            )
        )
        for leg in legs:
            self._end_leg(leg, outcome)

    async def _connect(self, call: Call, leg: Leg, verb: Dial) -> None:
        """Bridge the caller with the answering leg until one side hangs up."""
        await self.answer(call)
        bridge_id = str(uuid.uuid4())
        self._registry.attach(bridge_id, call)
        call.bridge_id = bridge_id
        call.status = CallLogStatus.ANSWERED_BY_STAFF
        call.answered_by = leg.target
        self._writer.update_call(
            call.call_sid,
            status=call.status,
            call_status="in-progress",
            answered_at=call.answered_at,
            answered_by=leg.target,
        )
        self._writer.update_leg(leg.leg_sid, dial_status="answered", answered_at=leg.answered_at)
        recording: tuple[str, str] | None = None
        try:
            await self._ari.request("POST", "bridges", {"type": "mixing", "bridgeId": bridge_id})
            await self._ari.request(
                "POST",
                f"bridges/{bridge_id}/addChannel",
                {"channel": f"{call.channel_id},{leg.channel_id}"},
            )
            if verb.record != "do-not-record":
                recording = await self._start_recording(call, dual=verb.record.endswith("dual"))
            await self._wait_for(
                call,
                lambda e: (
                    e.get("type") in ("ChannelDestroyed", "ChannelLeftBridge", "StasisEnd")
                    and e.get("channel", {}).get("id") == leg.channel_id
                ),
                timeout=verb.time_limit,
            )
        finally:
            leg.ended_at = self._clock()
            self._writer.update_leg(leg.leg_sid, ended_at=leg.ended_at)
            await self._quietly("DELETE", f"channels/{leg.channel_id}")
            await self._quietly("DELETE", f"bridges/{bridge_id}")
            self._registry.detach(bridge_id)
            call.bridge_id = None
            if recording is not None:
                await self._finish_recording(call, *recording)

    # -- recording -------------------------------------------------------------

    async def _start_recording(self, call: Call, *, dual: bool) -> tuple[str, str] | None:
        """Record both sides (caller left, callee right when ``dual``) with MixMonitor."""
        sid = ids.recording_sid()
        path = f"{ASTERISK_SPOOL}/switchboard/rec/{sid}.wav"
        try:
            await self._ami.mixmonitor(call.channel_name, path, "D" if dual else "")
        except Exception as exc:  # noqa: BLE001 - the call goes on unrecorded
            log.error("recording did not start", extra={"error": str(exc)})
            return None
        return sid, path

    async def _finish_recording(self, call: Call, sid: str, path: str) -> None:
        if not call.caller_gone:
            with contextlib.suppress(Exception):
                await self._ami.stop_mixmonitor(call.channel_name)
        host = self._recordings.host_path(path)
        if host is None or not await self._recordings.wait_for_file(host):
            log.error("recording file missing", extra={"recording_sid": sid, "path": path})
            return
        tenant = call.route.tenant_id if call.route else None
        stored = await self._recordings.store(host, tenant_id=tenant, name=sid)
        await self._recordings.save(
            stored, recording_sid=sid, tenant_id=tenant, call_sid=call.call_sid, source="DialVerb"
        )
        self._writer.update_call(call.call_sid, has_recording=True)

    async def record(self, call: Call, verb: Record) -> None:
        """Record the caller (a voicemail when ``verb.voicemail``)."""
        await self.answer(call)
        sid = ids.recording_sid()
        self._registry.attach(sid, call)
        query: dict[str, Any] = {
            "name": sid,
            "format": "wav",
            "maxDurationSeconds": verb.max_length,
            "maxSilenceSeconds": verb.timeout,
            "ifExists": "overwrite",
            "beep": verb.play_beep,
            "terminateOn": _terminate_on(verb.finish_on_key),
        }
        gone = False
        try:
            await self._ari.request("POST", f"channels/{call.channel_id}/record", query)
            if call.simulate:
                await self._quietly(
                    "POST",
                    "asterisk/variable",
                    {"variable": f"SBREC_{call.linkedid}", "value": "1"},
                )
            await self._wait_for(
                call,
                lambda e: (
                    e.get("type") in ("RecordingFinished", "RecordingFailed")
                    and e.get("recording", {}).get("name") == sid
                ),
                timeout=verb.max_length + 30,
            )
        except CallerGone:
            gone = True
        finally:
            self._registry.detach(sid)
        await self._keep_recording(call, sid, verb)
        if gone:
            raise CallerGone

    async def _keep_recording(self, call: Call, sid: str, verb: Record) -> None:
        host = self._recordings.host_path(f"{ASTERISK_SPOOL}/recording/{sid}.wav")
        if host is None or not await self._recordings.wait_for_file(host, timeout=3):
            log.info("nothing was recorded", extra={"recording_sid": sid})
            return
        tenant = call.route.tenant_id if call.route else None
        stored = await self._recordings.store(host, tenant_id=tenant, name=sid)
        if stored.duration < 0.5:
            log.info("recording too short to keep", extra={"seconds": stored.duration})
            return
        voicemail = None
        if verb.voicemail:
            voicemail = Voicemail(
                tenant_id=tenant,
                number_id=call.route.number_id if call.route else None,
                call_sid=call.call_sid,
                from_number=call.from_number,
                to_number=call.to_number,
            )
        await self._recordings.save(
            stored,
            recording_sid=sid,
            tenant_id=tenant,
            call_sid=call.call_sid,
            source="Voicemail" if verb.voicemail else "RecordVerb",
            voicemail=voicemail,
        )
        if verb.voicemail:
            call.status = CallLogStatus.VOICEMAIL_RECEIVED
            self._writer.update_call(call.call_sid, status=call.status, has_voicemail=True)


def _terminate_on(keys: str) -> str:
    """ARI's ``terminateOn`` for a provider ``finishOnKey`` set."""
    if not keys:
        return "none"
    if len(keys) == 1:
        return keys
    return "any"
