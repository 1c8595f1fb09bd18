"""``/api/v1/compliance`` (do-not-call, consent, GDPR, retention) and ``/api/v1/audit``.

The do-not-call list, SMS consent records, GDPR export and erase, retention
settings; the audit log is for admins.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from switchboard.api.deps import AdminPrincipal, AgentPrincipal, DbSession, SettingsDep
from switchboard.api.pagination import PageOut, PageQuery
from switchboard.api.schemas.compliance import (
    AuditOut,
    ConsentIn,
    ConsentOut,
    DncCheckOut,
    DncImportOut,
    DncIn,
    DncOut,
    EraseOut,
    RetentionIn,
    SubjectIn,
)
from switchboard.api.uploads import text_lines
from switchboard.services import audit, compliance, gdpr
from switchboard.services.exceptions import BadRequest
from switchboard.services.messaging import consent as consent_service
from switchboard.services.phone import normalize_e164
from switchboard.services.tenants import get_tenant

router = APIRouter(tags=["compliance"])


@router.get("/api/v1/compliance/dnc", response_model=DncCheckOut | PageOut[DncOut],
            summary="Check a number (phone=...), or list the do-not-call list")
async def dnc(
    principal: AgentPrincipal, session: DbSession, paging: PageQuery,
    phone: Annotated[str | None, Query(max_length=32)] = None,
) -> DncCheckOut | PageOut[DncOut]:
    """With ``phone``: whether it is listed; without: the list, newest first."""
    if phone is not None:
        e164 = normalize_e164(phone, field="phone")
        entry = await compliance.dnc_entry(session, principal.tenant_id, e164)
        return DncCheckOut(phone=e164, on_list=entry is not None,
                           reason=entry.reason if entry else None,
                           added_at=entry.created_at if entry else None)
    page = await compliance.list_dnc(session, principal.tenant_id, page=paging.page,
                                     limit=paging.limit)
    return PageOut(items=[DncOut.of(d) for d in page.items], total=page.total,
                   page=page.page, limit=page.limit)


@router.post("/api/v1/compliance/dnc", response_model=DncOut,
             status_code=status.HTTP_201_CREATED, summary="Add a number to the do-not-call list")
async def add_dnc(body: DncIn, principal: AgentPrincipal, session: DbSession) -> DncOut:
    """An existing entry is returned as it is."""
    entry, created = await compliance.add_dnc(session, principal.tenant_id, body.phone,
                                              reason=body.reason)
    if created:
        await audit.record(session, principal.tenant_id, "dnc.add", user_id=principal.user_id,
                           key_id=principal.api_key_id, target_type="dnc", target_id=entry.id)
    return DncOut.of(entry)


@router.delete("/api/v1/compliance/dnc", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove a number from the do-not-call list")
async def remove_dnc(
    principal: AdminPrincipal, session: DbSession,
    phone: Annotated[str, Query(min_length=1, max_length=32)],
) -> Response:
    """404 when it is not listed."""
    await compliance.remove_dnc(session, principal.tenant_id, phone)
    await audit.record(session, principal.tenant_id, "dnc.remove", user_id=principal.user_id,
                       key_id=principal.api_key_id, target_type="dnc")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/api/v1/compliance/dnc/import", response_model=DncImportOut,
             summary="Bulk import do-not-call numbers (CSV)",
             openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {
                 "type": "string"}}}, "required": True}})
async def import_dnc(request: Request, principal: AgentPrincipal,
                     session: DbSession) -> DncImportOut:
    """CSV with a ``phone`` column (``reason`` optional), or one number a line."""
    report = await compliance.import_dnc(session, principal.tenant_id, text_lines(request))
    await audit.record(session, principal.tenant_id, "dnc.import", user_id=principal.user_id,
                       key_id=principal.api_key_id, target_type="dnc",
                       details={"added": report.added, "errors": len(report.errors)})
    return DncImportOut(added=report.added, existing=report.existing,
                        errors=[{"row": e.row, "field": e.field, "message": e.message}
                                for e in report.errors])


@router.get("/api/v1/compliance/consents", response_model=PageOut[ConsentOut],
            summary="SMS consent records")
async def consents(
    principal: AgentPrincipal, session: DbSession, paging: PageQuery,
    opted_out: Annotated[bool | None, Query()] = None,
) -> PageOut[ConsentOut]:
    """Most recently changed first."""
    page = await consent_service.list_consents(session, principal.tenant_id,
                                               opted_out=opted_out, page=paging.page,
                                               limit=paging.limit)
    return PageOut(items=[ConsentOut.of(c) for c in page.items], total=page.total,
                   page=page.page, limit=page.limit)


@router.post("/api/v1/compliance/consents", response_model=ConsentOut,
             summary="Record consent or an opt-out")
async def record_consent(body: ConsentIn, principal: AgentPrincipal,
                         session: DbSession) -> ConsentOut:
    """``opted_out: true`` records an opt-out made another way (a call, a form)."""
    phone = normalize_e164(body.phone, field="phone")
    if body.opted_out:
        row = await consent_service.opt_out(session, principal.tenant_id, phone, keyword="api")
    else:
        if body.source not in consent_service.SOURCES:
            raise BadRequest("source must be one of " + ", ".join(consent_service.SOURCES),
                             field="source")
        row = await consent_service.record_consent(session, principal.tenant_id, phone,
                                                   source=body.source)
    return ConsentOut.of(row)


async def _stream_and_remove(path: Path) -> AsyncIterator[bytes]:
    try:
        with path.open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, 256 * 1024):
                yield chunk
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


@router.post("/api/v1/compliance/gdpr/export", summary="GDPR export (one zip archive)",
             response_class=StreamingResponse,
             responses={200: {"content": {"application/zip": {}}}})
async def gdpr_export(body: SubjectIn, principal: AdminPrincipal, session: DbSession,
                      settings: SettingsDep) -> StreamingResponse:
    """Everything about a number or contact: rows as JSON, recording files, transcripts."""
    phone = await gdpr.subject_phone(session, principal.tenant_id,
                                     phone_number=body.phone_number, contact_id=body.contact_id)
    path = await gdpr.export_archive(session, principal.tenant_id, phone,
                                     storage_root=settings.resolved_storage_root,
                                     user_id=principal.user_id, key_id=principal.api_key_id)
    return StreamingResponse(_stream_and_remove(path), media_type="application/zip",
                             headers={"Content-Disposition":
                                      'attachment; filename="gdpr-export.zip"'})


@router.post("/api/v1/compliance/gdpr/delete", response_model=EraseOut,
             summary="GDPR erase: delete everything about a number or contact")
async def gdpr_delete(body: SubjectIn, principal: AdminPrincipal, session: DbSession,
                      settings: SettingsDep) -> EraseOut:
    """Rows, files and search index; the audit log keeps counts, not the number."""
    phone = await gdpr.subject_phone(session, principal.tenant_id,
                                     phone_number=body.phone_number, contact_id=body.contact_id)
    counts = await gdpr.erase(session, principal.tenant_id, phone,
                              storage_root=settings.resolved_storage_root,
                              user_id=principal.user_id, key_id=principal.api_key_id)
    return EraseOut(erased=counts)


@router.put("/api/v1/compliance/retention", response_model=RetentionIn,
            summary="Set retention (days per kind; null keeps forever)")
async def set_retention(body: RetentionIn, principal: AdminPrincipal,
                        session: DbSession) -> RetentionIn:
    """Applied by the serving process's retention sweep."""
    tenant = await get_tenant(session, principal.tenant_id)
    tenant.retention_recordings_days = body.recordings_days
    tenant.retention_voicemails_days = body.voicemails_days
    tenant.retention_transcripts_days = body.transcripts_days
    tenant.retention_messages_days = body.messages_days
    await audit.record(session, principal.tenant_id, "retention.update",
                       user_id=principal.user_id, key_id=principal.api_key_id,
                       target_type="tenant", target_id=tenant.id,
                       details=body.model_dump())
    return body


@router.get("/api/v1/compliance/retention", response_model=RetentionIn,
            summary="Retention settings")
async def get_retention(principal: AdminPrincipal, session: DbSession) -> RetentionIn:
    """Days per kind."""
    tenant = await get_tenant(session, principal.tenant_id)
    return RetentionIn(recordings_days=tenant.retention_recordings_days,
                       voicemails_days=tenant.retention_voicemails_days,
                       transcripts_days=tenant.retention_transcripts_days,
                       messages_days=tenant.retention_messages_days)


@router.get("/api/v1/audit", response_model=PageOut[AuditOut], summary="The audit log (admins)")
async def audit_log(
    principal: AdminPrincipal, session: DbSession, paging: PageQuery,
    action: Annotated[str | None, Query(max_length=64, description="e.g. gdpr.erase or gdpr.*")]
    = None,
) -> PageOut[AuditOut]:
    """Newest first."""
    page = await audit.list_entries(session, principal.tenant_id, action=action,
                                    page=paging.page, limit=paging.limit)
    return PageOut(items=[AuditOut.of(a) for a in page.items], total=page.total,
                   page=page.page, limit=page.limit)
