"""Voice usage: the seconds of each completed call, counted once per call.

A provider repeats status callbacks it could not confirm; the ``completed``
one adds the call's duration to the tenant's ``voice_seconds_used``. The row
here, unique by call SID, is what makes that addition happen once: it is
inserted (``ON CONFLICT DO NOTHING``) in the same transaction as the addition,
and only a new row adds.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class VoiceUsage(IdMixin, TimestampMixin, Base):
    """The seconds one call added to its tenant's voice usage."""

    __tablename__ = "voice_usage"

    call_sid: Mapped[str] = mapped_column(String(34), unique=True, nullable=False)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    seconds: Mapped[int] = mapped_column(Integer, nullable=False)
