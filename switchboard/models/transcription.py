"""Transcription jobs (a durable queue in the database) and their transcripts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow


class TranscriptionJob(IdMixin, TimestampMixin, Base):
    """Work for a transcription worker, queued with its recording.

    A worker claims a job by setting ``lease_until``; a job whose lease ran
    out is claimed again, so a crashed worker loses nothing.
    """

    __tablename__ = "transcription_jobs"
    __table_args__ = (Index("ix_transcription_jobs_claim", "status", "next_attempt_at"),)

    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    recording_id: Mapped[str] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    model: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    worker_id: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)


class Transcript(IdMixin, TimestampMixin, Base):
    """The text of a recording, with timed segments and speakers."""

    __tablename__ = "transcripts"
    # /metrics sums the transcripts of the last minutes; the lists sort by creation.
    __table_args__ = (Index("ix_transcripts_created_at", "created_at"),)

    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    recording_id: Mapped[str] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    call_sid: Mapped[str | None] = mapped_column(String(34), index=True)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False, default="en")
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    audio_seconds: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    processing_seconds: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    is_current: Mapped[bool] = mapped_column(nullable=False, default=True)
