"""Voicemail models for ``/api/v1/voicemails`` (snake_case)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from switchboard.models import Voicemail

VoicemailStatus = Literal["new", "read", "archived"]


def voicemail_playback_url(v: Voicemail) -> str | None:
    """The authenticated playback proxy of a voicemail (seed 000)."""
    return f"/api/voice/recording?voicemailId={v.id}" if v.recording_id else None


class VoicemailOut(BaseModel):
    """A voicemail message."""

    id: str
    call_sid: str | None
    number_id: str | None
    from_number: str
    to_number: str
    duration: float
    status: str
    transcription: str | None
    recording_playback_url: str | None
    created_at: datetime

    @classmethod
    def of(cls, v: Voicemail) -> VoicemailOut:
        """The view of a voicemail row."""
        return cls(
            id=v.id, call_sid=v.call_sid, number_id=v.number_id, from_number=v.from_number,
            to_number=v.to_number, duration=v.duration, status=v.status,
            transcription=v.transcription, recording_playback_url=voicemail_playback_url(v),
            created_at=v.created_at,
        )


class VoicemailPageOut(BaseModel):
    """A page of voicemails, newest first, and the unread count."""

    items: list[VoicemailOut]
    total: int
    page: int
    limit: int
    unread_count: int


class VoicemailPatch(BaseModel):
    """Mark read/unread (``read``) or set the ``status`` (one of the two)."""

    model_config = ConfigDict(extra="forbid")

    status: VoicemailStatus | None = None
    read: bool | None = None

    @model_validator(mode="after")
    def _one_of(self) -> VoicemailPatch:
        if (self.status is None) == (self.read is None):
            raise ValueError("give exactly one of status or read")
        return self

    def target_status(self) -> str:
        """The status to set."""
        if self.status is not None:
            return self.status
        return "read" if self.read else "new"
