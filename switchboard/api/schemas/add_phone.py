"""Seed-004 ``POST /api/call/add-phone``: request and the envelope of its answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AddPhoneIn(BaseModel):
    """The request (camelCase as in the seed; ``accSId`` spelled as the seed does)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    user_id: str = Field(alias="userId", min_length=1, max_length=64,
                         examples=["64e5f12345abcdef12345678"])
    phone_number: str = Field(alias="phoneNumber", min_length=1, max_length=32,
                              examples=["12125551234"])
    integration: Literal["plivo", "twilio", "telnyx", "sip"]
    auth_token: str | None = Field(default=None, alias="authToken", max_length=255)
    acc_sid: str | None = Field(default=None, alias="accSId", max_length=128)
    # Not in the seed: the SIP side of the carrier trunk, where only the admin knows it.
    sip_host: str | None = Field(
        default=None, alias="sipHost", max_length=255,
        description="Termination host of your carrier trunk (Twilio <trunk>.pstn.twilio.com, "
                    "Plivo <trunk id>.zt.plivo.com; Telnyx defaults to sip.telnyx.com)")
    sip_port: int | None = Field(default=None, alias="sipPort", ge=1, le=65535)
    sip_username: str | None = Field(default=None, alias="sipUsername", max_length=128,
                                     description="SIP credentials for calls out, if the "
                                                 "trunk authenticates by credentials")
    sip_password: str | None = Field(default=None, alias="sipPassword", max_length=255)
    sip_inbound_match: list[str] = Field(
        default_factory=list, alias="sipInboundMatch", max_length=50,
        description="Where the carrier's SIP signalling comes from (IPs, networks, hosts); "
                    "defaults to the carrier's documented addresses")


class AddedPhoneData(BaseModel):
    """The phone number record that was created."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str = Field(alias="_id")
    user_id: str = Field(alias="userId")
    phone_number: str = Field(alias="phoneNumber")
    integration: str
    created_at: str = Field(alias="createdAt", examples=["2025-05-15T10:30:00.000Z"])


class AddPhoneOut(BaseModel):
    """The seed-004 envelope."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    message: str = "Phone number added successfully"
    status: bool = True
    code: int = 201
    error_message: str = Field(default="", alias="errorMessage")
    data: AddedPhoneData | None
