"""Prometheus metrics of a transcription worker, on a registry given to it.

Nothing registers on the global registry: the composition root (the CLI or a
test) builds :class:`WorkerMetrics` with its own registry and exposes it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
