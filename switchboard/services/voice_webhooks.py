"""The built-in voice app over HTTP: seed 000's ``/api/voice/*`` webhooks.

A provider (a cloud number whose voice URL points here, or another
Switchboard engine) drives these exactly as it drives any voice URL. The
engine runs the same app in-process; both serve the plan that
:func:`~switchboard.engine.calls.rules.plan_verbs` compiles from the number's
forwarding rules, so forwarding has one implementation.

A provider's document ends at the first ``Dial`` that has an ``action``: the
provider runs the dial, then asks the action URL what comes next. The plan
is therefore served one dial at a time: each ``Dial`` carries
``action="/api/voice/incoming?step=N"`` (``N`` its index in the plan), and the
callback's ``DialCallStatus`` decides which conditional verbs after ``N`` run,
as ``only_after`` decides in the engine's executor. The plan of a callback is
compiled for the time the call started (its call-log row), so a schedule
window that closes during the call does not shift the steps under it.

Call-log rows are keyed by call SID: a row the engine already wrote is
enriched, never duplicated (``INSERT ... ON CONFLICT DO NOTHING``, then
update). Recordings are keyed by recording SID the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.engine.calls.rules import VoicemailSettings, compile_steps, plan_verbs
from switchboard.engine.calls.verbs import (
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
from switchboard.models import (
    CallDirection,
    CallLog,
    CallLogStatus,
    CallStatus,
    Endpoint,
    ForwardingRule,
    PhoneNumber,
    Recording,
    Tenant,
    Trunk,
    Voicemail,
    VoiceUsage,
)
from switchboard.services.exceptions import BadRequest, NotFound
from switchboard.services.numbers import find_active_by_e164
from switchboard.services.transcripts import enqueue_transcription, job_for_recording

INCOMING_PATH = "/api/voice/incoming"
VOICEMAIL_CALLBACK = "/api/voice/recording?type=voicemail"
# What the built-in ``sound:vm-intro`` prompt says; a provider cannot play an
# Asterisk prompt, so a ``sound:`` greeting is served as this sentence.
DEFAULT_GREETING = (
    "Please leave your message after the tone. When done, hang up or press the pound key."
)
_FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
_ANSWERED = frozenset({DialOutcome.COMPLETED, DialOutcome.ANSWERED})
_MAX_SID = 34
_MAX_PATH = 500
_MAX_WHOLE = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


@dataclass(frozen=True, slots=True)
class WebhookCall:
    """The call a provider's form parameters describe."""

    call_sid: str
    account_sid: str
    from_number: str
    to_number: str
    call_status: str
    direction: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> WebhookCall:
        """Read ``CallSid``, ``AccountSid``, ``From``, ``To``, ``CallStatus``, ``Direction``.

        Raises:
            BadRequest: ``CallSid`` is missing or too long.
        """
        return cls(
            call_sid=_sid(form.get("CallSid"), "CallSid"),
            account_sid=form.get("AccountSid", ""),
            from_number=form.get("From", "")[:64],
            to_number=form.get("To", "")[:64],
            call_status=form.get("CallStatus", "ringing"),
            direction=form.get("Direction", "inbound"),
        )


@dataclass(frozen=True, slots=True)
class Caller:
    """Whom a webhook is about: the tenant (signature key) and the called number."""

    tenant: Tenant | None
    number: PhoneNumber | None


@dataclass(frozen=True, slots=True)
class RecordingReport:
    """A recording status callback's facts."""

    recording_sid: str
    call_sid: str
    recording_url: str
    duration: int | None
    channels: int | None
    status: str
    source: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> RecordingReport:
        """Read the ``Recording*`` parameters and ``CallSid``.

        Raises:
            BadRequest: a SID is missing, or a number is not a whole number.
        """
        url = form.get("RecordingUrl", "").strip()
        if len(url) > _MAX_PATH:
            raise BadRequest("RecordingUrl is too long", field="RecordingUrl")
        return cls(
            recording_sid=_sid(form.get("RecordingSid"), "RecordingSid"),
            call_sid=_sid(form.get("CallSid"), "CallSid"),
            recording_url=url,
            duration=whole_number(form.get("RecordingDuration"), "RecordingDuration"),
            channels=whole_number(form.get("RecordingChannels"), "RecordingChannels"),
            status=form.get("RecordingStatus", "completed") or "completed",
            source=(form.get("RecordingSource") or "RecordVerb")[:32],
        )


def _sid(value: str | None, name: str) -> str:
    if not value or len(value) > _MAX_SID:
        raise BadRequest(f"{name} is required", field=name)
    return value


def whole_number(value: str | None, name: str) -> int | None:
    """A form field as a whole number, ``None`` when absent.

    Raises:
        BadRequest: the field is not a whole number.
    """
    if value is None or value == "":
        return None
    if not _DIGITS.fullmatch(value) or int(value) > _MAX_WHOLE:
        raise BadRequest(f"{name} must be a whole number of seconds", field=name)
    return int(value)


async def resolve_caller(
    session: AsyncSession, *, to: str | None, account_sid: str | None
) -> Caller:
    """The tenant of a webhook: the active number called (``To``), else ``AccountSid``."""
    number = await find_active_by_e164(session, to) if to else None
    if number is not None:
        return Caller(await session.get(Tenant, number.tenant_id), number)
    if account_sid:
        stmt = select(Tenant).where(Tenant.account_sid == account_sid)
        return Caller((await session.execute(stmt)).scalars().first(), None)
    return Caller(None, None)


# -- /api/voice/incoming ----------------------------------------------------------


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
        row = await _call_log(session, call, caller, status=CallLogStatus.MISSED, now=now)
        row.error = f"number not in service: {call.to_number or '(none)'}"
        row.status = CallLogStatus.MISSED
        return [Reject(reason="rejected")]
    row = await _call_log(session, call, caller, status=CallLogStatus.INCOMING_CALL, now=now)
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
    voicemail = (
        VoicemailSettings(
            max_seconds=number.voicemail_max_seconds,
            silence_seconds=silence_seconds,
            greeting=number.voicemail_greeting or "sound:vm-intro",
        )
        if number.voicemail_enabled
        else None
    )
    return plan_verbs(
        compile_steps(rules), now=at, timezone=tenant.timezone, voicemail=voicemail,
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
    return replace(
        verb, targets=targets, action=f"{INCOMING_PATH}?step={index}", only_after=None,
        rule_id=None,
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
    row.status = CallLogStatus.ANSWERED_BY_STAFF
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


# -- call log rows -------------------------------------------------------------------


async def _insert_missing(
    session: AsyncSession, model: type[Any], values: dict[str, Any], key: str
) -> bool:
    """Insert a row unless one with the same unique ``key`` exists; whether it was new."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    column = getattr(model, key)
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=[key])
    return (await session.execute(stmt.returning(column))).first() is not None


async def _call_log(
    session: AsyncSession, call: WebhookCall, caller: Caller, *, status: str, now: datetime
) -> CallLog:
    """The call's row: written when missing, enriched when the engine wrote it."""
    tenant_id = caller.tenant.id if caller.tenant else None
    number_id = caller.number.id if caller.number else None
    direction = CallDirection.INBOUND if call.direction == "inbound" else CallDirection.OUTBOUND
    await _insert_missing(
        session,
        CallLog,
        {
            "call_sid": call.call_sid, "tenant_id": tenant_id, "number_id": number_id,
            "direction": direction, "status": status,
            "call_status": call.call_status if call.call_status in _CALL_STATUSES else "ringing",
            "from_number": call.from_number, "to_number": call.to_number,
            "started_at": now, "handled_by": "webhook",
        },
        "call_sid",
    )
    stmt = select(CallLog).where(CallLog.call_sid == call.call_sid).execution_options(
        populate_existing=True
    )
    row = (await session.execute(stmt)).scalar_one()
    if row.tenant_id is not None and tenant_id is not None and row.tenant_id != tenant_id:
        raise NotFound("Call log not found", field="CallSid")
    row.tenant_id = row.tenant_id or tenant_id
    row.number_id = row.number_id or number_id
    row.from_number = row.from_number or call.from_number
    row.to_number = row.to_number or call.to_number
    return row


_CALL_STATUSES = frozenset(s.value for s in CallStatus)


# -- /api/voice/status --------------------------------------------------------------


async def record_status(
    session: AsyncSession, call: WebhookCall, caller: Caller, *, duration: int | None,
    now: datetime,
) -> CallLog:
    """Apply a status callback to the call's row (and the tenant's voice usage).

    A ``completed`` callback with ``CallDuration`` adds the duration to the
    tenant's ``voice_seconds_used`` once per call, however often it is
    repeated. A call that ended neither answered by staff nor with a
    voicemail becomes ``MISSED``.

    Raises:
        BadRequest: an unknown ``CallStatus``.
        NotFound: the call SID belongs to another tenant.
    """
    if call.call_status not in _CALL_STATUSES:
        raise BadRequest(f"unknown CallStatus {call.call_status!r}", field="CallStatus")
    row = await _call_log(session, call, caller, status=CallLogStatus.INCOMING_CALL, now=now)
    row.call_status = call.call_status
    if call.call_status not in _FINAL:
        return row
    row.ended_at = row.ended_at or now
    if call.call_status == "completed" and duration is not None:
        row.duration = duration
        if row.tenant_id is not None:
            await _count_usage(session, row.tenant_id, call.call_sid, duration)
    if row.status == CallLogStatus.INCOMING_CALL and not row.has_voicemail:
        row.status = CallLogStatus.MISSED
    return row


async def _count_usage(session: AsyncSession, tenant_id: str, call_sid: str, seconds: int) -> None:
    values = {"call_sid": call_sid, "tenant_id": tenant_id, "seconds": seconds}
    if await _insert_missing(session, VoiceUsage, values, "call_sid"):
        await session.execute(
            update(Tenant)
            .where(Tenant.id == tenant_id)
            .values(voice_seconds_used=Tenant.voice_seconds_used + seconds)
        )


# -- /api/voice/recording -------------------------------------------------------------


def is_remote(recording: Recording) -> bool:
    """Whether the recording lives at a provider's URL rather than in our storage."""
    return recording.path.startswith(("http://", "https://"))


async def record_recording(
    session: AsyncSession, report: RecordingReport, caller: Caller, *, voicemail: bool
) -> Recording:
    """Store a recording callback: the recording, and for voicemail the message.

    A recording the engine already stored (same SID) is updated, never
    duplicated; so is its voicemail. A new recording from a provider keeps
    its ``RecordingUrl`` as its path; transcription is queued only for a
    local file (the worker reads files, not URLs).

    Raises:
        BadRequest: a new recording without ``RecordingUrl``.
        NotFound: the recording or call belongs to another tenant.
    """
    tenant_id = caller.tenant.id if caller.tenant else None
    recording = await _recording(session, report.recording_sid)
    if recording is None:
        if not report.recording_url:
            raise BadRequest("RecordingUrl is required", field="RecordingUrl")
        await _insert_missing(
            session,
            Recording,
            {
                "recording_sid": report.recording_sid, "tenant_id": tenant_id,
                "call_sid": report.call_sid, "path": report.recording_url,
                "source": report.source, "status": report.status[:16],
                "channels": report.channels or 1, "duration": float(report.duration or 0),
                "format": "mp3" if report.recording_url.endswith(".mp3") else "wav",
            },
            "recording_sid",
        )
        recording = await _recording(session, report.recording_sid)
        assert recording is not None
    if recording.tenant_id not in (None, tenant_id) and tenant_id is not None:
        raise NotFound("Recording not found", field="RecordingSid")
    if is_remote(recording):
        recording.status = report.status[:16]
        if report.duration is not None:
            recording.duration = float(report.duration)
        if report.channels:
            recording.channels = report.channels
    elif await job_for_recording(session, recording.id) is None:
        enqueue_transcription(session, recording)
    stmt = select(CallLog).where(CallLog.call_sid == recording.call_sid)
    row = (await session.execute(stmt)).scalars().first()
    if row is not None and tenant_id is not None and row.tenant_id not in (None, tenant_id):
        row = None
    if voicemail and report.status == "completed":
        recording.source = "Voicemail"
        await _voicemail(session, recording, row)
        if row is not None:
            row.has_voicemail = True
            row.status = CallLogStatus.VOICEMAIL_RECEIVED
    elif row is not None and report.status == "completed":
        row.has_recording = True
    return recording


async def _recording(session: AsyncSession, recording_sid: str) -> Recording | None:
    stmt = select(Recording).where(Recording.recording_sid == recording_sid).execution_options(
        populate_existing=True
    )
    return (await session.execute(stmt)).scalars().first()


async def _voicemail(session: AsyncSession, recording: Recording, row: CallLog | None) -> Voicemail:
    stmt = select(Voicemail).where(Voicemail.recording_id == recording.id)
    message = (await session.execute(stmt)).scalars().first()
    if message is None:
        message = Voicemail(
            tenant_id=recording.tenant_id,
            number_id=row.number_id if row else None,
            call_sid=recording.call_sid,
            recording_id=recording.id,
            from_number=row.from_number if row else "",
            to_number=row.to_number if row else "",
        )
        session.add(message)
    message.duration = recording.duration
    await session.flush()
    return message


# -- playback of a provider's recording ---------------------------------------------------


async def provider_credentials(
    session: AsyncSession, tenant_id: str, url: str
) -> tuple[str, str] | None:
    """Basic-auth credentials for a provider's recording URL, from the tenant's trunks.

    A provider names the account in its recording URLs
    (``.../Accounts/AC.../Recordings/RE...``); the trunk holding that account
    SID and its auth token is the one to authenticate with.
    """
    stmt = select(Trunk).where(Trunk.tenant_id == tenant_id, Trunk.account_sid.is_not(None))
    for trunk in (await session.execute(stmt)).scalars():
        if trunk.account_sid and trunk.auth_token and trunk.account_sid in url:
            return trunk.account_sid, trunk.auth_token
    return None
