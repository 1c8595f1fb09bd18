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
