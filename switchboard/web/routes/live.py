"""Live calls: who talks to whom and for how long, pushed as server-sent events.

The stream sends the rendered table body whenever the tenant's calls in
progress change (the engine's in-memory registry, read without touching the
database); durations tick in the browser. Hang up, hold and transfer call the
same services as the API's live-call routes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from switchboard.services import calls as call_service
from switchboard.services import endpoints as endpoint_service
from switchboard.services.exceptions import ServiceUnavailable
from switchboard.services.roles import Role
from switchboard.web.app import ConsoleRoute
from switchboard.web.auth import ActingViewer, ViewerDep
from switchboard.web.render import page, templates

router = APIRouter(prefix="/console", route_class=ConsoleRoute)

_TICK_SECONDS = 0.5
_KEEPALIVE_TICKS = 30
_STREAM_SECONDS = 300.0  # the browser reconnects by itself; no stream outlives this


def _control(request: Request) -> Any:
    engine = getattr(request.app.state, "engine", None)
    if engine is None:
        raise ServiceUnavailable("The call engine is not running, so live calls are not shown",
                                 error_id="engine-not-running")
    return engine.control


def _rows(request: Request, viewer: Any, calls: list[Any], labels: dict[str, str]) -> str:
    return templates.get_template("_live_rows.html").render(
        calls=calls, viewer=viewer, tz=viewer.tenant.timezone, request=request, labels=labels)


async def _labels(request: Request, tenant_id: str) -> dict[str, str]:
    async with request.app.state.sessionmaker() as session:
        return await endpoint_service.endpoint_labels(session, tenant_id)


@router.get("/live")
async def live_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    """The live-calls page; the table fills itself from the event stream."""
    engine = getattr(request.app.state, "engine", None)
    calls = call_service.live_calls(engine.control, viewer.tenant_id) if engine else []
    labels = await _labels(request, viewer.tenant_id)
    return page(request, "live.html", viewer, active="live", title="Live calls",
                calls=calls, engine_running=engine is not None,
                rows=_rows(request, viewer, calls, labels))


@router.get("/live/stream")
async def live_stream(request: Request, viewer: ViewerDep) -> StreamingResponse:
    """``text/event-stream``: an ``calls`` event with the table body on every change."""
    control = _control(request)

    async def events() -> AsyncIterator[str]:
        last: tuple[Any, ...] | None = None
        quiet = 0
        loop = asyncio.get_running_loop()
        until = loop.time() + _STREAM_SECONDS
        yield "retry: 1000\n\n"
        while loop.time() < until and not await request.is_disconnected():
            calls = call_service.live_calls(control, viewer.tenant_id)
            state = tuple((c.call_sid, c.status, c.connected, c.on_hold, c.answered_by)
                          for c in calls)
            if state != last:
                html = _rows(request, viewer, calls, await _labels(request, viewer.tenant_id))
                data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
                yield f"event: calls\n{data}\n"
                last, quiet = state, 0
            else:
                quiet += 1
                if quiet >= _KEEPALIVE_TICKS:
                    yield ": keep-alive\n\n"
                    quiet = 0
            await asyncio.sleep(_TICK_SECONDS)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _done(message: str) -> HTMLResponse:
    return HTMLResponse(f'<span class="flash ok" role="status">{message}</span>')


@router.post("/live/{call_sid}/hangup")
async def hangup(request: Request, call_sid: str, viewer: ActingViewer) -> Response:
    """End a call in progress."""
    viewer.require(Role.AGENT)
    await call_service.hangup(_control(request), viewer.tenant_id, call_sid)
    return _done("Hung up")


@router.post("/live/{call_sid}/hold")
async def hold(request: Request, call_sid: str, viewer: ActingViewer,
               on: Annotated[bool, Form()] = True) -> Response:
    """Put a connected caller on hold, or take them off it."""
    viewer.require(Role.AGENT)
    await call_service.hold(_control(request), viewer.tenant_id, call_sid, on=on)
    return _done("On hold" if on else "Resumed")


@router.post("/live/{call_sid}/transfer")
async def transfer(
    request: Request,
    call_sid: str,
    viewer: ActingViewer,
    target: Annotated[str, Form(max_length=80)],
    transfer_type: Annotated[str, Form(pattern="^(blind|warm)$")] = "blind",
) -> Response:
    """Move a connected caller to a number or a phone (``endpoint:NAME``)."""
    viewer.require(Role.AGENT)
    result = await call_service.transfer(_control(request), viewer.tenant_id, call_sid,
                                         target_number=target.strip(),
                                         transfer_type=transfer_type)
    return _done("Transferred" if result == "transferred" else "The target did not answer")
