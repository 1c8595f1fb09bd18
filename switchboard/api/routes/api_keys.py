"""``/api/v1/api-keys``: create (shown once), list, get, revoke (admin only)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from switchboard.api.deps import AdminPrincipal, DbSession
from switchboard.api.pagination import PageOut, PageQuery
from switchboard.models import ApiKey
from switchboard.services import api_keys as key_service
from switchboard.services.roles import Role, parse_role

router = APIRouter(prefix="/api/v1/api-keys", tags=["api-keys"])


class ApiKeyOut(BaseModel):
    """A key as listed: its prefix identifies it; the key itself is never shown again."""

    id: str
    name: str
    prefix: str
    role: Role
    user_id: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """A new key. ``key`` is shown only in this response: store it now."""

    key: str


class ApiKeyIn(BaseModel):
    """A new key: a label, the role it acts with, the user it acts for (default: the caller).

    The key dies with its user and never acts above the user's current role.
    """

    name: str = Field(default="", max_length=200)
    role: Role = Role.ADMIN
    user_id: str | None = Field(default=None, max_length=36)


def _out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        role=parse_role(row.role) or Role.READ_ONLY,
        user_id=row.user_id,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


@router.get("", response_model=PageOut[ApiKeyOut], summary="List API keys")
async def list_keys(
    principal: AdminPrincipal, session: DbSession, paging: PageQuery
) -> PageOut[ApiKeyOut]:
    """The tenant's keys, newest first, revoked ones included."""
    page = await key_service.list_keys(
        session, principal.tenant_id, page=paging.page, limit=paging.limit
    )
    return PageOut(
        items=[_out(k) for k in page.items], total=page.total, page=page.page, limit=page.limit
    )


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key",
)
async def create_key(
    body: ApiKeyIn, principal: AdminPrincipal, session: DbSession
) -> ApiKeyCreated:
    """Create a key; the response is the only time its value is shown.

    Without ``user_id`` the key acts for the caller's own user, so that it is
    revoked with them: a key minted by a person does not outlive their account.
    """
    created = await key_service.create_key(
        session,
        principal.tenant_id,
        name=key_service.validate_key_name(body.name),
        role=body.role,
        user_id=body.user_id or principal.user_id,
    )
    return ApiKeyCreated(**_out(created.row).model_dump(), key=created.key)


@router.get("/{key_id}", response_model=ApiKeyOut, summary="Get an API key")
async def get_key(key_id: str, principal: AdminPrincipal, session: DbSession) -> ApiKeyOut:
    """One key of the tenant (without its value)."""
    return _out(await key_service.get_key(session, principal.tenant_id, key_id))


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke an API key",
)
async def revoke_key(key_id: str, principal: AdminPrincipal, session: DbSession) -> Response:
    """Revoke a key: it stops authenticating at once and stays listed as revoked."""
    await key_service.revoke_key(session, principal.tenant_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
