"""API keys (create, revoke, rotate; shown once) and the account's auth token (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.api.deps import DbSession
from switchboard.services import api_keys as key_service
from switchboard.services.roles import Role, parse_role
from switchboard.web.app import ConsoleRoute
from switchboard.web.auth import ActingViewer, Viewer, ViewerDep
from switchboard.web.render import page

router = APIRouter(prefix="/console", route_class=ConsoleRoute)


async def _keys_page(request: Request, viewer: Viewer, session: AsyncSession, **extra: Any
                     ) -> HTMLResponse:
    keys = await key_service.list_keys(session, viewer.tenant_id, page=1, limit=200)
    return page(request, "keys.html", viewer, active="keys", title="API keys",
                keys=keys.items, roles=[r.value for r in Role], **extra)


@router.get("/keys")
async def keys(request: Request, viewer: ViewerDep, session: DbSession) -> HTMLResponse:
    """The tenant's keys and credentials."""
    viewer.require(Role.ADMIN)
    return await _keys_page(request, viewer, session)


@router.post("/keys")
async def create_key(
    request: Request, viewer: ActingViewer, session: DbSession,
    name: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=16)] = "admin",
) -> HTMLResponse:
    """Create a key and show it once."""
    viewer.require(Role.ADMIN)
    chosen = parse_role(role) or Role.READ_ONLY
    created = await key_service.create_key(session, viewer.tenant_id,
                                           name=key_service.validate_key_name(name),
                                           role=chosen, user_id=viewer.user.id)
    return await _keys_page(request, viewer, session, new_key=created.key,
                            new_key_name=created.row.name)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, key_id: str, viewer: ActingViewer, session: DbSession
) -> HTMLResponse:
    """Revoke a key; it stops working at once."""
    viewer.require(Role.ADMIN)
    row = await key_service.revoke_key(session, viewer.tenant_id, key_id)
    return await _keys_page(request, viewer, session, notice=f"Revoked “{row.name}”.")


@router.post("/keys/{key_id}/rotate")
async def rotate_key(
    request: Request, key_id: str, viewer: ActingViewer, session: DbSession
) -> HTMLResponse:
    """Replace a key with a new one of the same name and role; the old one is revoked."""
    viewer.require(Role.ADMIN)
    old = await key_service.get_key(session, viewer.tenant_id, key_id)
    created = await key_service.create_key(session, viewer.tenant_id, name=old.name,
                                           role=parse_role(old.role) or Role.READ_ONLY,
                                           user_id=old.user_id)
    await key_service.revoke_key(session, viewer.tenant_id, key_id)
    return await _keys_page(request, viewer, session, new_key=created.key,
                            new_key_name=created.row.name)
