"""Texts Asterisk received over SIP MESSAGE, handed over by the engine.

From a desk phone: :func:`~.inbound.receive_from_phone` (to another phone,
or out from the phone's number). From a SIP trunk: a text to one of the
trunk's tenant's numbers, :func:`~.inbound.receive_at_number`. Anything
else (an unknown endpoint, a number of another tenant) is dropped, logged.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.engine.text_messages import ReceivedText
from switchboard.models import Endpoint, PhoneNumber, Trunk
from switchboard.services.exceptions import ServiceError
from switchboard.services.messaging.hooks import MessagingHooks
from switchboard.services.messaging.inbound import (
    InboundText,
    receive_at_number,
    receive_from_phone,
    sip_user,
)
from switchboard.services.phone import normalize_e164

log = logging.getLogger(__name__)


async def receive_sip_text(
    sessionmaker: async_sessionmaker[AsyncSession], hooks: MessagingHooks, text: ReceivedText
) -> None:
    """Store and route one received MESSAGE, in its own transaction."""
    async with sessionmaker() as session, session.begin():
        phone = await session.scalar(select(Endpoint.id).where(Endpoint.name == text.endpoint))
        if phone is not None:
            await receive_from_phone(
                session, text.endpoint, text.to_uri, text.body,
                segment_price=hooks.segment_price, notify_sender=hooks.notify_sender,
            )
            return
        trunk = (await session.scalars(
            select(Trunk).where(Trunk.name == text.endpoint, Trunk.kind == "pjsip")
        )).first()
        if trunk is None:
            log.warning("text from an unknown endpoint dropped", extra={"endpoint": text.endpoint})
            return
        try:
            e164 = normalize_e164(sip_user(text.to_uri), field="To")
        except ServiceError:
            log.warning("text to a non-number dropped", extra={"endpoint": text.endpoint})
            return
        number = (await session.scalars(select(PhoneNumber).where(
            PhoneNumber.e164 == e164, PhoneNumber.enabled.is_(True),
            PhoneNumber.tenant_id == trunk.tenant_id,
        ))).first()
        if number is None:
            log.warning("text to a number the trunk's tenant does not have dropped",
                        extra={"endpoint": text.endpoint})
            return
        await receive_at_number(
            session, number,
            InboundText(from_number=sip_user(text.from_uri), to_number=number.e164,
                        body=text.body, transport="sip"),
            segment_price=hooks.segment_price, notify_sender=hooks.notify_sender,
            notify_outbox=hooks.notify_outbox,
        )
