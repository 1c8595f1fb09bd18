"""Transcript search: every word must occur; hits with highlighted snippets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from switchboard.api.deps import DbSession
from switchboard.services import transcripts as transcript_service
from switchboard.services.exceptions import BadRequest
from switchboard.web.app import ConsoleRoute
from switchboard.web.auth import ViewerDep
from switchboard.web.render import page

router = APIRouter(prefix="/console", route_class=ConsoleRoute)


@router.get("/search")
async def search(
    request: Request, viewer: ViewerDep, session: DbSession,
    q: Annotated[str, Query(max_length=500)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=40)] = 1,
) -> HTMLResponse:
    """The search form and, with ``q``, the tenant's matching transcripts."""
    result = None
    error = ""
    if q.strip():
        try:
            result = await transcript_service.search_transcripts(
                session, q, tenant_id=viewer.tenant_id, page=page_no, limit=20)
        except BadRequest as exc:
            error = exc.message
    return page(request, "search.html", viewer, active="search", title="Transcripts",
                q=q, result=result, error=error, page_no=page_no)
