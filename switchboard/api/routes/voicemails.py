"""``/api/v1/voicemails``: list with unread count, get, mark, archive, delete.

Reading needs any role; changing or deleting needs the agent role. Deleting
removes the audio file under the storage root too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from switchboard.api.deps import AgentPrincipal, CurrentPrincipal, DbSession, SettingsDep
from switchboard.api.pagination import PageQuery
from switchboard.api.schemas.voicemails import (
    VoicemailOut,
    VoicemailPageOut,
    VoicemailPatch,
    VoicemailStatus,
)
from switchboard.services import voicemails as vm_service

router = APIRouter(prefix="/api/v1/voicemails", tags=["voicemails"])


@router.get("", response_model=VoicemailPageOut, summary="List voicemails")
async def list_voicemails(
    principal: CurrentPrincipal, session: DbSession, paging: PageQuery,
    status_: Annotated[VoicemailStatus | None, Query(alias="status")] = None,
) -> VoicemailPageOut:
    """Voicemails newest first, optionally of one status, with the unread count."""
    result = await vm_service.list_voicemails(
        session, principal.tenant_id, status=status_, page=paging.page, limit=paging.limit
    )
    page = result.page
    return VoicemailPageOut(items=[VoicemailOut.of(v) for v in page.items], total=page.total,
                            page=page.page, limit=page.limit, unread_count=result.unread_count)


@router.get("/{voicemail_id}", response_model=VoicemailOut, summary="Get a voicemail")
async def get_voicemail(
    voicemail_id: str, principal: CurrentPrincipal, session: DbSession
) -> VoicemailOut:
    """One voicemail."""
    return VoicemailOut.of(
        await vm_service.get_voicemail(session, principal.tenant_id, voicemail_id)
    )


@router.patch("/{voicemail_id}", response_model=VoicemailOut, summary="Mark a voicemail")
async def patch_voicemail(
    voicemail_id: str, body: VoicemailPatch, principal: AgentPrincipal, session: DbSession
) -> VoicemailOut:
    """Mark read/unread (``{"read": true}``) or set the status."""
    row = await vm_service.set_status(session, principal.tenant_id, voicemail_id,
                                      body.target_status())
    return VoicemailOut.of(row)


@router.post("/{voicemail_id}/archive", response_model=VoicemailOut,
             summary="Archive a voicemail")
async def archive_voicemail(
    voicemail_id: str, principal: AgentPrincipal, session: DbSession
) -> VoicemailOut:
    """Set the status to ``archived``."""
    row = await vm_service.set_status(session, principal.tenant_id, voicemail_id, "archived")
    return VoicemailOut.of(row)


@router.delete("/{voicemail_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, summary="Delete a voicemail")
async def delete_voicemail(
    voicemail_id: str, principal: AgentPrincipal, session: DbSession, settings: SettingsDep
) -> Response:
    """Delete the voicemail, its recording and its audio file."""
    await vm_service.delete_voicemail(session, principal.tenant_id, voicemail_id,
                                      storage_root=settings.resolved_storage_root)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
