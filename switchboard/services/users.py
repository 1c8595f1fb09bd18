"""Users (staff) of a tenant: create, list, update, delete, sign in."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import Tenant, User
from switchboard.security import hash_password_async, verify_password_async
from switchboard.services.api_keys import revoke_user_keys
from switchboard.services.exceptions import (
    Conflict,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from switchboard.services.paging import Page, paginate
from switchboard.services.roles import Role

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
# Sign-in tries the password against at most this many accounts sharing an email.
_MAX_LOGIN_CANDIDATES = 5


def normalize_email(email: str) -> str:
    """Trimmed, lower-cased email; raises ValidationFailed when it is not one."""
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise ValidationFailed("Invalid email address", field="email")
    return email


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Password must have at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


async def _email_taken(
    session: AsyncSession, tenant_id: str, email: str, *, except_id: str | None = None
) -> bool:
    query = select(User.id).where(User.tenant_id == tenant_id, User.email == email)
    if except_id is not None:
        query = query.where(User.id != except_id)
    return await session.scalar(query.limit(1)) is not None


async def create_user(
    session: AsyncSession,
    tenant_id: str,
    *,
    email: str,
    name: str = "",
    role: Role = Role.AGENT,
    password: str | None = None,
    phone: str | None = None,
) -> User:
    """Create a user in a tenant.

    Raises:
        NotFound: No such tenant.
        ValidationFailed: Bad email or too short a password.
        Conflict: The email is already used in this tenant.
    """
    if await session.get(Tenant, tenant_id) is None:
        raise NotFound("Tenant not found", field="tenant_id")
    email = normalize_email(email)
    if password is not None:
        _check_password(password)
    if await _email_taken(session, tenant_id, email):
        raise Conflict("A user with this email already exists", field="email")
    user = User(
        tenant_id=tenant_id,
        email=email,
        name=name,
        role=role.value,
        phone=phone,
        password_hash=await hash_password_async(password) if password else None,
    )
    session.add(user)
    await session.flush()
    return user


async def list_users(
    session: AsyncSession, tenant_id: str, *, page: int = 1, limit: int = 25
) -> Page[User]:
    """One page of the tenant's users, by email, with the total."""
    stmt = select(User).where(User.tenant_id == tenant_id).order_by(User.email, User.id)
    return await paginate(session, stmt, page, limit)


async def get_user(session: AsyncSession, tenant_id: str, user_id: str) -> User:
    """One user of the tenant; another tenant's user is reported as not found."""
    user = await session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id:
        raise NotFound("User not found", field="id")
    return user


async def get_active_user(session: AsyncSession, user_id: str) -> User | None:
    """The user if it exists and is active (used to re-check tokens)."""
    user = await session.get(User, user_id)
    return user if user is not None and user.is_active else None


async def _ensure_other_admin(session: AsyncSession, user: User) -> None:
    others = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(
            User.tenant_id == user.tenant_id,
            User.role == Role.ADMIN.value,
            User.is_active.is_(True),
            User.id != user.id,
        )
    )
    if not others:
        raise Conflict("The tenant's last active admin cannot be removed or demoted", field="role")


async def update_user(
    session: AsyncSession,
    tenant_id: str,
    user_id: str,
    *,
    email: str | None = None,
    name: str | None = None,
    role: Role | None = None,
    password: str | None = None,
    phone: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change the given fields of a user; ``None`` leaves a field as it is.

    Raises:
        NotFound: Not a user of this tenant.
        Conflict: New email taken, or the change would leave no active admin.
        ValidationFailed: Bad email or too short a password.
    """
    user = await get_user(session, tenant_id, user_id)
    losing_admin = (
        user.role == Role.ADMIN.value
        and user.is_active
        and ((role is not None and role is not Role.ADMIN) or is_active is False)
    )
    if losing_admin:
        await _ensure_other_admin(session, user)
    if email is not None:
        email = normalize_email(email)
        if await _email_taken(session, tenant_id, email, except_id=user.id):
            raise Conflict("A user with this email already exists", field="email")
        user.email = email
    if password is not None:
        _check_password(password)
        user.password_hash = await hash_password_async(password)
    if name is not None:
        user.name = name
    if role is not None:
        user.role = role.value
    if phone is not None:
        user.phone = phone or None
    if is_active is not None:
        user.is_active = is_active
    await session.flush()
    return user


async def delete_user(session: AsyncSession, tenant_id: str, user_id: str) -> None:
    """Delete a user and revoke their API keys; a tenant's last active admin stays."""
    user = await get_user(session, tenant_id, user_id)
    if user.role == Role.ADMIN.value and user.is_active:
        await _ensure_other_admin(session, user)
    await revoke_user_keys(session, user)
    await session.delete(user)
    await session.flush()


async def matching_accounts(
    session: AsyncSession, email: str, password: str, *, tenant_id: str | None = None
) -> list[User]:
    """Every active account with this email whose password matches (none: empty).

    An email may exist in several tenants (at most a few are tried); the
    console lets a person who matches several switch between them.
    """
    try:
        email = normalize_email(email)
    except ValidationFailed:
        await verify_password_async(password, None)  # same cost as a wrong password
        return []
    query = select(User).where(User.email == email, User.is_active.is_(True))
    if tenant_id is not None:
        query = query.where(User.tenant_id == tenant_id)
    candidates = list(await session.scalars(
        query.order_by(User.tenant_id).limit(_MAX_LOGIN_CANDIDATES)))
    if not candidates:
        await verify_password_async(password, None)  # same cost as a wrong password
        return []
    return [u for u in candidates if await verify_password_async(password, u.password_hash)]


async def authenticate(
    session: AsyncSession, email: str, password: str, *, tenant_id: str | None = None
) -> User:
    """The active user whose email and password match.

    An email may exist in several tenants; without ``tenant_id`` the password
    picks the account, and a password matching several is refused as ambiguous.

    Raises:
        Unauthorized: No such active user or a wrong password.
        Conflict: Several accounts match; ``tenant_id`` is needed.
    """
    matches = await matching_accounts(session, email, password, tenant_id=tenant_id)
    if not matches:
        raise Unauthorized("Invalid email or password")
    if len(matches) > 1:
        raise Conflict("This account exists in several tenants; give tenant_id", field="tenant_id")
    return matches[0]
