"""Endpoint (desk phone) models for ``/api/v1/endpoints``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from switchboard.models import Endpoint


class EndpointIn(BaseModel):
    """A new endpoint; the password is generated when omitted."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    password: str | None = Field(default=None, min_length=12, max_length=128)
    caller_id: str | None = Field(default=None, max_length=32)
    user_id: str | None = Field(default=None, max_length=64)

    def values(self) -> dict[str, Any]:
        """Fields for the service (without the name)."""
        return self.model_dump(exclude_unset=True, exclude={"name"})


class EndpointPatch(BaseModel):
    """Fields to change; ``null`` clears caller id or user."""

    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(default=None, min_length=12, max_length=128)
    caller_id: str | None = Field(default=None, max_length=32)
    user_id: str | None = Field(default=None, max_length=64)

    def values(self) -> dict[str, Any]:
        """Fields given."""
        values = self.model_dump(exclude_unset=True)
        if values.get("password", "") is None:
            del values["password"]
        return values


class EndpointOut(BaseModel):
    """An endpoint; the SIP password only in the answer that set it."""

    id: str
    name: str
    target: str = Field(description="What forwarding rules use: endpoint:<name>")
    caller_id: str | None
    user_id: str | None
    password: str | None
    created_at: datetime

    @classmethod
    def of(cls, e: Endpoint, *, show_password: bool = False) -> EndpointOut:
        """The view of an endpoint row."""
        return cls(id=e.id, name=e.name, target=f"endpoint:{e.name}", caller_id=e.caller_id,
                   user_id=e.user_id, password=e.password if show_password else None,
                   created_at=e.created_at)
