"""``/api/v1/compliance`` and ``/api/v1/audit`` models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from switchboard.models import AuditEntry, DncEntry, SmsConsent


class DncIn(BaseModel):
    """A number to put on the do-not-call list."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=32)
    reason: str = Field(default="", max_length=200)


class DncOut(BaseModel):
    """A do-not-call entry."""

    id: str
    phone: str
    reason: str
    source: str
    created_at: datetime

    @classmethod
    def of(cls, d: DncEntry) -> DncOut:
        """The view of an entry."""
        return cls(id=d.id, phone=d.phone, reason=d.reason, source=d.source,
                   created_at=d.created_at)


class DncCheckOut(BaseModel):
    """``GET /api/v1/compliance/dnc?phone=``."""

    phone: str
    on_list: bool
    reason: str | None
    added_at: datetime | None


class DncImportOut(BaseModel):
    """What a bulk import did; ``errors`` name the CSV line of each refused row."""

    added: int
    existing: int
    errors: list[dict[str, Any]]


class ConsentIn(BaseModel):
    """Record consent, or an opt-out, for a number."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=32)
    source: str = Field(default="api", max_length=32)
    opted_out: bool = False


class ConsentOut(BaseModel):
    """An SMS consent row (seed 002: phone, source, timestamp, opt-out state)."""

    phone: str
    source: str
    consented_at: datetime | None
    opted_out: bool
    opted_out_at: datetime | None
    opt_out_keyword: str | None

    @classmethod
    def of(cls, c: SmsConsent) -> ConsentOut:
        """The view of a consent row."""
        return cls(phone=c.phone, source=c.source, consented_at=c.consented_at,
                   opted_out=c.opted_out, opted_out_at=c.opted_out_at,
                   opt_out_keyword=c.opt_out_keyword)


class SubjectIn(BaseModel):
    """Whom a GDPR request is about: a phone number or a contact."""

    model_config = ConfigDict(extra="forbid")

    phone_number: str | None = Field(default=None, max_length=32)
    contact_id: str | None = Field(default=None, max_length=64)


class EraseOut(BaseModel):
    """What an erase deleted, counted by kind."""

    erased: dict[str, int]


class RetentionIn(BaseModel):
    """Days each kind is kept (``null``: forever)."""

    model_config = ConfigDict(extra="forbid")

    recordings_days: int | None = Field(default=None, ge=1, le=36500)
    voicemails_days: int | None = Field(default=None, ge=1, le=36500)
    transcripts_days: int | None = Field(default=None, ge=1, le=36500)
    messages_days: int | None = Field(default=None, ge=1, le=36500)


class AuditOut(BaseModel):
    """One audit entry."""

    id: str
    at: datetime
    actor_user_id: str | None
    actor_key_id: str | None
    action: str
    target_type: str
    target_id: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, a: AuditEntry) -> AuditOut:
        """The view of an entry."""
        return cls(id=a.id, at=a.at, actor_user_id=a.actor_user_id, actor_key_id=a.actor_key_id,
                   action=a.action, target_type=a.target_type, target_id=a.target_id,
                   details=dict(a.details))
