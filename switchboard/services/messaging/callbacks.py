"""Message webhooks in the provider's shapes, through the outbox.

* status callbacks (``queued``, ``sent``, ``delivered``, ``undelivered``,
  ``failed``) to a message's ``status_callback``: ``MessageSid``/``SmsSid``,
  ``AccountSid``, ``From``, ``To``, ``MessageStatus``/``SmsStatus``,
  ``ErrorCode`` when there is one, ``ApiVersion``;
* an inbound message to the number's messaging URL (``sms_url``):
  ``MessageSid``, ``SmsSid``, ``SmsMessageSid``, ``AccountSid``, ``From``,
  ``To``, ``Body``, ``NumMedia``, ``MediaUrl0``..., ``NumSegments``,
  ``ApiVersion``. Its answer (a ``<Response>`` with ``<Message>`` verbs) is
  read by :mod:`switchboard.services.messaging.replies` when delivered.

The outbox keeps one order per key; a message's webhooks use its SID as that
key (the ``call_sid`` column), so its status callbacks arrive in order.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import Message, PhoneNumber, Tenant
from switchboard.outbox import enqueue

API_VERSION = "2010-04-01"
STATUS_KIND = "message-status"
INBOUND_KIND = "message-inbound"
REPORTED = frozenset({"queued", "sent", "delivered", "undelivered", "failed"})


async def _account_sid(session: AsyncSession, tenant_id: str) -> str:
    tenant = await session.get(Tenant, tenant_id)
    return tenant.account_sid if tenant else ""


async def enqueue_status_callback(session: AsyncSession, message: Message) -> None:
    """Queue the callback of the message's current status, when it has a callback URL."""
    if not message.status_callback or message.status not in REPORTED:
        return
    params = {
        "MessageSid": message.message_sid,
        "SmsSid": message.message_sid,
        "AccountSid": await _account_sid(session, message.tenant_id),
        "From": message.from_number,
        "To": message.to_number,
        "MessageStatus": message.status,
        "SmsStatus": message.status,
        "NumSegments": str(message.num_segments),
        "ApiVersion": API_VERSION,
    }
    if message.error_code:
        params["ErrorCode"] = message.error_code
    await enqueue(
        session, tenant_id=message.tenant_id, call_sid=message.message_sid,
        url=message.status_callback, params=params, kind=STATUS_KIND,
    )


def inbound_params(message: Message, account_sid: str) -> dict[str, str]:
    """The form parameters an inbound message is posted to a messaging URL with."""
    params = {
        "MessageSid": message.message_sid,
        "SmsSid": message.message_sid,
        "SmsMessageSid": message.message_sid,
        "AccountSid": account_sid,
        "From": message.from_number,
        "To": message.to_number,
        "Body": message.body,
        "NumMedia": str(len(message.media_urls)),
        "NumSegments": str(message.num_segments),
        "SmsStatus": "received",
        "ApiVersion": API_VERSION,
    }
    for index, url in enumerate(message.media_urls):
        params[f"MediaUrl{index}"] = url
    return params


async def enqueue_inbound(session: AsyncSession, message: Message, number: PhoneNumber) -> None:
    """Queue the post of an inbound message to its number's messaging URL."""
    if not number.sms_url:
        return
    params = inbound_params(message, await _account_sid(session, message.tenant_id))
    await enqueue(
        session, tenant_id=message.tenant_id, call_sid=message.message_sid,
        url=number.sms_url, method=number.sms_method, params=params, kind=INBOUND_KIND,
    )
