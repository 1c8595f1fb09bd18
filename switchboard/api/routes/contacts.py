"""``/api/v1/contacts``: CRUD, search, history, CSV import and export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from switchboard.api.deps import AgentPrincipal, CurrentPrincipal, DbSession
from switchboard.api.pagination import PageOut, PageQuery
from switchboard.api.schemas.call_logs import CallLogOut
from switchboard.api.schemas.contacts import (
    ContactImportOut,
    ContactIn,
    ContactOut,
    ContactPatch,
    RowErrorOut,
)
from switchboard.api.schemas.messages import MessageOut
from switchboard.api.schemas.voicemails import VoicemailOut
from switchboard.api.uploads import text_lines
from switchboard.services import contacts as contact_service

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])

@router.post("", response_model=ContactOut, status_code=status.HTTP_201_CREATED,
             summary="Create a contact")
async def create(body: ContactIn, principal: AgentPrincipal, session: DbSession) -> ContactOut:
    """409 with ``details.contact_id`` when the number is a contact already."""
    return ContactOut.of(await contact_service.create_contact(session, principal.tenant_id,
                                                              body.fields()))


@router.get("", response_model=PageOut[ContactOut], summary="List or search contacts")
async def list_contacts(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: PageQuery,
    search: Annotated[str | None, Query(max_length=200,
                                        description="name, number, company, email or tag")]
    = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
) -> PageOut[ContactOut]:
    """By name."""
    page = await contact_service.list_contacts(session, principal.tenant_id, search=search,
                                               tag=tag, page=paging.page, limit=paging.limit)
    return PageOut(items=[ContactOut.of(c) for c in page.items], total=page.total,
                   page=page.page, limit=page.limit)


@router.post("/import", response_model=ContactImportOut, summary="Import contacts from CSV",
             openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {
                 "type": "string"}}}, "required": True}})
async def import_contacts(
    request: Request, principal: AgentPrincipal, session: DbSession
) -> ContactImportOut:
    """CSV with a header (``name``, ``phone``; ``email``, ``company``, ``tags`` with ``;``).

    Rows whose number is a contact already are merged into it; bad rows are
    reported by line and the rest imported.
    """
    report = await contact_service.import_csv(session, principal.tenant_id, text_lines(request))
    return ContactImportOut(
        created=report.created, merged=report.merged,
        errors=[RowErrorOut(row=e.row, field=e.field, message=e.message) for e in report.errors],
    )


@router.get("/export", summary="Export contacts as CSV (streamed)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}})
async def export_contacts(principal: CurrentPrincipal, request: Request) -> StreamingResponse:
    """Every contact, by name; streamed, so any size works."""
    return StreamingResponse(
        contact_service.export_csv(request.app.state.sessionmaker, principal.tenant_id),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="contacts.csv"'},
    )


@router.get("/{contact_id}", response_model=ContactOut, summary="Get a contact")
async def get(contact_id: str, principal: CurrentPrincipal, session: DbSession) -> ContactOut:
    """One contact."""
    return ContactOut.of(await contact_service.get_contact(session, principal.tenant_id,
                                                           contact_id))


@router.patch("/{contact_id}", response_model=ContactOut, summary="Update a contact")
async def update(contact_id: str, body: ContactPatch, principal: AgentPrincipal,
                 session: DbSession) -> ContactOut:
    """Change the given fields."""
    return ContactOut.of(await contact_service.update_contact(
        session, principal.tenant_id, contact_id, body.fields()))


@router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a contact")
async def delete(contact_id: str, principal: AgentPrincipal, session: DbSession) -> Response:
    """Its calls and messages stay."""
    await contact_service.delete_contact(session, principal.tenant_id, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{contact_id}/calls", response_model=PageOut[CallLogOut],
            summary="A contact's call history")
async def calls(contact_id: str, principal: CurrentPrincipal, session: DbSession,
                paging: PageQuery) -> PageOut[CallLogOut]:
    """Calls from or to the contact's number, newest first."""
    page = await contact_service.call_history(session, principal.tenant_id, contact_id,
                                              page=paging.page, limit=paging.limit)
    return PageOut(items=[CallLogOut.of(c) for c in page.items], total=page.total,
                   page=page.page, limit=page.limit)


@router.get("/{contact_id}/messages", response_model=PageOut[MessageOut],
            summary="A contact's messages")
async def messages(contact_id: str, principal: CurrentPrincipal, session: DbSession,
                   paging: PageQuery) -> PageOut[MessageOut]:
    """Texts both ways, newest first."""
    page = await contact_service.message_history(session, principal.tenant_id, contact_id,
                                                 page=paging.page, limit=paging.limit)
    return PageOut(items=[MessageOut.of(m) for m in page.items], total=page.total,
                   page=page.page, limit=page.limit)


@router.get("/{contact_id}/voicemails", response_model=PageOut[VoicemailOut],
            summary="A contact's voicemails")
async def voicemails(contact_id: str, principal: CurrentPrincipal, session: DbSession,
                     paging: PageQuery) -> PageOut[VoicemailOut]:
    """Voicemails the contact left, newest first."""
    page = await contact_service.voicemail_history(session, principal.tenant_id, contact_id,
                                                   page=paging.page, limit=paging.limit)
    return PageOut(items=[VoicemailOut.of(v) for v in page.items], total=page.total,
                   page=page.page, limit=page.limit)
