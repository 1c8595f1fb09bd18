"""``/api/voice/incoming``: the number's forwarding plan, served one ``Dial`` at a time.

A provider (a cloud number whose voice URL points here, or another
Switchboard engine) drives these exactly as it drives any voice URL. The
engine runs the same app in-process; both serve the plan that
:func:`~switchboard.callflow.rules.plan_verbs` compiles from the number's
forwarding rules, so forwarding has one implementation.

A provider's document ends at the first ``Dial`` that has an ``action``: the
provider runs the dial, then asks the action URL what comes next. The plan
is therefore served one dial at a time: each ``Dial`` carries
``action="/api/voice/incoming?step=N"`` (``N`` its index in the plan), and the
callback's ``DialCallStatus`` decides which conditional verbs after ``N`` run,
as ``only_after`` decides in the engine's executor. The plan of a callback is
compiled for the time the call started (its call-log row), so a schedule
window that closes during the call does not shift the steps under it.

The call's row is written, or enriched when the engine wrote it, by call SID
(:mod:`switchboard.services.voice_webhooks.rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.callflow.rules import compile_steps, plan_verbs
from switchboard.callflow.status import CallEvent, next_status
from switchboard.callflow.verbs import (
    Dial,
    DialOutcome,
    DialTarget,
    Hangup,
    Play,
    Record,
    Reject,
    Say,
    Verb,
)
from switchboard.callflow.voicemail import voicemail_settings
from switchboard.models import (
    CallLog,
    CallStatus,
    Endpoint,
    ForwardingRule,
    PhoneNumber,
    Tenant,
)
from switchboard.services.exceptions import BadRequest
from switchboard.services.voice_webhooks.forms import Caller, WebhookCall
from switchboard.services.voice_webhooks.rows import call_log

INCOMING_PATH = "/api/voice/incoming"
VOICEMAIL_CALLBACK = "/api/voice/recording?type=voicemail"
RECORDING_CALLBACK = "/api/voice/recording"
# What the built-in ``sound:vm-intro`` prompt says; a provider cannot play an
# Asterisk prompt, so a ``sound:`` greeting is served as this sentence.
DEFAULT_GREETING = (
    "Please leave your message after the tone. When done, hang up or press the pound key."
)
_ANSWERED = frozenset({DialOutcome.COMPLETED, DialOutcome.ANSWERED})


async def answer_incoming(
    session: AsyncSession,
    call: WebhookCall,
    caller: Caller,
    *,
    step: int | None,
    dial_status: str | None,
    now: datetime,
    silence_seconds: int,
) -> list[Verb]:
    """The verbs to answer an incoming call (``step`` ``None``) or a dial's callback.

    Args:
        session: The request's session.
        call: The call's form parameters.
        caller: The tenant and number (:func:`resolve_caller`).
        step: Index in the plan of the verb whose action called back.
        dial_status: ``DialCallStatus`` of that callback.
        now: The current time.
        silence_seconds: Silence that ends a voicemail (``Settings``).

    Returns:
        The document's verbs: ``Reject`` for a number not in service; else
        the plan up to and including its next ``Dial``, or the voicemail.

    Raises:
        BadRequest: a callback without a valid ``DialCallStatus``.
        NotFound: the call SID belongs to another tenant.
    """
    if caller.number is None or caller.tenant is None:
        row = await call_log(session, call, caller, now=now)
        row.error = f"number not in service: {call.to_number or '(none)'}"
        row.status = next_status(row.status, CallEvent.REJECTED)
        row.call_status = CallStatus.FAILED  # as the engine logs a call it rejects
        return [Reject(reason="rejected")]
    row = await call_log(session, call, caller, now=now)
    # The plan of the call's start time, on the first request and every callback.
    plan = await _plan(
        session, caller.number, caller.tenant, at=row.started_at, silence_seconds=silence_seconds
    )
    if step is None:
        return _document(plan, start=0, outcome=DialOutcome.NOT_DIALLED)
    ran = plan[step] if step < len(plan) else None
    if isinstance(ran, Record):
        return [Hangup()]  # the voicemail is recorded: nothing runs after it
    outcome = _dial_outcome(dial_status)
    if outcome in _ANSWERED:
        await _answered(session, row, ran, now=now)
        return [Hangup()]
    return _document(plan, start=step + 1, outcome=outcome)


def _dial_outcome(value: str | None) -> DialOutcome:
    try:
        outcome = DialOutcome(value or "")
    except ValueError:
        outcome = DialOutcome.NOT_DIALLED
    if outcome is DialOutcome.NOT_DIALLED:
        raise BadRequest(
            "DialCallStatus must be completed, answered, busy, no-answer, failed or canceled",
            field="DialCallStatus",
        )
    return outcome


async def _plan(
    session: AsyncSession, number: PhoneNumber, tenant: Tenant, *, at: datetime,
    silence_seconds: int,
) -> list[Verb]:
    stmt = select(ForwardingRule).where(ForwardingRule.number_id == number.id)
    rules = (await session.execute(stmt)).scalars().all()
    return plan_verbs(
        compile_steps(rules), now=at, timezone=tenant.timezone,
        voicemail=voicemail_settings(number, silence_seconds),
        record=number.record_calls,
    )


def _document(plan: Sequence[Verb], *, start: int, outcome: DialOutcome) -> list[Verb]:
    """The verbs from ``start`` that run after ``outcome``, up to the next ``Dial``.

    Conditions are resolved here (``only_after`` against ``outcome``, as the
    executor does), so the served verbs carry none.
    """
    served: list[Verb] = []
    for index in range(start, len(plan)):
        verb = plan[index]
        only_after = getattr(verb, "only_after", None)
        if only_after is not None and outcome not in only_after:
            continue
        match verb:
            case Dial():
                served.append(_served_dial(verb, index))
                return served
            case Record():
                served.append(
                    Record(
                        max_length=verb.max_length,
                        timeout=verb.timeout,
                        finish_on_key=verb.finish_on_key,
                        play_beep=verb.play_beep,
                        trim=verb.trim,
                        action=f"{INCOMING_PATH}?step={index}",
                        recording_status_callback=VOICEMAIL_CALLBACK if verb.voicemail else None,
                    )
                )
            case Play():
                served.append(_served_greeting(verb))
            case Hangup() | Reject():
                served.append(verb)
                return served
            case _:
                served.append(verb)
    served.append(Hangup())
    return served


def _served_dial(verb: Dial, index: int) -> Dial:
    # A desk phone is a Switchboard PJSIP endpoint: <Client>NAME</Client>,
    # which a Switchboard engine dials as PJSIP/NAME, as it dials the endpoint.
    targets = tuple(
        DialTarget(kind="client" if t.kind == "endpoint" else t.kind, value=t.value)
        for t in verb.targets
    )
    recorded = verb.record != "do-not-record"
    return replace(
        verb, targets=targets, action=f"{INCOMING_PATH}?step={index}", only_after=None,
        rule_id=None, recording_status_callback=RECORDING_CALLBACK if recorded else None,
    )


def _served_greeting(verb: Play) -> Say | Play:
    if verb.url.startswith(("http://", "https://")):
        return Play(url=verb.url, loop=verb.loop)
    if verb.url.startswith("sound:") or not verb.url:
        return Say(text=DEFAULT_GREETING)
    return Say(text=verb.url)  # a greeting written as text


async def _answered(
    session: AsyncSession, row: CallLog, dial: Verb | None, *, now: datetime
) -> None:
    row.status = next_status(row.status, CallEvent.STAFF_ANSWERED)
    row.answered_at = row.answered_at or now
    if not isinstance(dial, Dial):
        return
    row.answered_by = ",".join(t.value for t in dial.targets)[:128]
    endpoints = [t.value for t in dial.targets if t.kind == "endpoint"]
    if len(endpoints) == 1 and len(dial.targets) == 1:
        stmt = select(Endpoint.user_id).where(
            Endpoint.name == endpoints[0], Endpoint.tenant_id == row.tenant_id
        )
        row.staff_id = (await session.execute(stmt)).scalar() or row.staff_id
