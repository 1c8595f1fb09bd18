"""SMS consent records: who may be texted, since when, and who opted out by which word.

Carriers require a sender to keep, for every number it texts, where the
consent came from and when, and to stop texting a number that opted out
until it opts back in. :func:`ensure_may_text` is the check every outbound
text passes (after the do-not-call list); consent replies themselves pass.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import SmsConsent, utcnow
from switchboard.services.compliance import suppression_key
from switchboard.services.exceptions import ComplianceBlocked
from switchboard.services.paging import Page, paginate

SOURCES = ("keyword", "api", "import", "web-form", "verbal", "review-request", "inbound")


async def consent_of(session: AsyncSession, tenant_id: str, phone: str) -> SmsConsent | None:
    """The consent row of ``phone`` (canonical E.164) for the tenant, if any."""
    stmt = select(SmsConsent).where(SmsConsent.tenant_id == tenant_id, SmsConsent.phone == phone)
    return (await session.execute(stmt)).scalars().first()


async def _row(session: AsyncSession, tenant_id: str, phone: str, source: str) -> SmsConsent:
    row = await consent_of(session, tenant_id, phone)
    if row is None:
        row = SmsConsent(tenant_id=tenant_id, phone=phone, source=source, opted_out=False)
        session.add(row)
    return row


async def record_consent(
    session: AsyncSession, tenant_id: str, phone: str, *, source: str
) -> SmsConsent:
    """Record that ``phone`` agreed to texts (an opted-out number opts back in)."""
    row = await _row(session, tenant_id, phone, source)
    row.source = source
    row.consented_at = utcnow()
    row.opted_out = False
    row.opted_out_at = None
    row.opt_out_keyword = None
    await session.flush()
    return row


async def opt_out(session: AsyncSession, tenant_id: str, phone: str, *, keyword: str) -> SmsConsent:
    """Record an opt-out (``keyword``: STOP, UNSUBSCRIBE..., or ``api``)."""
    row = await _row(session, tenant_id, phone, "keyword")
    row.opted_out = True
    row.opted_out_at = utcnow()
    row.opt_out_keyword = keyword[:16]
    await session.flush()
    return row


async def ensure_may_text(session: AsyncSession, tenant_id: str, phone: str) -> None:
    """Refuse a text to a number that opted out.

    Raises:
        ComplianceBlocked: 451 with ``details.reason`` ``opted_out`` and the keyword.
    """
    row = await consent_of(session, tenant_id, phone)
    if row is None:  # an erased subject's opt-out stays under the number's hash
        row = await consent_of(session, tenant_id, suppression_key(tenant_id, phone))
    if row is None or not row.opted_out:
        return
    raise ComplianceBlocked(
        f"{phone} opted out of messages ({row.opt_out_keyword or 'opt-out'}); nothing was sent",
        field="to_number",
        details={"reason": "opted_out", "keyword": row.opt_out_keyword},
    )


async def list_consents(
    session: AsyncSession, tenant_id: str, *, opted_out: bool | None = None,
    page: int = 1, limit: int = 25,
) -> Page[SmsConsent]:
    """The tenant's consent rows, most recently changed first."""
    stmt = select(SmsConsent).where(SmsConsent.tenant_id == tenant_id)
    if opted_out is not None:
        stmt = stmt.where(SmsConsent.opted_out.is_(opted_out))
    stmt = stmt.order_by(SmsConsent.updated_at.desc(), SmsConsent.id)
    return await paginate(session, stmt, page, limit)
