"""Who is looking at the console: the session cookie, CSRF tokens and the tenant switcher.

The session cookie is the API's own (``switchboard_session``: an access JWT,
HttpOnly, SameSite=Lax, Secure behind https), so the console and the API
agree on users, roles and revocation (a new password or a deactivated user
ends every session at once). It lives ``console_session_minutes``.

Every state-changing request carries a CSRF token: a form field
``csrf_token`` or the ``X-CSRF-Token`` header (htmx sends it), equal to an
HMAC of the session token, so it needs no server-side storage. The sign-in
form, which has no session yet, uses a double-submit cookie instead.

A person whose email and password match accounts in several tenants picks
one; the others are kept in a signed ``switchboard_accounts`` cookie so the
tenant switcher can move between them without asking for the password again
(each switch re-checks that the account is active and its password unchanged).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.api.deps import SESSION_COOKIE, DbSession
from switchboard.config import Settings
from switchboard.models import Tenant, User
from switchboard.security import credential_stamp, decode_token, issue_token
from switchboard.services import users as user_service
from switchboard.services.roles import Role, parse_role

ACCOUNTS_COOKIE = "switchboard_accounts"
LOGIN_CSRF_COOKIE = "switchboard_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
_ACCOUNTS_PURPOSE = b"switchboard-console-accounts-v1"
_CSRF_PURPOSE = b"switchboard-console-csrf-v1"


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in form."""


class CsrfRejected(Exception):
    """A state-changing request without the session's CSRF token."""


class RoleRequired(Exception):
    """The viewer's role does not allow this action."""

    def __init__(self, role: Role) -> None:
        super().__init__(f"This needs the {role.value} role")
        self.role = role


@dataclass(frozen=True, slots=True)
class Account:
    """One account (user in a tenant) the signed-in person may switch to."""

    user_id: str
    tenant_id: str
    tenant_name: str


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user of a console request."""

    user: User
    tenant: Tenant
    role: Role
    csrf: str
    accounts: tuple[Account, ...] = field(default=())

    @property
    def tenant_id(self) -> str:
        """The tenant every lookup of the request is scoped to."""
        return self.tenant.id

    def can(self, role: Role) -> bool:
        """Whether the viewer's role includes ``role``."""
        return self.role.includes(role)

    def require(self, role: Role) -> None:
        """Refuse the request unless the viewer's role includes ``role``.

        Raises:
            RoleRequired: It does not.
        """
        if not self.can(role):
            raise RoleRequired(role)


def _key(settings: Settings, purpose: bytes) -> bytes:
    return hmac.new(settings.secret_key.encode(), purpose, hashlib.sha256).digest()


def csrf_for(settings: Settings, session_token: str) -> str:
    """The CSRF token of a session: an HMAC of its cookie, so nothing is stored."""
    digest = hmac.new(_key(settings, _CSRF_PURPOSE), session_token.encode(), hashlib.sha256)
    return digest.hexdigest()[:40]


def issue_session(settings: Settings, user: User) -> str:
    """A console session token (an access JWT) for ``user``."""
    return issue_token(
        settings.secret_key,
        user_id=user.id,
        tenant_id=user.tenant_id,
        role=user.role,
        token_type="access",
        lifetime=timedelta(minutes=settings.console_session_minutes),
        stamp=credential_stamp(user.password_hash),
    )


def encode_accounts(settings: Settings, users: list[User]) -> str:
    """The signed list of accounts a sign-in matched, for the tenant switcher."""
    payload: dict[str, Any] = {
        "acc": [[u.id, u.tenant_id, credential_stamp(u.password_hash)] for u in users],
        "exp": int((datetime.now(UTC) + timedelta(minutes=settings.console_session_minutes))
                   .timestamp()),
    }
    return jwt.encode(payload, _key(settings, _ACCOUNTS_PURPOSE), algorithm="HS256")


def decode_accounts(settings: Settings, token: str | None) -> list[tuple[str, str, str]]:
    """``(user_id, tenant_id, stamp)`` of each account in a valid accounts cookie."""
    if not token:
        return []
    try:
        payload = jwt.decode(token, _key(settings, _ACCOUNTS_PURPOSE), algorithms=["HS256"])
    except jwt.PyJWTError:
        return []
    raw = payload.get("acc")
    if not isinstance(raw, list):
        return []
    return [(str(a[0]), str(a[1]), str(a[2])) for a in raw
            if isinstance(a, list) and len(a) == 3 and all(isinstance(x, str) for x in a)]


def set_session_cookies(
    request: Request, response: Any, settings: Settings, token: str, accounts: str | None
) -> None:
    """Write the session (and accounts) cookies: HttpOnly, SameSite=Lax, Secure on https."""
    secure = request.url.scheme == "https" or settings.base_url.startswith("https://")
    max_age = settings.console_session_minutes * 60
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True,
                        samesite="lax", secure=secure, path="/")
    if accounts is not None:
        response.set_cookie(ACCOUNTS_COOKIE, accounts, max_age=max_age, httponly=True,
                            samesite="lax", secure=secure, path="/console")


def clear_session_cookies(response: Any) -> None:
    """Forget the session and the accounts (sign-out)."""
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(ACCOUNTS_COOKIE, path="/console")


async def rollback_keeping_viewer(session: AsyncSession, viewer: Viewer) -> None:
    """Undo a failed change, keeping the viewer usable for the error page.

    A rollback expires every object of the session; reading the viewer's
    expired user or tenant afterwards would load them outside SQLAlchemy's
    async bridge (``MissingGreenlet``, a 500 instead of the form's error).
    """
    await session.rollback()
    await session.refresh(viewer.user)
    await session.refresh(viewer.tenant)


def new_login_csrf() -> str:
    """A random token for the sign-in form's double-submit cookie."""
    return secrets.token_urlsafe(24)


async def _viewer(request: Request, session: AsyncSession) -> Viewer:
    settings: Settings = request.app.state.settings
    token = request.cookies.get(SESSION_COOKIE)
    claims = decode_token(settings.secret_key, token, expected_type="access") if token else None
    if token is None or claims is None:
        raise LoginRequired()
    user = await user_service.get_active_user(session, claims.user_id)
    role = parse_role(user.role) if user else None
    if (user is None or role is None or user.tenant_id != claims.tenant_id
            or not claims.matches(user.password_hash)):
        raise LoginRequired()
    tenant = await session.get(Tenant, user.tenant_id)
    if tenant is None:
        raise LoginRequired()
    accounts = []
    for user_id, tenant_id, _stamp in decode_accounts(settings, request.cookies.get(
            ACCOUNTS_COOKIE)):
        other = await session.get(Tenant, tenant_id)
        if other is not None:
            accounts.append(Account(user_id=user_id, tenant_id=tenant_id, tenant_name=other.name))
    return Viewer(user=user, tenant=tenant, role=role, csrf=csrf_for(settings, token),
                  accounts=tuple(accounts))


async def current_viewer(request: Request, session: DbSession) -> Viewer:
    """The signed-in user; :class:`LoginRequired` (a redirect) without a valid session."""
    return await _viewer(request, session)


async def checked_viewer(request: Request, session: DbSession) -> Viewer:
    """The signed-in user of a state-changing request, whose CSRF token must match.

    Raises:
        LoginRequired: No valid session.
        CsrfRejected: The token is missing or wrong.
    """
    viewer = await _viewer(request, session)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if sent is None or not hmac.compare_digest(sent, viewer.csrf):
        raise CsrfRejected()
    return viewer


ViewerDep = Annotated[Viewer, Depends(current_viewer)]
"""Any signed-in user (pages that only read)."""

ActingViewer = Annotated[Viewer, Depends(checked_viewer)]
"""A signed-in user whose request carries the CSRF token (every POST)."""
