"""``/api/v1/users``: a tenant's staff (admin only, except ``/me``)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from switchboard.api.deps import AdminPrincipal, CurrentPrincipal, DbSession
from switchboard.api.pagination import PageOut, PageQuery
from switchboard.models import User
from switchboard.services import users as user_service
from switchboard.services.exceptions import NotFound
from switchboard.services.roles import Role

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class UserOut(BaseModel):
    """A user (the password hash is never shown)."""

    id: str
    tenant_id: str
    email: str
    name: str
    role: Role
    phone: str | None
    is_active: bool
    created_at: datetime


class UserIn(BaseModel):
    """A new user. Without a password the user cannot sign in (API keys only)."""

    email: str = Field(min_length=3, max_length=254)
    name: str = Field(default="", max_length=200)
    role: Role = Role.AGENT
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    phone: str | None = Field(default=None, max_length=32)


class UserPatch(BaseModel):
    """Fields to change; omitted ones stay as they are."""

    email: str | None = Field(default=None, min_length=3, max_length=254)
    name: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    phone: str | None = Field(default=None, max_length=32)
    is_active: bool | None = None


def _out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        tenant_id=user.tenant_id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        phone=user.phone,
        is_active=user.is_active,
        created_at=user.created_at,
    )


@router.get("", response_model=PageOut[UserOut], summary="List users")
async def list_users(
    principal: AdminPrincipal, session: DbSession, paging: PageQuery
) -> PageOut[UserOut]:
    """The tenant's users by email, one page with the total."""
    page = await user_service.list_users(
        session, principal.tenant_id, page=paging.page, limit=paging.limit
    )
    return PageOut(
        items=[_out(u) for u in page.items], total=page.total, page=page.page, limit=page.limit
    )


@router.post(
    "", response_model=UserOut, status_code=status.HTTP_201_CREATED, summary="Create a user"
)
async def create_user(body: UserIn, principal: AdminPrincipal, session: DbSession) -> UserOut:
    """Add a user to the caller's tenant (409 when the email is taken)."""
    user = await user_service.create_user(
        session,
        principal.tenant_id,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        phone=body.phone,
    )
    return _out(user)


@router.get("/me", response_model=UserOut, summary="The signed-in user")
async def me(principal: CurrentPrincipal, session: DbSession) -> UserOut:
    """The user behind the credentials (404 for an API key without a user)."""
    if principal.user_id is None:
        raise NotFound("These credentials belong to no user", field="user_id")
    return _out(await user_service.get_user(session, principal.tenant_id, principal.user_id))


@router.get("/{user_id}", response_model=UserOut, summary="Get a user")
async def get_user(user_id: str, principal: AdminPrincipal, session: DbSession) -> UserOut:
    """One user of the tenant."""
    return _out(await user_service.get_user(session, principal.tenant_id, user_id))


@router.patch("/{user_id}", response_model=UserOut, summary="Update a user")
async def update_user(
    user_id: str, body: UserPatch, principal: AdminPrincipal, session: DbSession
) -> UserOut:
    """Change a user's email, name, role, password, phone or active flag."""
    user = await user_service.update_user(
        session,
        principal.tenant_id,
        user_id,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        phone=body.phone,
        is_active=body.is_active,
    )
    return _out(user)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a user",
)
async def delete_user(user_id: str, principal: AdminPrincipal, session: DbSession) -> Response:
    """Delete a user (409 for the tenant's last active admin)."""
    await user_service.delete_user(session, principal.tenant_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
