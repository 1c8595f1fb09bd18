"""Call logs: filtered lists, CSV export and the seed-003 VoiceCall create.

Lists come as pages with totals (page/limit) or after keyset cursors.
There is one row per call (see :mod:`switchboard.models.call`); every API view
of calls reads it through here. Lists are newest first, ordered by
``(started_at, id)`` descending, which the ``(tenant_id, started_at)`` index
serves; a cursor is that pair of the last row, so deep pages cost the same
as the first.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import CallDirection, CallLog, CallLogStatus, CallStatus, User, utcnow
from switchboard.services.contacts import ensure_client
from switchboard.services.exceptions import BadRequest, Conflict, NotFound
from switchboard.services.paging import Page, check_paging, paginate
from switchboard.services.phone import is_e164

PROVIDERS = ("VONAGE", "ASTERISK")
CSV_MAX_ROWS = 100_000
CSV_COLUMNS = ("id", "call_sid", "direction", "status", "call_status", "from", "to",
               "started_at", "answered_at", "ended_at", "duration", "staff_id",
               "has_recording", "has_voicemail")
_PRICE = re.compile(r"^\d{1,10}(\.\d{1,6})?$")
_BUSINESS_STATUSES = {s.value for s in CallLogStatus}
_CALL_STATUSES = {s.value for s in CallStatus}


@dataclass(frozen=True)
class CallLogFilter:
    """Filters of a call-log list; ``None`` means not filtered."""

    direction: str | None = None
    status: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    date_start: datetime | None = None
    date_end: datetime | None = None
    staff_id: str | None = None
    has_recording: bool | None = None
    has_voicemail: bool | None = None


@dataclass(frozen=True)
class KeysetPage:
    """Rows after a cursor, and the cursor of the next page (None at the end)."""

    items: Sequence[CallLog]
    next_cursor: str | None


@dataclass(frozen=True)
class VoiceCallSpec:
    """A seed-003 VoiceCall to record (a call handled outside the engine)."""

    staff_id: str
    client_id: str
    from_number: str
    to_number: str
    direction: str
    status: str
    price: str
    provider: str
    source_id: str
    external_id: str
    business_id: str


async def list_page(
    session: AsyncSession, tenant_id: str, filters: CallLogFilter, *, page: int = 1,
    limit: int = 25,
) -> Page[CallLog]:
    """One page of the tenant's filtered call logs, newest first, with the total."""
    stmt = _query(tenant_id, filters).order_by(CallLog.started_at.desc(), CallLog.id.desc())
    return await paginate(session, stmt, page, limit)


async def list_after(
    session: AsyncSession, tenant_id: str, filters: CallLogFilter, *, cursor: str | None,
    limit: int = 25,
) -> KeysetPage:
    """The filtered call logs after ``cursor`` (keyset pagination), newest first.

    Raises:
        BadRequest: the cursor is malformed.
    """
    check_paging(1, limit)
    stmt = _query(tenant_id, filters)
    if cursor:
        started, row_id = _decode_cursor(cursor)
        stmt = stmt.where(or_(CallLog.started_at < started,
                              and_(CallLog.started_at == started, CallLog.id < row_id)))
    stmt = stmt.order_by(CallLog.started_at.desc(), CallLog.id.desc()).limit(limit + 1)
    rows = (await session.execute(stmt)).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return KeysetPage(items=rows, next_cursor=cursor_after(rows[-1]) if more else None)


async def get_call_log(session: AsyncSession, tenant_id: str, call_id: str) -> CallLog:
    """One call of the tenant, by row id or call SID.

    Raises:
        NotFound: no such call in this tenant.
    """
    stmt = select(CallLog).where(CallLog.tenant_id == tenant_id,
                                 or_(CallLog.id == call_id, CallLog.call_sid == call_id))
    row = (await session.execute(stmt)).scalars().first()
    if row is None:
        raise NotFound("Call log not found", field="id")
    return row


async def export_csv(session: AsyncSession, tenant_id: str, filters: CallLogFilter) -> str:
    """The filtered call logs as CSV (header row first), at most 100 000 rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    cursor: str | None = None
    written = 0
    while written < CSV_MAX_ROWS:
        batch = await list_after(session, tenant_id, filters, cursor=cursor, limit=200)
        for row in batch.items:
            writer.writerow([
                row.id, row.call_sid, row.direction, row.status, row.call_status,
                row.from_number, row.to_number, _iso(row.started_at), _iso(row.answered_at),
                _iso(row.ended_at), row.duration if row.duration is not None else "",
                row.staff_id or "", str(row.has_recording).lower(),
                str(row.has_voicemail).lower(),
            ])
        written += len(batch.items)
        if batch.next_cursor is None:
            break
        cursor = batch.next_cursor
    return out.getvalue()


async def create_voice_call(session: AsyncSession, tenant_id: str, spec: VoiceCallSpec) -> CallLog:
    """Record a call as a seed-003 VoiceCall.

    ``source_id`` becomes the call's SID (it identifies the call at its
    provider), ``external_id`` its external id.

    Raises:
        NotFound: the business is not the caller's tenant, the staff
            member is not one of its users, or the client is not one of its
            contacts.
        BadRequest: a field has a value outside its enum or format.
        Conflict: a call with this source id exists.
    """
    if spec.business_id != tenant_id:
        raise NotFound("Business not found", field="businessId")
    staff = await session.get(User, spec.staff_id)
    if staff is None or staff.tenant_id != tenant_id:
        raise NotFound("Staff member not found", field="staffId")
    await ensure_client(session, tenant_id, spec.client_id)
    for name, value in (("from", spec.from_number), ("to", spec.to_number)):
        if not is_e164(value):
            raise BadRequest("Invalid E.164 format", field=name)
    if spec.direction not in {d.value for d in CallDirection}:
        raise BadRequest("direction must be INBOUND or OUTBOUND", field="direction")
    if spec.status not in _BUSINESS_STATUSES:
        raise BadRequest("status must be one of " + ", ".join(sorted(_BUSINESS_STATUSES)),
                         field="status")
    if not _PRICE.match(spec.price):
        raise BadRequest('price must be a decimal string such as "0.05"', field="price")
    if spec.provider not in PROVIDERS:
        raise BadRequest("provider must be VONAGE", field="provider")
    if not 1 <= len(spec.source_id) <= 34:
        raise BadRequest("sourceId must be 1 to 34 characters", field="sourceId")
    if not 1 <= len(spec.external_id) <= 64:
        raise BadRequest("externalId must be 1 to 64 characters", field="externalId")
    if await session.scalar(select(CallLog.id).where(CallLog.call_sid == spec.source_id)):
        raise Conflict("A call with this sourceId exists", field="sourceId")
    row = CallLog(
        call_sid=spec.source_id, tenant_id=tenant_id, direction=spec.direction,
        status=spec.status, call_status=_call_status_of(spec.status),
        from_number=spec.from_number, to_number=spec.to_number, staff_id=spec.staff_id,
        client_id=spec.client_id, external_id=spec.external_id, provider=spec.provider,
        price=spec.price, started_at=utcnow(), handled_by="api",
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create with the same sourceId
        await session.rollback()
        raise Conflict("A call with this sourceId exists", field="sourceId") from exc
    return row


def _call_status_of(status: str) -> str:
    if status == CallLogStatus.INCOMING_CALL:
        return CallStatus.RINGING
    if status in (CallLogStatus.MISSED, CallLogStatus.MISSED_CALL_HANDLED):
        return CallStatus.NO_ANSWER
    return CallStatus.COMPLETED


def _query(tenant_id: str, f: CallLogFilter) -> Select[Any]:
    stmt = select(CallLog).where(CallLog.tenant_id == tenant_id)
    if f.direction:
        direction = f.direction.upper()
        if direction not in {d.value for d in CallDirection}:
            raise BadRequest("direction must be inbound or outbound", field="direction")
        stmt = stmt.where(CallLog.direction == direction)
    if f.status:
        if f.status.upper() in _BUSINESS_STATUSES:
            stmt = stmt.where(CallLog.status == f.status.upper())
        elif f.status.lower() in _CALL_STATUSES:
            stmt = stmt.where(CallLog.call_status == f.status.lower())
        else:
            raise BadRequest("unknown status", field="status")
    for column, value, name in ((CallLog.from_number, f.from_number, "from"),
                                (CallLog.to_number, f.to_number, "to")):
        if value:
            stmt = stmt.where(column == _number_filter(value, name))
    if f.date_start:
        stmt = stmt.where(CallLog.started_at >= _aware(f.date_start))
    if f.date_end:
        stmt = stmt.where(CallLog.started_at <= _aware(f.date_end))
    if f.date_start and f.date_end and f.date_end < f.date_start:
        raise BadRequest("date_end is before date_start", field="date_end")
    if f.staff_id:
        stmt = stmt.where(CallLog.staff_id == f.staff_id)
    if f.has_recording is not None:
        stmt = stmt.where(CallLog.has_recording.is_(f.has_recording))
    if f.has_voicemail is not None:
        stmt = stmt.where(CallLog.has_voicemail.is_(f.has_voicemail))
    return stmt


def _number_filter(value: str, name: str) -> str:
    compact = re.sub(r"[\s().\-]", "", value)
    if compact.isdigit():
        compact = "+" + compact
    if not is_e164(compact) and not compact.startswith(("endpoint:", "sip:")):
        # Endpoint names and SIP URIs appear in logs too; match them verbatim.
        return value
    return compact


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def cursor_after(row: CallLog) -> str:
    """The cursor that continues a newest-first list after ``row``."""
    raw = json.dumps([row.started_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        started, row_id = json.loads(raw)
        return _aware(datetime.fromisoformat(started)), str(row_id)
    except (ValueError, TypeError) as exc:
        raise BadRequest("Invalid cursor", field="cursor") from exc
