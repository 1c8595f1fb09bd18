"""Seed-003 VoiceCall: the create body and the record (also the shape of call logs there).

The seed gives each field's meaning and format but not its wire name; the
names here are the camelCase of those meanings (``staffId``, ``clientId``,
``from``, ``to``, ``direction``, ``status``, ``price``, ``provider``,
``sourceId``, ``externalId``, ``businessId``). ``fromNumber``/``toNumber``
are accepted as aliases of ``from``/``to``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from switchboard.callflow.status import CallLogStatus
from switchboard.models import CallLog
from switchboard.services.call_logs import VoiceCallSpec

Direction = Literal["INBOUND", "OUTBOUND"]


class VoiceCallIn(BaseModel):
    """``POST /api/v1/voice-calls``: every field is required (seed 003)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    staff_id: str = Field(min_length=1, max_length=36,
                          examples=["d290f1ee-6c54-4b01-90e6-d701748f0851"])
    client_id: str = Field(min_length=1, max_length=36)
    from_: str = Field(alias="from", validation_alias=AliasChoices("from", "fromNumber"),
                       min_length=1, max_length=32, examples=["+14155550148"])
    to: str = Field(validation_alias=AliasChoices("to", "toNumber"), min_length=1,
                    max_length=32, examples=["+14155550901"])
    direction: Direction
    status: CallLogStatus
    price: str = Field(min_length=1, max_length=16, examples=["0.05"])
    provider: Literal["VONAGE"]
    source_id: str = Field(min_length=1, max_length=34, examples=["call-src-001"])
    external_id: str = Field(min_length=1, max_length=64, examples=["ext-call-001"])
    business_id: str = Field(min_length=1, max_length=36)

    def spec(self) -> VoiceCallSpec:
        """The service's form."""
        return VoiceCallSpec(
            staff_id=self.staff_id, client_id=self.client_id, from_number=self.from_,
            to_number=self.to, direction=self.direction, status=self.status, price=self.price,
            provider=self.provider, source_id=self.source_id, external_id=self.external_id,
            business_id=self.business_id,
        )


class VoiceCallOut(BaseModel):
    """A VoiceCall record."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True,
                              serialize_by_alias=True)

    id: str
    staff_id: str | None
    client_id: str | None
    from_: str = Field(alias="from", validation_alias=AliasChoices("from", "from_"))
    to: str
    direction: str
    status: str
    price: str
    provider: str
    source_id: str
    external_id: str | None
    business_id: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, c: CallLog) -> VoiceCallOut:
        """The VoiceCall view of a call-log row (``sourceId`` is the call SID)."""
        return cls(
            id=c.id, staff_id=c.staff_id, client_id=c.client_id, from_=c.from_number,
            to=c.to_number, direction=c.direction, status=c.status, price=c.price,
            provider=c.provider, source_id=c.call_sid, external_id=c.external_id,
            business_id=c.tenant_id, created_at=c.created_at, updated_at=c.updated_at,
        )


class VoiceCallList(BaseModel):
    """A page of VoiceCalls, newest first."""

    items: list[VoiceCallOut]
    total: int
    page: int
    limit: int
