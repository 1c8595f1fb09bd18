"""The webhook outbox: callbacks to deliver, written with the state they report.

A row is added in the same transaction as the state change it reports (call
answered, recording stored...), so a callback exists if and only if the change
was committed. The dispatcher (:mod:`switchboard.outbox`) delivers the
rows of one call in ``sequence`` order, claiming them with a lease so a
crashed dispatcher's rows are picked up again.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, UTCDateTime, utcnow


class DeliveryStatus(enum.StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FAILED = "failed"


class DeliveryKind(enum.StrEnum):
    """What a delivery reports (free text in the column; these are the ones we send)."""

    STATUS = "status"
    RECORDING = "recording"
    DIAL_ACTION = "dial-action"
    TRANSCRIPTION = "transcription"


# Rows of these statuses hold back the later rows of their call.
UNFINISHED = (DeliveryStatus.PENDING.value, DeliveryStatus.DELIVERING.value)


class WebhookDelivery(IdMixin, Base):
    """One signed HTTP request to a customer's callback URL, until it is delivered."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_claim", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_tenant_created", "tenant_id", "created_at"),
        UniqueConstraint("call_sid", "sequence", name="uq_webhook_deliveries_call_sequence"),
    )

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    call_sid: Mapped[str | None] = mapped_column(String(34), index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    method: Mapped[str] = mapped_column(String(8), nullable=False, default="POST")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default=DeliveryStatus.PENDING.value
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    # Start of the current retry window: creation, or the last replay.
    retry_from: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
