"""``/api/v1/sms``: send a text (seed 001), read messages per number and per contact."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from switchboard.api.deps import AgentPrincipal, CurrentPrincipal, DbSession
from switchboard.api.pagination import PageOut, PageQuery
from switchboard.api.routes.messaging_webhooks import HooksDep
from switchboard.api.schemas.messages import MessageOut, SendIn
from switchboard.services import numbers as number_service
from switchboard.services.messaging import messages as message_service
from switchboard.services.messaging.send import OutboundText, queue_message

router = APIRouter(prefix="/api/v1/sms", tags=["sms"])


@router.post("/send", response_model=MessageOut, status_code=status.HTTP_201_CREATED,
             summary="Send an SMS or MMS",
             responses={451: {"description": "Blocked by compliance (do-not-call, opt-out, "
                              "quiet hours)"}})
async def send(
    body: SendIn, principal: AgentPrincipal, session: DbSession, hooks: HooksDep
) -> MessageOut:
    """Queue a text (``queued``); 451 when the recipient may not be texted, nothing sent."""
    message = await queue_message(
        session, principal.tenant_id,
        OutboundText(from_number=body.from_number, to_number=body.to_number, body=body.body,
                     media_urls=body.media_urls, status_callback=body.status_callback_url,
                     kind=body.kind if body.kind in ("conversation", "marketing") else "invalid"),
        segment_price=hooks.segment_price, notify=hooks.notify_sender,
    )
    return MessageOut.of(message)


@router.get("/messages", response_model=PageOut[MessageOut], summary="List messages")
async def list_messages(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: PageQuery,
    number: Annotated[str | None, Query(max_length=32, description="from or to this number")]
    = None,
    number_id: Annotated[str | None, Query(max_length=64)] = None,
    contact_id: Annotated[str | None, Query(max_length=64)] = None,
    direction: Annotated[Literal["inbound", "outbound"] | None, Query()] = None,
) -> PageOut[MessageOut]:
    """Newest first; filter by number, number id, contact or direction."""
    if number_id:
        await number_service.get_number(session, principal.tenant_id, number_id)
    page = await message_service.list_messages(
        session, principal.tenant_id, number=number, number_id=number_id,
        contact_id=contact_id, direction=direction, page=paging.page, limit=paging.limit,
    )
    return PageOut(items=[MessageOut.of(m) for m in page.items], total=page.total,
                   page=page.page, limit=page.limit)


@router.get("/messages/{message_sid}", response_model=MessageOut, summary="Get a message")
async def get_message(message_sid: str, principal: CurrentPrincipal,
                      session: DbSession) -> MessageOut:
    """One message by SID."""
    return MessageOut.of(await message_service.get_message(session, principal.tenant_id,
                                                           message_sid))
