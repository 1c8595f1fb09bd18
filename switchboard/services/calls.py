"""Calls: place outbound calls, control live ones, read a call with its parts.

The engine's :class:`~switchboard.engine.control.CallControl` does the
telephony; this layer validates, keeps outbound requests idempotent, and
turns engine errors into the API's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard import ids
from switchboard.engine.control import (
    AsteriskUnavailable,
    CallBusy,
    CallControl,
    CallNotConnected,
    CallNotFound,
    LiveCall,
    NumberNotUsable,
)
from switchboard.models import CallLog, CallRequest, Recording, utcnow
from switchboard.services.call_logs import get_call_log
from switchboard.services.compliance import ensure_reachable
from switchboard.services.exceptions import (
    BadRequest,
    Conflict,
    NotFound,
    ServiceUnavailable,
)
from switchboard.services.limits import ensure_within_limit
from switchboard.services.phone import normalize_e164


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """What ``POST /calls/outbound`` asks for."""

    from_number: str
    to_number: str
    record: bool = False
    status_callback_url: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class PlacedCall:
    """The answer to an outbound request; ``replayed`` for a repeated key."""

    call_sid: str
    replayed: bool


async def place_outbound(
    session: AsyncSession,
    control: CallControl,
    tenant_id: str,
    request: OutboundRequest,
    *,
    idempotency_key: str | None = None,
) -> PlacedCall:
    """Originate a call; the same ``idempotency_key`` never places a second one.

    Raises:
        BadRequest: a number is not E.164, or ``from_number`` is not the tenant's.
        ComplianceBlocked: ``to_number`` is on the tenant's do-not-call list (451).
        PlanLimitExceeded: the voice minutes are used up, or ``record`` was
            asked for and the recording storage is full.
        ServiceUnavailable: Asterisk could not place the call.
    """
    from_number = normalize_e164(request.from_number, field="from_number")
    to_number = normalize_e164(request.to_number, field="to_number")
    await ensure_reachable(session, tenant_id, to_number, channel="call")  # 451, nothing dialled
    await ensure_within_limit(session, tenant_id, "voice_minutes")
    if request.record:  # a recording may not start once the plan's storage is full
        await ensure_within_limit(session, tenant_id, "recording_storage")
    call_sid = ids.call_sid()
    if idempotency_key:
        existing = await _request_for(session, tenant_id, idempotency_key)
        if existing is not None:
            return PlacedCall(existing.call_sid, replayed=True)
        session.add(CallRequest(tenant_id=tenant_id, idempotency_key=idempotency_key,
                                call_sid=call_sid))
        try:
            await session.commit()
        except IntegrityError:  # the same key, at the same moment, in another request
            await session.rollback()
            existing = await _request_for(session, tenant_id, idempotency_key)
            if existing is None:
                raise
            return PlacedCall(existing.call_sid, replayed=True)
    try:
        await control.place_call(
            tenant_id,
            from_number=from_number,
            to_number=to_number,
            record=request.record,
            status_callback_url=request.status_callback_url,
            url=request.url,
            call_sid=call_sid,
        )
    except (NumberNotUsable, AsteriskUnavailable) as exc:
        if idempotency_key:
            await session.execute(delete(CallRequest).where(
                CallRequest.tenant_id == tenant_id,
                CallRequest.idempotency_key == idempotency_key))
            await session.commit()
        if isinstance(exc, NumberNotUsable):
            raise BadRequest(exc.message, field="from_number") from exc
        raise ServiceUnavailable(exc.message, error_id=exc.error_id) from exc
    return PlacedCall(call_sid, replayed=False)


async def _request_for(session: AsyncSession, tenant_id: str, key: str) -> CallRequest | None:
    stmt = select(CallRequest).where(
        CallRequest.tenant_id == tenant_id, CallRequest.idempotency_key == key
    )
    return (await session.execute(stmt)).scalars().first()


def live_calls(control: CallControl, tenant_id: str) -> list[LiveCall]:
    """The tenant's calls in progress."""
    return control.live_calls(tenant_id)


async def hangup(control: CallControl, tenant_id: str, call_sid: str) -> None:
    """End a call in progress.

    Raises:
        NotFound: no such call in progress.
    """
    try:
        await control.hangup(tenant_id, call_sid)
    except CallNotFound as exc:
        raise NotFound("No such call in progress", field="call_id") from exc


async def hold(control: CallControl, tenant_id: str, call_sid: str, *, on: bool) -> None:
    """Hold or unhold a connected call.

    Raises:
        NotFound: no such call in progress.
        Conflict: the call is not connected to anyone, or a transfer is under way.
        ServiceUnavailable: Asterisk refused.
    """
    try:
        await control.hold(tenant_id, call_sid, on=on)
    except CallNotFound as exc:
        raise NotFound("No such call in progress", field="call_id") from exc
    except (CallNotConnected, CallBusy) as exc:
        raise Conflict(exc.message, field="call_id") from exc
    except AsteriskUnavailable as exc:
        raise ServiceUnavailable(exc.message, error_id=exc.error_id) from exc


async def transfer(
    control: CallControl, tenant_id: str, call_sid: str, *, target_number: str, transfer_type: str
) -> str:
    """Transfer a connected call; ``transferred`` or ``no-answer``.

    Raises:
        BadRequest: the target is not an E.164 number or ``endpoint:NAME``.
        NotFound: no such call in progress.
        Conflict: the call is not connected to anyone, or another transfer is under way.
    """
    target = target_number
    if not target.startswith("endpoint:"):
        target = normalize_e164(target_number, field="target_number")
    try:
        return await control.transfer(tenant_id, call_sid, target=target,
                                      transfer_type=transfer_type)
    except CallNotFound as exc:
        raise NotFound("No such call in progress", field="call_id") from exc
    except (CallNotConnected, CallBusy) as exc:
        raise Conflict(exc.message, field="call_id") from exc


async def call_recordings(session: AsyncSession, tenant_id: str, call_id: str) -> list[Recording]:
    """The recordings of one call of the tenant (404 for another's)."""
    row = await get_call_log(session, tenant_id, call_id)
    stmt = select(Recording).where(
        Recording.tenant_id == tenant_id, Recording.call_sid == row.call_sid
    ).order_by(Recording.created_at)
    return list((await session.execute(stmt)).scalars())


async def get_recording(session: AsyncSession, tenant_id: str, recording_sid: str) -> Recording:
    """A recording of the tenant by SID or id.

    Raises:
        NotFound: no such recording in this tenant.
    """
    stmt = select(Recording).where(
        Recording.tenant_id == tenant_id,
        (Recording.recording_sid == recording_sid) | (Recording.id == recording_sid),
    )
    row = (await session.execute(stmt)).scalars().first()
    if row is None:
        raise NotFound("Recording not found", field="recording_id")
    return row


async def call_notes(session: AsyncSession, tenant_id: str, call_id: str) -> list[dict[str, Any]]:
    """Notes written on a call."""
    return list((await get_call_log(session, tenant_id, call_id)).notes)


async def add_note(
    session: AsyncSession, tenant_id: str, call_id: str, *, text: str, author_id: str | None
) -> dict[str, Any]:
    """Add a note to a call.

    Raises:
        BadRequest: empty or over 5000 characters.
    """
    text = text.strip()
    if not text or len(text) > 5000:
        raise BadRequest("A note needs 1 to 5000 characters", field="text")
    row: CallLog = await get_call_log(session, tenant_id, call_id)
    note = {"id": ids.new_uuid(), "text": text, "author_id": author_id,
            "created_at": utcnow().isoformat()}
    row.notes = [*row.notes, note]
    await session.flush()
    return note
