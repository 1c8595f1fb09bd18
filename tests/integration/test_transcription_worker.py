"""The transcription worker against real databases, the real model and real audio:
jobs end as transcripts exactly once, poison files fail with a reason and never
loop, a killed worker's job is taken over after its lease."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from transcription_helpers import Overlap, joined, prompt, seed_recording

from switchboard.config import Settings
from switchboard.models import SystemState, Transcript, TranscriptionJob, Voicemail, utcnow
from switchboard.services import transcripts as service
from switchboard.transcription.metrics import WorkerMetrics
from switchboard.transcription.model import resolve_model
from switchboard.transcription.wer import normalize
from switchboard.transcription.worker import TranscriptionWorker, WorkerOptions
from tests.eventually import eventually

pytestmark = pytest.mark.slow

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(database_url=db_url, storage_root=tmp_path / "storage")


def make_worker(
    sessionmaker: Sessions, settings: Settings, *, max_attempts: int = 3, worker_id: str = "w1"
) -> TranscriptionWorker:
    return TranscriptionWorker(
        sessionmaker=sessionmaker,
        settings=settings,
        options=WorkerOptions(lease_seconds=30, max_attempts=max_attempts, poll_seconds=0.1),
        metrics=WorkerMetrics(),
        worker_id=worker_id,
    )


async def jobs(sessionmaker: Sessions) -> list[TranscriptionJob]:
    async with sessionmaker() as session:
        return list((await session.execute(select(TranscriptionJob))).scalars())


async def transcripts(sessionmaker: Sessions, recording_id: str) -> list[Transcript]:
    async with sessionmaker() as session:
        return await service.transcript_history(session, recording_id)


async def test_voicemail_is_transcribed_into_its_transcript_and_voicemail_text(
    sessionmaker: Sessions, settings: Settings
) -> None:
    async with sessionmaker() as session, session.begin():
        rec = await seed_recording(
            session, settings.resolved_storage_root, prompt("agent-pass").path
        )
    worker = make_worker(sessionmaker, settings)

    assert await worker.run_once() == 1

    [job] = await jobs(sessionmaker)
    assert (job.status, job.attempts, job.last_error) == ("done", 1, None)
    [transcript] = await transcripts(sessionmaker, rec.id)
    assert transcript.is_current and transcript.model == "tiny.en"
    assert transcript.call_sid == rec.call_sid
    assert "password" in normalize(transcript.text)
    assert transcript.segments and transcript.segments[0]["speaker"] == "caller"
    assert {"start", "end", "text", "confidence"} <= set(transcript.segments[0])
    async with sessionmaker() as session:
        voicemail = (await session.execute(select(Voicemail))).scalar_one()
        beat = await session.get(SystemState, "worker_heartbeat:w1")
    assert voicemail.transcription == transcript.text
    assert beat is not None and json.loads(beat.value)["done"] == 1


async def test_a_worker_runs_jobs_side_by_side_each_exactly_once(
    sessionmaker: Sessions, settings: Settings
) -> None:
    said = {
        "agent-pass": "password",
        "cannot-complete-as-dialed": "completed",
        "check-number-dial-again": "number",
        "conf-onlyperson": "conference",
    }
    async with sessionmaker() as session, session.begin():
        recordings = {
            name: await seed_recording(
                session, settings.resolved_storage_root, prompt(name).path
            )
            for name in said
        }
    worker = TranscriptionWorker(
        sessionmaker=sessionmaker,
        settings=settings,
        options=WorkerOptions(concurrency=2, lease_seconds=30, poll_seconds=0.1),
        metrics=WorkerMetrics(),
        worker_id="pair",
    )
    transcriber = await worker.transcriber()
    jobs_at_once = Overlap(transcriber.transcribe)
    transcriber.transcribe = jobs_at_once  # type: ignore[method-assign]

    assert await worker.run_once() == 4

    assert jobs_at_once.most == 2
    assert {(j.status, j.attempts, j.worker_id) for j in await jobs(sessionmaker)} == {
        ("done", 1, "pair")
    }
    for name, word in said.items():
        [transcript] = await transcripts(sessionmaker, recordings[name].id)
        assert word in normalize(transcript.text), (name, transcript.text)


async def test_corrupt_file_ends_failed_with_the_reason_and_is_not_retried(
    sessionmaker: Sessions, settings: Settings, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF....WAVEfmt " + os.urandom(2000))
    async with sessionmaker() as session, session.begin():
        await seed_recording(session, settings.resolved_storage_root, corrupt)
    worker = make_worker(sessionmaker, settings)

    assert await worker.run_once() == 1
    assert await worker.run_once() == 0

    [job] = await jobs(sessionmaker)
    assert job.status == "failed"
    assert job.attempts == 1
    assert job.last_error and "transcription-audio-undecodable" in job.last_error


async def test_missing_file_is_retried_with_back_off_then_fails(
    sessionmaker: Sessions, settings: Settings
) -> None:
    async with sessionmaker() as session, session.begin():
        rec = await seed_recording(
            session, settings.resolved_storage_root, prompt("agent-pass").path
        )
    (settings.resolved_storage_root / rec.path).unlink()
    worker = make_worker(sessionmaker, settings, max_attempts=2)

    assert await worker.run_once() == 1
    [job] = await jobs(sessionmaker)
    assert job.status == "queued" and job.attempts == 1
    assert job.next_attempt_at > utcnow()
    assert job.last_error and "not found" in job.last_error
    assert await worker.run_once() == 0  # backing off: not due yet

    async with sessionmaker() as session, session.begin():
        await session.execute(update(TranscriptionJob).values(next_attempt_at=utcnow()))
    assert await worker.run_once() == 1
    [job] = await jobs(sessionmaker)
    assert job.status == "failed" and job.attempts == 2


async def test_job_abandoned_on_every_attempt_ends_failed_instead_of_looping(
    sessionmaker: Sessions, settings: Settings
) -> None:
    async with sessionmaker() as session, session.begin():
        await seed_recording(session, settings.resolved_storage_root, prompt("agent-pass").path)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(TranscriptionJob).values(
                status="running", attempts=3, worker_id="dead",
                lease_until=utcnow() - timedelta(seconds=1),
            )
        )
    worker = make_worker(sessionmaker, settings, max_attempts=3)

    assert await worker.run_once() == 0

    [job] = await jobs(sessionmaker)
    assert job.status == "failed"
    assert job.last_error and "abandoned" in job.last_error


async def test_retranscribe_with_another_model_keeps_the_previous_transcript(
    sessionmaker: Sessions, settings: Settings
) -> None:
    async with sessionmaker() as session, session.begin():
        rec = await seed_recording(
            session, settings.resolved_storage_root, prompt("conf-onlyperson").path
        )
    worker = make_worker(sessionmaker, settings)
    assert await worker.run_once() == 1
    other_model = resolve_model("tiny.en")  # the same weights, named by their directory

    async with sessionmaker() as session, session.begin():
        queued = await service.retranscribe(session, model=other_model, call_sid=rec.call_sid)
        again = await service.retranscribe(session, model=other_model, call_sid=rec.call_sid)
    assert len(queued) == 1 and again == []
    assert await worker.run_once() == 1

    newest, previous = await transcripts(sessionmaker, rec.id)
    assert (newest.model, newest.is_current) == (other_model, True)
    assert (previous.model, previous.is_current) == ("tiny.en", False)
    async with sessionmaker() as session:
        current = await service.get_call_transcripts(session, rec.call_sid)
    assert [t.id for t in current] == [newest.id]


async def test_search_finds_a_call_by_a_word_said_in_it_and_not_by_one_that_was_not(
    sessionmaker: Sessions, settings: Settings
) -> None:
    async with sessionmaker() as session, session.begin():
        password = await seed_recording(
            session, settings.resolved_storage_root, prompt("agent-pass").path
        )
        conference = await seed_recording(
            session, settings.resolved_storage_root, prompt("conf-onlyperson").path
        )
    assert await make_worker(sessionmaker, settings).run_once() == 2

    async with sessionmaker() as session:
        by_password = await service.search_transcripts(session, "password")
        by_conference = await service.search_transcripts(session, "conference")
        by_unsaid = await service.search_transcripts(session, "elephant")
    assert [h.call_sid for h in by_password.items] == [password.call_sid]
    assert [h.call_sid for h in by_conference.items] == [conference.call_sid]
    assert by_unsaid.total == 0 and not by_unsaid.items
    assert "<mark>" in by_password.items[0].snippet


async def terminate_when(
    condition: Callable[[], Awaitable[object]], process: asyncio.subprocess.Process
) -> int:
    """Wait for ``condition``, SIGTERM ``process`` and return its exit code (killed if stuck)."""
    try:
        await eventually(condition, timeout=90, what="the condition")
        process.terminate()
        return await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.fixture
async def long_recording(tmp_path: Path) -> AsyncIterator[Path]:
    names = ("auth-incorrect", "conf-onlyperson", "cannot-complete-as-dialed",
             "check-number-dial-again", "all-circuits-busy-now", "queue-thankyou")
    parts = [prompt(n).path for n in names]
    path = tmp_path / "long.wav"
    joined(path, parts)
    yield path


async def test_worker_killed_mid_job_is_reclaimed_after_its_lease_and_finished_once(
    sessionmaker: Sessions, settings: Settings, db_url: str, long_recording: Path
) -> None:
    async with sessionmaker() as session, session.begin():
        rec = await seed_recording(session, settings.resolved_storage_root, long_recording)
    env = {
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": db_url,
        "SWITCHBOARD_STORAGE_ROOT": str(settings.resolved_storage_root),
    }
    victim = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "switchboard.cli", "worker", "--worker-id", "victim",
        "--lease-seconds", "3", "--poll-seconds", "0.1",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async def leased() -> bool:
            [job] = await jobs(sessionmaker)
            return job.status == "running" and job.worker_id == "victim"

        await eventually(leased, timeout=90, what="the job leased")
        victim.send_signal(signal.SIGKILL)
        await asyncio.wait_for(victim.wait(), 10)
    finally:
        if victim.returncode is None:
            victim.kill()
            await victim.wait()

    [job] = await jobs(sessionmaker)
    assert (job.status, job.worker_id, job.attempts) == ("running", "victim", 1)
    assert await transcripts(sessionmaker, rec.id) == []

    heir = make_worker(sessionmaker, settings, worker_id="heir")

    async def lease_expired() -> bool:
        [job] = await jobs(sessionmaker)
        return job.lease_until is not None and job.lease_until < utcnow()

    await eventually(lease_expired, timeout=90, what="the lease expired")
    assert await heir.run_once() == 1
    assert await heir.run_once() == 0

    [job] = await jobs(sessionmaker)
    assert (job.status, job.worker_id, job.attempts) == ("done", "heir", 2)
    [transcript] = await transcripts(sessionmaker, rec.id)
    assert "conference" in normalize(transcript.text)


async def test_sigterm_stops_the_worker_cleanly_and_its_heartbeat_says_so(
    sessionmaker: Sessions, settings: Settings, db_url: str
) -> None:
    env = {
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": db_url,
        "SWITCHBOARD_STORAGE_ROOT": str(settings.resolved_storage_root),
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "switchboard.cli", "worker", "--worker-id", "polite",
        "--poll-seconds", "0.1",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )

    async def beat_state() -> str | None:
        async with sessionmaker() as session:
            row = await session.get(SystemState, "worker_heartbeat:polite")
        return json.loads(row.value)["state"] if row else None

    async def running() -> bool:
        return await beat_state() == "running"

    assert await terminate_when(running, worker) == 0
    assert await beat_state() == "stopped"


async def test_serve_starts_its_worker_without_the_virtualenv_on_path(
    sessionmaker: Sessions, settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from switchboard.runtime import start_worker_process

    async with sessionmaker() as session, session.begin():
        rec = await seed_recording(
            session, settings.resolved_storage_root, prompt("agent-pass").path
        )
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", db_url)
    monkeypatch.setenv("SWITCHBOARD_STORAGE_ROOT", str(settings.resolved_storage_root))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # as under scripts/run: no .venv/bin

    worker = await start_worker_process()

    async def transcribed() -> bool:
        return bool(await transcripts(sessionmaker, rec.id))

    assert await terminate_when(transcribed, worker) == 0
    [transcript] = await transcripts(sessionmaker, rec.id)
    assert "password" in normalize(transcript.text)


async def test_a_job_that_fails_for_good_tells_the_transcribe_callback(
    sessionmaker: Sessions, settings: Settings, tmp_path: Path
) -> None:
    import functools

    from switchboard.models import Tenant, WebhookDelivery
    from switchboard.services.transcription_callbacks import announce_failure

    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF....WAVEfmt " + os.urandom(2000))
    async with sessionmaker() as session, session.begin():
        tenant = Tenant(name="Callback Co")
        session.add(tenant)
        await session.flush()
        recording = await seed_recording(session, settings.resolved_storage_root, corrupt)
        recording.tenant_id = tenant.id
        recording.transcribe_callback = "http://127.0.0.1:9/transcribed"
    worker = TranscriptionWorker(
        sessionmaker=sessionmaker, settings=settings,
        options=WorkerOptions(lease_seconds=30, max_attempts=2, poll_seconds=0.1),
        metrics=WorkerMetrics(), worker_id="fail-callback",
        on_failed=functools.partial(announce_failure, base_url="http://sb.test"),
    )
    assert await worker.run_once() == 1
    async with sessionmaker() as session:
        [delivery] = (await session.scalars(select(WebhookDelivery))).all()
    assert delivery.kind == "transcription" and delivery.url == "http://127.0.0.1:9/transcribed"
    assert delivery.params["TranscriptionStatus"] == "failed"
    assert delivery.params["RecordingSid"] == recording.recording_sid
