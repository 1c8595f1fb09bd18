"""The durable webhook outbox: enqueue in the caller's transaction, deliver later.

:func:`enqueue` adds a :class:`~switchboard.models.outbox.WebhookDelivery` row
in the session the state change is written in, so both commit or neither does.
:class:`OutboxDispatcher` (:mod:`switchboard.engine.outbox_dispatcher`)
delivers committed rows:

* signed with the tenant's auth token, with ``I-Twilio-Idempotency-Token``
  set to the row's key (the same on every retry, so a receiver can drop a
  duplicate);
* in order per call: a call's next row waits until the previous one is
  delivered or has finally failed; different calls go concurrently;
* retried on 5xx, 408, 429, timeouts and connection errors with exponential
  back-off and jitter, for ``outbox_retry_hours`` (24 h by default);
* other 4xx answers fail the row at once: the receiver understood and refused,
  and repeating the same request cannot change its mind (replay it after a
  fix, :func:`switchboard.services.webhooks.replay_delivery`);
* claimed with a lease (``lease_until``): a crashed dispatcher's rows are taken
  again when their lease runs out, and PostgreSQL claims with
  ``FOR UPDATE SKIP LOCKED`` so several engines can share one outbox.

Delivery is therefore at least once per idempotency key; exactly once unless a
dispatcher dies between the receiver's answer and recording it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.engine.outbox_dispatcher import OutboxDispatcher, backoff_seconds
from switchboard.models.base import utcnow
from switchboard.models.outbox import DeliveryKind, DeliveryStatus, WebhookDelivery

__all__ = ["OutboxDispatcher", "backoff_seconds", "enqueue", "notify_after_commit"]


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
            (pass :meth:`OutboxDispatcher.notify`).

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
