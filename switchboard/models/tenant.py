"""Tenants: the businesses that own numbers, staff and calls."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
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

    # A suspended business keeps its rows but is not "active" (seed 002: 404).
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Messaging: segments a month the plan allows; the review request template.
    sms_monthly_allowance: Mapped[int] = mapped_column(Integer, nullable=False, default=1000)
    review_template: Mapped[str] = mapped_column(
        String(640),
        nullable=False,
        default="Hi {customer_name}, thanks for choosing {business_name}! "
        "Would you leave us a review? {review_link}",
    )
    review_link: Mapped[str | None] = mapped_column(String(500))
    review_period_days: Mapped[int] = mapped_column(Integer, nullable=False, default=90)
    # Marketing texts wait outside these local hours ("21:00" to "08:00"); None = never quiet.
    quiet_hours_start: Mapped[str | None] = mapped_column(String(5), default="21:00")
    quiet_hours_end: Mapped[str | None] = mapped_column(String(5), default="08:00")
    # Retention in days (None = keep): applied by the worker.
    retention_recordings_days: Mapped[int | None] = mapped_column(Integer)
    retention_voicemails_days: Mapped[int | None] = mapped_column(Integer)
    retention_transcripts_days: Mapped[int | None] = mapped_column(Integer)
    retention_messages_days: Mapped[int | None] = mapped_column(Integer)
