"""API keys: created with a role, shown once, stored as a hash, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import ApiKey, Tenant, User, utcnow
from switchboard.security import API_KEY_PREFIX, generate_api_key, hash_api_key
from switchboard.services.exceptions import NotFound, ValidationFailed
from switchboard.services.paging import Page, paginate
from switchboard.services.roles import Role, parse_role

# Writing ``last_used_at`` on every request would turn reads into writes.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key row and its plaintext, which is never stored or shown again."""

    row: ApiKey
    key: str


async def create_key(
    session: AsyncSession,
    tenant_id: str,
    *,
    name: str,
    role: Role = Role.ADMIN,
    user_id: str | None = None,
) -> CreatedKey:
    """Create an API key for a tenant.

    A key that acts for a user is only ever as strong as that user is now
    (see :func:`authenticate_key`); it cannot be made stronger to begin with.
    A key without a user is the tenant's own (an operator's, from the CLI).

    Args:
        session: Database session (the caller's transaction).
        tenant_id: Owner tenant.
        name: Label shown in listings.
        role: What the key may do.
        user_id: A user of the same tenant the key acts for, if any.

    Raises:
        NotFound: ``tenant_id`` or ``user_id`` is not a row of this tenant.
        ValidationFailed: ``role`` is above the user's role.
    """
    if await session.get(Tenant, tenant_id) is None:
        raise NotFound("Tenant not found", field="tenant_id")
    if user_id is not None:
        user = await session.get(User, user_id)
        if user is None or user.tenant_id != tenant_id:
            raise NotFound("User not found", field="user_id")
        user_role = parse_role(user.role)
        if user_role is None or not user_role.includes(role):
            raise ValidationFailed(
                f"A key cannot have more than its user's role ({user.role})", field="role"
            )
    new = generate_api_key()
    row = ApiKey(
        tenant_id=tenant_id,
        user_id=user_id,
        name=name,
        prefix=new.prefix,
        key_hash=new.key_hash,
        role=role.value,
    )
    session.add(row)
    await session.flush()
    return CreatedKey(row=row, key=new.key)


async def list_keys(
    session: AsyncSession, tenant_id: str, *, page: int = 1, limit: int = 25
) -> Page[ApiKey]:
    """One page of the tenant's keys, newest first, with the total."""
    stmt = (
        select(ApiKey)
        .where(ApiKey.tenant_id == tenant_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id)
    )
    return await paginate(session, stmt, page, limit)


async def get_key(session: AsyncSession, tenant_id: str, key_id: str) -> ApiKey:
    """One key of the tenant; another tenant's key is reported as not found."""
    row = await session.get(ApiKey, key_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("API key not found", field="id")
    return row


async def revoke_key(session: AsyncSession, tenant_id: str, key_id: str) -> ApiKey:
    """Revoke a key (idempotent); it stops authenticating at once."""
    row = await get_key(session, tenant_id, key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
    return row


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """A key that authenticated, and the role it acts with right now."""

    row: ApiKey
    role: Role


async def authenticate_key(session: AsyncSession, key: str) -> KeyHolder | None:
    """The live key matching ``key`` and its effective role, or ``None``.

    ``None`` for an unknown or revoked key, and for a key whose user is gone,
    deactivated or in another tenant. A user's key acts with the lower of its
    own role and the user's current one, so demoting a user demotes their keys
    at once.
    """
    if not key.startswith(API_KEY_PREFIX) or len(key) > 200:
        return None
    found = (
        await session.execute(
            select(ApiKey, User)
            .outerjoin(User, User.id == ApiKey.user_id)
            .where(ApiKey.key_hash == hash_api_key(key))
        )
    ).first()
    if found is None:
        return None
    row, user = found
    role = parse_role(row.role)
    if row.revoked_at is not None or role is None:
        return None
    if row.user_id is not None:
        user_role = parse_role(user.role) if user is not None else None
        if user is None or not user.is_active or user.tenant_id != row.tenant_id:
            return None
        if user_role is None:
            return None
        role = min(role, user_role, key=lambda r: r.rank)
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_RESOLUTION:
        row.last_used_at = now
    return KeyHolder(row=row, role=role)


async def revoke_user_keys(session: AsyncSession, user: User) -> None:
    """Revoke every live key of ``user`` (before the user row goes).

    The key's ``user_id`` is set to NULL when its user is deleted; a revoked
    key stays listed for the record instead of turning into a tenant key.
    """
    await session.execute(
        update(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def validate_key_name(name: str) -> str:
    """A trimmed key label of at most 200 characters."""
    name = name.strip()
    if len(name) > 200:
        raise ValidationFailed("Name is longer than 200 characters", field="name")
    return name
