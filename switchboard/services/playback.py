"""Which audio file plays for a call log or a voicemail (seed 000 playback proxy).

``recordingPlaybackUrl`` points at ``/api/voice/recording?callLogId=`` or
``?voicemailId=``; these functions find the tenant's recording behind such a
link and its file under the storage root, refusing paths that leave it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import Recording, RecordingSource
from switchboard.services.call_logs import get_call_log
from switchboard.services.exceptions import NotFound
from switchboard.services.voice_webhooks.callbacks import is_remote
from switchboard.services.voicemails import get_voicemail, recording_file


async def call_recording(session: AsyncSession, tenant_id: str, call_log_id: str) -> Recording:
    """The newest recording of a call (a conversation before a voicemail).

    Raises:
        NotFound: no such call in the tenant, or it has no recording.
    """
    log = await get_call_log(session, tenant_id, call_log_id)
    rows = (await session.execute(
        select(Recording)
        .where(Recording.tenant_id == tenant_id, Recording.call_sid == log.call_sid)
        .order_by(Recording.created_at.desc())
    )).scalars().all()
    conversations = [r for r in rows if r.source != RecordingSource.VOICEMAIL]
    chosen = (conversations or list(rows))[:1]
    if not chosen:
        raise NotFound("This call has no recording", field="callLogId")
    return chosen[0]


async def voicemail_recording(
    session: AsyncSession, tenant_id: str, voicemail_id: str
) -> Recording:
    """The recording of a voicemail.

    Raises:
        NotFound: no such voicemail in the tenant, or its audio is gone.
    """
    voicemail = await get_voicemail(session, tenant_id, voicemail_id)
    recording = (
        await session.get(Recording, voicemail.recording_id) if voicemail.recording_id else None
    )
    if recording is None or recording.tenant_id != tenant_id:
        raise NotFound("This voicemail has no recording", field="voicemailId")
    return recording


def playable_file(storage_root: Path, recording: Recording) -> Path:
    """The recording's file, checked to be inside the storage root and present.

    A row whose path is a provider's URL (reported before recordings were
    fetched into storage) has no file here; it is never fetched on playback.

    Raises:
        NotFound: no file, the path leaves the storage root, or the file is missing.
    """
    if not recording.path or is_remote(recording):
        raise NotFound("This recording has no audio file here", field="recording")
    path = recording_file(storage_root, recording)
    if path is None or not path.is_file():
        raise NotFound("Recording file is missing", field="recording")
    return path


def media_type(recording: Recording) -> str:
    """The recording file's media type (``audio/wav`` or ``audio/mpeg``)."""
    return "audio/mpeg" if recording.format == "mp3" else "audio/wav"
