"""The durable webhook outbox: enqueue in the caller's transaction, deliver later.

:func:`enqueue` (:mod:`switchboard.outbox.enqueue`) adds a
:class:`~switchboard.models.outbox.WebhookDelivery` row in the session the
state change is written in, so both commit or neither does.
:class:`~switchboard.outbox.delivery.OutboxDispatcher` delivers committed
rows (importing this package does not load it):

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

from switchboard.outbox.enqueue import enqueue, notify_after_commit

__all__ = ["enqueue", "notify_after_commit"]
