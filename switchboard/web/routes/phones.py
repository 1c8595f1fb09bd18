"""Desk phones: the tenant's SIP endpoints, whether they are registered, how to set one up."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from switchboard.api.deps import DbSession, SettingsDep
from switchboard.services import endpoints as endpoint_service
from switchboard.services import users as user_service
from switchboard.services.exceptions import ServiceError
from switchboard.services.roles import Role
from switchboard.web.app import ConsoleRoute
from switchboard.web.auth import ActingViewer, ViewerDep, rollback_keeping_viewer
from switchboard.web.render import page

log = logging.getLogger(__name__)
router = APIRouter(prefix="/console", route_class=ConsoleRoute)


async def _states(request: Request, names: list[str]) -> dict[str, str]:
    engine = getattr(request.app.state, "engine", None)
    if engine is None or not names:
        return dict.fromkeys(names, "unknown")
    try:
        return await endpoint_service.registration_states(engine.ari, names)
    except Exception as exc:  # noqa: BLE001 - Asterisk away: show unknown, not an error page
        log.warning("endpoint states unavailable: %s", exc)
        return dict.fromkeys(names, "unknown")


@router.get("/phones")
async def phones(
    request: Request, viewer: ViewerDep, session: DbSession, settings: SettingsDep,
    error: str = "", created: str = "",
) -> HTMLResponse:
    """Endpoints with registration state and provisioning details."""
    endpoints = await endpoint_service.list_endpoints(session, viewer.tenant_id, page=1,
                                                      limit=200)
    users = await user_service.list_users(session, viewer.tenant_id, page=1, limit=200)
    owners = {u.id: u for u in users.items}
    states = await _states(request, [e.name for e in endpoints.items])
    return page(request, "phones.html", viewer, active="phones", title="Desk phones",
                endpoints=endpoints.items, states=states, owners=owners, users=users.items,
                sip_host=settings.asterisk_host, sip_port=settings.sip_port, error=error,
                created=created)


@router.post("/phones")
async def create_phone(
    request: Request, viewer: ActingViewer, session: DbSession, settings: SettingsDep,
    name: Annotated[str, Form(max_length=64)],
    user_id: Annotated[str, Form(max_length=64)] = "",
    caller_id: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Add a desk phone (a strong SIP password is generated)."""
    viewer.require(Role.ADMIN)
    values: dict[str, object] = {}
    if user_id:
        values["user_id"] = user_id
    if caller_id.strip():
        values["caller_id"] = caller_id.strip()
    try:
        await endpoint_service.create_endpoint(session, viewer.tenant_id, name.strip(), values)
    except ServiceError as exc:
        await rollback_keeping_viewer(session, viewer)
        return await phones(request, viewer, session, settings, error=exc.message)
    return RedirectResponse(f"/console/phones?created={name.strip()}", status_code=303)
