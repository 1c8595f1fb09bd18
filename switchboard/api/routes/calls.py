"""``/api/v1/calls``: place calls, list and control live ones (seed 001).

Reading needs any role; placing, hanging up and transferring need the agent
role. Routes that touch live calls answer 503 ``engine-not-running`` when the
API runs without the call engine.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response, status

from switchboard.api.deps import (
    AgentPrincipal,
    CurrentPrincipal,
    DbSession,
    EngineDep,
    SettingsDep,
)
from switchboard.api.schemas.call_logs import CallLogOut
from switchboard.api.schemas.calls import (
    LiveCallOut,
    LiveCallsOut,
    NoteIn,
    NotesOut,
    OutboundCallIn,
    OutboundCallOut,
    RecordingOut,
    TransferIn,
    TransferOut,
)
from switchboard.services import calls as call_service
from switchboard.services.call_logs import get_call_log
from switchboard.services.contacts import caller_names

router = APIRouter(prefix="/api/v1/calls", tags=["calls"])


@router.post(
    "/outbound",
    response_model=OutboundCallOut,
    status_code=status.HTTP_201_CREATED,
    summary="Place an outbound call",
)
async def place_outbound(
    body: OutboundCallIn,
    principal: AgentPrincipal,
    session: DbSession,
    engine: EngineDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> OutboundCallOut:
    """Originate from one of your numbers; ``Idempotency-Key`` makes retries safe."""
    placed = await call_service.place_outbound(
        session,
        engine.control,
        principal.tenant_id,
        call_service.OutboundRequest(
            from_number=body.from_number,
            to_number=body.to_number,
            record=body.record,
            status_callback_url=body.status_callback_url,
            url=body.url,
        ),
        idempotency_key=idempotency_key,
    )
    if placed.replayed:
        response.status_code = status.HTTP_200_OK
    return OutboundCallOut(call_sid=placed.call_sid, status="queued", replayed=placed.replayed)


@router.get("/live", response_model=LiveCallsOut, summary="Calls in progress")
async def live_calls(principal: CurrentPrincipal, engine: EngineDep,
                     session: DbSession) -> LiveCallsOut:
    """The account's calls in progress, oldest first, with the contact's name of each."""
    calls = call_service.live_calls(engine.control, principal.tenant_id)
    names = await caller_names(session, principal.tenant_id,
                               ((c.direction, c.from_number, c.to_number) for c in calls))
    return LiveCallsOut(items=[LiveCallOut.of(c, names) for c in calls], total=len(calls))


@router.get("/{call_id}", response_model=CallLogOut, summary="Get a call")
async def get_call(call_id: str, principal: CurrentPrincipal, session: DbSession) -> CallLogOut:
    """A call by call SID or id (its call-log record)."""
    row = await get_call_log(session, principal.tenant_id, call_id)
    names = await caller_names(session, principal.tenant_id,
                               [(row.direction, row.from_number, row.to_number)])
    return CallLogOut.of(row, names)


@router.post("/{call_id}/hangup", status_code=status.HTTP_204_NO_CONTENT, summary="Hang up a call")
async def hangup(call_id: str, principal: AgentPrincipal, engine: EngineDep) -> Response:
    """End a call in progress."""
    await call_service.hangup(engine.control, principal.tenant_id, call_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{call_id}/hold", status_code=status.HTTP_204_NO_CONTENT, summary="Hold a call")
async def hold(call_id: str, principal: AgentPrincipal, engine: EngineDep) -> Response:
    """Put a connected caller on hold."""
    await call_service.hold(engine.control, principal.tenant_id, call_id, on=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{call_id}/unhold", status_code=status.HTTP_204_NO_CONTENT, summary="Take a call off hold"
)
async def unhold(call_id: str, principal: AgentPrincipal, engine: EngineDep) -> Response:
    """Take a held caller off hold."""
    await call_service.hold(engine.control, principal.tenant_id, call_id, on=False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{call_id}/transfer", response_model=TransferOut, summary="Transfer a call")
async def transfer(
    call_id: str, body: TransferIn, principal: AgentPrincipal, engine: EngineDep
) -> TransferOut:
    """Blind: drop the current party, ring the target. Warm: ring first, then swap."""
    result = await call_service.transfer(
        engine.control,
        principal.tenant_id,
        call_id,
        target_number=body.target_number,
        transfer_type=body.transfer_type,
    )
    return TransferOut(call_sid=call_id, result=result)


@router.get(
    "/{call_id}/recordings", response_model=list[RecordingOut], summary="Recordings of a call"
)
async def recordings(
    call_id: str, principal: CurrentPrincipal, session: DbSession, settings: SettingsDep
) -> list[RecordingOut]:
    """Every recording of the call, oldest first."""
    rows = await call_service.call_recordings(session, principal.tenant_id, call_id)
    return [RecordingOut.of(r, settings.base_url) for r in rows]


@router.get("/{call_id}/notes", response_model=NotesOut, summary="Notes on a call")
async def notes(call_id: str, principal: CurrentPrincipal, session: DbSession) -> NotesOut:
    """Notes written on the call."""
    return NotesOut(items=await call_service.call_notes(session, principal.tenant_id, call_id))


@router.post(
    "/{call_id}/notes",
    response_model=dict[str, Any],
    status_code=status.HTTP_201_CREATED,
    summary="Add a note to a call",
)
async def add_note(
    call_id: str, body: NoteIn, principal: AgentPrincipal, session: DbSession
) -> dict[str, Any]:
    """Append a note (agent role)."""
    return await call_service.add_note(
        session, principal.tenant_id, call_id, text=body.text, author_id=principal.user_id
    )
