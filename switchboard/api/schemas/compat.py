"""Seed-000 dashboard shapes: camelCase views of numbers, rules, call logs, voicemails.

The seed names the routes, filters, ``?id=`` parameters and
``recordingPlaybackUrl``; the field names of the rows follow the camelCase of
its sibling documents (``friendlyName``, ``smsNumber``...). Lists are wrapped
in an object named after the resource (``{"phoneNumbers": [...]}``), as the
seed family does (``{"configured": true, "numbers": [...]}``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from switchboard.api.schemas.call_logs import recording_playback_url
from switchboard.api.schemas.rules import Condition, Strategy, WindowIn
from switchboard.api.schemas.voicecalls import VoiceCallOut
from switchboard.api.schemas.voicemails import VoicemailStatus, voicemail_playback_url
from switchboard.callflow.rules import (
    MAX_TARGETS,
    NAME_MAX,
    PRIORITY_MAX,
    PRIORITY_MIN,
    RING_TIMEOUT_MAX,
    RING_TIMEOUT_MIN,
)
from switchboard.models import CallLog, DidInventory, ForwardingRule, PhoneNumber, Voicemail
from switchboard.services.phone import friendly_format


class Camel(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True,
                              serialize_by_alias=True)


class CamelIn(Camel):
    """A camelCase request body; unknown fields are refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class PhoneNumberRow(Camel):
    """A business phone number."""

    id: str
    phone_number: str
    friendly_name: str
    sid: str | None
    voice_url: str | None
    status_callback: str | None
    record_calls: bool
    voicemail_enabled: bool
    sms_enabled: bool
    enabled: bool
    released_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, n: PhoneNumber) -> PhoneNumberRow:
        """The view of a number row."""
        return cls(id=n.id, phone_number=n.e164, friendly_name=n.friendly_name, sid=n.sid,
                   voice_url=n.voice_url, status_callback=n.status_callback,
                   record_calls=n.record_calls, voicemail_enabled=n.voicemail_enabled,
                   sms_enabled=n.sms_enabled, enabled=n.enabled, released_at=n.released_at,
                   created_at=n.created_at)


class PhoneNumberList(Camel):
    """``GET /api/phone-numbers``."""

    phone_numbers: list[PhoneNumberRow]


class AvailableRow(Camel):
    """A number found by ``GET /api/phone-numbers?search=1``."""

    number: str
    friendly_name: str
    locality: str | None
    region: str | None
    country: str
    type: str

    @classmethod
    def of(cls, d: DidInventory) -> AvailableRow:
        """The view of an inventory row."""
        return cls(number=d.e164, friendly_name=friendly_format(d.e164), locality=d.locality,
                   region=d.region, country=d.country, type=d.number_type)


class AvailableList(Camel):
    """Search results."""

    numbers: list[AvailableRow]


class PhoneNumberIn(CamelIn):
    """``POST /api/phone-numbers``: the number to provision."""

    phone_number: str = Field(min_length=1, max_length=32)
    friendly_name: str | None = Field(default=None, max_length=200)
    voice_url: str | None = Field(default=None, max_length=1000)
    status_callback: str | None = Field(default=None, max_length=1000)
    record_calls: bool | None = None


class PhoneNumberOne(Camel):
    """One number, created or released."""

    ok: bool = True
    phone_number: PhoneNumberRow


class RuleRow(Camel):
    """A forwarding rule."""

    id: str
    phone_number_id: str
    name: str
    priority: int
    enabled: bool
    strategy: str
    targets: list[str]
    ring_timeout: int
    condition: str
    schedule: list[dict[str, Any]] | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, r: ForwardingRule) -> RuleRow:
        """The view of a rule row."""
        return cls(id=r.id, phone_number_id=r.number_id, name=r.name, priority=r.priority,
                   enabled=r.enabled, strategy=r.strategy, targets=list(r.targets),
                   ring_timeout=r.ring_timeout, condition=r.condition, schedule=r.schedule,
                   created_at=r.created_at, updated_at=r.updated_at)


class RuleListOut(Camel):
    """``GET /api/call-forwarding``."""

    rules: list[RuleRow]


class RuleOne(Camel):
    """One rule, created or updated."""

    ok: bool = True
    rule: RuleRow


class RuleBody(CamelIn):
    """A rule in camelCase; on PUT, ``id`` (or ``?id=``) names the rule."""

    id: str | None = Field(default=None, max_length=64)
    phone_number_id: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=NAME_MAX)
    priority: int | None = Field(default=None, ge=PRIORITY_MIN, le=PRIORITY_MAX)
    enabled: bool | None = None
    strategy: Strategy | None = None
    targets: list[str] | None = Field(default=None, min_length=1, max_length=MAX_TARGETS)
    ring_timeout: int | None = Field(default=None, ge=RING_TIMEOUT_MIN, le=RING_TIMEOUT_MAX)
    condition: Condition | None = None
    schedule: list[WindowIn] | None = Field(default=None, min_length=1)

    def values(self) -> dict[str, Any]:
        """Rule fields given, snake_case, for the service."""
        values = self.model_dump(exclude_unset=True, by_alias=False,
                                 exclude={"id", "phone_number_id"})
        return {k: v for k, v in values.items() if v is not None or k == "schedule"}


class OkOut(Camel):
    """A deletion done."""

    ok: bool = True


class CallLogRow(VoiceCallOut):
    """A call: the seed-003 VoiceCall fields plus timing and the playback link."""

    call_sid: str
    call_status: str
    duration: int | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    has_recording: bool
    has_voicemail: bool
    recording_playback_url: str | None

    @classmethod
    def of(cls, c: CallLog) -> CallLogRow:
        """The view of a call-log row."""
        base = VoiceCallOut.of(c).model_dump(by_alias=False)
        return cls(**base, call_sid=c.call_sid, call_status=c.call_status,
                   duration=c.duration, started_at=c.started_at, answered_at=c.answered_at,
                   ended_at=c.ended_at, has_recording=c.has_recording,
                   has_voicemail=c.has_voicemail, recording_playback_url=recording_playback_url(c))


class CallLogList(Camel):
    """``GET /api/call-logs``."""

    call_logs: list[CallLogRow]


class VoicemailRow(Camel):
    """A voicemail with its transcription and playback link."""

    id: str
    call_sid: str | None
    phone_number_id: str | None
    from_: str = Field(alias="from", validation_alias=AliasChoices("from", "from_"))
    to: str
    duration: float
    status: str
    read: bool
    transcription: str | None
    recording_playback_url: str | None
    created_at: datetime

    @classmethod
    def of(cls, v: Voicemail) -> VoicemailRow:
        """The view of a voicemail row."""
        return cls(id=v.id, call_sid=v.call_sid, phone_number_id=v.number_id,
                   from_=v.from_number, to=v.to_number, duration=v.duration, status=v.status,
                   read=v.status != "new", transcription=v.transcription,
                   recording_playback_url=voicemail_playback_url(v), created_at=v.created_at)


class VoicemailList(Camel):
    """``GET /api/voicemails``."""

    voicemails: list[VoicemailRow]
    unread_count: int


class VoicemailPatchIn(CamelIn):
    """``PATCH /api/voicemails``: mark read or unread (or set the status)."""

    id: str | None = Field(default=None, max_length=64)
    read: bool | None = None
    status: VoicemailStatus | None = None


class VoicemailOne(Camel):
    """One voicemail, updated."""

    ok: bool = True
    voicemail: VoicemailRow
