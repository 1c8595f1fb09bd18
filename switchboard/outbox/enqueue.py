"""Enqueue a webhook in the caller's transaction (the outbox's writing half).

Importing this loads no delivery code: the engine's call-log writer and the
services enqueue; :mod:`switchboard.outbox.delivery` delivers.
"""


from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models.base import utcnow
from switchboard.models.outbox import DeliveryKind, DeliveryStatus, WebhookDelivery


async def enqueue(
    session: AsyncSession,
    *,
    tenant_id: str,
    call_sid: str | None,
    url: str,
    method: str = "POST",
    params: Mapping[str, str],
    kind: str,
    idempotency_key: str | None = None,
    notify: Callable[[], None] | None = None,
) -> WebhookDelivery:
    """Add a callback to the outbox, inside the caller's transaction.

    The row gets the next ``sequence`` of its call. A status callback
    (``kind="status"``) also gets ``SequenceNumber`` (0, 1, 2... among the
    call's status callbacks), as the provider sends it. Nothing is committed
    here: the caller commits with its state change.

    Args:
        session: The session holding the state change.
        tenant_id: The tenant whose auth token signs the request.
        call_sid: The call it reports on (``None`` for a callback without a call).
        url: The callback URL.
        method: ``POST`` (default) or ``GET``.
        params: The form parameters.
        kind: ``status``, ``recording``, ``dial-action``, ``transcription``...
        idempotency_key: A key that makes the enqueue itself idempotent (a
            second row with the same key fails the commit); random by default.
        notify: Called after the transaction commits, to wake the dispatcher
            (pass :meth:`switchboard.outbox.delivery.OutboxDispatcher.notify`).

    Returns:
        The new (pending, unflushed) row.
    """
    method = method.upper()
    if method not in ("GET", "POST"):
        raise ValueError(f"webhook method must be GET or POST, not {method!r}")
    body = {str(k): str(v) for k, v in params.items()}
    sequence = 0
    if call_sid is not None:
        last = await session.scalar(
            select(func.max(WebhookDelivery.sequence)).where(WebhookDelivery.call_sid == call_sid)
        )
        sequence = (last or 0) + 1
        if kind == DeliveryKind.STATUS and "SequenceNumber" not in body:
            count = await session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(
                    WebhookDelivery.call_sid == call_sid,
                    WebhookDelivery.kind == DeliveryKind.STATUS.value,
                )
            )
            body["SequenceNumber"] = str(count or 0)
    now = utcnow()
    row = WebhookDelivery(
        tenant_id=tenant_id,
        call_sid=call_sid,
        kind=kind,
        url=url,
        method=method,
        params=body,
        sequence=sequence,
        status=DeliveryStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        retry_from=now,
        idempotency_key=idempotency_key or uuid.uuid4().hex,
    )
    session.add(row)
    if notify is not None:
        notify_after_commit(session, notify)
    return row


def notify_after_commit(session: AsyncSession, notify: Callable[[], None]) -> None:
    """Call ``notify`` once when the session's current transaction commits.

    Several enqueues in one transaction register one call; a rolled-back
    transaction leaves the hook for the session's next commit, where an extra
    wake-up is harmless.
    """
    pending: set[Callable[[], None]] = session.info.setdefault("outbox_notify", set())
    if notify in pending:
        return
    if not pending:

        def _fire(_session: object) -> None:
            callbacks = list(pending)
            pending.clear()
            for callback in callbacks:
                callback()

        event.listen(session.sync_session, "after_commit", _fire, once=True)
    pending.add(notify)
