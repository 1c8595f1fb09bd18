"""The call log: one row per call, keyed by its call SID, with its legs.

The engine writes it as the call progresses; the built-in app's webhooks and
the reconciliation from CDRs enrich the same row. Every API view of a call
(``/api/v1/calls``, ``/api/call-logs``, the VoiceCall record) reads it. Its
statuses and recording sources are the call-flow vocabulary
(:mod:`switchboard.callflow.status`, :mod:`switchboard.callflow.recording`),
re-exported here for the code that reads rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.callflow.recording import RecordingSource
from switchboard.callflow.status import CallDirection, CallLogStatus, CallStatus
from switchboard.models.base import Base, IdMixin, TimestampMixin, UTCDateTime

__all__ = [
    "CallDirection",
    "CallLeg",
    "CallLog",
    "CallLogStatus",
    "CallStatus",
    "Recording",
    "RecordingSource",
    "Voicemail",
]


class CallLog(IdMixin, TimestampMixin, Base):
    """A call, from the first ring to the last hangup."""

    __tablename__ = "call_logs"
    __table_args__ = (
        Index("ix_call_logs_tenant_started", "tenant_id", "started_at"),
        Index("ix_call_logs_tenant_status_started", "tenant_id", "status", "started_at"),
    )

    call_sid: Mapped[str] = mapped_column(String(34), unique=True, nullable=False)
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    number_id: Mapped[str | None] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="SET NULL"), index=True
    )
    parent_call_sid: Mapped[str | None] = mapped_column(String(34))
    direction: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    call_status: Mapped[str] = mapped_column(String(16), nullable=False, default="ringing")
    from_number: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    to_number: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    client_id: Mapped[str | None] = mapped_column(String(36))
    answered_by: Mapped[str | None] = mapped_column(String(128))
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(16), nullable=False, default="ASTERISK")
    price: Mapped[str] = mapped_column(String(16), nullable=False, default="0")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration: Mapped[int | None] = mapped_column(Integer)
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_cause_text: Mapped[str | None] = mapped_column(String(64))
    has_recording: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    has_voicemail: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    handled_by: Mapped[str] = mapped_column(String(16), nullable=False, default="engine")
    error: Mapped[str | None] = mapped_column(Text)
    # Why a recording the call asked for was not made (e.g. the plan's storage is full).
    recording_error: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)


class CallLeg(IdMixin, Base):
    """One channel of a call: the caller's, or one dialled target's."""

    __tablename__ = "call_legs"

    call_sid: Mapped[str] = mapped_column(
        ForeignKey("call_logs.call_sid", ondelete="CASCADE"), index=True
    )
    leg_sid: Mapped[str] = mapped_column(String(34), unique=True, nullable=False)
    channel_id: Mapped[str] = mapped_column(String(64), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    target: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    dial_status: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hangup_cause: Mapped[int | None] = mapped_column(Integer)


class Recording(IdMixin, TimestampMixin, Base):
    """An audio file of a call: a recorded conversation or a voicemail message."""

    __tablename__ = "recordings"
    # The plan's storage check sums a tenant's sizes before every recording
    # starts: this index answers it without reading the rows (migration 0008b).
    __table_args__ = (Index("ix_recordings_tenant_size", "tenant_id", "size_bytes"),)

    recording_sid: Mapped[str] = mapped_column(String(34), unique=True, nullable=False)
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    call_sid: Mapped[str | None] = mapped_column(String(34), index=True)
    path: Mapped[str] = mapped_column(String(500), nullable=False)
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="completed")
    channels: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    duration: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    format: Mapped[str] = mapped_column(String(8), nullable=False, default="wav")
    # A voice document's ``Record transcribeCallback``: told when the text is ready.
    transcribe_callback: Mapped[str | None] = mapped_column(String(1000))


class Voicemail(IdMixin, TimestampMixin, Base):
    """A message a caller left; points at its recording."""

    __tablename__ = "voicemails"
    __table_args__ = (Index("ix_voicemails_tenant_status", "tenant_id", "status"),)

    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    number_id: Mapped[str | None] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="SET NULL")
    )
    call_sid: Mapped[str | None] = mapped_column(String(34), index=True)
    recording_id: Mapped[str | None] = mapped_column(
        ForeignKey("recordings.id", ondelete="SET NULL")
    )
    from_number: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    to_number: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    duration: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="new")
    transcription: Mapped[str | None] = mapped_column(Text)
