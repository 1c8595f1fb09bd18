"""Queue an outbound text: every check first, then one row the sender delivers.

:func:`queue_message` is the one way a text leaves, whatever asked for it
(the API, a review request, a ``<Message>`` reply, a consent confirmation, a
desk phone): it validates, applies the plan (feature and monthly segment
allowance), the do-not-call list and the recipient's consent (451, nothing
sent), quiet hours for marketing, picks the transport from the sending
number's trunk, counts and prices the segments, and adds the message row
(``queued``) with its ``queued`` status callback in the caller's transaction.
The :class:`~switchboard.services.messaging.sender.MessageSender` sends it
once that transaction commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard import ids
from switchboard.models import Message, MessageStatus, PhoneNumber, Tenant, Trunk, utcnow
from switchboard.outbox import notify_after_commit
from switchboard.services import compliance
from switchboard.services.contacts import by_phone
from switchboard.services.exceptions import (
    BadRequest,
    ComplianceBlocked,
    PlanLimitExceeded,
    ServiceUnavailable,
)
from switchboard.services.messaging.callbacks import enqueue_status_callback
from switchboard.services.messaging.consent import ensure_may_text
from switchboard.services.messaging.quiet_hours import in_quiet_hours
from switchboard.services.messaging.segments import MAX_BODY, segment
from switchboard.services.phone import normalize_e164
from switchboard.services.plans import ensure_feature

CARRIER_TRANSPORTS = ("twilio", "telnyx", "plivo")
MAX_MEDIA = 10
KINDS = ("conversation", "review", "marketing", "consent")
URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_ENDPOINT = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_HOST = re.compile(r"^[A-Za-z0-9.\-]{1,255}$")


@dataclass(frozen=True, slots=True)
class OutboundText:
    """A text to send.

    Attributes:
        from_number: The tenant's number it is sent from (E.164).
        to_number: The recipient: E.164, or ``endpoint:NAME`` for a desk phone.
        body: Up to 1 600 characters.
        media_urls: MMS media, up to 10 http(s) URLs (stored and forwarded).
        status_callback: Where its status callbacks go.
        kind: ``conversation``, ``review``, ``marketing`` (quiet hours apply)
            or ``consent`` (a STOP/START/HELP answer: passes the opt-out).
        direction: ``outbound-api``, ``outbound-reply``, ``outbound-call`` or ``outbound-phone``.
        call_sid: The call it was sent from, for ``<Message>`` in a voice document.
        reply_to_sid: The inbound message it answers (at most one answer each).
    """

    from_number: str
    to_number: str
    body: str
    media_urls: Sequence[str] = field(default_factory=tuple)
    status_callback: str | None = None
    kind: str = "conversation"
    direction: str = "outbound-api"
    call_sid: str | None = None
    reply_to_sid: str | None = None


async def queue_message(
    session: AsyncSession,
    tenant_id: str,
    text: OutboundText,
    *,
    segment_price: str,
    notify: Callable[[], None] | None = None,
    now: datetime | None = None,
) -> Message:
    """Check and queue one outbound text in the caller's transaction.

    Args:
        session: The session; the caller commits.
        tenant_id: The sending tenant.
        text: What to send.
        segment_price: Price of one segment (settings ``sms_segment_price``).
        notify: Wakes the sender after the commit.
        now: The current time (tests); quiet hours and the month follow it.

    Raises:
        BadRequest: a field is invalid, or the number is not the tenant's or
            not enabled for SMS.
        PlanFeatureMissing: the plan does not include SMS (403).
        PlanLimitExceeded: the month's segment allowance is used up (403).
        ComplianceBlocked: do-not-call list, opt-out, or quiet hours (451).
        ServiceUnavailable: nothing can carry texts from this number (503).
    """
    now = now or utcnow()
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise BadRequest("No such account", field="tenant")
    ensure_feature(tenant, "sms")
    if text.kind not in KINDS:
        raise BadRequest("kind must be one of " + ", ".join(KINDS), field="kind")
    from_number = normalize_e164(text.from_number, field="from_number")
    endpoint = _endpoint_target(text.to_number)
    to_number = endpoint or normalize_e164(text.to_number, field="to_number")
    body = text.body or ""
    media = _check_media(text.media_urls)
    if len(body) > MAX_BODY:
        raise BadRequest(f"body must have at most {MAX_BODY} characters", field="body")
    if not body.strip() and not media:
        raise BadRequest("body must not be empty", field="body")
    if text.status_callback is not None and not URL.match(text.status_callback):
        raise BadRequest("must be an absolute http(s) URL", field="status_callback_url")
    number = await _sending_number(session, tenant_id, from_number)
    if endpoint is None:
        await compliance.ensure_reachable(session, tenant_id, to_number, channel="sms")
        if text.kind != "consent":
            await ensure_may_text(session, tenant_id, to_number)
    if text.kind in ("marketing", "review") and in_quiet_hours(
        now, tenant.timezone, tenant.quiet_hours_start, tenant.quiet_hours_end
    ):
        raise ComplianceBlocked(
            f"Quiet hours ({tenant.quiet_hours_start}-{tenant.quiet_hours_end} "
            f"{tenant.timezone}): {text.kind} messages are not sent now",
            field="to_number",
            details={"reason": "quiet_hours", "timezone": tenant.timezone},
        )
    parts = segment(body)
    await _ensure_allowance(session, tenant, parts.segments, now)
    transport, route = await _transport_for(session, number, to_number, endpoint)
    contact = None if endpoint else await by_phone(session, tenant_id, to_number)
    message = Message(
        message_sid=ids.new_sid("SM"),
        tenant_id=tenant_id,
        number_id=number.id,
        contact_id=contact.id if contact else None,
        direction=text.direction,
        kind=text.kind,
        from_number=from_number,
        to_number=to_number if endpoint is None else f"endpoint:{endpoint}",
        body=body,
        media_urls=media,
        encoding=parts.encoding,
        num_segments=parts.segments,
        price=str(Decimal(segment_price) * parts.segments),
        status=MessageStatus.QUEUED.value,
        transport=transport,
        route=route,
        status_callback=text.status_callback,
        call_sid=text.call_sid,
        reply_to_sid=text.reply_to_sid,
        attempts=0,
        next_attempt_at=now,
    )
    session.add(message)
    await session.flush()
    await enqueue_status_callback(session, message)
    if notify is not None:
        notify_after_commit(session, notify)
    return message


def _endpoint_target(to: str) -> str | None:
    if not to.startswith("endpoint:"):
        return None
    name = to.removeprefix("endpoint:")
    if not _ENDPOINT.match(name):
        raise BadRequest("endpoint names are 1-64 letters, digits, - or _", field="to_number")
    return name


def _check_media(urls: Sequence[str]) -> list[str]:
    if len(urls) > MAX_MEDIA:
        raise BadRequest(f"at most {MAX_MEDIA} media URLs", field="media_urls")
    for url in urls:
        if len(url) > 1000 or not URL.match(url):
            raise BadRequest("media URLs must be absolute http(s) URLs", field="media_urls")
    return list(urls)


async def _sending_number(session: AsyncSession, tenant_id: str, e164: str) -> PhoneNumber:
    stmt = select(PhoneNumber).where(
        PhoneNumber.tenant_id == tenant_id, PhoneNumber.e164 == e164,
        PhoneNumber.enabled.is_(True),
    )
    number = (await session.execute(stmt)).scalars().first()
    if number is None:
        raise BadRequest(f"{e164} is not an active number of this account", field="from_number")
    if not number.sms_enabled:
        raise BadRequest(f"{e164} is not enabled for SMS", field="from_number")
    return number


def month_start(now: datetime, timezone: str) -> datetime:
    """The start of ``now``'s month in the tenant's time zone."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def segments_used(session: AsyncSession, tenant: Tenant, now: datetime) -> int:
    """Outbound segments the tenant sent this month (its allowance's usage)."""
    used = await session.scalar(
        select(func.coalesce(func.sum(Message.num_segments), 0)).where(
            Message.tenant_id == tenant.id,
            Message.direction.startswith("outbound"),
            Message.created_at >= month_start(now, tenant.timezone),
        )
    )
    return int(used or 0)


async def _ensure_allowance(
    session: AsyncSession, tenant: Tenant, adding: int, now: datetime
) -> None:
    used = await segments_used(session, tenant, now)
    if used + adding > tenant.sms_monthly_allowance:
        raise PlanLimitExceeded(
            f"Monthly SMS allowance of {tenant.sms_monthly_allowance} segments is exhausted",
            field="sms_allowance",
            details={"limit": tenant.sms_monthly_allowance, "used": used,
                     "kind": "sms_segments"},
        )


async def _transport_for(
    session: AsyncSession, number: PhoneNumber, to: str, endpoint: str | None
) -> tuple[str, str | None]:
    """``(transport, route)`` of a text from ``number`` to ``to``.

    A desk phone and a SIP trunk go through Asterisk, a carrier account
    through its HTTP API. ``route`` is the ARI ``to`` of a SIP MESSAGE,
    generated from validated names only.
    """
    if endpoint is not None:
        return "sip", f"pjsip:{endpoint}"
    trunk = await session.get(Trunk, number.trunk_id) if number.trunk_id else None
    if trunk is not None and trunk.integration in CARRIER_TRANSPORTS and trunk.auth_token:
        return trunk.integration, None
    if trunk is not None and trunk.kind == "pjsip" and trunk.host and _HOST.match(trunk.host):
        host = f"{trunk.host}:{trunk.port}" if trunk.port else trunk.host
        return "sip", f"pjsip:{trunk.name}/sip:{to}@{host}"
    raise ServiceUnavailable(
        f"SMS is not configured for {number.e164}: its trunk carries no messages",
        error_id="sms-not-configured",
    )
