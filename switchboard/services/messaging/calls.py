"""Texts sent from a call by a voice document (``<Sms>``, ``<Message>``).

The engine hands over the verb with the call's tenant, SID, number and other
party; the text leaves through :func:`~.send.queue_message` with every check
(a refused one is logged; the call goes on either way, as at the provider).
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.callflow.verbs import SendText
from switchboard.services.exceptions import ServiceError
from switchboard.services.messaging.hooks import MessagingHooks
from switchboard.services.messaging.send import OutboundText, queue_message

log = logging.getLogger(__name__)


async def send_from_call(
    sessionmaker: async_sessionmaker[AsyncSession], hooks: MessagingHooks,
    tenant_id: str, call_sid: str, number: str, party: str, verb: SendText,
) -> None:
    """Queue the verb's text, from the call's number to its other party by default."""
    try:
        async with sessionmaker() as session, session.begin():
            await queue_message(
                session, tenant_id,
                OutboundText(from_number=verb.from_ or number, to_number=verb.to or party,
                             body=verb.body, media_urls=verb.media_urls,
                             status_callback=verb.status_callback, direction="outbound-call",
                             call_sid=call_sid),
                segment_price=hooks.segment_price, notify=hooks.notify_sender,
            )
    except ServiceError as exc:
        log.warning("text from a call not sent: %s", exc.message,
                    extra={"call_sid": call_sid, "code": exc.code})
