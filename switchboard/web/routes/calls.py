"""Call logs: filters, search by number, pagination, CSV export, and one call's story.

A call's page shows its timeline (legs, recordings, transcripts with
speakers, voicemail, webhook deliveries with replay, notes) and plays its
recordings from :func:`audio`, which answers HTTP range requests so the
player can seek.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from switchboard.api.deps import DbSession, SettingsDep
from switchboard.services import call_logs as call_log_service
from switchboard.services import calls as call_service
from switchboard.services import endpoints as endpoint_service
from switchboard.services import playback
from switchboard.services import webhooks as webhook_service
from switchboard.services.call_timeline import call_story
from switchboard.services.exceptions import BadRequest
from switchboard.services.roles import Role
from switchboard.web.app import ConsoleRoute
from switchboard.web.auth import ActingViewer, ViewerDep
from switchboard.web.render import STATUS_LABELS, page

router = APIRouter(prefix="/console", route_class=ConsoleRoute)

PAGE_SIZE = 25


def _date(value: str, field: str, *, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value + ("T23:59:59" if end and len(value) == 10 else ""))
    except ValueError as exc:
        raise BadRequest(f"{field} must be a date (YYYY-MM-DD)", field=field) from exc
    return parsed


def _filters(direction: str, status: str, number: str, start: str, end: str,
             has_recording: str, has_voicemail: str) -> call_log_service.CallLogFilter:
    number = number.strip()
    return call_log_service.CallLogFilter(
        direction=direction or None,
        status=status or None,
        from_number=number or None,
        date_start=_date(start, "date_start"),
        date_end=_date(end, "date_end", end=True),
        has_recording=True if has_recording else None,
        has_voicemail=True if has_voicemail else None,
    )


@router.get("/calls")
async def call_list(
    request: Request,
    viewer: ViewerDep,
    session: DbSession,
    direction: Annotated[str, Query(max_length=16)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    number: Annotated[str, Query(max_length=64)] = "",
    start: Annotated[str, Query(max_length=32)] = "",
    end: Annotated[str, Query(max_length=32)] = "",
    has_recording: Annotated[str, Query(max_length=8)] = "",
    has_voicemail: Annotated[str, Query(max_length=8)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Calls newest first, filtered; the number matches the caller or the number called."""
    query = {"direction": direction, "status": status, "number": number, "start": start,
             "end": end, "has_recording": has_recording, "has_voicemail": has_voicemail}
    error = ""
    items: list[object] = []
    total = 0
    try:
        filters = _filters(direction, status, number, start, end, has_recording, has_voicemail)
        result = await call_log_service.list_page(session, viewer.tenant_id, filters,
                                                  page=page_no, limit=PAGE_SIZE)
        if number and not result.total:  # the number may be the one called
            filters = replace(filters, from_number=None, to_number=number.strip())
            result = await call_log_service.list_page(session, viewer.tenant_id, filters,
                                                      page=page_no, limit=PAGE_SIZE)
        items, total = list(result.items), result.total
    except BadRequest as exc:
        error = exc.message
    kept = {k: v for k, v in query.items() if v}
    pages = max(1, -(-total // PAGE_SIZE))
    return page(
        request, "calls.html", viewer, active="calls", title="Call logs",
        calls=items, total=total, page_no=page_no, pages=pages, query=query, error=error,
        statuses=STATUS_LABELS,
        labels=await endpoint_service.endpoint_labels(session, viewer.tenant_id),
        prev_url=f"?{urlencode({**kept, 'page': page_no - 1})}" if page_no > 1 else "",
        next_url=f"?{urlencode({**kept, 'page': page_no + 1})}" if page_no < pages else "",
        csv_url=f"/console/calls.csv?{urlencode(kept)}",
    )


@router.get("/calls.csv")
async def call_csv(
    viewer: ViewerDep,
    session: DbSession,
    direction: Annotated[str, Query(max_length=16)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    number: Annotated[str, Query(max_length=64)] = "",
    start: Annotated[str, Query(max_length=32)] = "",
    end: Annotated[str, Query(max_length=32)] = "",
    has_recording: Annotated[str, Query(max_length=8)] = "",
    has_voicemail: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """The filtered calls as a CSV download (the API's export)."""
    filters = _filters(direction, status, number, start, end, has_recording, has_voicemail)
    text = await call_log_service.export_csv(session, viewer.tenant_id, filters)
    return Response(text, media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="calls.csv"'})


@router.get("/calls/{call_id}")
async def call_detail(
    request: Request, call_id: str, viewer: ViewerDep, session: DbSession
) -> HTMLResponse:
    """One call: facts, timeline, recordings with transcripts, webhooks, notes."""
    story = await call_story(session, viewer.tenant_id, call_id)
    return page(request, "call.html", viewer, active="calls",
                title=f"Call {story.call.call_sid}", story=story, call=story.call,
                labels=await endpoint_service.endpoint_labels(session, viewer.tenant_id))


@router.get("/recordings/{recording_id}/audio")
async def audio(
    recording_id: str, viewer: ViewerDep, session: DbSession, settings: SettingsDep
) -> Response:
    """A recording's WAV for the player (range requests answer 206, so seeking works)."""
    recording = await call_service.get_recording(session, viewer.tenant_id, recording_id)
    path = await asyncio.to_thread(playback.playable_file, settings.resolved_storage_root,
                                   recording)
    return FileResponse(path, media_type="audio/wav",
                        headers={"Cache-Control": "private, max-age=3600"})


@router.post("/calls/{call_id}/notes")
async def add_note(
    call_id: str, viewer: ActingViewer, session: DbSession,
    text: Annotated[str, Form(max_length=5000)],
) -> Response:
    """Write a note on the call."""
    viewer.require(Role.AGENT)
    await call_service.add_note(session, viewer.tenant_id, call_id, text=text,
                                author_id=viewer.user.id)
    return RedirectResponse(f"/console/calls/{call_id}#notes", status_code=303)


@router.post("/webhooks/{delivery_id}/replay")
async def replay(
    request: Request, delivery_id: str, viewer: ActingViewer, session: DbSession
) -> Response:
    """Send a webhook again (admins), with the same idempotency key."""
    viewer.require(Role.ADMIN)
    row = await webhook_service.replay_delivery(session, tenant_id=viewer.tenant_id,
                                                delivery_id=delivery_id)
    return HTMLResponse(Markup('<span class="badge badge-warn">{}: queued again</span>')
                        .format(row.status))
