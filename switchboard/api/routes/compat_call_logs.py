"""Seed 000 ``GET /api/call-logs``: recent calls in the VoiceCall shape (seed 003).

Rows carry ``recordingPlaybackUrl`` (the authenticated proxy
``/api/voice/recording?callLogId=``) when the call has a recording.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from switchboard.api.deps import CurrentPrincipal, DbSession
from switchboard.api.schemas.compat import CallLogList, CallLogRow
from switchboard.services import call_logs as log_service
from switchboard.services.call_logs import CallLogFilter
from switchboard.services.paging import MAX_LIMIT

router = APIRouter(prefix="/api/call-logs", tags=["dashboard: call logs"])


@router.get("", response_model=CallLogList, summary="Recent calls")
async def recent_calls(
    principal: CurrentPrincipal,
    session: DbSession,
    direction: Annotated[str | None, Query(max_length=16)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    to: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> CallLogList:
    """Calls newest first, filtered by direction, status, from and to."""
    filters = CallLogFilter(direction=direction, status=status, from_number=from_, to_number=to)
    batch = await log_service.list_after(session, principal.tenant_id, filters, cursor=None,
                                         limit=limit)
    return CallLogList(call_logs=[CallLogRow.of(c) for c in batch.items])
