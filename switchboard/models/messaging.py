"""Text messages (SMS/MMS, SIP MESSAGE) and the consent of the people they go to.

A :class:`Message` is one text in either direction, keyed by its ``SM`` SID.
Its ``transport`` says how it travelled (``sip`` through Asterisk, or a
carrier's HTTP API: ``twilio``, ``telnyx``, ``plivo``); ``provider_id`` is the
carrier's own id, by which its status callbacks find the row.
:class:`SmsConsent` is the consent record carriers require: one row per
tenant and phone number, with where the consent came from and when, and
whether (and by which keyword) the person opted out.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.models.base import Base, IdMixin, TimestampMixin, UTCDateTime


class MessageStatus(enum.StrEnum):
    """A message's status, in the provider's ``MessageStatus`` values."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    RECEIVED = "received"


class Message(IdMixin, TimestampMixin, Base):
    """One text message, inbound or outbound."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_tenant_created", "tenant_id", "created_at"),
        Index("ix_messages_tenant_from", "tenant_id", "from_number"),
        Index("ix_messages_tenant_to", "tenant_id", "to_number"),
        Index("ix_messages_claim", "status", "next_attempt_at"),
    )

    message_sid: Mapped[str] = mapped_column(String(34), unique=True, nullable=False)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number_id: Mapped[str | None] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[str | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    # inbound, outbound-api, outbound-reply (a <Message> answer), outbound-call (<Sms> in a call)
    direction: Mapped[str] = mapped_column(String(16), nullable=False)
    # conversation, review, marketing, consent (a STOP/START/HELP answer)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="conversation")
    from_number: Mapped[str] = mapped_column(String(64), nullable=False)
    to_number: Mapped[str] = mapped_column(String(64), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    media_urls: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    encoding: Mapped[str] = mapped_column(String(8), nullable=False, default="GSM-7")
    num_segments: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    price: Mapped[str] = mapped_column(String(16), nullable=False, default="0")
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    transport: Mapped[str | None] = mapped_column(String(16))
    # Where an outbound SIP MESSAGE goes: ``endpoint:NAME`` or ``trunk:ID``.
    route: Mapped[str | None] = mapped_column(String(128))
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status_callback: Mapped[str | None] = mapped_column(String(1000))
    call_sid: Mapped[str | None] = mapped_column(String(34), index=True)
    # The inbound message this one answers (one reply per inbound message).
    reply_to_sid: Mapped[str | None] = mapped_column(String(34), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SmsConsent(IdMixin, TimestampMixin, Base):
    """Whether a phone number may be texted by a tenant, and where that came from."""

    __tablename__ = "sms_consents"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20), nullable=False)
    # keyword (START/STOP by text), api, import, web-form, review-request...
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opted_out: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opt_out_keyword: Mapped[str | None] = mapped_column(String(16))


class DncEntry(IdMixin, TimestampMixin, Base):
    """A number the tenant must not call or text (its do-not-call list)."""

    __tablename__ = "dnc_entries"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    source: Mapped[str] = mapped_column(String(32), nullable=False, default="api")


class ReviewRequest(IdMixin, Base):
    """A review request sent to a customer: at most one per customer per period.

    Kept apart from the message so the period holds even after the message
    itself is erased or expires.
    """

    __tablename__ = "review_requests"
    __table_args__ = (Index("ix_review_requests_tenant_phone", "tenant_id", "phone", "sent_at"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20), nullable=False)
    message_sid: Mapped[str] = mapped_column(String(34), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
