"""``/api/v1/contacts`` models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from switchboard.models import Contact
from switchboard.services.contacts import ContactFields


class ContactIn(BaseModel):
    """Seed 001 ``POST /api/v1/contacts``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Full name")
    phone: str = Field(min_length=1, max_length=32, description="E.164 phone number")
    email: str | None = Field(default=None, max_length=254)
    company: str | None = Field(default=None, max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=20)

    def fields(self) -> ContactFields:
        """In the service's terms."""
        return ContactFields(name=self.name, phone=self.phone, email=self.email,
                             company=self.company, tags=self.tags)


class ContactPatch(BaseModel):
    """Fields to change; omitted ones stay."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, min_length=1, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    company: str | None = Field(default=None, max_length=200)
    tags: list[str] | None = Field(default=None, max_length=20)

    def fields(self) -> ContactFields:
        """In the service's terms."""
        return ContactFields(name=self.name, phone=self.phone, email=self.email,
                             company=self.company, tags=self.tags)


class ContactOut(BaseModel):
    """A contact."""

    id: str
    name: str
    phone: str
    email: str | None
    company: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, c: Contact) -> ContactOut:
        """The view of a contact row."""
        return cls(id=c.id, name=c.name, phone=c.phone, email=c.email, company=c.company,
                   tags=list(c.tags), created_at=c.created_at, updated_at=c.updated_at)


class RowErrorOut(BaseModel):
    """One refused row of an import (``row`` is the CSV line, the header is line 1)."""

    row: int
    field: str | None
    message: str


class ContactImportOut(BaseModel):
    """What an import did."""

    created: int
    merged: int
    errors: list[RowErrorOut]
