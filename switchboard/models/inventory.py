"""The DID inventory: numbers a trunk brings, available to provision.

A trunk (or ``POST /api/call/add-phone``) brings one or more DIDs; each is a
row here. Searching available numbers reads the rows of the tenant's trunks
that no active :class:`~switchboard.models.telephony.PhoneNumber` holds;
provisioning points ``number_id`` at the new number, releasing clears it.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin


class DidInventory(IdMixin, TimestampMixin, Base):
    """One DID that a trunk can receive calls for.

    ``owner_user_id`` is the user a number was added for through add-phone
    (seed 004: a number is unique per user).
    """

    __tablename__ = "did_inventory"
    __table_args__ = (
        UniqueConstraint("trunk_id", "e164"),
        Index("ix_did_inventory_tenant_search", "tenant_id", "country", "number_type"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    trunk_id: Mapped[str] = mapped_column(ForeignKey("trunks.id", ondelete="CASCADE"), index=True)
    e164: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    number_type: Mapped[str] = mapped_column(String(16), nullable=False, default="local")
    area_code: Mapped[str | None] = mapped_column(String(8))
    locality: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    number_id: Mapped[str | None] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="SET NULL"), index=True
    )
    owner_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
