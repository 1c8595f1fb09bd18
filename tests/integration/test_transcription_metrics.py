"""The API's /metrics reports the transcription queue and recent throughput, read
from the database (SQLite and PostgreSQL), after a real worker transcribed a real
voicemail in another object than the API: any process sees the same figures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from transcription_helpers import prompt, seed_recording

from switchboard.api.app import create_app
from switchboard.config import Settings
from switchboard.models import Transcript, TranscriptionJob, utcnow
from switchboard.transcription.metrics import WorkerMetrics, queue_figures
from switchboard.transcription.worker import TranscriptionWorker, WorkerOptions

pytestmark = pytest.mark.slow

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        storage_root=tmp_path / "storage",
        state_dir=tmp_path / "state",
        secret_key="metrics-test-secret",
        redis_url="",
    )


@pytest.fixture
async def client(settings: Settings, sessionmaker: Sessions) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, sessionmaker=sessionmaker)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def jobs(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    return {
        dict(labels)["status"]: value
        for (name, labels), value in samples.items()
        if name == "switchboard_transcription_queue_jobs"
    }


def make_worker(sessionmaker: Sessions, settings: Settings, worker_id: str) -> TranscriptionWorker:
    return TranscriptionWorker(
        sessionmaker=sessionmaker,
        settings=settings,
        options=WorkerOptions(lease_seconds=30, max_attempts=2, poll_seconds=0.1),
        metrics=WorkerMetrics(),
        worker_id=worker_id,
    )


async def test_metrics_show_the_queue_and_the_throughput_of_a_real_worker(
    sessionmaker: Sessions, settings: Settings, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    empty = await scrape(client)
    assert jobs(empty) == {"queued": 0, "running": 0, "done": 0, "failed": 0}
    assert empty[("switchboard_transcription_queue_oldest_queued_age_seconds", ())] == 0
    assert empty[("switchboard_transcription_recent_audio_seconds", ())] == 0
    assert empty[("switchboard_transcription_workers_alive", ())] == 0

    voicemail = prompt("agent-pass")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 10)
    async with sessionmaker() as session, session.begin():
        await seed_recording(session, settings.resolved_storage_root, voicemail.path)
        await seed_recording(session, settings.resolved_storage_root, corrupt)
    queued = await scrape(client)
    assert jobs(queued) == {"queued": 2, "running": 0, "done": 0, "failed": 0}
    assert queued[("switchboard_transcription_queue_due_jobs", ())] == 2

    worker = make_worker(sessionmaker, settings, "metrics-w1")
    assert await worker.run_once() == 2
    async with sessionmaker() as session, session.begin():
        await seed_recording(session, settings.resolved_storage_root, voicemail.path)
        await session.execute(  # queued a minute ago, retried later: not due yet
            update(TranscriptionJob)
            .where(TranscriptionJob.status == "queued")
            .values(
                created_at=utcnow() - timedelta(seconds=60),
                next_attempt_at=utcnow() + timedelta(minutes=5),
            )
        )

    after = await scrape(client)
    assert jobs(after) == {"queued": 1, "running": 0, "done": 1, "failed": 1}
    assert after[("switchboard_transcription_queue_due_jobs", ())] == 0
    assert 59 <= after[("switchboard_transcription_queue_oldest_queued_age_seconds", ())] < 120
    async with sessionmaker() as session:
        [stored] = (await session.execute(select(Transcript))).scalars()
    assert after[("switchboard_transcription_recent_transcripts", ())] == 1
    audio = after[("switchboard_transcription_recent_audio_seconds", ())]
    busy = after[("switchboard_transcription_recent_processing_seconds", ())]
    assert audio == pytest.approx(stored.audio_seconds) and audio == pytest.approx(
        voicemail.seconds
    )
    assert busy == pytest.approx(stored.processing_seconds) and busy > 0
    assert after[("switchboard_transcription_recent_rtf", ())] == pytest.approx(busy / audio)
    window = after[("switchboard_transcription_recent_window_seconds", ())]
    assert after[("switchboard_transcription_recent_throughput", ())] == pytest.approx(
        audio / window
    )
    # run_once beats "stopped" at the end: a stopped worker is not alive
    assert after[("switchboard_transcription_workers_alive", ())] == 0


async def test_old_transcripts_leave_the_window_and_a_fresh_heartbeat_counts(
    sessionmaker: Sessions, settings: Settings, client: httpx.AsyncClient
) -> None:
    async with sessionmaker() as session, session.begin():
        await seed_recording(session, settings.resolved_storage_root, prompt("agent-pass").path)
    worker = make_worker(sessionmaker, settings, "metrics-w2")
    assert await worker.run_once() == 1
    await worker._beat(state="running")  # as its heartbeat loop does while it runs

    async with sessionmaker() as session:
        now = await queue_figures(session)
        later = await queue_figures(session, now=utcnow() + timedelta(minutes=10))
    assert now.recent_transcripts == 1 and now.workers_alive == 1
    assert later.recent_transcripts == 0 and later.recent_audio_seconds == 0
    assert later.recent_rtf == 0 and later.workers_alive == 0  # heartbeat too old by then
    samples = await scrape(client)
    assert samples[("switchboard_transcription_workers_alive", ())] == 1
