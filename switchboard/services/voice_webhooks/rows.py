"""Rows keyed by a provider SID: inserted when missing, enriched when present.

The engine writes a call's row as the call starts and may store its
recordings itself; a webhook about the same SID must enrich those rows,
never add a second one, even when the two race. ``INSERT ... ON CONFLICT DO
NOTHING`` (SQLite and PostgreSQL) followed by a read of the row does that.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.callflow.status import INITIAL_STATUS, CallDirection, CallStatus
from switchboard.models import CallLog
from switchboard.models.upsert import insert_missing
from switchboard.services.exceptions import NotFound
from switchboard.services.voice_webhooks.forms import Caller, WebhookCall

CALL_STATUSES = frozenset(s.value for s in CallStatus)


async def call_log(
    session: AsyncSession, call: WebhookCall, caller: Caller, *, now: datetime
) -> CallLog:
    """The call's row: written when missing (at the initial status), else enriched.

    The caller moves its status with :func:`~switchboard.callflow.status.next_status`.
    """
    tenant_id = caller.tenant.id if caller.tenant else None
    number_id = caller.number.id if caller.number else None
    direction = CallDirection.INBOUND if call.direction == "inbound" else CallDirection.OUTBOUND
    await insert_missing(
        session,
        CallLog,
        {
            "call_sid": call.call_sid, "tenant_id": tenant_id, "number_id": number_id,
            "direction": direction, "status": INITIAL_STATUS,
            "call_status": call.call_status if call.call_status in CALL_STATUSES else "ringing",
            "from_number": call.from_number, "to_number": call.to_number,
            "started_at": now, "handled_by": "webhook",
        },
        "call_sid",
    )
    stmt = select(CallLog).where(CallLog.call_sid == call.call_sid).execution_options(
        populate_existing=True
    )
    row = (await session.execute(stmt)).scalar_one()
    if row.tenant_id != tenant_id:
        # Another tenant's call (or a tenantless row and a tenant, or the reverse):
        # a SID is looked up within the caller's tenant only.
        raise NotFound("Call log not found", field="CallSid")
    row.number_id = row.number_id or number_id
    row.from_number = row.from_number or call.from_number
    row.to_number = row.to_number or call.to_number
    return row


async def ensure_not_foreign(session: AsyncSession, call_sid: str, tenant_id: str) -> None:
    """Refuse a SID that names a call of another tenant (a missing call is fine).

    Raises:
        NotFound: a call with this SID exists and is not ``tenant_id``'s.
    """
    stmt = select(CallLog.tenant_id).where(CallLog.call_sid == call_sid)
    found = (await session.execute(stmt)).first()
    if found is not None and found[0] != tenant_id:
        raise NotFound("Call log not found", field="CallSid")
