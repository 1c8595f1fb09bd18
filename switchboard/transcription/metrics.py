"""Prometheus metrics of transcription: one worker's own, and the queue's.

:class:`WorkerMetrics` counts what one worker did, on a registry given to it
(nothing registers on the global registry: the composition root, the CLI or a
test, builds it and exposes it on the worker's ``--metrics-port``).

:func:`queue_figures` reads the queue and the recent throughput from the
database at scrape time, so any process (the API's ``/metrics``) reports the
same figures however many workers run and wherever they are;
:func:`queue_exposition` renders them for Prometheus.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import Transcript, TranscriptionJob, utcnow
from switchboard.services import transcripts as transcript_service
from switchboard.transcription import queue


class WorkerMetrics:
    """Counters, gauges and histograms of jobs, audio and time."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.jobs = Counter(
            "switchboard_transcription_jobs",
            "Transcription jobs finished, by outcome (done, retry, failed, lost).",
            ["outcome"],
            registry=self.registry,
        )
        self.audio_seconds = Counter(
            "switchboard_transcription_audio_seconds",
            "Seconds of audio transcribed.",
            registry=self.registry,
        )
        self.processing_seconds = Counter(
            "switchboard_transcription_processing_seconds",
            "Seconds spent transcribing (decode, resample, model).",
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "switchboard_transcription_job_seconds",
            "Time to transcribe one recording.",
            buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "switchboard_transcription_in_flight",
            "Jobs this worker is transcribing now.",
            registry=self.registry,
        )
        self.model_load_seconds = Gauge(
            "switchboard_transcription_model_load_seconds",
            "How long the last model load took.",
            registry=self.registry,
        )


# -- the queue as any process sees it (the API's /metrics) -----------------

RECENT_WINDOW_SECONDS = 300.0
"""How far back ``/metrics`` sums finished transcriptions for throughput."""

WORKER_STALE_SECONDS = 60.0
"""A worker whose heartbeat is older than this is not counted as alive."""


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """The transcription queue and recent throughput, read from the database.

    Attributes:
        jobs: Job count by status (queued, running, done, failed); every status present.
        due: Queued jobs whose next attempt is due now (the backlog a worker can take).
        oldest_queued_seconds: Age of the oldest queued job, 0 when none is queued.
        window_seconds: The window the ``recent_*`` figures cover.
        recent_transcripts: Transcripts stored in the window.
        recent_audio_seconds: Audio they cover.
        recent_processing_seconds: Time the workers spent on them.
        workers_alive: Workers with a fresh heartbeat that are not stopped.
    """

    jobs: dict[str, int]
    due: int
    oldest_queued_seconds: float
    window_seconds: float
    recent_transcripts: int
    recent_audio_seconds: float
    recent_processing_seconds: float
    workers_alive: int

    @property
    def recent_rtf(self) -> float:
        """Processing time per second of audio in the window (0 when idle)."""
        if not self.recent_audio_seconds:
            return 0.0
        return self.recent_processing_seconds / self.recent_audio_seconds

    @property
    def throughput(self) -> float:
        """Seconds of audio transcribed per second of wall time over the window."""
        return self.recent_audio_seconds / self.window_seconds


async def queue_figures(
    session: AsyncSession,
    *,
    window_seconds: float = RECENT_WINDOW_SECONDS,
    now: datetime | None = None,
) -> QueueFigures:
    """Count the queue and sum recent work: a few small aggregate queries.

    Args:
        session: Any session; nothing is written.
        window_seconds: How far back to sum finished transcriptions.
        now: The moment to measure from (default: now).

    Returns:
        The figures; the same in every process reading the same database.
    """
    now = now or utcnow()
    job = TranscriptionJob
    jobs = dict.fromkeys((queue.QUEUED, queue.RUNNING, queue.DONE, queue.FAILED), 0)
    for status, count in await session.execute(
        select(job.status, func.count()).group_by(job.status)
    ):
        jobs[str(status)] = int(count)
    oldest = await session.scalar(
        select(func.min(job.created_at)).where(job.status == queue.QUEUED)
    )
    due = await session.scalar(
        select(func.count()).where(job.status == queue.QUEUED, job.next_attempt_at <= now)
    )
    since = now - timedelta(seconds=window_seconds)
    recent = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Transcript.audio_seconds), 0.0),
                func.coalesce(func.sum(Transcript.processing_seconds), 0.0),
            ).where(Transcript.created_at >= since)
        )
    ).one()
    beats = await transcript_service.worker_heartbeats(session)
    alive = sum(
        1
        for b in beats
        if b.state != "stopped" and (now - b.at).total_seconds() < WORKER_STALE_SECONDS
    )
    return QueueFigures(
        jobs=jobs,
        due=int(due or 0),
        oldest_queued_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        window_seconds=window_seconds,
        recent_transcripts=int(recent[0]),
        recent_audio_seconds=float(recent[1]),
        recent_processing_seconds=float(recent[2]),
        workers_alive=alive,
    )


def queue_exposition(figures: QueueFigures) -> bytes:
    """The figures in the Prometheus text format (a fresh registry per scrape)."""
    registry = CollectorRegistry()
    jobs = Gauge(
        "switchboard_transcription_queue_jobs",
        "Transcription jobs in the database, by status.",
        ["status"],
        registry=registry,
    )
    for status, count in sorted(figures.jobs.items()):
        jobs.labels(status=status).set(count)
    single = {
        "switchboard_transcription_queue_due_jobs": (
            "Queued jobs whose attempt is due now.",
            figures.due,
        ),
        "switchboard_transcription_queue_oldest_queued_age_seconds": (
            "Age of the oldest queued job (0 when none is queued).",
            figures.oldest_queued_seconds,
        ),
        "switchboard_transcription_recent_window_seconds": (
            "The window the switchboard_transcription_recent_* figures cover.",
            figures.window_seconds,
        ),
        "switchboard_transcription_recent_transcripts": (
            "Transcripts stored in the recent window.",
            figures.recent_transcripts,
        ),
        "switchboard_transcription_recent_audio_seconds": (
            "Seconds of audio transcribed in the recent window.",
            figures.recent_audio_seconds,
        ),
        "switchboard_transcription_recent_processing_seconds": (
            "Seconds workers spent transcribing in the recent window.",
            figures.recent_processing_seconds,
        ),
        "switchboard_transcription_recent_rtf": (
            "Processing seconds per audio second in the recent window (real-time factor).",
            figures.recent_rtf,
        ),
        "switchboard_transcription_recent_throughput": (
            "Audio seconds transcribed per wall-clock second over the recent window.",
            figures.throughput,
        ),
        "switchboard_transcription_workers_alive": (
            "Transcription workers with a fresh heartbeat.",
            figures.workers_alive,
        ),
    }
    for name, (doc, value) in single.items():
        Gauge(name, doc, registry=registry).set(value)
    return generate_latest(registry)
