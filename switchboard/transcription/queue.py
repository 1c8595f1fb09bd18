"""The transcription job queue in the database: claim, renew, finish, retry.

A job is claimed by one UPDATE that sets its lease: on PostgreSQL the row is
picked with ``FOR UPDATE SKIP LOCKED`` so workers never wait on each other;
on SQLite (one writer at a time) the same UPDATE repeats the claim condition
in its WHERE, so a row another worker took in between is not taken twice.
Every later write is conditional on still holding the lease
(``worker_id`` and ``status='running'``): a worker that lost its job to a
lease expiry cannot finish it a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from switchboard.models import TranscriptionJob, utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job this worker holds the lease of."""

    id: str
    recording_id: str
    model: str | None
    attempts: int


def backoff_seconds(attempts: int, *, base: float = 10.0, cap: float = 900.0) -> float:
    """Delay before retry number ``attempts`` (exponential, capped)."""
    return float(min(cap, base * 2.0 ** max(0, attempts - 1)))


def _claimable(now: datetime, max_attempts: int) -> ColumnElement[bool]:
    job = TranscriptionJob
    return or_(
        and_(job.status == QUEUED, job.next_attempt_at <= now),
        and_(job.status == RUNNING, job.lease_until < now, job.attempts < max_attempts),
    )


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


async def fail_abandoned(session: AsyncSession, *, max_attempts: int) -> int:
    """End jobs whose lease ran out ``max_attempts`` times: a file that kills workers.

    Returns:
        How many jobs were marked ``failed``.
    """
    now = utcnow()
    job = TranscriptionJob
    result = await session.execute(
        update(job)
        .where(job.status == RUNNING, job.lease_until < now, job.attempts >= max_attempts)
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
    job = TranscriptionJob
    due = _claimable(now, max_attempts)
    pick = (
        select(job.id)
        .where(due)
        .order_by(job.next_attempt_at, job.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(job)
        .where(job.id == pick, due)
        .values(
            status=RUNNING,
            worker_id=worker_id,
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=job.attempts + 1,
            updated_at=now,
        )
        .returning(job.id, job.recording_id, job.model, job.attempts)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    return ClaimedJob(id=row[0], recording_id=row[1], model=row[2], attempts=int(row[3]))


def _held(job_id: str, worker_id: str) -> ColumnElement[bool]:
    job = TranscriptionJob
    return and_(job.id == job_id, job.worker_id == worker_id, job.status == RUNNING)


async def renew(
    session: AsyncSession, job_id: str, *, worker_id: str, lease_seconds: float
) -> bool:
    """Extend the lease of a job still held; False when it was lost."""
    now = utcnow()
    result = await session.execute(
        update(TranscriptionJob)
        .where(_held(job_id, worker_id))
        .values(lease_until=now + timedelta(seconds=lease_seconds), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def mark_done(session: AsyncSession, job_id: str, *, worker_id: str) -> bool:
    """Mark a held job done (in the transaction that writes its transcript).

    Returns:
        False when the lease was lost: the caller must roll back.
    """
    result = await session.execute(
        update(TranscriptionJob)
        .where(_held(job_id, worker_id))
        .values(status=DONE, lease_until=None, last_error=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def mark_failed(
    session: AsyncSession,
    job: ClaimedJob,
    *,
    worker_id: str,
    reason: str,
    retryable: bool,
    max_attempts: int,
) -> str | None:
    """Record a failed attempt: retry later with back-off, or end as ``failed``.

    Returns:
        The new status (``queued`` or ``failed``), or None if the lease was lost.
    """
    now = utcnow()
    final = not retryable or job.attempts >= max_attempts
    values: dict[str, Any] = {"lease_until": None, "last_error": reason[:2000], "updated_at": now}
    if final:
        values["status"] = FAILED
    else:
        values.update(
            status=QUEUED,
            worker_id=None,
            next_attempt_at=now + timedelta(seconds=backoff_seconds(job.attempts)),
        )
    result = await session.execute(
        update(TranscriptionJob)
        .where(_held(job.id, worker_id))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        return None
    return FAILED if final else QUEUED
