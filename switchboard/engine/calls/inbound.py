"""An inbound call, from StasisStart to the final call-log write."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from switchboard.callflow.routes import NumberRoute
from switchboard.callflow.rules import plan_verbs
from switchboard.callflow.status import CallEvent, next_status
from switchboard.callflow.verbs import DialOutcome, Say, Verb
from switchboard.callflow.voicedoc.exceptions import VoiceUrlDocumentError
from switchboard.callflow.voicemail import VoicemailSettings
from switchboard.engine.calllog import CallChanges, CallLogWriter
from switchboard.engine.calls.call import Call
from switchboard.engine.calls.callbacks import status_callback
from switchboard.engine.calls.executor import APPLICATION_ERROR, FlowExecutor
from switchboard.engine.calls.voice_app import VoiceApp
from switchboard.logs import bind_call
from switchboard.models import CallDirection, CallStatus

log = logging.getLogger(__name__)

_FINAL_STATUS = {
    DialOutcome.BUSY: CallStatus.BUSY,
    DialOutcome.NO_ANSWER: CallStatus.NO_ANSWER,
    DialOutcome.FAILED: CallStatus.FAILED,
    DialOutcome.CANCELED: CallStatus.CANCELED,
    DialOutcome.NOT_DIALLED: CallStatus.CANCELED,
}


def built_in_verbs(route: NumberRoute, now: datetime) -> list[Verb]:
    """The built-in app: the number's forwarding rules, then voicemail."""
    return plan_verbs(
        route.steps,
        now=now,
        timezone=route.timezone,
        voicemail=route.voicemail,
        record=route.record,
    )


def voicemail_only(route: NumberRoute, now: datetime) -> list[Verb]:
    """The last resort when a voice URL gave nothing runnable: never dead air."""
    return plan_verbs(
        (), now=now, timezone=route.timezone, voicemail=route.voicemail or VoicemailSettings()
    )


class InboundCallHandler:
    """Logs, routes and runs one inbound call at a time per task."""

    def __init__(
        self,
        *,
        executor: FlowExecutor,
        writer: CallLogWriter,
        lookup: Callable[[str], NumberRoute | None],
        clock: Callable[[], datetime],
        voice_app: VoiceApp,
    ) -> None:
        self._executor = executor
        self._writer = writer
        self._lookup = lookup
        self._clock = clock
        self._voice_app = voice_app

    async def handle(self, call: Call) -> None:
        """Run ``call`` to its end; the call log row follows every step."""
        with bind_call(call.call_sid):
            route = self._lookup(call.to_number)
            call.route = route
            self._writer.insert_call(
                {
                    "call_sid": call.call_sid,
                    "tenant_id": route.tenant_id if route else None,
                    "number_id": route.number_id if route else None,
                    "direction": CallDirection.INBOUND,
                    "call_status": CallStatus.RINGING,
                    "from_number": call.from_number,
                    "to_number": call.to_number,
                    "external_id": call.linkedid,
                    "started_at": call.started_at,
                }
            )
            log.info(
                "inbound call",
                extra={"from": call.from_number, "to": call.to_number, "known": route is not None},
            )
            try:
                if route is None or not route.enabled:
                    await self._reject(
                        call, "unknown number" if route is None else "number released"
                    )
                    return
                self._status(call, "initiated")
                self._status(call, "ringing")
                await self._executor.run(call, await self._first_verbs(call, route))
                await self._executor.hangup(call)
            except Exception as exc:
                log.exception("call flow failed")
                self._writer.update_call(call.call_sid, error=f"{type(exc).__name__}: {exc}")
                await self._executor.hangup(call)
            finally:
                self._finish(call)

    async def _first_verbs(self, call: Call, route: NumberRoute) -> list[Verb]:
        """The number's voice URL's document, or the built-in app's verbs."""
        if not route.voice_url:
            return built_in_verbs(route, self._clock())
        call.app_driven = True
        result = await self._voice_app.first_document(call)
        if result.errors:
            errors = "; ".join(f"{e.error_id}: {e.message} ({e.url})" for e in result.errors)
            log.error("voice URL failed", extra={"errors": errors})
            self._writer.update_call(call.call_sid, error=errors)
        if result.verbs is not None:
            return result.verbs
        verbs = voicemail_only(route, self._clock())
        if any(isinstance(e, VoiceUrlDocumentError) for e in result.errors):
            verbs.insert(0, Say(text=APPLICATION_ERROR))
        return verbs

    def _status(self, call: Call, call_status: str, duration: int | None = None) -> None:
        status_callback(
            self._writer, self._voice_app, call, call_status, now=self._clock(), duration=duration
        )

    async def _reject(self, call: Call, why: str) -> None:
        log.warning("call rejected", extra={"reason": why})
        await self._executor.hangup(call, reason="unallocated")
        call.status = next_status(call.status, CallEvent.REJECTED)
        self._writer.update_call(
            call.call_sid,
            event=CallEvent.REJECTED,
            call_status=CallStatus.FAILED,
            error=why,
            hangup_cause=1,
            hangup_cause_text="unallocated",
        )

    def _finish(self, call: Call) -> None:
        call.ended_at = self._clock()
        values: CallChanges = {"ended_at": call.ended_at}
        # Settles a status nothing decided yet; a webhook's truer one stays.
        answered_by_app = call.app_driven and call.caller_answered
        ended = CallEvent.APP_CALL_ENDED if answered_by_app else CallEvent.ENDED
        call.status = next_status(call.status, ended)
        if call.caller_answered:
            values["call_status"] = CallStatus.COMPLETED
            start = call.answered_at or call.started_at
            values["duration"] = max(0, round((call.ended_at - start).total_seconds()))
        elif call.route is not None and call.route.enabled:
            values["call_status"] = _FINAL_STATUS.get(call.last_outcome, CallStatus.CANCELED)
            values["duration"] = 0
        if call.hangup_cause is not None:
            values["hangup_cause"] = call.hangup_cause
        self._writer.update_call(call.call_sid, event=ended, **values)
        if call.route is not None and call.route.enabled:
            final = str(values.get("call_status", "completed"))
            self._status(call, final, values.get("duration", 0))
        log.info("call ended", extra={"status": str(call.status)})
