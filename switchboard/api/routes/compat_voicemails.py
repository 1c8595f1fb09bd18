"""Seed 000 ``/api/voicemails``: list with transcription and playback URL, mark, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from switchboard.api.deps import AgentPrincipal, CurrentPrincipal, DbSession, SettingsDep
from switchboard.api.schemas.compat import (
    OkOut,
    VoicemailList,
    VoicemailOne,
    VoicemailPatchIn,
    VoicemailRow,
)
from switchboard.api.schemas.voicemails import VoicemailStatus
from switchboard.services import voicemails as vm_service
from switchboard.services.exceptions import BadRequest
from switchboard.services.paging import MAX_LIMIT

router = APIRouter(prefix="/api/voicemails", tags=["dashboard: voicemails"])


@router.get("", response_model=VoicemailList, summary="List voicemails")
async def list_voicemails(
    principal: CurrentPrincipal,
    session: DbSession,
    status: Annotated[VoicemailStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> VoicemailList:
    """Voicemails newest first, with ``unreadCount``."""
    result = await vm_service.list_voicemails(session, principal.tenant_id, status=status,
                                              limit=limit)
    return VoicemailList(voicemails=[VoicemailRow.of(v) for v in result.page.items],
                         unread_count=result.unread_count)


@router.patch("", response_model=VoicemailOne, summary="Mark a voicemail read or unread")
async def mark(
    body: VoicemailPatchIn, principal: AgentPrincipal, session: DbSession,
    id_: Annotated[str | None, Query(alias="id", max_length=64)] = None,
) -> VoicemailOne:
    """``{"id": ..., "read": true|false}`` (or ``"status"``); ``id`` may be in the query."""
    voicemail_id = body.id or id_
    if not voicemail_id:
        raise BadRequest("id is required", field="id")
    if (body.read is None) == (body.status is None):
        raise BadRequest("give read or status", field="read")
    target = body.status or ("read" if body.read else "new")
    row = await vm_service.set_status(session, principal.tenant_id, voicemail_id, target)
    return VoicemailOne(voicemail=VoicemailRow.of(row))


@router.delete("", response_model=OkOut, summary="Delete a voicemail")
async def delete(
    principal: AgentPrincipal, session: DbSession, settings: SettingsDep,
    id_: Annotated[str, Query(alias="id", min_length=1, max_length=64)],
) -> OkOut:
    """Delete the voicemail ``?id=`` and its audio file."""
    await vm_service.delete_voicemail(session, principal.tenant_id, id_,
                                      storage_root=settings.resolved_storage_root)
    return OkOut()
