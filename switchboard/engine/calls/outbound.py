"""A call placed through the API: originate, wait for the answer, run its flow."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from switchboard import ids
from switchboard.callflow.routes import NumberRoute
from switchboard.callflow.rules import parse_target, plan_verbs
from switchboard.callflow.status import CallEvent, next_status
from switchboard.callflow.verbs import DialTarget, Verb
from switchboard.callflow.voicedoc.exceptions import VoiceUrlError
from switchboard.engine.ari.events import ChannelDestroyed, StasisStart
from switchboard.engine.ari.facade import Ari, quietly
from switchboard.engine.calllog import CallChanges, CallLogWriter
from switchboard.engine.calls.call import Call
from switchboard.engine.calls.callbacks import status_callback
from switchboard.engine.calls.commands import Envelope, HangupCall
from switchboard.engine.calls.executor import FlowExecutor
from switchboard.engine.calls.voice_app import VoiceApp
from switchboard.engine.events import CallRegistry
from switchboard.logs import bind_call
from switchboard.models import CallDirection, CallStatus

log = logging.getLogger(__name__)

_CAUSE_STATUS = {
    17: CallStatus.BUSY,
    18: CallStatus.NO_ANSWER,
    19: CallStatus.NO_ANSWER,
    21: CallStatus.BUSY,
}
RING_SECONDS = 30


class OutboundCallHandler:
    """Places calls and runs them to their end."""

    def __init__(
        self,
        *,
        ari: Ari,
        registry: CallRegistry,
        executor: FlowExecutor,
        writer: CallLogWriter,
        voice_app: VoiceApp,
        clock: Callable[[], datetime],
    ) -> None:
        self._ari = ari
        self._registry = registry
        self._executor = executor
        self._writer = writer
        self._voice_app = voice_app
        self._clock = clock

    async def place(
        self,
        route: NumberRoute,
        *,
        to_number: str,
        record: bool = False,
        status_callback_url: str | None = None,
        url: str | None = None,
        call_sid: str | None = None,
    ) -> Call:
        """Originate from ``route``'s number to ``to_number``; returns once Asterisk dials.

        The caller channel's id is chosen here and the call registered before
        the request, so not one event is missed; ARI's originate is idempotent
        per channel id across reconnects (one request, one call).

        Raises:
            AriError: Asterisk refused or could not be reached (nothing is dialling).
        """
        target = DialTarget(kind=parse_target(to_number).kind, value=to_number, slot=1)
        channel = self._ari.channel(str(uuid.uuid4()))
        call = Call(
            call_sid=call_sid or ids.call_sid(),
            caller=channel,
            channel_name="",
            linkedid=channel.id,
            from_number=route.did,
            to_number=to_number,
            direction=CallDirection.OUTBOUND,
            started_at=self._clock(),
            route=route,
            status_callback_url=status_callback_url,
            voice_url=url,
        )
        self._registry.add(call)
        self._writer.insert_call(
            {
                "call_sid": call.call_sid,
                "tenant_id": route.tenant_id,
                "number_id": route.number_id,
                "direction": CallDirection.OUTBOUND,
                "call_status": CallStatus.QUEUED,
                "from_number": route.did,
                "to_number": to_number,
                "external_id": channel.id,
                "started_at": call.started_at,
            }
        )
        self._status(call, "initiated")
        endpoint = self._executor.edge.endpoint(call, target)
        try:
            await self._ari.originate(
                endpoint or f"PJSIP/{to_number}",
                channel_id=channel.id,
                app_args=f"outbound,{call.call_sid}",
                caller_id=route.did,
                timeout=RING_SECONDS,
                variables=self._executor.edge.leg_variables(call),
            )
        except Exception:
            self._registry.remove(call)
            call.status = next_status(call.status, CallEvent.REJECTED)
            self._writer.update_call(
                call.call_sid,
                event=CallEvent.REJECTED,
                call_status=CallStatus.FAILED,
                ended_at=self._clock(),
                error="originate failed",
            )
            raise
        self._writer.update_call(call.call_sid, call_status=CallStatus.RINGING)
        self._status(call, "ringing")
        return call

    async def run(self, call: Call, record: bool = False) -> None:
        """Wait for the answer, run the call's flow, write its end."""
        with bind_call(call.call_sid):
            final = CallStatus.COMPLETED
            try:
                answered = await self._await_answer(call)
                if isinstance(answered, CallStatus):
                    final = answered
                    return
                call.channel_name = answered.channel.name
                call.caller_answered = True
                call.answered_at = self._clock()
                call.status = next_status(call.status, CallEvent.STAFF_ANSWERED)
                self._writer.update_call(
                    call.call_sid,
                    event=CallEvent.STAFF_ANSWERED,
                    call_status=CallStatus.IN_PROGRESS,
                    answered_at=call.answered_at,
                )
                self._status(call, "in-progress")
                whole_call = record and call.voice_url is not None
                recording = (
                    await self._executor.recorder.start_mixmonitor(call, dual=True)
                    if whole_call
                    else None
                )
                try:
                    await self._executor.run(call, await self._verbs(call, record))
                    await self._executor.hangup(call)
                finally:
                    if recording is not None:
                        await self._executor.recorder.finish_mixmonitor(
                            call, recording, source="OutboundAPI"
                        )
            except Exception as exc:
                log.exception("outbound call failed")
                self._writer.update_call(call.call_sid, error=f"{type(exc).__name__}: {exc}")
                await self._executor.hangup(call)
            finally:
                self._finish(call, final)

    async def _await_answer(self, call: Call) -> StasisStart | CallStatus:
        while True:
            event = await call.mailbox.receive(None)
            if isinstance(event, Envelope):
                await self._ringing_command(call, event)
                continue
            if not isinstance(event, StasisStart | ChannelDestroyed):
                continue
            if event.channel.id != call.channel_id:
                continue
            if isinstance(event, StasisStart):
                return event
            call.hangup_cause = event.cause
            call.caller_gone = True
            return _CAUSE_STATUS.get(call.hangup_cause, CallStatus.FAILED)

    async def _ringing_command(self, call: Call, envelope: Envelope) -> None:
        """A command while the callee's phone rings: hang-ups cancel the call."""
        if isinstance(envelope.command, HangupCall):
            await quietly(call.caller.hangup(envelope.command.reason))
            envelope.done("hung-up")
        else:
            call.refuse_command(envelope)

    async def _verbs(self, call: Call, record: bool) -> list[Verb]:
        """The voice document at ``url``, or the number's staff (click-to-call)."""
        route = call.route
        assert route is not None
        if call.voice_url:
            call.app_driven = True
            call.status = next_status(call.status, CallEvent.APP_ANSWERED)
            self._writer.update_call(call.call_sid, event=CallEvent.APP_ANSWERED)
            try:
                return await self._voice_app.follow(call, call.voice_url, "POST")
            except VoiceUrlError as exc:
                await self._executor.application_error(call, f"{exc.error_id}: {exc.message}")
                return []
        return plan_verbs(
            route.steps, now=self._clock(), timezone=route.timezone, voicemail=None, record=record
        )

    def _status(self, call: Call, call_status: str, duration: int | None = None) -> None:
        status_callback(
            self._writer, self._voice_app, call, call_status, now=self._clock(), duration=duration
        )

    def _finish(self, call: Call, final: CallStatus) -> None:
        call.ended_at = self._clock()
        values: CallChanges = {"ended_at": call.ended_at, "call_status": final}
        duration = 0
        if call.caller_answered and call.answered_at:
            duration = max(0, round((call.ended_at - call.answered_at).total_seconds()))
        call.status = next_status(call.status, CallEvent.ENDED)
        values["duration"] = duration
        if call.hangup_cause is not None:
            values["hangup_cause"] = call.hangup_cause
        self._writer.update_call(call.call_sid, event=CallEvent.ENDED, **values)
        self._status(call, final.value, duration)
        log.info("outbound call ended", extra={"status": str(call.status), "final": str(final)})
