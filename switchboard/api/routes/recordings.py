"""``/api/v1/recordings/{sid}``: a recording's audio for its tenant (range requests work).

This is the ``RecordingUrl`` that recording callbacks and action URLs carry.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import FileResponse

from switchboard.api.deps import CurrentPrincipal, DbSession, SettingsDep
from switchboard.services import calls as call_service
from switchboard.services import playback

router = APIRouter(prefix="/api/v1/recordings", tags=["recordings"])


@router.get(
    "/{recording_sid}",
    response_class=FileResponse,
    summary="Download a recording",
    responses={200: {"content": {"audio/wav": {}}}},
)
async def download(
    recording_sid: str, principal: CurrentPrincipal, session: DbSession, settings: SettingsDep
) -> FileResponse:
    """The audio file of a recording or voicemail of your account."""
    row = await call_service.get_recording(session, principal.tenant_id, recording_sid)
    path = await asyncio.to_thread(playback.playable_file, settings.resolved_storage_root, row)
    return FileResponse(
        path, media_type=playback.media_type(row), filename=f"{row.recording_sid}.{row.format}"
    )
