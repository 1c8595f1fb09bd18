"""Telephony resources: trunks, desk-phone endpoints and phone numbers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin, UTCDateTime


class Trunk(IdMixin, TimestampMixin, Base):
    """A way out to the telephone network (or, for tests, a dialplan context).

    ``kind`` is ``pjsip`` (a carrier's SIP trunk, registration or IP auth) or
    ``local`` (a ``Local/`` channel into ``context``: test and lab set-ups).
    """

    __tablename__ = "trunks"
    __table_args__ = (UniqueConstraint("name"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="pjsip")
    integration: Mapped[str] = mapped_column(String(16), nullable=False, default="sip")
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(128))
    password: Mapped[str | None] = mapped_column(String(255))
    register: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    context: Mapped[str | None] = mapped_column(String(80))
    account_sid: Mapped[str | None] = mapped_column(String(128))
    auth_token: Mapped[str | None] = mapped_column(String(255))
    # Where the carrier's SIP signalling comes from (PJSIP ``identify`` match:
    # comma-separated IPs, CIDRs or host names); ``host`` when empty.
    inbound_match: Mapped[str | None] = mapped_column(String(1000))
    # What an admin still has to supply for the trunk to work both ways.
    setup_note: Mapped[str | None] = mapped_column(String(500))


class Endpoint(IdMixin, TimestampMixin, Base):
    """A desk phone or softphone: a PJSIP endpoint with its own credentials."""

    __tablename__ = "endpoints"
    __table_args__ = (UniqueConstraint("name"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    password: Mapped[str] = mapped_column(String(128), nullable=False)
    caller_id: Mapped[str | None] = mapped_column(String(32))
    # A browser phone: PJSIP over WebSocket with DTLS-SRTP and ICE (``webrtc=yes``).
    webrtc: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class PhoneNumber(IdMixin, TimestampMixin, Base):
    """A DID the tenant owns. Calls to it follow its voice URL or its rules."""

    __tablename__ = "phone_numbers"
    __table_args__ = (
        Index("ix_phone_numbers_e164_enabled", "e164", "enabled"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    e164: Mapped[str] = mapped_column(String(20), nullable=False)
    friendly_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    trunk_id: Mapped[str | None] = mapped_column(ForeignKey("trunks.id", ondelete="SET NULL"))
    sid: Mapped[str | None] = mapped_column(String(34))
    voice_url: Mapped[str | None] = mapped_column(String(1000))
    voice_method: Mapped[str] = mapped_column(String(8), nullable=False, default="POST")
    voice_fallback_url: Mapped[str | None] = mapped_column(String(1000))
    voice_fallback_method: Mapped[str] = mapped_column(String(8), nullable=False, default="POST")
    status_callback: Mapped[str | None] = mapped_column(String(1000))
    status_callback_method: Mapped[str] = mapped_column(String(8), nullable=False, default="POST")
    status_callback_events: Mapped[str] = mapped_column(
        String(100), nullable=False, default="completed"
    )
    record_calls: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    voicemail_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    voicemail_greeting: Mapped[str | None] = mapped_column(String(200))
    voicemail_max_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=120)
    sms_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Where an inbound text is posted (the provider's SmsUrl); none: to the desk phones.
    sms_url: Mapped[str | None] = mapped_column(String(1000))
    sms_method: Mapped[str] = mapped_column(String(8), nullable=False, default="POST")
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
