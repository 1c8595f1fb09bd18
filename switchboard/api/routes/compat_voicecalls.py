"""Seed 003 VoiceCall: ``POST /api/v1/voice-calls`` and its reads.

Records a call handled elsewhere (e.g. by another provider) in the one call
log; ``GET`` lists every call of the log in the VoiceCall shape.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from switchboard.api.deps import AgentPrincipal, CurrentPrincipal, DbSession
from switchboard.api.pagination import PageQuery
from switchboard.api.schemas.voicecalls import VoiceCallIn, VoiceCallList, VoiceCallOut
from switchboard.services import call_logs as log_service
from switchboard.services.call_logs import CallLogFilter

router = APIRouter(prefix="/api/v1/voice-calls", tags=["voice calls (seed 003)"])


@router.post("", response_model=VoiceCallOut, status_code=status.HTTP_201_CREATED,
             summary="Create a VoiceCall")
async def create_voice_call(
    body: VoiceCallIn, principal: AgentPrincipal, session: DbSession
) -> VoiceCallOut:
    """Record a call; ``businessId`` must be the caller's tenant, ``staffId`` one of its users."""
    row = await log_service.create_voice_call(session, principal.tenant_id, body.spec())
    return VoiceCallOut.of(row)


@router.get("", response_model=VoiceCallList, summary="List VoiceCalls")
async def list_voice_calls(
    principal: CurrentPrincipal, session: DbSession, paging: PageQuery
) -> VoiceCallList:
    """Every call of the log, newest first, as VoiceCalls."""
    page = await log_service.list_page(session, principal.tenant_id, CallLogFilter(),
                                       page=paging.page, limit=paging.limit)
    return VoiceCallList(items=[VoiceCallOut.of(c) for c in page.items], total=page.total,
                         page=page.page, limit=page.limit)


@router.get("/{call_id}", response_model=VoiceCallOut, summary="Get a VoiceCall")
async def get_voice_call(
    call_id: str, principal: CurrentPrincipal, session: DbSession
) -> VoiceCallOut:
    """One call as a VoiceCall, by id or source id."""
    return VoiceCallOut.of(await log_service.get_call_log(session, principal.tenant_id, call_id))
