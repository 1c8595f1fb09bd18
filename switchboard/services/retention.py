"""Retention: each tenant's recordings, voicemails, transcripts and messages expire.

A tenant sets days per kind (``retention_*_days``; none keeps forever).
:func:`apply_retention` deletes what is older, files included (a transcript
goes with its recording; the search index follows the transcripts by
trigger). :class:`RetentionSweeper` runs it periodically in the serving
process.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.models import Message, Recording, Tenant, Transcript, Voicemail, utcnow
from switchboard.services.voicemails import recording_file

log = logging.getLogger(__name__)


async def apply_retention(
    session: AsyncSession, *, storage_root: Path, now: datetime | None = None
) -> dict[str, int]:
    """Delete every tenant's expired data; counts of what was deleted, by kind."""
    now = now or utcnow()
    counts = {"recordings": 0, "voicemails": 0, "transcripts": 0, "messages": 0}
    files: list[Path] = []
    tenants = (await session.scalars(select(Tenant))).all()
    for tenant in tenants:
        if tenant.retention_voicemails_days is not None:
            cutoff = now - timedelta(days=tenant.retention_voicemails_days)
            old = (await session.scalars(select(Voicemail).where(
                Voicemail.tenant_id == tenant.id, Voicemail.created_at < cutoff))).all()
            for voicemail in old:
                recording = (await session.get(Recording, voicemail.recording_id)
                             if voicemail.recording_id else None)
                await session.delete(voicemail)
                if recording is not None:
                    files += [p for p in [recording_file(storage_root, recording)] if p]
                    await session.delete(recording)
            counts["voicemails"] += len(old)
        if tenant.retention_recordings_days is not None:
            cutoff = now - timedelta(days=tenant.retention_recordings_days)
            voicemail_recordings = select(Voicemail.recording_id).where(
                Voicemail.recording_id.is_not(None))
            old_recordings = (await session.scalars(select(Recording).where(
                Recording.tenant_id == tenant.id, Recording.created_at < cutoff,
                Recording.id.not_in(voicemail_recordings)))).all()
            for recording in old_recordings:
                files += [p for p in [recording_file(storage_root, recording)] if p]
                await session.execute(delete(Transcript).where(
                    Transcript.recording_id == recording.id))
                await session.delete(recording)
            counts["recordings"] += len(old_recordings)
        if tenant.retention_transcripts_days is not None:
            cutoff = now - timedelta(days=tenant.retention_transcripts_days)
            result = await session.execute(delete(Transcript).where(
                Transcript.tenant_id == tenant.id, Transcript.created_at < cutoff))
            counts["transcripts"] += result.rowcount or 0  # type: ignore[attr-defined]
        if tenant.retention_messages_days is not None:
            cutoff = now - timedelta(days=tenant.retention_messages_days)
            result = await session.execute(delete(Message).where(
                Message.tenant_id == tenant.id, Message.created_at < cutoff))
            counts["messages"] += result.rowcount or 0  # type: ignore[attr-defined]
    await session.flush()
    for path in files:
        await asyncio.to_thread(path.unlink, missing_ok=True)
    return counts


class RetentionSweeper:
    """Applies retention every ``interval`` seconds until stopped."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, storage_root: Path,
                 interval: float) -> None:
        self._sessionmaker = sessionmaker
        self._storage_root = storage_root
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start sweeping in the background."""
        self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        """Stop sweeping."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                async with self._sessionmaker() as session, session.begin():
                    counts = await apply_retention(session, storage_root=self._storage_root)
                if any(counts.values()):
                    log.info("retention applied", extra=counts)
            except Exception:
                log.warning("retention sweep failed", exc_info=True)
            await asyncio.sleep(self._interval)
