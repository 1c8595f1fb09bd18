"""The audit log: who changed rules, numbers, keys and users, who exported or erased what.

Rows hold ids and kinds, never personal data: an erased phone number is
recorded by the count of what was erased, not by the number itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, UTCDateTime, utcnow


class AuditEntry(IdMixin, Base):
    """One administrative action."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_at", "tenant_id", "at"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    actor_user_id: Mapped[str | None] = mapped_column(String(36))
    actor_key_id: Mapped[str | None] = mapped_column(String(36))
    # e.g. number.provision, rule.update, api_key.create, gdpr.export, gdpr.erase
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target_type: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
