"""Reading messages: one by SID, lists per number, per contact, per direction."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import Message
from switchboard.services.exceptions import BadRequest, NotFound
from switchboard.services.paging import Page, paginate
from switchboard.services.phone import normalize_e164

DIRECTIONS = ("inbound", "outbound")


async def get_message(session: AsyncSession, tenant_id: str, sid: str) -> Message:
    """One message of the tenant by SID (or id).

    Raises:
        NotFound: no such message in this tenant.
    """
    stmt = select(Message).where(
        Message.tenant_id == tenant_id, or_(Message.message_sid == sid, Message.id == sid)
    )
    message = (await session.execute(stmt)).scalars().first()
    if message is None:
        raise NotFound("Message not found", field="message_sid")
    return message


async def list_messages(
    session: AsyncSession,
    tenant_id: str,
    *,
    number: str | None = None,
    number_id: str | None = None,
    contact_id: str | None = None,
    direction: str | None = None,
    page: int = 1,
    limit: int = 25,
) -> Page[Message]:
    """The tenant's messages, newest first.

    Args:
        session: The database session.
        tenant_id: Whose messages.
        number: Only those from or to this E.164 number.
        number_id: Only those of this phone number of the tenant.
        contact_id: Only those linked to this contact.
        direction: ``inbound`` or ``outbound`` (every outbound kind).
        page: 1-based page.
        limit: Rows per page.
    """
    stmt = select(Message).where(Message.tenant_id == tenant_id)
    if number:
        e164 = normalize_e164(number, field="number")
        stmt = stmt.where(or_(Message.from_number == e164, Message.to_number == e164))
    if number_id:
        stmt = stmt.where(Message.number_id == number_id)
    if contact_id:
        stmt = stmt.where(Message.contact_id == contact_id)
    if direction:
        if direction not in DIRECTIONS:
            raise BadRequest("direction must be inbound or outbound", field="direction")
        stmt = stmt.where(Message.direction.startswith(direction))
    stmt = stmt.order_by(Message.created_at.desc(), Message.id)
    return await paginate(session, stmt, page, limit)
