"""Trunk models for ``/api/v1/trunks`` (snake_case)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from switchboard.models import DidInventory
from switchboard.models.telephony import Trunk
from switchboard.services.trunks import DidSpec

Integration = Literal["twilio", "telnyx", "plivo", "sip"]


class DidIn(BaseModel):
    """A DID the trunk brings; country and type are derived when omitted."""

    model_config = ConfigDict(extra="forbid")

    phone_number: str = Field(min_length=1, max_length=32)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    number_type: Literal["local", "toll_free", "mobile"] | None = None
    locality: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)

    def spec(self) -> DidSpec:
        """The service's form."""
        return DidSpec(e164=self.phone_number, country=self.country,
                       number_type=self.number_type, locality=self.locality,
                       region=self.region)


class TrunkIn(BaseModel):
    """A trunk: a carrier account over SIP (registration or IP auth) or a lab context."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    integration: Integration = "sip"
    kind: Literal["pjsip", "local"] = "pjsip"
    host: str | None = Field(default=None, max_length=255)
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=128)
    password: str | None = Field(default=None, max_length=255)
    registration: bool = Field(default=False, description="Register to the carrier (else IP auth)")
    context: str | None = Field(default=None, max_length=80)
    account_id: str | None = Field(default=None, max_length=128,
                                   description="Twilio Account SID, Plivo Auth ID, Telnyx App ID")
    auth_token: str | None = Field(default=None, max_length=255,
                                   description="Twilio/Plivo Auth Token, Telnyx API key")
    dids: list[DidIn] = Field(default_factory=list, max_length=1000)


class DidOut(BaseModel):
    """An inventory row."""

    id: str
    phone_number: str
    country: str
    number_type: str
    area_code: str | None
    locality: str | None
    region: str | None
    number_id: str | None
    owner_user_id: str | None

    @classmethod
    def of(cls, d: DidInventory) -> DidOut:
        """The view of an inventory row."""
        return cls(id=d.id, phone_number=d.e164, country=d.country, number_type=d.number_type,
                   area_code=d.area_code, locality=d.locality, region=d.region,
                   number_id=d.number_id, owner_user_id=d.owner_user_id)


class DidsIn(BaseModel):
    """DIDs to add to a trunk."""

    model_config = ConfigDict(extra="forbid")

    dids: list[DidIn] = Field(min_length=1, max_length=1000)


class DidList(BaseModel):
    """A trunk's inventory."""

    items: list[DidOut]


class TrunkOut(BaseModel):
    """A trunk (secrets are never shown)."""

    id: str
    name: str
    kind: str
    integration: str
    host: str | None
    port: int | None
    username: str | None
    registration: bool
    context: str | None
    account_id: str | None
    inbound_match: str | None = Field(
        default=None, description="Where the carrier's SIP signalling comes from")
    setup_note: str | None = Field(
        default=None, description="What is still missing for calls both ways")
    created_at: datetime

    @classmethod
    def of(cls, t: Trunk) -> TrunkOut:
        """The view of a trunk row."""
        return cls(id=t.id, name=t.name, kind=t.kind, integration=t.integration, host=t.host,
                   port=t.port, username=t.username, registration=t.register,
                   context=t.context, account_id=t.account_sid,
                   inbound_match=t.inbound_match, setup_note=t.setup_note,
                   created_at=t.created_at)
