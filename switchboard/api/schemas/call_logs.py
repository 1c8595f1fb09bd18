"""Call-log models for ``/api/v1/calls/logs`` (snake_case)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, Field

from switchboard.models import CallLog
from switchboard.services.contacts import outside_party


def recording_playback_url(log: CallLog) -> str | None:
    """The authenticated playback proxy of a call's recording (seed 000)."""
    return f"/api/voice/recording?callLogId={log.id}" if log.has_recording else None


class CallLogOut(BaseModel):
    """One call."""

    id: str
    call_sid: str
    parent_call_sid: str | None
    direction: str
    status: str
    call_status: str
    from_number: str
    to_number: str
    number_id: str | None
    staff_id: str | None
    client_id: str | None
    answered_by: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int | None
    hangup_cause: int | None
    has_recording: bool
    has_voicemail: bool
    recording_playback_url: str | None
    recording_error: str | None = Field(
        default=None, description="Why a recording the call asked for was not made"
    )
    price: str
    provider: str
    external_id: str | None
    contact_name: str | None = Field(
        default=None, description="Name of the contact on the other side, if they are one"
    )

    @classmethod
    def of(cls, c: CallLog, names: Mapping[str, str] | None = None) -> CallLogOut:
        """The view of a call-log row; ``names`` maps contact numbers to names."""
        party = outside_party(c.direction, c.from_number, c.to_number)
        return cls(
            contact_name=(names or {}).get(party),
            id=c.id, call_sid=c.call_sid, parent_call_sid=c.parent_call_sid,
            direction=c.direction, status=c.status, call_status=c.call_status,
            from_number=c.from_number, to_number=c.to_number, number_id=c.number_id,
            staff_id=c.staff_id, client_id=c.client_id, answered_by=c.answered_by,
            started_at=c.started_at, answered_at=c.answered_at, ended_at=c.ended_at,
            duration=c.duration, hangup_cause=c.hangup_cause, has_recording=c.has_recording,
            has_voicemail=c.has_voicemail, recording_playback_url=recording_playback_url(c),
            recording_error=c.recording_error, price=c.price, provider=c.provider,
            external_id=c.external_id,
        )


class CallLogPage(BaseModel):
    """A page of calls, newest first.

    With ``page``: ``total`` counts every match. With ``cursor``: ``total`` and
    ``page`` are null. Either way ``next_cursor`` continues after the last item
    (null at the end).
    """

    items: list[CallLogOut]
    total: int | None
    page: int | None
    limit: int
    next_cursor: str | None
