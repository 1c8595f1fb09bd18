"""``/api/v1/endpoints``: desk phones and softphones that rules can ring (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from switchboard.api.deps import AdminPrincipal, DbSession
from switchboard.api.pagination import PageOut, PageQuery
from switchboard.api.schemas.endpoints import EndpointIn, EndpointOut, EndpointPatch
from switchboard.services import endpoints as endpoint_service

router = APIRouter(prefix="/api/v1/endpoints", tags=["endpoints"])


@router.get("", response_model=PageOut[EndpointOut], summary="List endpoints")
async def list_endpoints(
    principal: AdminPrincipal, session: DbSession, paging: PageQuery
) -> PageOut[EndpointOut]:
    """The tenant's endpoints by name (passwords are not shown)."""
    page = await endpoint_service.list_endpoints(session, principal.tenant_id,
                                                 page=paging.page, limit=paging.limit)
    return PageOut(items=[EndpointOut.of(e) for e in page.items], total=page.total,
                   page=page.page, limit=page.limit)


@router.post("", response_model=EndpointOut, status_code=status.HTTP_201_CREATED,
             summary="Create an endpoint")
async def create_endpoint(
    body: EndpointIn, principal: AdminPrincipal, session: DbSession
) -> EndpointOut:
    """Create an endpoint; the answer shows its SIP password (this once)."""
    row = await endpoint_service.create_endpoint(session, principal.tenant_id, body.name,
                                                 body.values())
    return EndpointOut.of(row, show_password=True)


@router.get("/{endpoint_id}", response_model=EndpointOut, summary="Get an endpoint")
async def get_endpoint(
    endpoint_id: str, principal: AdminPrincipal, session: DbSession
) -> EndpointOut:
    """One endpoint."""
    return EndpointOut.of(
        await endpoint_service.get_endpoint(session, principal.tenant_id, endpoint_id)
    )


@router.patch("/{endpoint_id}", response_model=EndpointOut, summary="Update an endpoint")
async def update_endpoint(
    endpoint_id: str, body: EndpointPatch, principal: AdminPrincipal, session: DbSession
) -> EndpointOut:
    """Change caller id, user or password (a new password is shown in the answer)."""
    values = body.values()
    row = await endpoint_service.update_endpoint(session, principal.tenant_id, endpoint_id,
                                                 values)
    return EndpointOut.of(row, show_password="password" in values)


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, summary="Delete an endpoint")
async def delete_endpoint(
    endpoint_id: str, principal: AdminPrincipal, session: DbSession
) -> Response:
    """Delete an endpoint no rule rings (409 otherwise)."""
    await endpoint_service.delete_endpoint(session, principal.tenant_id, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
