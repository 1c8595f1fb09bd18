"""``/api/v1/sms``: send a text (seed 001), read messages, texting settings.

Messages are read per number and per contact; the settings are the review
request template, link and period, and the quiet hours.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from switchboard.api.deps import AdminPrincipal, AgentPrincipal, CurrentPrincipal, DbSession
from switchboard.api.pagination import PageOut, PageQuery
from switchboard.api.routes.messaging_webhooks import HooksDep
from switchboard.api.schemas.messages import MessageOut, SendIn
from switchboard.models import Tenant
from switchboard.services import audit
from switchboard.services import numbers as number_service
from switchboard.services.exceptions import BadRequest
from switchboard.services.messaging import messages as message_service
from switchboard.services.messaging.send import URL, OutboundText, queue_message
from switchboard.services.tenants import get_tenant

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


class SmsSettings(BaseModel):
    """A business's texting settings (the monthly allowance comes with the plan)."""

    model_config = ConfigDict(extra="forbid")

    review_template: str = Field(min_length=1, max_length=640, description=(
        "Review request text; {customer_name}, {business_name}, {review_link} are filled in"))
    review_link: str | None = Field(default=None, max_length=500)
    review_period_days: int = Field(
        default=90, ge=1, le=3650, description="At most one review request per customer per period"
    )
    quiet_hours_start: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    quiet_hours_end: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    sms_monthly_allowance: int | None = Field(default=None, description="Read-only: the plan's")


def _settings_of(tenant: Tenant) -> SmsSettings:
    return SmsSettings(
        review_template=tenant.review_template, review_link=tenant.review_link,
        review_period_days=tenant.review_period_days,
        quiet_hours_start=tenant.quiet_hours_start, quiet_hours_end=tenant.quiet_hours_end,
        sms_monthly_allowance=tenant.sms_monthly_allowance,
    )


@router.get("/settings", response_model=SmsSettings, summary="Texting settings")
async def get_settings(principal: CurrentPrincipal, session: DbSession) -> SmsSettings:
    """Review template and link, review period, quiet hours, the plan's allowance."""
    return _settings_of(await get_tenant(session, principal.tenant_id))


@router.put("/settings", response_model=SmsSettings, summary="Change texting settings")
async def put_settings(body: SmsSettings, principal: AdminPrincipal,
                       session: DbSession) -> SmsSettings:
    """Quiet hours are both set or both null (null: marketing texts go at any hour)."""
    if (body.quiet_hours_start is None) != (body.quiet_hours_end is None):
        raise BadRequest("quiet_hours_start and quiet_hours_end go together",
                         field="quiet_hours_start")
    if body.review_link is not None and not URL.match(body.review_link):
        raise BadRequest("must be an absolute http(s) URL", field="review_link")
    tenant = await get_tenant(session, principal.tenant_id)
    tenant.review_template = body.review_template
    tenant.review_link = body.review_link
    tenant.review_period_days = body.review_period_days
    tenant.quiet_hours_start, tenant.quiet_hours_end = body.quiet_hours_start, body.quiet_hours_end
    await audit.record(session, principal.tenant_id, "sms.settings", user_id=principal.user_id,
                       key_id=principal.api_key_id, target_type="tenant", target_id=tenant.id)
    await session.flush()
    return _settings_of(tenant)
