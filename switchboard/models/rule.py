"""Forwarding rules of a phone number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.callflow.rules import DEFAULT_RING_TIMEOUT
from switchboard.models.base import Base, IdMixin, TimestampMixin


class ForwardingRule(IdMixin, TimestampMixin, Base):
    """One step of a number's forwarding.

    Rules run in ``priority`` order. ``strategy`` rings ``targets`` one after
    another or all at once, each for ``ring_timeout`` seconds. ``condition``
    says when the rule applies: always, or only after the previous step ended
    busy / unanswered / unavailable. ``schedule`` (tenant time zone) limits it
    to times of day and days of week; ``None`` means at all times.
    """

    __tablename__ = "forwarding_rules"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number_id: Mapped[str] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    strategy: Mapped[str] = mapped_column(String(16), nullable=False, default="sequential")
    targets: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    ring_timeout: Mapped[int] = mapped_column(
        Integer, nullable=False, default=DEFAULT_RING_TIMEOUT
    )
    condition: Mapped[str] = mapped_column(String(16), nullable=False, default="always")
    schedule: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
