"""Annotated dependencies, so routes read as plain functions.

* :data:`DbSession` — one ``AsyncSession`` per request. **Transactions:** the
  session is committed when the route function returns and rolled back when it
  raises (``Depends(..., scope="function")``: this happens *before* the
  response is sent, so a failed commit is answered as an error and a client
  never reads a response for data that was not stored). Routes and services do
  not commit; they may ``flush`` to get ids or hit constraints early.
* :data:`CurrentPrincipal` — who is calling: ``X-API-Key: <key>``,
  ``Authorization: Bearer <access JWT>``, or the dashboard cookie
  ``switchboard_session`` holding an access JWT (the web UI sets it with
  ``SameSite=Lax``). Missing or wrong credentials → 401. Resolving the
  principal also counts the request against the tenant's rate limit (429 with
  ``Retry-After``), so every authenticated route is limited.
* :func:`require_role` — ``Depends(require_role(Role.ADMIN))`` or the aliases
  :data:`AdminPrincipal` / :data:`AgentPrincipal` (admin > agent > read-only; 403).
* :data:`SettingsDep`, :data:`HealthDep`, :data:`RateLimiterDep`,
  :data:`EngineDep` (503 ``engine-not-running`` when the API runs alone),
  :data:`RecordingFetcherDep` (fetches providers' recordings through the fetch policy).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.api.health import HealthRegistry
from switchboard.api.ratelimit import RateLimiter
from switchboard.config import Settings
from switchboard.security import decode_token
from switchboard.services import api_keys as api_key_service
from switchboard.services import users as user_service
from switchboard.services.exceptions import Forbidden, RateLimited, ServiceUnavailable, Unauthorized
from switchboard.services.roles import Role, parse_role
from switchboard.services.voice_webhooks.recording_fetch import RecordingFetcher

SESSION_COOKIE = "switchboard_session"

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKey")
_bearer = HTTPBearer(auto_error=False, scheme_name="BearerJWT")
_session_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="SessionCookie")


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_health(request: Request) -> HealthRegistry:
    """The app's component health registry."""
    health: HealthRegistry = request.app.state.health
    return health


def get_rate_limiter(request: Request) -> RateLimiter:
    """The app's rate limiter."""
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def get_engine(request: Request) -> Any:
    """The call engine; 503 ``engine-not-running`` when the API runs without one."""
    engine = getattr(request.app.state, "engine", None)
    if engine is None:
        raise ServiceUnavailable("The call engine is not running", error_id="engine-not-running")
    return engine


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for this request: committed on success, rolled back on error."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


def get_recording_fetcher(request: Request) -> RecordingFetcher:
    """Fetches providers' recordings into storage with the app's policy-bound client."""
    settings: Settings = request.app.state.settings
    return RecordingFetcher(
        client=request.app.state.fetch_client,
        storage_root=settings.resolved_storage_root,
        max_bytes=settings.recording_fetch_max_bytes,
        timeout=settings.recording_fetch_timeout_seconds,
    )


SettingsDep = Annotated[Settings, Depends(get_settings)]
HealthDep = Annotated[HealthRegistry, Depends(get_health)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
EngineDep = Annotated[Any, Depends(get_engine)]
RecordingFetcherDep = Annotated[RecordingFetcher, Depends(get_recording_fetcher)]
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of a request.

    Attributes:
        tenant_id: Tenant every query of the request is scoped to.
        user_id: The user behind the request (``None`` for a key without a user).
        role: Effective role.
        via: How the caller authenticated.
        api_key_id: The key used, when ``via == "api_key"``.
    """

    tenant_id: str
    user_id: str | None
    role: Role
    via: Literal["api_key", "jwt", "session"]
    api_key_id: str | None = None

    def has_role(self, role: Role) -> bool:
        """Whether this principal's role includes ``role``."""
        return self.role.includes(role)


async def _from_api_key(session: AsyncSession, key: str) -> Principal:
    holder = await api_key_service.authenticate_key(session, key)
    if holder is None:
        raise Unauthorized("Invalid API key")
    row = holder.row
    return Principal(
        tenant_id=row.tenant_id, user_id=row.user_id, role=holder.role, via="api_key",
        api_key_id=row.id,
    )


async def _from_jwt(
    session: AsyncSession, settings: Settings, token: str, via: Literal["jwt", "session"]
) -> Principal:
    claims = decode_token(settings.secret_key, token, expected_type="access")
    if claims is None:
        raise Unauthorized("Invalid or expired token")
    # Re-read the user: deactivation, a role change or a new password take effect at once.
    user = await user_service.get_active_user(session, claims.user_id)
    role = parse_role(user.role) if user else None
    if (
        user is None
        or role is None
        or user.tenant_id != claims.tenant_id
        or not claims.matches(user.password_hash)
    ):
        raise Unauthorized("Invalid or expired token")
    return Principal(tenant_id=user.tenant_id, user_id=user.id, role=role, via=via)


async def get_principal(
    session: DbSession,
    settings: SettingsDep,
    limiter: RateLimiterDep,
    api_key: Annotated[str | None, Security(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    cookie: Annotated[str | None, Security(_session_cookie)],
) -> Principal:
    """Authenticate the request and count it against the tenant's rate limit.

    Raises:
        Unauthorized: No credentials, or credentials that are wrong, expired or revoked.
        RateLimited: The tenant made ``rate_limit_per_minute`` requests in the last minute.
    """
    if api_key:
        principal = await _from_api_key(session, api_key)
    elif bearer is not None and bearer.credentials:
        principal = await _from_jwt(session, settings, bearer.credentials, "jwt")
    elif cookie:
        principal = await _from_jwt(session, settings, cookie, "session")
    else:
        raise Unauthorized("Missing authentication: send X-API-Key or Authorization: Bearer")
    decision = await limiter.hit(f"tenant:{principal.tenant_id}")
    if not decision.allowed:
        raise RateLimited(
            f"Rate limit of {limiter.limit} requests per minute exceeded",
            retry_after=decision.retry_after,
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_role(role: Role | str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that admits principals whose role includes ``role`` (else 403).

    Args:
        role: The lowest role allowed, e.g. ``Role.AGENT`` or ``"admin"``.
    """
    needed = parse_role(role) if isinstance(role, str) else role
    if needed is None:
        raise ValueError(f"unknown role {role!r}")

    async def _require(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(needed):
            raise Forbidden(f"This action needs the {needed.value} role")
        return principal

    return _require


AdminPrincipal = Annotated[Principal, Depends(require_role(Role.ADMIN))]
AgentPrincipal = Annotated[Principal, Depends(require_role(Role.AGENT))]
