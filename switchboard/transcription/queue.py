"""The transcription job queue in the database: claim, renew, finish, retry.

Jobs are claimed with the one lease-and-claim queue
(:class:`switchboard.models.lease.LeaseQueue`, shared with the webhook
outbox): on PostgreSQL the row is picked with ``FOR UPDATE SKIP LOCKED`` so
workers never wait on each other; on SQLite (one writer at a time) the claim's
UPDATE repeats the claim condition, so a row another worker took in between
is not taken twice. Every later write is conditional on still holding the
lease (``worker_id`` and ``status='running'``): a worker that lost its job to
a lease expiry cannot finish it a second time. A failed attempt waits the one
back-off formula (:mod:`switchboard.backoff`, without jitter) before the job
is due again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.backoff import backoff_delay
from switchboard.models import TranscriptionJob, utcnow
from switchboard.models.lease import LeaseQueue

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"

JOBS = LeaseQueue(
    table=cast(Table, TranscriptionJob.__table__),
    waiting=QUEUED,
    held=RUNNING,
    holder="worker_id",
)


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job this worker holds the lease of."""

    id: str
    recording_id: str
    model: str | None
    attempts: int


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


async def fail_abandoned(session: AsyncSession, *, max_attempts: int) -> int:
    """End jobs whose lease ran out ``max_attempts`` times: a file that kills workers.

    Returns:
        How many jobs were marked ``failed``.
    """
    now = utcnow()
    result = await session.execute(
        update(TranscriptionJob)
        .where(JOBS.abandoned(now, max_attempts=max_attempts))
        .values(
            status=FAILED,
            lease_until=None,
            last_error=f"abandoned: the lease ran out on {max_attempts} attempts "
            "(a worker died or hung on this file each time)",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


async def claim(
    session: AsyncSession, *, worker_id: str, lease_seconds: float, max_attempts: int
) -> ClaimedJob | None:
    """Take the next due job and lease it to ``worker_id`` (caller commits).

    Returns:
        The claimed job, or None when nothing is due.
    """
    now = utcnow()
    taken = await JOBS.claim(
        session,
        holder=worker_id,
        now=now,
        lease_seconds=lease_seconds,
        limit=1,
        order_by=(TranscriptionJob.created_at,),
        max_attempts=max_attempts,
        count_attempt=True,
        values={"updated_at": now},
    )
    if not taken:
        return None
    job = TranscriptionJob
    row = (
        await session.execute(
            select(job.id, job.recording_id, job.model, job.attempts).where(job.id == taken[0])
        )
    ).one()
    return ClaimedJob(id=row[0], recording_id=row[1], model=row[2], attempts=int(row[3]))


async def renew(
    session: AsyncSession, job_id: str, *, worker_id: str, lease_seconds: float
) -> bool:
    """Extend the lease of a job still held; False when it was lost."""
    now = utcnow()
    return await JOBS.renew(
        session,
        job_id,
        holder=worker_id,
        now=now,
        lease_seconds=lease_seconds,
        values={"updated_at": now},
    )


async def mark_done(session: AsyncSession, job_id: str, *, worker_id: str) -> bool:
    """Mark a held job done (in the transaction that writes its transcript).

    Returns:
        False when the lease was lost: the caller must roll back.
    """
    values = {"status": DONE, "last_error": None, "updated_at": utcnow()}
    return await JOBS.release(session, job_id, holder=worker_id, values=values)


async def mark_failed(
    session: AsyncSession,
    job: ClaimedJob,
    *,
    worker_id: str,
    reason: str,
    retryable: bool,
    max_attempts: int,
    retry_base_seconds: float,
    retry_max_seconds: float,
) -> str | None:
    """Record a failed attempt: retry later with back-off, or end as ``failed``.

    Returns:
        The new status (``queued`` or ``failed``), or None if the lease was lost.
    """
    now = utcnow()
    final = not retryable or job.attempts >= max_attempts
    values: dict[str, Any] = {"last_error": reason[:2000], "updated_at": now}
    if final:
        values["status"] = FAILED
    else:
        delay = backoff_delay(
            job.attempts, base=retry_base_seconds, cap=retry_max_seconds, jitter=None
        )
        values.update(
            status=QUEUED, worker_id=None, next_attempt_at=now + timedelta(seconds=delay)
        )
    if not await JOBS.release(session, job.id, holder=worker_id, values=values):
        return None
    return FAILED if final else QUEUED
