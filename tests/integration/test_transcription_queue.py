"""The job queue on both databases: each job is claimed by one worker only,
and on PostgreSQL concurrent claimers skip each other's locked rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from transcription_helpers import seed_recording

from switchboard.transcription import queue

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def three_jobs(sessionmaker: Sessions, tmp_path: Path) -> None:
    audio = tmp_path / "a.wav"
    sf.write(str(audio), np.zeros(800, dtype=np.int16), 8000, subtype="PCM_16")
    async with sessionmaker() as session, session.begin():
        for _ in range(3):
            await seed_recording(session, tmp_path, audio)


async def _claim(session: AsyncSession, worker: str) -> queue.ClaimedJob | None:
    return await queue.claim(session, worker_id=worker, lease_seconds=60, max_attempts=3)


async def test_each_job_is_claimed_once_then_the_queue_is_empty(
    sessionmaker: Sessions, three_jobs: None
) -> None:
    claimed = []
    for worker in ("a", "b", "a", "b"):
        async with sessionmaker() as session, session.begin():
            claimed.append(await _claim(session, worker))
    ids = [job.id for job in claimed[:3] if job is not None]
    assert len(set(ids)) == 3
    assert claimed[3] is None
    assert all(job is not None and job.attempts == 1 for job in claimed[:3])


async def test_a_lost_lease_cannot_finish_the_job(
    sessionmaker: Sessions, three_jobs: None
) -> None:
    async with sessionmaker() as session, session.begin():
        job = await _claim(session, "a")
    assert job is not None
    async with sessionmaker() as session, session.begin():
        assert not await queue.mark_done(session, job.id, worker_id="someone-else")
        assert not await queue.renew(session, job.id, worker_id="someone-else", lease_seconds=5)
        assert await queue.mark_done(session, job.id, worker_id="a")
        assert not await queue.mark_done(session, job.id, worker_id="a")


async def test_concurrent_claims_on_postgresql_skip_locked_rows(
    sessionmaker: Sessions, three_jobs: None, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: claims cannot overlap there")
    async with sessionmaker() as first, sessionmaker() as second:
        await first.begin()
        await second.begin()
        one = await _claim(first, "a")  # row lock held until commit
        two = await _claim(second, "b")  # must not wait for it, nor take it
        await first.commit()
        await second.commit()
    assert one is not None and two is not None and one.id != two.id
