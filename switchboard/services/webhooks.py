"""Webhook deliveries as the API shows them: list, inspect, replay.

The outbox rows (:class:`~switchboard.models.outbox.WebhookDelivery`) are
written by the engine; here a tenant sees its own deliveries (status,
attempts, last error) and can replay one, which puts it back in the queue
with a fresh retry window. A replay keeps the row's idempotency key: a
receiver that already processed the callback can recognise it and skip it,
one that lost it processes it now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models.base import utcnow
from switchboard.models.outbox import DeliveryStatus, WebhookDelivery
from switchboard.outbox import notify_after_commit
from switchboard.services.exceptions import BadRequest, NotFound
from switchboard.services.paging import Page, paginate

_STATUSES = frozenset(s.value for s in DeliveryStatus)


async def list_deliveries(
    session: AsyncSession,
    *,
    tenant_id: str,
    call_sid: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    page: int = 1,
    limit: int = 50,
) -> Page[WebhookDelivery]:
    """A tenant's deliveries, newest first, optionally for one call / status / kind.

    Args:
        session: The database session.
        tenant_id: The tenant whose deliveries to list.
        call_sid: Only this call's deliveries (then in the call's order).
        status: Only ``pending``, ``delivering``, ``delivered`` or ``failed``.
        kind: Only ``status``, ``recording``, ``dial-action``...
        page: 1-based page number.
        limit: Rows per page.

    Returns:
        One page with the total.

    Raises:
        BadRequest: ``status`` is not a delivery status, or paging is out of range.
    """
    stmt = select(WebhookDelivery).where(WebhookDelivery.tenant_id == tenant_id)
    if status is not None:
        if status not in _STATUSES:
            raise BadRequest(
                f"status must be one of {', '.join(sorted(_STATUSES))}", field="status"
            )
        stmt = stmt.where(WebhookDelivery.status == status)
    if kind is not None:
        stmt = stmt.where(WebhookDelivery.kind == kind)
    if call_sid is not None:
        stmt = stmt.where(WebhookDelivery.call_sid == call_sid).order_by(WebhookDelivery.sequence)
    else:
        stmt = stmt.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    page_: Page[WebhookDelivery] = await paginate(session, stmt, page, limit)
    return page_


async def get_delivery(
    session: AsyncSession, *, tenant_id: str, delivery_id: str
) -> WebhookDelivery:
    """One of the tenant's deliveries.

    Raises:
        NotFound: No such delivery for this tenant.
    """
    row = await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.tenant_id == tenant_id
        )
    )
    if row is None:
        raise NotFound("Webhook delivery not found", field="id")
    return row


async def replay_delivery(
    session: AsyncSession,
    *,
    tenant_id: str,
    delivery_id: str,
    notify: Callable[[], None] | None = None,
) -> WebhookDelivery:
    """Put a delivery back in the queue, due now, with a new retry window.

    A delivery being delivered right now is left alone (it is already on
    its way). The caller commits; ``notify`` (the dispatcher's) runs then.

    Raises:
        NotFound: No such delivery for this tenant.
    """
    row = await get_delivery(session, tenant_id=tenant_id, delivery_id=delivery_id)
    if row.status == DeliveryStatus.DELIVERING.value:
        return row
    now = utcnow()
    row.status = DeliveryStatus.PENDING.value
    row.next_attempt_at = now
    row.retry_from = now
    row.lease_until = None
    row.claimed_by = None
    row.delivered_at = None
    if notify is not None:
        notify_after_commit(session, notify)
    return row


async def prune_deliveries(session: AsyncSession, *, finished_before: datetime) -> int:
    """Delete delivered and finally failed rows created before ``finished_before``.

    Pending rows are never pruned, whatever their age. The caller commits.

    Returns:
        How many rows were deleted.
    """
    result = await session.execute(
        delete(WebhookDelivery)
        .where(
            WebhookDelivery.status.in_(
                (DeliveryStatus.DELIVERED.value, DeliveryStatus.FAILED.value)
            ),
            WebhookDelivery.created_at < finished_before,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
