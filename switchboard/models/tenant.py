"""Tenants: the businesses that own numbers, staff and calls."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard import ids
from switchboard.models.base import Base, IdMixin, TimestampMixin


class Tenant(IdMixin, TimestampMixin, Base):
    """A business. Its account SID and auth token sign its webhooks."""

    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    account_sid: Mapped[str] = mapped_column(
        String(34), unique=True, nullable=False, default=ids.account_sid
    )
    auth_token: Mapped[str] = mapped_column(String(64), nullable=False, default=ids.auth_token)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    plan: Mapped[str] = mapped_column(String(32), nullable=False, default="growth")
    max_numbers: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    voice_minutes_limit: Mapped[int] = mapped_column(Integer, nullable=False, default=10_000)
    voice_seconds_used: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    recording_storage_mb: Mapped[int] = mapped_column(Integer, nullable=False, default=10_240)
