"""Small key/value state shared between processes (routing revision, CDR offset)."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base


class SystemState(Base):
    """One named value, e.g. ``routing_revision`` or ``cdr_offset``."""

    __tablename__ = "system_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False, default="")
