"""An inbound call, from StasisStart to the final call-log write."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from switchboard.engine.calllog import CallLogWriter
from switchboard.engine.calls.call import Call
from switchboard.engine.calls.executor import FlowExecutor
from switchboard.engine.calls.routes import NumberRoute
from switchboard.engine.calls.rules import plan_verbs
from switchboard.engine.calls.verbs import DialOutcome, Verb
from switchboard.logs import bind_call
from switchboard.models import CallDirection, CallLogStatus, CallStatus

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


class InboundCallHandler:
    """Logs, routes and runs one inbound call at a time per task."""

    def __init__(
        self,
        *,
        executor: FlowExecutor,
        writer: CallLogWriter,
        lookup: Callable[[str], NumberRoute | None],
        clock: Callable[[], datetime],
    ) -> None:
        self._executor = executor
        self._writer = writer
        self._lookup = lookup
        self._clock = clock

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
                    "status": CallLogStatus.INCOMING_CALL,
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
                await self._executor.run(call, built_in_verbs(route, self._clock()))
                await self._executor.hangup(call)
            except Exception as exc:
                log.exception("call flow failed")
                self._writer.update_call(call.call_sid, error=f"{type(exc).__name__}: {exc}")
                await self._executor.hangup(call)
            finally:
                self._finish(call)

    async def _reject(self, call: Call, why: str) -> None:
        log.warning("call rejected", extra={"reason": why})
        await self._executor.hangup(call, reason="unallocated")
        self._writer.update_call(
            call.call_sid,
            status=CallLogStatus.MISSED,
            call_status=CallStatus.FAILED,
            error=why,
            hangup_cause=1,
            hangup_cause_text="unallocated",
        )

    def _finish(self, call: Call) -> None:
        call.ended_at = self._clock()
        values: dict[str, object] = {"ended_at": call.ended_at}
        if call.status == CallLogStatus.INCOMING_CALL:
            call.status = CallLogStatus.MISSED
            values["status"] = call.status
        if call.caller_answered:
            values["call_status"] = CallStatus.COMPLETED
            start = call.answered_at or call.started_at
            values["duration"] = max(0, round((call.ended_at - start).total_seconds()))
        elif call.route is not None and call.route.enabled:
            values["call_status"] = _FINAL_STATUS.get(call.last_outcome, CallStatus.CANCELED)
            values["duration"] = 0
        if call.hangup_cause is not None:
            values["hangup_cause"] = call.hangup_cause
        self._writer.update_call(call.call_sid, **values)
        log.info("call ended", extra={"status": str(call.status)})
