"""Telling the tenant a transcript is ready: the ``transcribeCallback`` webhook.

A voice document's ``<Record transcribeCallback="...">`` is kept on the
recording; when the worker stores the transcript it calls
:func:`announce_transcript` in the same transaction, which queues the
provider's transcription callback in the durable outbox.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.engine.outbox import enqueue
from switchboard.models import Recording, Tenant, Transcript


async def announce_transcript(
    session: AsyncSession, transcript: Transcript, *, base_url: str
) -> None:
    """Queue the transcription callback of ``transcript``'s recording, if it asked for one."""
    recording = await session.get(Recording, transcript.recording_id)
    if recording is None or not recording.transcribe_callback or not recording.tenant_id:
        return
    tenant = await session.get(Tenant, recording.tenant_id)
    params = {
        "AccountSid": tenant.account_sid if tenant else "",
        "CallSid": recording.call_sid or "",
        "RecordingSid": recording.recording_sid,
        "RecordingUrl": f"{base_url}/api/v1/recordings/{recording.recording_sid}",
        "TranscriptionSid": "TR" + transcript.id.replace("-", ""),
        "TranscriptionText": transcript.text,
        "TranscriptionStatus": "completed",
        "TranscriptionUrl": f"{base_url}/api/v1/transcripts/call/{recording.call_sid}",
    }
    await enqueue(
        session,
        tenant_id=recording.tenant_id,
        call_sid=recording.call_sid,
        url=recording.transcribe_callback,
        params=params,
        kind="transcription",
    )
