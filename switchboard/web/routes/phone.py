"""The browser phone: the signed-in user's own WebRTC endpoint, driven by JsSIP in the page.

The endpoint is created on request (``POST /console/phone/setup``) and
belongs to the user, so forwarding rules and ``<Dial><Client>`` ring it like
any desk phone. The page fetches its SIP credentials from
``/console/phone/config`` (never cached) and registers over Asterisk's
WebSocket transport.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from switchboard.api.deps import DbSession, SettingsDep
from switchboard.config import Settings
from switchboard.services import endpoints as endpoint_service
from switchboard.services.exceptions import NotFound
from switchboard.services.roles import Role
from switchboard.web.app import ConsoleRoute
from switchboard.web.auth import ActingViewer, ViewerDep
from switchboard.web.render import page

router = APIRouter(prefix="/console", route_class=ConsoleRoute)


def ws_url(settings: Settings) -> str:
    """Where browsers reach Asterisk's SIP-over-WebSocket transport."""
    return settings.webrtc_ws_url or f"ws://{settings.asterisk_host}:{settings.ari_port}/ws"


@router.get("/phone")
async def phone_page(request: Request, viewer: ViewerDep, session: DbSession) -> HTMLResponse:
    """The dial pad, the incoming-call banner and the line's state."""
    endpoint = await endpoint_service.browser_phone(session, viewer.tenant_id, viewer.user.id)
    return page(request, "phone.html", viewer, active="phone", title="Browser phone",
                endpoint=endpoint)


@router.post("/phone/setup")
async def setup(viewer: ActingViewer, session: DbSession) -> Response:
    """Create the user's browser phone (agents and admins)."""
    viewer.require(Role.AGENT)
    await endpoint_service.ensure_browser_phone(session, viewer.tenant_id, viewer.user)
    return RedirectResponse("/console/phone", status_code=303)


@router.get("/phone/config")
async def phone_config(
    viewer: ViewerDep, session: DbSession, settings: SettingsDep
) -> JSONResponse:
    """The browser phone's SIP account, for the page's own script."""
    endpoint = await endpoint_service.browser_phone(session, viewer.tenant_id, viewer.user.id)
    if endpoint is None:
        raise NotFound("Set up your browser phone first", field="endpoint")
    return JSONResponse(
        {
            "ws_url": ws_url(settings),
            "uri": f"sip:{endpoint.name}@{settings.asterisk_host}",
            "username": endpoint.name,
            "password": endpoint.password,
            "display_name": viewer.user.name or viewer.user.email,
            "domain": settings.asterisk_host,
        },
        headers={"Cache-Control": "no-store"},
    )
