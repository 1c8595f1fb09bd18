"""``/api/v1/tenants``: a tenant's own record, plan limits and usage.

A tenant only ever sees itself: the list holds one row and any other id is
404. Creating tenants and changing plan limits are operator tasks
(``switchboard tenants create``), not something a tenant's admin can do.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from switchboard.api.deps import AdminPrincipal, CurrentPrincipal, DbSession
from switchboard.api.pagination import PageOut, PageQuery
from switchboard.models import Tenant
from switchboard.services import tenants as tenant_service
from switchboard.services.exceptions import NotFound

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"])


class PlanOut(BaseModel):
    """Plan limits and what is used of them."""

    plan: str
    max_numbers: int
    numbers_used: int
    voice_minutes_limit: int
    voice_seconds_used: int
    recording_storage_mb: int
    recording_bytes_used: int


class TenantOut(BaseModel):
    """A tenant as its users see it (the auth token is never shown)."""

    id: str
    name: str
    account_sid: str
    timezone: str
    created_at: datetime
    limits: PlanOut


class TenantPatch(BaseModel):
    """Fields a tenant's admin may change."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)


async def _out(session: DbSession, tenant: Tenant) -> TenantOut:
    usage = await tenant_service.tenant_usage(session, tenant)
    return TenantOut(
        id=tenant.id,
        name=tenant.name,
        account_sid=tenant.account_sid,
        timezone=tenant.timezone,
        created_at=tenant.created_at,
        limits=PlanOut(
            plan=tenant.plan,
            max_numbers=tenant.max_numbers,
            numbers_used=usage.numbers,
            voice_minutes_limit=tenant.voice_minutes_limit,
            voice_seconds_used=usage.voice_seconds_used,
            recording_storage_mb=tenant.recording_storage_mb,
            recording_bytes_used=usage.recording_bytes,
        ),
    )


def _own(principal_tenant: str, tenant_id: str) -> None:
    if tenant_id != principal_tenant:
        raise NotFound("Tenant not found", field="tenant_id")


@router.get("", response_model=PageOut[TenantOut], summary="List tenants (your own)")
async def list_tenants(
    principal: AdminPrincipal, session: DbSession, paging: PageQuery
) -> PageOut[TenantOut]:
    """The caller's tenant, in the list envelope."""
    tenant = await tenant_service.get_tenant(session, principal.tenant_id)
    items = [await _out(session, tenant)] if paging.page == 1 else []
    return PageOut(items=items, total=1, page=paging.page, limit=paging.limit)


@router.get("/current", response_model=TenantOut, summary="The caller's tenant")
async def current_tenant(principal: CurrentPrincipal, session: DbSession) -> TenantOut:
    """The caller's tenant with its plan limits and usage (any role)."""
    return await _out(session, await tenant_service.get_tenant(session, principal.tenant_id))


@router.get("/{tenant_id}", response_model=TenantOut, summary="Get a tenant")
async def get_tenant(tenant_id: str, principal: AdminPrincipal, session: DbSession) -> TenantOut:
    """The caller's own tenant by id; any other id is 404."""
    _own(principal.tenant_id, tenant_id)
    return await _out(session, await tenant_service.get_tenant(session, tenant_id))


@router.patch("/{tenant_id}", response_model=TenantOut, summary="Update a tenant")
async def update_tenant(
    tenant_id: str, body: TenantPatch, principal: AdminPrincipal, session: DbSession
) -> TenantOut:
    """Rename the tenant or change its time zone."""
    _own(principal.tenant_id, tenant_id)
    tenant = await tenant_service.update_tenant(
        session, tenant_id, name=body.name, timezone=body.timezone
    )
    return await _out(session, tenant)
