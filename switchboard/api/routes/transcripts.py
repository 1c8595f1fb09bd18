"""``/api/v1/transcripts``: by call, full-text search, list (seed 001)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from switchboard.api.deps import CurrentPrincipal, DbSession
from switchboard.api.pagination import PageQuery
from switchboard.api.schemas.transcripts import (
    CallTranscriptOut,
    SearchHitOut,
    SearchPageOut,
    TranscriptOut,
    TranscriptPageOut,
)
from switchboard.services import transcripts as transcript_service
from switchboard.services.call_logs import get_call_log

router = APIRouter(prefix="/api/v1/transcripts", tags=["transcripts"])


@router.get("", response_model=TranscriptPageOut, summary="List transcripts")
async def list_transcripts(
    principal: CurrentPrincipal, session: DbSession, paging: PageQuery
) -> TranscriptPageOut:
    """Current transcripts, newest first."""
    page = await transcript_service.list_transcripts(
        session, tenant_id=principal.tenant_id, page=paging.page, limit=paging.limit
    )
    return TranscriptPageOut(
        items=[TranscriptOut.of(t) for t in page.items],
        total=page.total,
        page=page.page,
        limit=page.limit,
    )


@router.get("/search", response_model=SearchPageOut, summary="Search transcripts")
async def search(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: PageQuery,
    q: Annotated[str, Query(min_length=1, max_length=500, description="Words to find")],
    date_start: datetime | None = None,
    date_end: datetime | None = None,
    direction: Literal["inbound", "outbound"] | None = None,
    number: Annotated[str | None, Query(max_length=32)] = None,
) -> SearchPageOut:
    """Calls whose transcript has every word of ``q``, best match first.

    Relevance orders the hits within blocks of the newest 1 000 matches; a
    word found in more transcripts than that lists its newest block first.
    """
    page = await transcript_service.search_transcripts(
        session,
        q,
        tenant_id=principal.tenant_id,
        date_start=date_start,
        date_end=date_end,
        direction=direction,
        number=number,
        page=paging.page,
        limit=paging.limit,
    )
    return SearchPageOut(
        items=[SearchHitOut.of(h) for h in page.items],
        total=page.total,
        total_exact=page.total_exact,
        page=page.page,
        limit=page.limit,
    )


@router.get("/call/{call_id}", response_model=CallTranscriptOut, summary="Transcript of a call")
async def by_call(
    call_id: str, principal: CurrentPrincipal, session: DbSession
) -> CallTranscriptOut:
    """Every current transcript of the call, and their segments on one timeline."""
    row = await get_call_log(session, principal.tenant_id, call_id)
    transcripts = await transcript_service.get_call_transcripts(
        session, row.call_sid, tenant_id=principal.tenant_id
    )
    views = [TranscriptOut.of(t) for t in transcripts]
    timeline = sorted((s for v in views for s in v.segments), key=lambda s: s.start)
    return CallTranscriptOut(call_sid=row.call_sid, transcripts=views, segments=timeline)
