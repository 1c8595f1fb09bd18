"""Seed 000 ``GET /api/voice/recording?callLogId=|voicemailId=``: authenticated playback.

The target of every ``recordingPlaybackUrl``: streams the tenant's audio
(range requests work) without exposing where files live. Another tenant's
ids are 404. Only stored files are served: a recording a provider reported
was fetched into storage when its callback arrived, and no URL is ever
fetched here (a proxy of stored URLs let a tenant read the server's network).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response

from switchboard.api.deps import CurrentPrincipal, DbSession, SettingsDep
from switchboard.services import playback
from switchboard.services.exceptions import BadRequest

router = APIRouter(prefix="/api/voice/recording", tags=["dashboard: playback"])


@router.get("", response_class=FileResponse, summary="Play a call recording or a voicemail",
            responses={200: {"content": {"audio/wav": {}}}})
async def play(
    principal: CurrentPrincipal,
    session: DbSession,
    settings: SettingsDep,
    call_log_id: Annotated[str | None, Query(alias="callLogId", max_length=64)] = None,
    voicemail_id: Annotated[str | None, Query(alias="voicemailId", max_length=64)] = None,
) -> Response:
    """The audio of ``callLogId``'s recording or of ``voicemailId`` (exactly one)."""
    if (call_log_id is None) == (voicemail_id is None):
        raise BadRequest("give exactly one of callLogId or voicemailId", field="callLogId")
    if call_log_id is not None:
        recording = await playback.call_recording(session, principal.tenant_id, call_log_id)
    else:
        assert voicemail_id is not None
        recording = await playback.voicemail_recording(session, principal.tenant_id, voicemail_id)
    path = await asyncio.to_thread(
        playback.playable_file, settings.resolved_storage_root, recording
    )
    return FileResponse(
        path, media_type=playback.media_type(recording),
        filename=f"{recording.recording_sid}.{recording.format}",
    )
