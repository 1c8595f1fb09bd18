"""``/api/voice/status`` and ``/api/voice/recording``: provider callbacks about a call.

Both may be repeated by the provider (it retries what it could not
confirm); applying one twice changes nothing more than applying it once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.callflow.status import (
    FINAL_CALL_STATUSES,
    CallEvent,
    next_status,
)
from switchboard.models import (
    CallLog,
    Recording,
    RecordingSource,
    Tenant,
    Trunk,
    Voicemail,
    VoiceUsage,
    utcnow,
)
from switchboard.models.upsert import insert_missing
from switchboard.services.exceptions import BadRequest, NotFound
from switchboard.services.transcripts import enqueue_transcription, job_for_recording
from switchboard.services.voice_webhooks.forms import Caller, RecordingReport, WebhookCall
from switchboard.services.voice_webhooks.recording_fetch import (
    RecordingFetcher,
    RecordingNotFetched,
)
from switchboard.services.voice_webhooks.rows import CALL_STATUSES, call_log, ensure_not_foreign


async def record_status(
    session: AsyncSession, call: WebhookCall, caller: Caller, *, duration: int | None,
    now: datetime,
) -> CallLog:
    """Apply a status callback to the call's row (and the tenant's voice usage).

    A ``completed`` callback with ``CallDuration`` adds the duration to the
    tenant's ``voice_seconds_used`` once per call, however often it is
    repeated. A call that ended neither answered by staff nor with a
    voicemail becomes ``MISSED``.

    Raises:
        BadRequest: an unknown ``CallStatus``.
        NotFound: the call SID belongs to another tenant.
    """
    if call.call_status not in CALL_STATUSES:
        raise BadRequest(f"unknown CallStatus {call.call_status!r}", field="CallStatus")
    row = await call_log(session, call, caller, now=now)
    row.call_status = call.call_status
    if call.call_status not in FINAL_CALL_STATUSES:
        return row
    row.ended_at = row.ended_at or now
    if call.call_status == "completed" and duration is not None:
        row.duration = duration
        if row.tenant_id is not None:
            await _count_usage(session, row.tenant_id, call.call_sid, duration)
    if not row.has_voicemail:
        row.status = next_status(row.status, CallEvent.ENDED)
    return row


async def _count_usage(session: AsyncSession, tenant_id: str, call_sid: str, seconds: int) -> None:
    values = {"call_sid": call_sid, "tenant_id": tenant_id, "seconds": seconds}
    if await insert_missing(session, VoiceUsage, values, "call_sid"):
        await session.execute(
            update(Tenant)
            .where(Tenant.id == tenant_id)
            .values(voice_seconds_used=Tenant.voice_seconds_used + seconds)
        )


# -- /api/voice/recording -------------------------------------------------------------


def is_remote(recording: Recording) -> bool:
    """Whether the row predates fetching: its path is the provider's URL, not a file here.

    Such a row is never fetched on playback (it is 404 there); its audio is at the provider.
    """
    return recording.path.startswith(("http://", "https://"))


async def record_recording(
    session: AsyncSession, report: RecordingReport, caller: Caller, *, voicemail: bool,
    fetcher: RecordingFetcher,
) -> Recording:
    """Store a recording callback: the recording, and for voicemail the message.

    A recording the engine already stored (same SID) is updated, never
    duplicated; so is its voicemail. A new, completed recording from a
    provider is fetched once into storage through the fetch policy
    (:mod:`.recording_fetch`) before anything is written, then transcribed
    like the engine's; when it cannot be fetched the row is kept ``failed``
    and the call log's ``recording_error`` says why. Both SIDs are looked up
    in the caller's tenant only.

    Raises:
        BadRequest: a new recording without ``RecordingUrl``.
        NotFound: no tenant sent it, or the recording or call belongs to another tenant.
        ProviderFailed: the provider did not give the audio now (the callback
            answers 502 and the provider repeats it).
    """
    if caller.tenant is None:
        raise NotFound("No account matches this callback", field="AccountSid")
    tenant_id = caller.tenant.id
    await ensure_not_foreign(session, report.call_sid, tenant_id)
    owner = await session.scalar(
        select(Recording.tenant_id).where(Recording.recording_sid == report.recording_sid)
    )
    new: dict[str, Any] | None = None
    not_fetched: str | None = None
    if owner is None:
        # Fetch before writing anything: no lock is held while the provider answers.
        new, not_fetched = await _new_recording(session, report, tenant_id, fetcher)
    elif owner != tenant_id:
        raise NotFound("Recording not found", field="RecordingSid")
    if not await _lock_recording(session, report.recording_sid, tenant_id):
        if new is None:  # deleted since it was read
            raise NotFound("Recording not found", field="RecordingSid")
        await insert_missing(session, Recording, new, "recording_sid")
    recording = await _recording(session, report.recording_sid, tenant_id)
    if is_remote(recording):
        recording.status = report.status[:16]
        if report.duration is not None:
            recording.duration = float(report.duration)
        if report.channels:
            recording.channels = report.channels
    elif (
        recording.path and recording.status == "completed"
        and await job_for_recording(session, recording.id) is None
    ):
        enqueue_transcription(session, recording)
    stmt = select(CallLog).where(
        CallLog.call_sid == recording.call_sid, CallLog.tenant_id == tenant_id
    )
    row = (await session.execute(stmt)).scalars().first()
    if row is not None and not_fetched is not None:
        row.recording_error = not_fetched[:300]
    if voicemail and report.status == "completed":
        recording.source = RecordingSource.VOICEMAIL
        await _voicemail(session, recording, row)
        if row is not None:
            row.has_voicemail = True
            row.status = next_status(row.status, CallEvent.VOICEMAIL_LEFT)
    elif row is not None and report.status == "completed":
        row.has_recording = True
    return recording


async def _new_recording(
    session: AsyncSession, report: RecordingReport, tenant_id: str, fetcher: RecordingFetcher
) -> tuple[dict[str, Any], str | None]:
    """The row of a recording first heard of now, its audio fetched when it is complete.

    Returns:
        The row's values, and why the audio was not fetched (``None`` when it was).
    """
    if not report.recording_url:
        raise BadRequest("RecordingUrl is required", field="RecordingUrl")
    values: dict[str, Any] = {
        "recording_sid": report.recording_sid, "tenant_id": tenant_id,
        "call_sid": report.call_sid, "path": "", "source": report.source,
        "status": report.status[:16], "channels": report.channels or 1,
        "duration": float(report.duration or 0), "format": "wav",
    }
    if report.status != "completed":
        return values, None  # nothing to fetch (yet): the provider has no audio
    credentials = await provider_credentials(session, tenant_id, report.recording_url)
    try:
        fetched = await fetcher.fetch(
            report.recording_url, tenant_id=tenant_id, recording_sid=report.recording_sid,
            credentials=credentials,
        )
    except RecordingNotFetched as exc:
        values["status"] = "failed"
        return values, f"recording not fetched: {exc.reason}"
    values.update(
        path=fetched.relative_path, format=fetched.format, size_bytes=fetched.size_bytes,
        duration=fetched.duration if fetched.duration is not None else values["duration"],
        channels=fetched.channels or values["channels"],
    )
    return values, None


async def _lock_recording(session: AsyncSession, recording_sid: str, tenant_id: str) -> bool:
    """Touch the tenant's recording row, which locks it until commit; whether it exists.

    A write first (not ``SELECT ... FOR UPDATE``, which SQLite lacks): on
    PostgreSQL it locks the row, on SQLite it takes the database's write lock.
    A repeated callback running at the same time waits here, then finds the
    voicemail this one made instead of making a second. Another tenant's row
    with the same SID is not touched.
    """
    stmt = (
        update(Recording)
        .where(Recording.recording_sid == recording_sid, Recording.tenant_id == tenant_id)
        .values(updated_at=utcnow())
        .returning(Recording.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def _recording(session: AsyncSession, recording_sid: str, tenant_id: str) -> Recording:
    """The tenant's recording with this SID.

    Raises:
        NotFound: the SID is another tenant's recording.
    """
    stmt = (
        select(Recording)
        .where(Recording.recording_sid == recording_sid, Recording.tenant_id == tenant_id)
        .execution_options(populate_existing=True)
    )
    found = (await session.execute(stmt)).scalars().first()
    if found is None:
        raise NotFound("Recording not found", field="RecordingSid")
    return found


async def _voicemail(session: AsyncSession, recording: Recording, row: CallLog | None) -> Voicemail:
    stmt = select(Voicemail).where(Voicemail.recording_id == recording.id)
    message = (await session.execute(stmt)).scalars().first()
    if message is None:
        message = Voicemail(
            tenant_id=recording.tenant_id,
            number_id=row.number_id if row else None,
            call_sid=recording.call_sid,
            recording_id=recording.id,
            from_number=row.from_number if row else "",
            to_number=row.to_number if row else "",
        )
        session.add(message)
    message.duration = recording.duration
    await session.flush()
    return message




async def provider_credentials(
    session: AsyncSession, tenant_id: str, url: str
) -> tuple[str, str] | None:
    """Basic-auth credentials for a provider's recording URL, from the tenant's trunks.

    A provider names the account in its recording URLs
    (``.../Accounts/AC.../Recordings/RE...``); the trunk holding that account
    SID and its auth token is the one to authenticate with.
    """
    stmt = select(Trunk).where(Trunk.tenant_id == tenant_id, Trunk.account_sid.is_not(None))
    for trunk in (await session.execute(stmt)).scalars():
        if trunk.account_sid and trunk.auth_token and trunk.account_sid in url:
            return trunk.account_sid, trunk.auth_token
    return None
