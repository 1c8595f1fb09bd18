"""The transcription worker: claim a job, transcribe its recording, store the text.

One worker process loads each model once and runs ``concurrency`` job loops.
Whisper runs in a thread (``asyncio.to_thread``) so the loop keeps renewing
leases, beating its heartbeat and answering SIGTERM while a long recording is
decoded. The transcript row, the voicemail's text and the job's ``done`` are
written in one transaction that first checks the lease is still held, so a
job is finished exactly once even when a worker died half way and another
took it over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.config import Settings
from switchboard.models import Recording, RecordingSource, SystemState, Transcript, utcnow
from switchboard.services import transcripts as transcript_service
from switchboard.transcription import queue
from switchboard.transcription.exceptions import TranscriptionError
from switchboard.transcription.metrics import WorkerMetrics
from switchboard.transcription.model import load_model
from switchboard.transcription.transcriber import DecodeOptions, Transcriber, TranscriptResult

log = logging.getLogger(__name__)

HEARTBEAT_PREFIX = "worker_heartbeat:"

OnTranscribed = Callable[[AsyncSession, Transcript], Awaitable[None]]
"""Called inside the transaction that stores a transcript (e.g. to queue a webhook)."""

OnFailed = Callable[[AsyncSession, str, str], Awaitable[None]]
"""Called with the recording id and the reason when a job fails for good."""


def default_worker_id() -> str:
    """``host:pid``, short enough for the heartbeat key."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}"


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_concurrency(settings: Settings, *, cpus: int | None = None) -> int:
    """Jobs at once: the setting, or as many as ``cpus`` hold at ``whisper_threads`` each.

    A job's two halves use threads badly: the encoder gains only ~1.8x from a
    second thread, and a decoding step on CPUs with VNNI is slower on two.
    One thread per job and one job per CPU kept both cores busy and
    transcribed a backlog of voicemails ~1.3x faster than one job at a time
    on two threads (a 2-core AMD EPYC; ``bench/transcription.py``).
    """
    if settings.transcription_concurrency:
        return settings.transcription_concurrency
    available = usable_cpus() if cpus is None else cpus
    return max(1, available // max(1, settings.whisper_threads))


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """Queue behaviour of a worker."""

    concurrency: int = 1
    lease_seconds: float = 120.0
    max_attempts: int = 4
    retry_base_seconds: float = 10.0
    retry_max_seconds: float = 900.0
    poll_seconds: float = 1.0
    heartbeat_seconds: float = 10.0
    summary_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: float | None) -> WorkerOptions:
        """Options from the settings, with explicit overrides (CLI flags)."""
        base = cls(
            concurrency=default_concurrency(settings),
            lease_seconds=settings.transcription_lease_seconds,
            max_attempts=settings.transcription_max_attempts,
            retry_base_seconds=settings.transcription_retry_base_seconds,
            retry_max_seconds=settings.transcription_retry_max_seconds,
        )
        fields = {k: v for k, v in overrides.items() if v is not None}
        return cls(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **fields})


class TranscriptionWorker:
    """Claims and runs transcription jobs until told to stop."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        options: WorkerOptions,
        metrics: WorkerMetrics,
        worker_id: str | None = None,
        on_transcribed: OnTranscribed | None = None,
        on_failed: OnFailed | None = None,
    ) -> None:
        self._sessions = sessionmaker
        self._settings = settings
        self._options = options
        self._metrics = metrics
        self.worker_id = worker_id or default_worker_id()
        self._on_transcribed = on_transcribed
        self._on_failed = on_failed
        self._transcribers: dict[str, Transcriber] = {}
        self._model_lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._counts = {"done": 0, "retry": 0, "failed": 0, "lost": 0}
        self._audio = self._busy = 0.0

    # -- models ---------------------------------------------------------

    async def transcriber(self, model: str | None = None) -> Transcriber:
        """The transcriber for ``model`` (default: settings), loaded once."""
        name = model or self._settings.whisper_model
        async with self._model_lock:
            if name not in self._transcribers:
                loaded = await asyncio.to_thread(
                    load_model, self._settings, name=name, workers=self._options.concurrency
                )
                self._metrics.model_load_seconds.set(loaded.load_seconds)
                log.info(
                    "model loaded",
                    extra={
                        "model": name,
                        "source": loaded.source,
                        "seconds": loaded.load_seconds,
                        "encoder_threads": loaded.threads[0],
                        "decoder_threads": loaded.threads[1],
                    },
                )
                options = DecodeOptions.from_settings(self._settings)
                self._transcribers[name] = Transcriber(model=loaded, options=options)
        return self._transcribers[name]

    # -- running --------------------------------------------------------

    def stop(self) -> None:
        """Ask the loops to finish their current job and return."""
        self._stopping.set()

    async def run(self) -> None:
        """Run until :meth:`stop`: job loops, heartbeat and throughput logs."""
        await self.transcriber()
        loops = [
            asyncio.create_task(self._loop(i), name=f"transcribe-{i}")
            for i in range(max(1, self._options.concurrency))
        ]
        beat = asyncio.create_task(self._heartbeat_loop(), name="worker-heartbeat")
        try:
            await asyncio.gather(*loops)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            await self._beat(state="stopped")
            self._log_summary()

    async def run_once(self) -> int:
        """Process due jobs (``concurrency`` at once) until none is left; return how many."""
        await self.transcriber()
        await self._beat(state="running")

        async def drain() -> int:
            ran = 0
            while not self._stopping.is_set() and await self.process_next():
                ran += 1
            return ran

        counts = await asyncio.gather(
            *(drain() for _ in range(max(1, self._options.concurrency)))
        )
        await self._beat(state="stopped")
        return sum(counts)

    async def _loop(self, index: int) -> None:
        while not self._stopping.is_set():
            try:
                worked = await self.process_next()
            except Exception:  # a broken database must not end the worker
                log.exception("job loop error", extra={"loop": index})
                worked = False
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._options.poll_seconds)

    async def process_next(self) -> bool:
        """Claim one due job and run it; False when nothing was due."""
        opts = self._options
        async with self._sessions() as session, session.begin():
            abandoned = await queue.fail_abandoned(session, max_attempts=opts.max_attempts)
            job = await queue.claim(
                session,
                worker_id=self.worker_id,
                lease_seconds=opts.lease_seconds,
                max_attempts=opts.max_attempts,
            )
        if abandoned:
            self._count("failed", abandoned)
            log.warning("abandoned jobs failed", extra={"jobs": abandoned})
        if job is None:
            return False
        self._metrics.in_flight.inc()
        renewer = asyncio.create_task(self._renew_loop(job.id), name=f"lease-{job.id}")
        try:
            await self._run_job(job)
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            self._metrics.in_flight.dec()
        return True

    async def _run_job(self, job: queue.ClaimedJob) -> None:
        async with self._sessions() as session:
            recording = await session.get(Recording, job.recording_id)
        if recording is None:
            await self._fail(job, "the recording row is gone", retryable=False)
            return
        path = storage_path(self._settings, recording)
        speakers = _speakers(recording)
        try:
            transcriber = await self.transcriber(job.model)
            result = await asyncio.to_thread(transcriber.transcribe, path, speakers=speakers)
        except TranscriptionError as exc:
            await self._fail(job, f"{exc.error_id}: {exc.message}", retryable=exc.retryable)
            return
        except Exception as exc:  # an unexpected model error is retried, then failed
            log.exception("transcription crashed", extra={"job_id": job.id})
            await self._fail(job, f"{type(exc).__name__}: {exc}", retryable=True)
            return
        await self._store(job, recording, result)

    async def _store(
        self, job: queue.ClaimedJob, recording: Recording, result: TranscriptResult
    ) -> None:
        async with self._sessions() as session, session.begin():
            if not await queue.mark_done(session, job.id, worker_id=self.worker_id):
                await session.rollback()
                self._count("lost")
                log.warning("lease lost before storing; dropped", extra={"job_id": job.id})
                return
            transcript = await transcript_service.save_transcript(session, recording, result)
            if self._on_transcribed is not None:
                await self._on_transcribed(session, transcript)
        self._count("done")
        self._audio += result.audio_seconds
        self._busy += result.processing_seconds
        self._metrics.audio_seconds.inc(result.audio_seconds)
        self._metrics.processing_seconds.inc(result.processing_seconds)
        self._metrics.job_seconds.observe(result.processing_seconds)
        rtf = result.processing_seconds / result.audio_seconds if result.audio_seconds else 0.0
        log.info(
            "transcribed",
            extra={
                "job_id": job.id,
                "recording_id": recording.id,
                "call_sid": recording.call_sid,
                "model": result.model,
                "audio_seconds": round(result.audio_seconds, 2),
                "processing_seconds": round(result.processing_seconds, 3),
                "rtf": round(rtf, 4),
                "segments": len(result.segments),
            },
        )

    async def _fail(self, job: queue.ClaimedJob, reason: str, *, retryable: bool) -> None:
        async with self._sessions() as session, session.begin():
            status = await queue.mark_failed(
                session,
                job,
                worker_id=self.worker_id,
                reason=reason,
                retryable=retryable,
                max_attempts=self._options.max_attempts,
                retry_base_seconds=self._options.retry_base_seconds,
                retry_max_seconds=self._options.retry_max_seconds,
            )
            if status == queue.FAILED and self._on_failed is not None:
                await self._on_failed(session, job.recording_id, reason)
        outcome = {queue.FAILED: "failed", queue.QUEUED: "retry", None: "lost"}[status]
        self._count(outcome)
        log.warning(
            "transcription job %s",
            outcome,
            extra={"job_id": job.id, "attempts": job.attempts, "reason": reason},
        )

    async def _renew_loop(self, job_id: str) -> None:
        lease = self._options.lease_seconds
        while True:
            await asyncio.sleep(max(0.5, lease / 3))
            try:
                async with self._sessions() as session, session.begin():
                    held = await queue.renew(
                        session, job_id, worker_id=self.worker_id, lease_seconds=lease
                    )
            except Exception:
                log.exception("lease renewal failed", extra={"job_id": job_id})
                continue
            if not held:
                log.warning("lease lost while transcribing", extra={"job_id": job_id})
                return

    # -- heartbeat and throughput ----------------------------------------

    async def _heartbeat_loop(self) -> None:
        last_summary = time.monotonic()
        while True:
            try:
                await self._beat(state="running")
            except Exception:
                log.exception("heartbeat failed")
            if time.monotonic() - last_summary >= self._options.summary_seconds:
                self._log_summary()
                last_summary = time.monotonic()
            await asyncio.sleep(self._options.heartbeat_seconds)

    async def _beat(self, *, state: str) -> None:
        value = json.dumps(
            {"at": utcnow().isoformat(), "state": state, "pid": os.getpid(), **self._counts}
        )
        async with self._sessions() as session, session.begin():
            await session.merge(SystemState(key=HEARTBEAT_PREFIX + self.worker_id, value=value))

    def _count(self, outcome: str, n: int = 1) -> None:
        self._counts[outcome] += n
        self._metrics.jobs.labels(outcome=outcome).inc(n)

    def _log_summary(self) -> None:
        log.info(
            "transcription throughput",
            extra={
                **self._counts,
                "audio_seconds": round(self._audio, 1),
                "processing_seconds": round(self._busy, 1),
                # per job: with several jobs at once the worker's capacity is higher
                "rtf": round(self._busy / self._audio, 4) if self._audio else None,
                "concurrency": self._options.concurrency,
            },
        )


def _speakers(recording: Recording) -> tuple[str | None, ...]:
    if recording.channels >= 2:
        return ("caller", "callee")
    return ("caller",) if recording.source == RecordingSource.VOICEMAIL else (None,)


def storage_path(settings: Settings, recording: Recording) -> Path:
    """Where a recording's file is on this host."""
    return settings.resolved_storage_root / recording.path
