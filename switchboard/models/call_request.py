"""Idempotency of call requests: one API request, one call."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class CallRequest(IdMixin, TimestampMixin, Base):
    """An ``Idempotency-Key`` seen on ``POST /calls/outbound`` and the call it made."""

    __tablename__ = "call_requests"
    __table_args__ = (UniqueConstraint("tenant_id", "idempotency_key"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(200), nullable=False)
    call_sid: Mapped[str] = mapped_column(String(34), nullable=False)
