"""Seed 002 ``/api/sms``: the business's SMS number, and review requests.

SMS is *configured* for a tenant when one of its trunks can carry texts (a
carrier account with a messaging API, or a SIP trunk with a host); without
one every action is 503. The business has at most one SMS number (409 for a
second). A review request is the tenant's template filled with the
customer's name, the business name and its review link, sent at most once
per customer per ``review_period_days``, counted against the monthly
allowance and gated by the plan (``review_requests``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import DidInventory, PhoneNumber, ReviewRequest, Tenant, Trunk, utcnow
from switchboard.services import numbers as number_service
from switchboard.services.exceptions import BadRequest, Conflict, NotFound, ServiceUnavailable
from switchboard.services.messaging.hooks import MessagingHooks
from switchboard.services.messaging.send import CARRIER_TRANSPORTS, OutboundText, queue_message
from switchboard.services.phone import normalize_e164
from switchboard.services.plans import ensure_feature

_PLACEHOLDER = re.compile(r"\{(customer_name|business_name|review_link)\}")


@dataclass(frozen=True, slots=True)
class SmsStatus:
    """``GET /api/sms``."""

    configured: bool
    tenant: Tenant
    number: PhoneNumber | None


async def active_tenant(session: AsyncSession, tenant_id: str) -> Tenant:
    """The tenant, if active. Raises NotFound ("No active business found")."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None or not tenant.active:
        raise NotFound("No active business found", field="business")
    return tenant


async def is_configured(session: AsyncSession, tenant_id: str) -> bool:
    """Whether one of the tenant's trunks can carry texts."""
    found = await session.scalar(
        select(Trunk.id).where(
            Trunk.tenant_id == tenant_id,
            or_(
                Trunk.integration.in_(CARRIER_TRANSPORTS) & Trunk.auth_token.is_not(None),
                (Trunk.kind == "pjsip") & Trunk.host.is_not(None),
            ),
        ).limit(1)
    )
    return found is not None


async def sms_number(session: AsyncSession, tenant_id: str) -> PhoneNumber | None:
    """The business's active SMS number, if it has one."""
    stmt = select(PhoneNumber).where(
        PhoneNumber.tenant_id == tenant_id, PhoneNumber.enabled.is_(True),
        PhoneNumber.sms_enabled.is_(True),
    ).order_by(PhoneNumber.created_at)
    return (await session.execute(stmt)).scalars().first()


async def status(session: AsyncSession, tenant_id: str) -> SmsStatus:
    """Whether SMS is configured, and the business's SMS number."""
    tenant = await active_tenant(session, tenant_id)
    return SmsStatus(configured=await is_configured(session, tenant_id), tenant=tenant,
                     number=await sms_number(session, tenant_id))


async def _ready(session: AsyncSession, tenant_id: str) -> Tenant:
    tenant = await active_tenant(session, tenant_id)
    ensure_feature(tenant, "sms")
    if not await is_configured(session, tenant_id):
        raise ServiceUnavailable("SMS is not configured", error_id="sms-not-configured")
    return tenant


async def search(
    session: AsyncSession, tenant_id: str, *, area_code: str | None
) -> Sequence[DidInventory]:
    """SMS-capable numbers the business may provision."""
    await _ready(session, tenant_id)
    if area_code is not None and not re.fullmatch(r"\d{1,6}", area_code):
        raise BadRequest("areaCode must be digits", field="areaCode")
    found = await number_service.search_available(session, tenant_id, area_code=area_code)
    trunks = {t.id: t for t in (await session.scalars(
        select(Trunk).where(Trunk.tenant_id == tenant_id))).all()}
    return [d for d in found if _carries_texts(trunks.get(d.trunk_id))]


def _carries_texts(trunk: Trunk | None) -> bool:
    if trunk is None:
        return False
    if trunk.integration in CARRIER_TRANSPORTS and trunk.auth_token:
        return True
    return trunk.kind == "pjsip" and bool(trunk.host)


async def provision(session: AsyncSession, tenant_id: str, phone_number: str | None) -> PhoneNumber:
    """Make ``phone_number`` the business's SMS number (provisioning it if needed).

    Raises:
        BadRequest: no number given, or the number is taken or unavailable.
        Conflict: the business already has an SMS number.
        ServiceUnavailable / PlanFeatureMissing / NotFound: as :func:`_ready`.
    """
    await _ready(session, tenant_id)
    if not phone_number:
        raise BadRequest("phoneNumber is required to provision", field="phoneNumber")
    e164 = normalize_e164(phone_number, field="phoneNumber")
    current = await sms_number(session, tenant_id)
    if current is not None:
        raise Conflict(f"Business already has an SMS number ({current.e164})",
                       field="phoneNumber")
    active = await number_service.find_active_by_e164(session, e164)
    if active is not None and active.tenant_id != tenant_id:
        raise BadRequest("Phone number is already in use", field="phoneNumber")
    if active is None:
        try:
            active = await number_service.provision_number(session, tenant_id, e164)
        except NotFound:
            raise BadRequest("Phone number is not available", field="phoneNumber") from None
    trunk = await session.get(Trunk, active.trunk_id) if active.trunk_id else None
    if not _carries_texts(trunk):
        raise BadRequest("This number's trunk carries no texts", field="phoneNumber")
    return await number_service.configure_number(
        session, tenant_id, active.id, {"sms_enabled": True}
    )


async def release(session: AsyncSession, tenant_id: str) -> PhoneNumber:
    """Release the business's SMS number.

    Raises:
        BadRequest: the business has no SMS number.
    """
    await _ready(session, tenant_id)
    number = await sms_number(session, tenant_id)
    if number is None:
        raise BadRequest("Business has no SMS number", field="action")
    return await number_service.release_number(session, tenant_id, number.id)


def fill_template(template: str, *, customer_name: str, business_name: str,
                  review_link: str) -> str:
    """The review text: only the three known placeholders are replaced."""
    values = {"customer_name": customer_name, "business_name": business_name,
              "review_link": review_link}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template).strip()


async def send_review_request(
    session: AsyncSession, tenant_id: str, *, to: str | None, customer_name: str | None,
    hooks: MessagingHooks,
) -> ReviewRequest:
    """Send the tenant's review request to a customer, once per period.

    Raises:
        BadRequest: ``to`` missing or invalid, no SMS number, or a request
            already went to this customer within the period.
        PlanFeatureMissing / PlanLimitExceeded: 403.
        ComplianceBlocked: do-not-call, opt-out or quiet hours (451).
    """
    tenant = await _ready(session, tenant_id)
    ensure_feature(tenant, "review_requests")
    if not to:
        raise BadRequest("to is required for send_review_request", field="to")
    phone = normalize_e164(to, field="to")
    number = await sms_number(session, tenant_id)
    if number is None:
        raise BadRequest("Business has no SMS number", field="action")
    since = utcnow() - timedelta(days=tenant.review_period_days)
    earlier = await session.scalar(
        select(ReviewRequest.sent_at).where(
            ReviewRequest.tenant_id == tenant_id, ReviewRequest.phone == phone,
            ReviewRequest.sent_at >= since,
        ).order_by(ReviewRequest.sent_at.desc()).limit(1)
    )
    if earlier is not None:
        raise BadRequest(
            f"A review request went to this customer on {earlier.date().isoformat()}; "
            f"one per {tenant.review_period_days} days",
            field="to", details={"last_sent_at": earlier.isoformat()},
        )
    body = fill_template(
        tenant.review_template, customer_name=(customer_name or "there").strip()[:100],
        business_name=tenant.name, review_link=tenant.review_link or "",
    )
    message = await queue_message(
        session, tenant_id,
        OutboundText(from_number=number.e164, to_number=phone, body=body, kind="review"),
        segment_price=hooks.segment_price, notify=hooks.notify_sender,
    )
    request = ReviewRequest(tenant_id=tenant_id, phone=phone, message_sid=message.message_sid,
                            sent_at=message.created_at, body=body)
    session.add(request)
    await session.flush()
    return request
