"""The voicemail inbox: unread first, play, read/unread, archive, delete, transcript beside."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from switchboard.api.deps import DbSession, SettingsDep
from switchboard.services import voicemails as vm_service
from switchboard.services.roles import Role
from switchboard.web.app import ConsoleRoute
from switchboard.web.auth import ActingViewer, ViewerDep
from switchboard.web.render import page, templates

router = APIRouter(prefix="/console", route_class=ConsoleRoute)

_PAGE = 20


@router.get("/voicemail")
async def inbox(
    request: Request, viewer: ViewerDep, session: DbSession,
    box: Annotated[str, Query(pattern="^(inbox|archived)$")] = "inbox",
    page_no: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Voicemails, unread first; the archive apart."""
    if box == "archived":
        result = await vm_service.list_voicemails(session, viewer.tenant_id, status="archived",
                                                  page=page_no, limit=_PAGE)
        items, total = list(result.page.items), result.page.total
    else:
        # Unread and read, unread first; archived ones live in their own box.
        unread = await vm_service.list_voicemails(session, viewer.tenant_id, status="new",
                                                  page=1, limit=200)
        read = await vm_service.list_voicemails(session, viewer.tenant_id, status="read",
                                                page=page_no, limit=_PAGE)
        items = [*(unread.page.items if page_no == 1 else []), *read.page.items]
        total = unread.page.total + read.page.total
        result = read
    pages = max(1, -(-result.page.total // _PAGE))
    return page(request, "voicemail.html", viewer, active="voicemail", title="Voicemail",
                voicemails=items, total=total, unread=result.unread_count, box=box,
                page_no=page_no, pages=pages)


def _card(request: Request, viewer: ViewerDep, voicemail: object) -> HTMLResponse:
    html = templates.get_template("_voicemail.html").render(
        vm=voicemail, viewer=viewer, tz=viewer.tenant.timezone, request=request)
    return HTMLResponse(html)


@router.post("/voicemail/{voicemail_id}/status")
async def set_status(
    request: Request, voicemail_id: str, viewer: ActingViewer, session: DbSession,
    status: Annotated[str, Form(pattern="^(new|read|archived)$")],
) -> Response:
    """Mark read or unread, or archive; answers the updated card."""
    viewer.require(Role.AGENT)
    row = await vm_service.set_status(session, viewer.tenant_id, voicemail_id, status)
    if status == "archived":
        return HTMLResponse('<p class="muted" role="status">Archived.</p>')
    return _card(request, viewer, row)


@router.post("/voicemail/{voicemail_id}/delete")
async def delete(
    voicemail_id: str, viewer: ActingViewer, session: DbSession, settings: SettingsDep
) -> Response:
    """Delete the message and its audio."""
    viewer.require(Role.AGENT)
    await vm_service.delete_voicemail(session, viewer.tenant_id, voicemail_id,
                                      storage_root=settings.resolved_storage_root)
    return HTMLResponse('<p class="muted" role="status">Deleted.</p>')
