"""Send the ``<Message>`` answers a messaging URL gave to an inbound text.

The outbox delivers the inbound text (:mod:`.callbacks`) and hands this
module the answer's body. Every ``<Message>`` goes through
:func:`~.send.queue_message` (all its checks); the first carries the inbound
text's SID as ``reply_to_sid``, which is unique, so a delivery repeated after
a crash sends no second answer.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.models import Message
from switchboard.services.exceptions import ServiceError
from switchboard.services.messaging.hooks import MessagingHooks
from switchboard.services.messaging.send import OutboundText, queue_message
from switchboard.services.messaging.twiml import ReplyMessage, parse_messages

log = logging.getLogger(__name__)


async def send_replies(
    sessionmaker: async_sessionmaker[AsyncSession], hooks: MessagingHooks,
    inbound_sid: str, document: str,
) -> int:
    """Queue the answers in ``document`` to the inbound text ``inbound_sid``; how many."""
    replies = parse_messages(document)
    if not replies:
        return 0
    try:
        async with sessionmaker() as session, session.begin():
            return await _queue(session, hooks, inbound_sid, replies)
    except IntegrityError:  # answered already (a repeated delivery)
        return 0


async def _queue(session: AsyncSession, hooks: MessagingHooks, inbound_sid: str,
                 replies: list[ReplyMessage]) -> int:
    inbound = (await session.scalars(
        select(Message).where(Message.message_sid == inbound_sid,
                              Message.direction == "inbound"))).first()
    if inbound is None:
        return 0
    queued = 0
    for index, reply in enumerate(replies):
        try:
            await queue_message(
                session, inbound.tenant_id,
                OutboundText(from_number=reply.from_ or inbound.to_number,
                             to_number=reply.to or inbound.from_number, body=reply.body,
                             media_urls=reply.media_urls, direction="outbound-reply",
                             reply_to_sid=inbound.message_sid if index == 0 else None),
                segment_price=hooks.segment_price, notify=hooks.notify_sender,
            )
            queued += 1
        except ServiceError as exc:
            log.warning("reply not sent: %s", exc.message, extra={"sid": inbound_sid})
    return queued
