"""Request and response bodies of ``/api/v1/calls`` (seed 001 field names)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from switchboard.engine.control import LiveCall
from switchboard.models import Recording
from switchboard.services.contacts import outside_party


class OutboundCallIn(BaseModel):
    """``POST /api/v1/calls/outbound``."""

    from_number: str = Field(description="E.164 caller ID: one of your numbers")
    to_number: str = Field(description="E.164 destination")
    record: bool = Field(default=False, description="Record the call")
    status_callback_url: str | None = Field(
        default=None, max_length=1000, description="Webhook URL for status updates"
    )
    url: str | None = Field(
        default=None,
        max_length=1000,
        description="Voice URL whose document runs once answered; without it the call "
        "is connected to the number's forwarding targets (click-to-call)",
    )
    queue_id: str | None = Field(default=None, description="Accepted; queues are not modelled")


class OutboundCallOut(BaseModel):
    """The placed call."""

    call_sid: str
    status: str
    replayed: bool = False


class LiveCallOut(BaseModel):
    """A call in progress."""

    call_sid: str
    direction: str
    from_number: str
    to_number: str
    status: str
    started_at: datetime
    answered_at: datetime | None
    answered_by: str | None
    connected: bool
    on_hold: bool
    contact_name: str | None = None

    @classmethod
    def of(cls, call: LiveCall, names: Mapping[str, str] | None = None) -> LiveCallOut:
        """The view of a live call; ``names`` maps contact numbers to names."""
        party = outside_party(call.direction, call.from_number, call.to_number)
        fields = {name: getattr(call, name) for name in cls.model_fields if name != "contact_name"}
        return cls(**fields, contact_name=(names or {}).get(party))


class LiveCallsOut(BaseModel):
    """``GET /api/v1/calls/live``."""

    items: list[LiveCallOut]
    total: int


class TransferIn(BaseModel):
    """``POST /api/v1/calls/{call_id}/transfer``."""

    target_number: str = Field(description="E.164 number or endpoint:NAME")
    transfer_type: Literal["blind", "warm"] = "blind"


class TransferOut(BaseModel):
    """How the transfer went."""

    call_sid: str
    result: Literal["transferred", "no-answer"]


class RecordingOut(BaseModel):
    """A recording of a call."""

    recording_sid: str
    call_sid: str | None
    source: str
    status: str
    channels: int
    duration: float
    size_bytes: int
    media_url: str
    created_at: datetime

    @classmethod
    def of(cls, r: Recording, base_url: str) -> RecordingOut:
        """The view of a recording row."""
        return cls(
            recording_sid=r.recording_sid,
            call_sid=r.call_sid,
            source=r.source,
            status=r.status,
            channels=r.channels,
            duration=r.duration,
            size_bytes=r.size_bytes,
            created_at=r.created_at,
            media_url=f"{base_url}/api/v1/recordings/{r.recording_sid}",
        )


class NoteIn(BaseModel):
    """A note to add to a call."""

    text: str = Field(min_length=1, max_length=5000)


class NotesOut(BaseModel):
    """Notes of a call."""

    items: list[dict[str, Any]]
