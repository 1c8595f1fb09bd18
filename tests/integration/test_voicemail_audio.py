"""A voicemail left through a real call keeps what the caller said, as they said it.

Real Asterisk, the engine, a real database: the simulated caller speaks a
recorded prompt into the voicemail, and the stored file is compared with the
prompt sample by sample — its level (unity gain), every sound of it (the
faint end of the last word included), and the speaker its transcript names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard import levels
from switchboard.config import Settings
from switchboard.engine.service import Engine
from switchboard.models import Recording, RecordingSource, Transcript, Voicemail
from switchboard.runtime import build_engine
from switchboard.simulate import place_call, wait_for_call_log
from switchboard.transcription.metrics import WorkerMetrics
from switchboard.transcription.wer import normalize
from switchboard.transcription.worker import TranscriptionWorker, WorkerOptions
from tests.integration.engine_helpers import CALLER, DID, PROMPTS, engine_settings, seed_number

pytestmark = [pytest.mark.asterisk, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

Sessions = async_sessionmaker[AsyncSession]

# "Sorry you're having problems.": the fixed -40 dBFS trim cut 150 ms off "problems".
PROMPT = "sorry-youre-having-problems"


@pytest.fixture
async def engine(
    clean_asterisk, db_url, db_engine, sessionmaker, tmp_path
) -> AsyncIterator[Engine]:
    engine = build_engine(engine_settings(clean_asterisk, db_url, tmp_path), sessionmaker)
    await engine.start()
    await engine.wait_ready()
    yield engine
    await engine.stop()


async def _leave_voicemail(engine: Engine, sessionmaker: Sessions) -> Recording:
    await seed_number(sessionmaker, [{"targets": ["+15550001111"], "ring_timeout": 1}])
    await engine.routing.reload()
    await engine.astdb.sync(engine.routing.routes)
    call = await place_call(
        engine.settings, did=DID, caller=CALLER, behaviour="noanswer", say=f"{PROMPTS}/{PROMPT}"
    )
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None, "the call never finished in the call log"
    await engine.writer.flush()
    async with sessionmaker() as session:
        voicemail = await session.scalar(
            select(Voicemail).where(Voicemail.call_sid == row.call_sid)
        )
        assert voicemail is not None and voicemail.recording_id is not None
        recording = await session.get(Recording, voicemail.recording_id)
    assert recording is not None
    return recording


def _source(asterisk_rootfs: Path) -> np.ndarray:
    path = asterisk_rootfs / PROMPTS.lstrip("/") / f"{PROMPT}.wav"
    data, rate = sf.read(str(path), dtype="int16")
    assert rate == 8000
    return data.astype(np.float64)


def _stored(settings: Settings, recording: Recording) -> np.ndarray:
    data, rate = sf.read(str(settings.resolved_storage_root / recording.path), dtype="int16")
    assert rate == 8000 and data.ndim == 1
    return data.astype(np.float64)


def _align(source: np.ndarray, stored: np.ndarray) -> int:
    """Where ``source[0]`` falls in ``stored`` (negative: its start was not stored)."""
    n = len(source) + len(stored)
    corr = np.fft.irfft(np.fft.rfft(stored, 2 * n) * np.conj(np.fft.rfft(source, 2 * n)))
    lag = int(np.argmax(np.abs(corr)))
    return lag - 2 * n if lag > n else lag


def _overlap(source: np.ndarray, stored: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The parts of both that line up, and where the stored part starts in the source."""
    lag = _align(source, stored)
    first = max(0, -lag)
    count = min(len(source) - first, len(stored) - (first + lag))
    return source[first : first + count], stored[first + lag : first + lag + count], first


async def test_a_voicemail_is_stored_at_the_callers_level(
    engine: Engine, sessionmaker: Sessions, asterisk_rootfs: Path
) -> None:
    """Unity gain: the caller's Local channel pair used to run in slin192, whose
    resampling halved every stored voicemail (-6.02 dB, ~38 dB residual)."""
    recording = await _leave_voicemail(engine, sessionmaker)
    said, kept, _ = _overlap(_source(asterisk_rootfs), _stored(engine.settings, recording))

    gain = float(np.dot(kept, said) / np.dot(said, said))
    residual = kept - gain * said
    snr_db = 10 * np.log10(np.sum((gain * said) ** 2) / max(float(np.sum(residual**2)), 1e-9))
    assert gain == pytest.approx(1.0, abs=0.01)
    assert snr_db > 50.0


async def test_a_voicemail_keeps_every_sound_the_caller_made(
    engine: Engine, sessionmaker: Sessions, asterisk_rootfs: Path
) -> None:
    """Trimming keeps the faint end of the last word ("problems"), and quiet around it."""
    source = _source(asterisk_rootfs)
    recording = await _leave_voicemail(engine, sessionmaker)
    stored = _stored(engine.settings, recording)
    said, kept, first = _overlap(source, stored)

    measured = levels.measure(source, 8000)
    sounds = np.flatnonzero(measured.frames > -60.0)
    frame = round(8000 * levels.FRAME_SECONDS)
    start, end = int(sounds[0]) * frame, (int(sounds[-1]) + 1) * frame
    assert first <= start and first + len(said) >= end, (
        f"stored {first / 8000:.3f}-{(first + len(said)) / 8000:.3f} s of the prompt, "
        f"its sounds span {start / 8000:.3f}-{end / 8000:.3f} s"
    )
    assert np.array_equal(kept, said)  # and sample for sample what was said


@pytest.mark.slow
async def test_a_voicemail_transcript_names_the_caller_as_speaker(
    engine: Engine, sessionmaker: Sessions, tmp_path: Path
) -> None:
    """The engine stores ``RecordingSource.VOICEMAIL``; the worker must recognise it."""
    recording = await _leave_voicemail(engine, sessionmaker)
    assert recording.source == RecordingSource.VOICEMAIL
    worker = TranscriptionWorker(
        sessionmaker=sessionmaker,
        settings=engine.settings,
        options=WorkerOptions(lease_seconds=30, max_attempts=2, poll_seconds=0.1),
        metrics=WorkerMetrics(),
        worker_id="vm-speaker",
    )

    assert await worker.run_once() == 1

    async with sessionmaker() as session:
        transcript = await session.scalar(
            select(Transcript).where(Transcript.recording_id == recording.id)
        )
    assert transcript is not None
    assert "problems" in normalize(transcript.text)
    assert transcript.segments
    assert {segment["speaker"] for segment in transcript.segments} == {"caller"}
