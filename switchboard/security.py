"""Credentials: scrypt password hashes, API keys and JWT access/refresh tokens.

Everything here is pure (no I/O) except that scrypt is CPU-heavy on purpose:
async callers use :func:`hash_password_async` / :func:`verify_password_async`,
which run it in a thread so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt

# scrypt cost: 2**14 * 8 * 128 bytes = 16 MiB, ~50 ms on this class of machine.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
_JWT_ALGORITHM = "HS256"
API_KEY_PREFIX = "sb_"

TokenType = Literal["access", "refresh"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """Hash ``password`` with scrypt and a random salt.

    Returns:
        ``scrypt$N$r$p$salt$hash`` with URL-safe Base64 fields.
    """
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=_SCRYPT_MAXMEM
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str | None) -> bool:
    """Whether ``password`` matches ``encoded``; a missing or malformed hash never matches.

    When ``encoded`` is ``None`` the same scrypt work is still done, so that an
    unknown account takes as long to reject as a wrong password.
    """
    if encoded is None:
        hash_password(password)
        return False
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` in a worker thread."""
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password: str, encoded: str | None) -> bool:
    """:func:`verify_password` in a worker thread."""
    return await asyncio.to_thread(verify_password, password, encoded)


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly generated key: ``key`` is shown once, only ``key_hash`` is stored."""

    key: str
    prefix: str
    key_hash: str


def hash_api_key(key: str) -> str:
    """SHA-256 hex digest of an API key.

    Keys carry 256 random bits, so a fast hash is enough (no dictionary to
    attack) and lets a request find its key with one indexed lookup.
    """
    return hashlib.sha256(key.encode()).hexdigest()


def generate_api_key() -> NewApiKey:
    """A new random API key (``sb_`` + 43 URL-safe characters)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return NewApiKey(key=key, prefix=key[:10], key_hash=hash_api_key(key))


def _jwt_key(secret: str) -> bytes:
    # A 32-byte key derived from the settings' secret: long enough for HS256 whatever
    # the secret's length, and distinct from any other use of the same secret.
    return hmac.new(secret.encode(), b"switchboard-jwt-v1", hashlib.sha256).digest()


def credential_stamp(password_hash: str | None) -> str:
    """A short fingerprint of a user's password hash, carried in their tokens.

    Tokens are stateless; comparing this stamp with the user's current one on
    every use makes a password change revoke every token issued before it.
    """
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The claims Switchboard puts in its JWTs."""

    user_id: str
    tenant_id: str
    role: str
    type: TokenType
    expires_at: datetime
    stamp: str

    def matches(self, password_hash: str | None) -> bool:
        """Whether the token was issued under the user's current password."""
        return hmac.compare_digest(self.stamp, credential_stamp(password_hash))


def issue_token(
    secret: str,
    *,
    user_id: str,
    tenant_id: str,
    role: str,
    token_type: TokenType,
    lifetime: timedelta,
    stamp: str,
    now: datetime | None = None,
) -> str:
    """Sign a JWT (HS256) for a user.

    Args:
        secret: The signing key (``Settings.secret_key``).
        user_id: Subject (``sub``).
        tenant_id: The user's tenant (``tid``).
        role: The user's role when issued (re-checked against the database on use).
        token_type: ``access`` or ``refresh``; each is accepted only where it belongs.
        lifetime: Time until ``exp``.
        stamp: :func:`credential_stamp` of the user's password hash.
        now: Issue time; defaults to the current time.

    Returns:
        The encoded token.
    """
    issued = now or datetime.now(UTC)
    payload: dict[str, Any] = {
        "sub": user_id,
        "tid": tenant_id,
        "role": role,
        "typ": token_type,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
        "jti": secrets.token_hex(8),
        "pst": stamp,
    }
    return jwt.encode(payload, _jwt_key(secret), algorithm=_JWT_ALGORITHM)


def decode_token(secret: str, token: str, *, expected_type: TokenType) -> TokenClaims | None:
    """Verify and decode a JWT; ``None`` when it is invalid, expired or of the wrong type."""
    try:
        payload = jwt.decode(
            token,
            _jwt_key(secret),
            algorithms=[_JWT_ALGORITHM],
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    if payload.get("typ") != expected_type:
        return None
    sub, tid, role = payload.get("sub"), payload.get("tid"), payload.get("role")
    stamp = payload.get("pst")
    if not all(isinstance(v, str) for v in (sub, tid, role, stamp)):
        return None
    return TokenClaims(
        user_id=str(sub),
        tenant_id=str(tid),
        role=str(role),
        type=expected_type,
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        stamp=str(stamp),
    )
