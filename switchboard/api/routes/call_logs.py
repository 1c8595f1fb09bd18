"""``/api/v1/calls/logs``: filtered call logs (page/limit or cursor) and CSV export.

Register this router before the live-calls router: ``/api/v1/calls/logs``
must not be taken for ``/api/v1/calls/{call_id}``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.api.deps import CurrentPrincipal, DbSession
from switchboard.api.schemas.call_logs import CallLogOut, CallLogPage
from switchboard.callflow.status import CallLogStatus, CallStatus
from switchboard.models import CallLog
from switchboard.services import call_logs as log_service
from switchboard.services.call_logs import CallLogFilter
from switchboard.services.contacts import caller_names
from switchboard.services.paging import MAX_LIMIT

router = APIRouter(prefix="/api/v1/calls/logs", tags=["call logs"])

Direction = Literal["inbound", "outbound", "INBOUND", "OUTBOUND"]
# A business (VoiceCall) status or a telephony call status, as one enum made from the
# call-flow vocabulary's two (so a new status needs no change here). Type checkers see
# the plain string FastAPI hands over.
if TYPE_CHECKING:
    Disposition = str
else:
    Disposition = enum.StrEnum(
        "Disposition", [(s.name, s.value) for s in (*CallLogStatus, *CallStatus)]
    )


def _filters(
    direction: Annotated[Direction | None, Query()] = None,
    disposition: Annotated[Disposition | None,
                           Query(description="Business (VoiceCall) or call status")] = None,
    status: Annotated[Disposition | None, Query(description="Alias of disposition")] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    to: Annotated[str | None, Query(max_length=64)] = None,
    date_start: Annotated[datetime | None, Query()] = None,
    date_end: Annotated[datetime | None, Query()] = None,
    staff: Annotated[str | None, Query(max_length=64, description="Staff user id")] = None,
    has_recording: Annotated[bool | None, Query()] = None,
    has_voicemail: Annotated[bool | None, Query()] = None,
) -> CallLogFilter:
    return CallLogFilter(
        direction=direction, status=disposition or status, from_number=from_, to_number=to,
        date_start=date_start, date_end=date_end, staff_id=staff,
        has_recording=has_recording, has_voicemail=has_voicemail,
    )


Filters = Annotated[CallLogFilter, Depends(_filters)]


@dataclass(frozen=True)
class _Paging:
    page: int | None
    limit: int
    cursor: str | None


def _paging(
    page: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 25,
    cursor: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_\-]*$",
                                        description="next_cursor of the previous page")] = None,
) -> _Paging:
    return _Paging(page=page, limit=limit, cursor=cursor)


async def _names(session: AsyncSession, tenant_id: str,
                 rows: Sequence[CallLog]) -> dict[str, str]:
    """Contact names of the other side of these calls (one query)."""
    return await caller_names(session, tenant_id,
                              ((c.direction, c.from_number, c.to_number) for c in rows))


@router.get("", response_model=CallLogPage, summary="Search call logs")
async def search_logs(
    principal: CurrentPrincipal, session: DbSession, filters: Filters,
    paging: Annotated[_Paging, Depends(_paging)],
) -> CallLogPage:
    """Calls newest first: ``page`` gives totals, ``cursor`` scales to any depth."""
    if paging.cursor is not None:
        batch = await log_service.list_after(session, principal.tenant_id, filters,
                                             cursor=paging.cursor, limit=paging.limit)
        names = await _names(session, principal.tenant_id, batch.items)
        return CallLogPage(items=[CallLogOut.of(c, names) for c in batch.items], total=None,
                           page=None, limit=paging.limit, next_cursor=batch.next_cursor)
    number = paging.page or 1
    page = await log_service.list_page(session, principal.tenant_id, filters, page=number,
                                       limit=paging.limit)
    more = number * paging.limit < page.total
    next_cursor = log_service.cursor_after(page.items[-1]) if more and page.items else None
    names = await _names(session, principal.tenant_id, page.items)
    return CallLogPage(items=[CallLogOut.of(c, names) for c in page.items], total=page.total,
                       page=number, limit=paging.limit, next_cursor=next_cursor)


@router.get("/export.csv", summary="Export call logs as CSV", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
async def export_logs(
    principal: CurrentPrincipal, session: DbSession, filters: Filters
) -> Response:
    """The filtered calls as CSV, newest first (at most 100 000 rows)."""
    text = await log_service.export_csv(session, principal.tenant_id, filters)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="call-logs.csv"'})


@router.get("/{log_id}", response_model=CallLogOut, summary="Get a call log")
async def get_log(log_id: str, principal: CurrentPrincipal, session: DbSession) -> CallLogOut:
    """One call, by id or call SID."""
    return CallLogOut.of(await log_service.get_call_log(session, principal.tenant_id, log_id))
