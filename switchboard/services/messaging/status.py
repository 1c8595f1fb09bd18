"""Delivery status from carriers, applied to the message and reported onwards.

Each carrier names its statuses its own way; :func:`normalise` maps them to
the provider values we report (``queued``, ``sending``, ``sent``,
``delivered``, ``undelivered``, ``failed``). A status never moves a message
backwards (a late ``sent`` after ``delivered`` is ignored), and a change
queues the message's status callback.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import Message, utcnow
from switchboard.services.messaging.callbacks import enqueue_status_callback

_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}
_ALIASES = {
    # Twilio
    "accepted": "queued", "scheduled": "queued", "read": "delivered", "canceled": "failed",
    # Telnyx (``to[].status``)
    "delivery_failed": "undelivered", "sending_failed": "failed",
    "delivery_unconfirmed": "sent", "gw_timeout": "failed", "dlr_timeout": "sent",
    # Plivo
    "rejected": "failed",
}


def normalise(status: str) -> str | None:
    """Our status for a carrier's word, or ``None`` when it is not a delivery status."""
    word = status.strip().lower()
    word = _ALIASES.get(word, word)
    return word if word in _RANK else None


async def find_by_provider_id(
    session: AsyncSession, transport: str, provider_id: str
) -> Message | None:
    """The message a carrier knows by ``provider_id``."""
    stmt = select(Message).where(
        Message.transport == transport, Message.provider_id == provider_id
    )
    return (await session.execute(stmt)).scalars().first()


async def apply_status(
    session: AsyncSession, message: Message, status: str, *, error_code: str | None = None
) -> bool:
    """Move ``message`` to the carrier's ``status``; whether it changed."""
    new = normalise(status)
    if new is None or _RANK[new] < _RANK.get(message.status, 0) or new == message.status:
        return False
    if _RANK.get(message.status) == 3:  # final already
        return False
    message.status = new
    if new == "delivered":
        message.delivered_at = utcnow()
    if new in ("undelivered", "failed") and error_code:
        message.error_code = error_code[:16]
    await enqueue_status_callback(session, message)
    await session.flush()
    return True
