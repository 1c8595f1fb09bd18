"""``/api/v1/numbers`` models: numbers, search, purchase and configuration."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchboard.models import DidInventory, PhoneNumber
from switchboard.services.phone import friendly_format

NumberType = Literal["local", "toll_free", "mobile"]
Method = Literal["GET", "POST"]
StatusEvent = Literal["initiated", "ringing", "answered", "completed"]


class NumberOut(BaseModel):
    """A provisioned phone number and its configuration."""

    id: str
    phone_number: str
    friendly_name: str
    sid: str | None
    trunk_id: str | None
    voice_url: str | None
    voice_method: str
    voice_fallback_url: str | None
    voice_fallback_method: str
    status_callback: str | None
    status_callback_method: str
    status_callback_events: list[str]
    record_calls: bool
    voicemail_enabled: bool
    voicemail_greeting: str | None
    voicemail_max_seconds: int
    sms_enabled: bool
    sms_url: str | None
    sms_method: str
    enabled: bool
    released_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, n: PhoneNumber) -> NumberOut:
        """The view of a number row."""
        return cls(
            id=n.id, phone_number=n.e164, friendly_name=n.friendly_name, sid=n.sid,
            trunk_id=n.trunk_id, voice_url=n.voice_url, voice_method=n.voice_method,
            voice_fallback_url=n.voice_fallback_url,
            voice_fallback_method=n.voice_fallback_method, status_callback=n.status_callback,
            status_callback_method=n.status_callback_method,
            status_callback_events=n.status_callback_events.split(),
            record_calls=n.record_calls, voicemail_enabled=n.voicemail_enabled,
            voicemail_greeting=n.voicemail_greeting,
            voicemail_max_seconds=n.voicemail_max_seconds, sms_enabled=n.sms_enabled,
            sms_url=n.sms_url, sms_method=n.sms_method, enabled=n.enabled,
            released_at=n.released_at, created_at=n.created_at,
            updated_at=n.updated_at,
        )


class AvailableNumberOut(BaseModel):
    """A DID of the tenant's trunks that can be purchased."""

    phone_number: str
    friendly_name: str
    country: str
    number_type: str
    area_code: str | None
    locality: str | None
    region: str | None
    trunk_id: str

    @classmethod
    def of(cls, d: DidInventory) -> AvailableNumberOut:
        """The view of an inventory row."""
        return cls(
            phone_number=d.e164, friendly_name=friendly_format(d.e164), country=d.country,
            number_type=d.number_type, area_code=d.area_code, locality=d.locality,
            region=d.region, trunk_id=d.trunk_id,
        )


class SearchIn(BaseModel):
    """Search filters (seed 001 ``POST /api/v1/numbers/search``)."""

    model_config = ConfigDict(extra="forbid")

    country: str = Field(min_length=2, max_length=2, description="ISO code: US, CA, GB")
    number_type: NumberType
    area_code: str | None = Field(default=None, pattern=r"^\d{1,6}$")
    contains: str | None = Field(default=None, pattern=r"^\+?\d{1,15}$")
    limit: int = Field(default=20, ge=1, le=50)


class SearchOut(BaseModel):
    """Numbers found."""

    items: list[AvailableNumberOut]


class ConfigIn(BaseModel):
    """Settings of a number; omitted fields stay as they are.

    ``voice_url: null`` returns the number to the built-in forwarding app.
    ``routing`` (seed 001) is a shorthand: ``{"type": "forwarding"}`` for the
    built-in app or ``{"type": "voice_url", "url": ...}``.
    """

    model_config = ConfigDict(extra="forbid")

    friendly_name: str | None = Field(default=None, max_length=200)
    routing: RoutingIn | None = None
    voice_url: str | None = Field(default=None, max_length=1000)
    voice_method: Method | None = None
    voice_fallback_url: str | None = Field(default=None, max_length=1000)
    voice_fallback_method: Method | None = None
    status_callback: str | None = Field(default=None, max_length=1000)
    status_callback_method: Method | None = None
    status_callback_events: list[StatusEvent] | None = Field(default=None, min_length=1)
    record_calls: bool | None = None
    voicemail_enabled: bool | None = None
    voicemail_greeting: str | None = Field(default=None, max_length=200)
    voicemail_max_seconds: int | None = Field(default=None, ge=5, le=600)
    sms_enabled: bool | None = None
    sms_url: str | None = Field(default=None, max_length=1000)
    sms_method: Method | None = None

    def changes(self) -> dict[str, Any]:
        """The settings given, in the service's terms."""
        values = self.model_dump(exclude_unset=True, exclude={"routing"})
        for key in ("voice_method", "voice_fallback_method", "status_callback_method",
                    "record_calls", "voicemail_enabled", "voicemail_max_seconds",
                    "status_callback_events", "friendly_name", "sms_enabled", "sms_method"):
            if key in values and values[key] is None:
                del values[key]
        if self.routing is not None:
            values["voice_url"] = self.routing.url if self.routing.type == "voice_url" else None
        return values


class RoutingIn(BaseModel):
    """Where calls to the number go."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["forwarding", "voice_url"]
    url: str | None = Field(default=None, max_length=1000)


class PurchaseIn(BaseModel):
    """A number to provision (seed 001 ``POST /api/v1/numbers/purchase``)."""

    model_config = ConfigDict(extra="forbid")

    phone_number: str = Field(min_length=1, max_length=32)
    friendly_name: str | None = Field(default=None, max_length=200)
    voice_url: str | None = Field(default=None, max_length=1000)
    status_callback: str | None = Field(default=None, max_length=1000)
    record_calls: bool | None = None


ConfigIn.model_rebuild()
