"""Texts that arrive: from a carrier or SIP trunk to a number, or from a desk phone.

To a number (:func:`receive_at_number`): stored (``received``), linked to
its contact; a consent keyword is recorded and answered (STOP family opts
out, START/UNSTOP opts in, HELP explains); then the text is posted to the
number's messaging URL through the outbox (its ``<Message>`` answer is sent
by :mod:`.replies`), or, when the number has none, forwarded to the desk
phones whose caller ID is that number, over SIP MESSAGE.

From a desk phone (:func:`receive_from_phone`): a text to another desk phone
of the tenant goes to it; one to an outside number leaves from the phone's
number, through :func:`~.send.queue_message` and all its checks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard import ids
from switchboard.models import Endpoint, Message, MessageStatus, PhoneNumber, Tenant, utcnow
from switchboard.outbox import notify_after_commit
from switchboard.services.contacts import by_phone
from switchboard.services.exceptions import ServiceError
from switchboard.services.messaging import consent
from switchboard.services.messaging.callbacks import enqueue_inbound
from switchboard.services.messaging.keywords import Keyword, confirmation, keyword_of
from switchboard.services.messaging.segments import segment
from switchboard.services.messaging.send import OutboundText, queue_message
from switchboard.services.phone import is_e164, normalize_e164

log = logging.getLogger(__name__)

_USER = re.compile(r"^(?:<)?(?:pj)?sips?:([^@;>]+)")


@dataclass(frozen=True, slots=True)
class InboundText:
    """A text as a transport received it.

    Attributes:
        from_number: The sender (E.164 from a carrier; a SIP user from a trunk).
        to_number: The number (or desk phone name) it was sent to.
        body: The text.
        media_urls: MMS media the carrier hosts.
        transport: ``sip``, ``twilio``, ``telnyx`` or ``plivo``.
        provider_id: The carrier's id of the message.
    """

    from_number: str
    to_number: str
    body: str
    transport: str
    media_urls: Sequence[str] = field(default_factory=tuple)
    provider_id: str | None = None


def sip_user(uri: str) -> str:
    """The user part of a SIP URI (``"A" <sip:+1555@host>`` → ``+1555``), or the text itself."""
    match = _USER.search(uri.split('"')[-1].strip())
    return match.group(1) if match else uri.strip()


async def receive_at_number(
    session: AsyncSession,
    number: PhoneNumber,
    text: InboundText,
    *,
    segment_price: str,
    notify_sender: Callable[[], None] | None = None,
    notify_outbox: Callable[[], None] | None = None,
) -> Message:
    """Store a text sent to one of the tenant's numbers and act on it (see the module)."""
    tenant = await session.get(Tenant, number.tenant_id)
    assert tenant is not None
    sender = text.from_number
    if not is_e164(sender):
        try:
            sender = normalize_e164(sender, field="From")
        except ServiceError:
            sender = text.from_number[:64]
    contact = await by_phone(session, tenant.id, sender)
    parts = segment(text.body)
    message = Message(
        message_sid=ids.new_sid("SM"), tenant_id=tenant.id, number_id=number.id,
        contact_id=contact.id if contact else None, direction="inbound", kind="conversation",
        from_number=sender, to_number=number.e164, body=text.body,
        media_urls=list(text.media_urls), encoding=parts.encoding, num_segments=parts.segments,
        price="0", status=MessageStatus.RECEIVED.value, transport=text.transport,
        provider_id=text.provider_id, attempts=0,
    )
    session.add(message)
    await session.flush()
    found = keyword_of(text.body)
    if found is not None and is_e164(sender):
        kind, word = found
        if kind is Keyword.OPT_OUT:
            await consent.opt_out(session, tenant.id, sender, keyword=word)
        elif kind is Keyword.OPT_IN:
            await consent.record_consent(session, tenant.id, sender, source="keyword")
        message.kind = "consent"
        await _answer(session, tenant, number, sender, confirmation(kind, tenant.name),
                      segment_price, notify_sender)
    if number.sms_url:
        await enqueue_inbound(session, message, number)
        if notify_outbox is not None:
            notify_after_commit(session, notify_outbox)
    else:
        await _forward_to_phones(session, message, notify_sender)
    return message


async def _answer(
    session: AsyncSession, tenant: Tenant, number: PhoneNumber, to: str, body: str,
    segment_price: str, notify: Callable[[], None] | None,
) -> None:
    try:
        await queue_message(
            session, tenant.id,
            OutboundText(from_number=number.e164, to_number=to, body=body, kind="consent",
                         direction="outbound-reply"),
            segment_price=segment_price, notify=notify,
        )
    except ServiceError as exc:  # the number can no longer send: the record stands
        log.warning("consent confirmation not sent: %s", exc.message)


async def _forward_to_phones(
    session: AsyncSession, message: Message, notify: Callable[[], None] | None
) -> None:
    """Hand the text to the desk phones whose caller ID is the number it was sent to."""
    phones = (await session.scalars(
        select(Endpoint).where(
            Endpoint.tenant_id == message.tenant_id, Endpoint.caller_id == message.to_number
        ).order_by(Endpoint.name)
    )).all()
    for phone in phones:
        session.add(Message(
            message_sid=ids.new_sid("SM"), tenant_id=message.tenant_id,
            number_id=message.number_id, contact_id=message.contact_id,
            direction="forward", kind="conversation", from_number=message.from_number,
            to_number=f"endpoint:{phone.name}", body=message.body,
            media_urls=list(message.media_urls), encoding=message.encoding,
            num_segments=message.num_segments, price="0", status=MessageStatus.QUEUED.value,
            transport="sip", route=f"pjsip:{phone.name}", attempts=0, next_attempt_at=utcnow(),
        ))
    if phones and notify is not None:
        notify_after_commit(session, notify)


async def receive_from_phone(
    session: AsyncSession,
    endpoint_name: str,
    to: str,
    body: str,
    *,
    segment_price: str,
    notify_sender: Callable[[], None] | None = None,
) -> Message | None:
    """A desk phone sent a text: to another desk phone of its tenant, or to an outside number.

    It leaves from the phone's caller ID number. A text that may not leave
    (do-not-call, opt-out, no SMS on the number...) is logged and dropped;
    ``None`` then.
    """
    phone = (await session.scalars(
        select(Endpoint).where(Endpoint.name == endpoint_name)
    )).first()
    if phone is None or not phone.caller_id:
        log.warning("text from a phone without a number dropped", extra={"endpoint": endpoint_name})
        return None
    target = sip_user(to)
    peer = (await session.scalars(
        select(Endpoint).where(Endpoint.tenant_id == phone.tenant_id, Endpoint.name == target)
    )).first()
    destination = f"endpoint:{peer.name}" if peer is not None else target
    try:
        return await queue_message(
            session, phone.tenant_id,
            OutboundText(from_number=phone.caller_id, to_number=destination, body=body,
                         direction="outbound-phone"),
            segment_price=segment_price, notify=notify_sender,
        )
    except ServiceError as exc:
        log.warning("text from a phone refused: %s", exc.message,
                    extra={"endpoint": endpoint_name, "code": exc.code})
        return None
