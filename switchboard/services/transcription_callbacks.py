"""Telling the tenant a transcript is ready: the ``transcribeCallback`` webhook.

A voice document's ``<Record transcribeCallback="...">`` is kept on the
recording; when the worker stores the transcript it calls
:func:`announce_transcript` in the same transaction, which queues the
provider's transcription callback in the durable outbox.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import Recording, Tenant, Transcript
from switchboard.outbox import enqueue


async def announce_transcript(
    session: AsyncSession, transcript: Transcript, *, base_url: str
) -> None:
    """Queue the transcription callback of ``transcript``'s recording, if it asked for one."""
    recording = await session.get(Recording, transcript.recording_id)
    if recording is not None:
        await _announce(
            session, recording, base_url=base_url, status="completed",
            transcript_id=transcript.id, text=transcript.text,
        )


async def announce_failure(
    session: AsyncSession, recording_id: str, reason: str, *, base_url: str
) -> None:
    """Queue ``TranscriptionStatus=failed`` for a recording whose transcription gave up."""
    recording = await session.get(Recording, recording_id)
    if recording is not None:
        await _announce(
            session, recording, base_url=base_url, status="failed", transcript_id=None, text=""
        )


async def _announce(
    session: AsyncSession,
    recording: Recording,
    *,
    base_url: str,
    status: str,
    transcript_id: str | None,
    text: str,
) -> None:
    if not recording.transcribe_callback or not recording.tenant_id:
        return
    tenant = await session.get(Tenant, recording.tenant_id)
    params = {
        "AccountSid": tenant.account_sid if tenant else "",
        "CallSid": recording.call_sid or "",
        "RecordingSid": recording.recording_sid,
        "RecordingUrl": f"{base_url}/api/v1/recordings/{recording.recording_sid}",
        "TranscriptionStatus": status,
        "TranscriptionText": text,
    }
    if transcript_id is not None:
        params["TranscriptionSid"] = "TR" + transcript_id.replace("-", "")
        params["TranscriptionUrl"] = f"{base_url}/api/v1/transcripts/call/{recording.call_sid}"
    await enqueue(
        session,
        tenant_id=recording.tenant_id,
        call_sid=recording.call_sid,
        url=recording.transcribe_callback,
        params=params,
        kind="transcription",
    )
