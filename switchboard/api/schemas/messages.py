"""``/api/v1/sms`` models: a send request and a message."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from switchboard.models import Message
from switchboard.services.messaging.segments import MAX_BODY


class SendIn(BaseModel):
    """Seed 001 ``POST /api/v1/sms/send``."""

    model_config = ConfigDict(extra="forbid")

    from_number: str = Field(min_length=1, max_length=32, description="E.164 sender number")
    to_number: str = Field(min_length=1, max_length=32, description="E.164 recipient")
    body: str = Field(max_length=MAX_BODY, description="Message text (max 1600 chars)")
    media_urls: list[str] = Field(default_factory=list, max_length=10,
                                  description="Media URLs for MMS")
    status_callback_url: str | None = Field(default=None, max_length=1000,
                                            description="Webhook URL for delivery status")
    kind: str = Field(default="conversation", description="conversation or marketing "
                      "(marketing waits for the end of quiet hours: 451 during them)")


class MessageOut(BaseModel):
    """A text message, either direction."""

    sid: str
    direction: str
    kind: str
    from_number: str
    to_number: str
    body: str
    media_urls: list[str]
    num_media: int
    num_segments: int
    encoding: str
    price: str
    status: str
    transport: str | None
    error_code: str | None
    error_message: str | None
    number_id: str | None
    contact_id: str | None
    call_sid: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, m: Message) -> MessageOut:
        """The view of a message row."""
        return cls(
            sid=m.message_sid, direction=m.direction, kind=m.kind, from_number=m.from_number,
            to_number=m.to_number, body=m.body, media_urls=list(m.media_urls),
            num_media=len(m.media_urls), num_segments=m.num_segments, encoding=m.encoding,
            price=m.price, status=m.status, transport=m.transport, error_code=m.error_code,
            error_message=m.error_message, number_id=m.number_id, contact_id=m.contact_id,
            call_sid=m.call_sid, created_at=m.created_at, sent_at=m.sent_at,
            delivered_at=m.delivered_at,
        )
