"""Contacts: the people a tenant calls and texts, one per E.164 number."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class Contact(IdMixin, TimestampMixin, Base):
    """A person or business in the tenant's contact book.

    ``phone`` is canonical E.164 and unique per tenant: two contacts with one
    number are one contact (dedupe by E.164), so a caller's number names one
    person on call logs, live calls and desk-phone caller ID.
    """

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    phone: Mapped[str] = mapped_column(String(20), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))
    company: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
