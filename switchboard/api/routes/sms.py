"""Seed 002 ``/api/sms``: SMS status, number search, provision / review request / release.

Dashboard routes: errors are ``{"error": "..."}`` with the seed's statuses
(400 missing fields, no SMS number or duplicate number; 401 no session; 403
plan or allowance; 404 no active business; 409 already has a number; 503
not configured).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from switchboard.api.deps import AdminPrincipal, CurrentPrincipal, DbSession
from switchboard.api.routes.messaging_webhooks import HooksDep
from switchboard.api.schemas.compat import Camel
from switchboard.services.messaging import dashboard
from switchboard.services.phone import friendly_format

router = APIRouter(prefix="/api/sms", tags=["dashboard: sms"])


class SmsActionIn(Camel):
    """One SMS action; the fields each action needs are checked by the action (400)."""

    action: Literal["provision", "send_review_request", "release"]
    phone_number: str | None = None
    to: str | None = None
    customer_name: str | None = None


@router.get("", summary="SMS status and the SMS number, or search (action=search)")
async def get_sms(
    principal: CurrentPrincipal,
    session: DbSession,
    action: Annotated[Literal["search"] | None, Query()] = None,
    area_code: Annotated[str | None, Query(alias="areaCode", max_length=6)] = None,
) -> dict[str, Any]:
    """``{"configured", "business": {...}}``, or ``{"configured", "numbers": [...]}``."""
    if action == "search":
        found = await dashboard.search(session, principal.tenant_id, area_code=area_code)
        return {"configured": True, "numbers": [
            {"number": d.e164, "friendlyName": friendly_format(d.e164),
             "locality": d.locality, "region": d.region} for d in found]}
    state = await dashboard.status(session, principal.tenant_id)
    return {
        "configured": state.configured,
        "business": {
            "id": state.tenant.id,
            "name": state.tenant.name,
            "smsNumber": state.number.e164 if state.number else None,
            "smsEnabled": state.number is not None,
        },
    }


@router.post("", summary="Provision a number, send a review request, or release the number")
async def post_sms(
    body: SmsActionIn, principal: AdminPrincipal, session: DbSession, hooks: HooksDep
) -> dict[str, Any]:
    """Run one action (see the seed)."""
    tenant_id = principal.tenant_id
    if body.action == "provision":
        number = await dashboard.provision(session, tenant_id, body.phone_number)
        return {"ok": True, "number": number.e164, "sid": number.sid}
    if body.action == "release":
        await dashboard.release(session, tenant_id)
        return {"ok": True}
    request = await dashboard.send_review_request(
        session, tenant_id, to=body.to, customer_name=body.customer_name, hooks=hooks
    )
    return {"ok": True, "messageSid": request.message_sid, "status": "queued"}
