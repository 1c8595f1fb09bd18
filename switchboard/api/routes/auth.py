"""Sign-in: a user's email and password for access and refresh JWTs."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from switchboard.api.deps import CurrentPrincipal, DbSession, RateLimiterDep, SettingsDep
from switchboard.api.ratelimit import check_sign_in
from switchboard.config import Settings
from switchboard.models import User
from switchboard.security import credential_stamp, decode_token, issue_token
from switchboard.services import users as user_service
from switchboard.services.exceptions import Unauthorized
from switchboard.services.roles import Role

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginIn(BaseModel):
    """Credentials of a user."""

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    tenant_id: str | None = Field(
        default=None,
        max_length=36,
        description="Needed only when the email exists in several tenants",
    )


class RefreshIn(BaseModel):
    """A refresh token from a previous sign-in."""

    refresh_token: str = Field(min_length=1, max_length=4096)


class TokensOut(BaseModel):
    """A new token pair. Send the access token as ``Authorization: Bearer``."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_expires_in: int
    user_id: str
    tenant_id: str
    role: Role


class WhoAmI(BaseModel):
    """The caller as the API sees it."""

    tenant_id: str
    user_id: str | None
    role: Role
    via: Literal["api_key", "jwt", "session"]


def _tokens(settings: Settings, user: User, role: Role) -> TokensOut:
    access = timedelta(minutes=settings.jwt_access_minutes)
    refresh = timedelta(days=settings.jwt_refresh_days)

    def _issue(token_type: Literal["access", "refresh"], lifetime: timedelta) -> str:
        return issue_token(
            settings.secret_key,
            user_id=user.id,
            tenant_id=user.tenant_id,
            role=role.value,
            token_type=token_type,
            lifetime=lifetime,
            stamp=credential_stamp(user.password_hash),
        )

    return TokensOut(
        access_token=_issue("access", access),
        refresh_token=_issue("refresh", refresh),
        expires_in=int(access.total_seconds()),
        refresh_expires_in=int(refresh.total_seconds()),
        user_id=user.id,
        tenant_id=user.tenant_id,
        role=role,
    )


@router.post("/login", response_model=TokensOut, summary="Sign in with email and password")
async def login(
    request: Request, body: LoginIn, session: DbSession, settings: SettingsDep,
    limiter: RateLimiterDep,
) -> TokensOut:
    """Exchange a user's email and password for an access and a refresh token.

    Attempts are limited per e-mail and per client address (429).
    """
    await check_sign_in(
        limiter, settings, email=body.email, client=request.client.host if request.client else None
    )
    user = await user_service.authenticate(
        session, body.email, body.password, tenant_id=body.tenant_id
    )
    return _tokens(settings, user, Role(user.role))


@router.post("/refresh", response_model=TokensOut, summary="Renew tokens")
async def refresh(body: RefreshIn, session: DbSession, settings: SettingsDep) -> TokensOut:
    """Exchange a valid refresh token for a new pair.

    The user must still be active and have the password the token was issued under.
    """
    claims = decode_token(settings.secret_key, body.refresh_token, expected_type="refresh")
    user = await user_service.get_active_user(session, claims.user_id) if claims else None
    if (
        claims is None
        or user is None
        or user.tenant_id != claims.tenant_id
        or not claims.matches(user.password_hash)
    ):
        raise Unauthorized("Invalid or expired refresh token", field="refresh_token")
    return _tokens(settings, user, Role(user.role))


@router.get("/me", response_model=WhoAmI, summary="The authenticated caller")
async def whoami(principal: CurrentPrincipal) -> WhoAmI:
    """Who the credentials of this request belong to."""
    return WhoAmI(
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        role=principal.role,
        via=principal.via,
    )
