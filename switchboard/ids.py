"""Identifiers in the provider's shapes (``CA…``, ``AC…``, ``RE…``) and plain UUIDs."""

from __future__ import annotations

import secrets
import uuid


def new_uuid() -> str:
    """A random UUID as a string, the primary key of every row."""
    return str(uuid.uuid4())


def new_sid(prefix: str) -> str:
    """A provider-style SID: a two-letter prefix and 32 lower-case hex digits."""
    return prefix + secrets.token_hex(16)


def call_sid() -> str:
    """A call SID (``CA`` + 32 hex)."""
    return new_sid("CA")


def account_sid() -> str:
    """An account SID (``AC`` + 32 hex)."""
    return new_sid("AC")


def recording_sid() -> str:
    """A recording SID (``RE`` + 32 hex)."""
    return new_sid("RE")


def auth_token() -> str:
    """A tenant auth token (32 hex), the key of webhook signatures."""
    return secrets.token_hex(16)
