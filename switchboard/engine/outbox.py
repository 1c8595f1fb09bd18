"""The durable webhook outbox: enqueue in the caller's transaction, deliver later.

:func:`enqueue` adds a :class:`~switchboard.models.outbox.WebhookDelivery` row
in the session the state change is written in, so both commit or neither does.
:class:`OutboxDispatcher` delivers committed rows:

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

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import and_, event, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from switchboard.config import Settings
from switchboard.engine.voice_url import signed_request
from switchboard.logs import bind_call
from switchboard.models.base import utcnow
from switchboard.models.outbox import UNFINISHED, DeliveryKind, DeliveryStatus, WebhookDelivery
from switchboard.models.tenant import Tenant

log = logging.getLogger(__name__)

_RETRYABLE_STATUS = frozenset({408, 425, 429})


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


def backoff_seconds(attempts: int, *, base: float, maximum: float, rng: random.Random) -> float:
    """Delay before the next try after ``attempts`` failures: exponential, "equal jitter".

    Half the exponential step is fixed and half random, so retries of many
    rows spread out while each still waits a growing time.
    """
    step = min(maximum, base * (2.0 ** max(0, attempts - 1)))
    return step / 2 + rng.uniform(0, step / 2)


@dataclass(frozen=True, slots=True)
class _Claimed:
    """What a delivery task needs, read at claim time."""

    id: str
    call_sid: str | None
    url: str
    method: str
    params: dict[str, str]
    idempotency_key: str
    attempts: int
    retry_from: datetime
    auth_token: str


class OutboxDispatcher:
    """Delivers outbox rows; one per engine process, built by the composition root."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        settings: Settings,
        name: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if settings.outbox_lease_seconds <= settings.outbox_request_timeout_seconds:
            # A lease that can run out while its request is still in flight
            # would let a second delivery of the same row start.
            raise ValueError("outbox_lease_seconds must exceed outbox_request_timeout_seconds")
        self._sessionmaker = sessionmaker
        self._client = client
        self._settings = settings
        self.name = name or f"outbox-{uuid.uuid4().hex[:12]}"
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._next_due: datetime | None = None
        self.delivered = 0
        self.failed_attempts = 0
        self.last_error: str | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Start delivering in the background."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self.run(), name=self.name)
            self._task.add_done_callback(self._log_crash)

    async def stop(self, *, grace: float = 5.0) -> None:
        """Stop claiming; let deliveries in flight finish for ``grace`` seconds, then cancel.

        A cancelled delivery stays ``delivering`` until its lease runs out and
        is then taken again (by this process after a restart, or another one).
        ``grace=0`` stops like a crash would, which the tests use.
        """
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=grace) if grace > 0 else (set(), set())
        if task not in done:
            for delivery in list(self._inflight):
                delivery.cancel()
            task.cancel()
            await asyncio.gather(task, *self._inflight, return_exceptions=True)

    def notify(self) -> None:
        """Wake the dispatcher now (a row was committed); safe to call any time."""
        self._wake.set()

    def status(self) -> dict[str, Any]:
        """Health facts for ``/health/ready``."""
        return {
            "running": self._task is not None and not self._task.done(),
            "in_flight": len(self._inflight),
            "delivered": self.delivered,
            "failed_attempts": self.failed_attempts,
            "last_error": self.last_error,
        }

    def _log_crash(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox dispatcher crashed", exc_info=task.exception())

    # -- main loop ---------------------------------------------------------

    async def run(self) -> None:
        """Claim and deliver until :meth:`stop`; survives database hiccups."""
        try:
            while not self._stopping:
                self._wake.clear()
                free = self._settings.outbox_concurrency - len(self._inflight)
                claimed: list[_Claimed] = []
                if free > 0:
                    try:
                        claimed = await self.claim(limit=free)
                    except Exception as exc:  # database down: retry at the next poll
                        self.last_error = f"claim failed: {exc}"
                        log.warning("outbox claim failed", exc_info=True)
                for row in claimed:
                    task = asyncio.create_task(self._deliver(row))
                    self._inflight.add(task)
                    task.add_done_callback(self._delivery_done)
                if claimed and len(claimed) == free:
                    continue  # there may be more ready right now
                await self._sleep()
        finally:
            if self._inflight:
                await asyncio.wait(self._inflight)

    async def _sleep(self) -> None:
        timeout = self._settings.outbox_poll_seconds
        if self._next_due is not None:
            due = (self._next_due - utcnow()).total_seconds()
            timeout = max(0.0, min(timeout, due))
            self._next_due = None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    def _delivery_done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox delivery task failed", exc_info=task.exception())
        # The call's next row may be ready now.
        self._wake.set()

    # -- claiming ----------------------------------------------------------

    async def claim(self, *, limit: int) -> list[_Claimed]:
        """Lease up to ``limit`` rows that are due and first in their call's order."""
        now = utcnow()
        lease_until = now + timedelta(seconds=self._settings.outbox_lease_seconds)
        earlier = aliased(WebhookDelivery)
        blocked = (
            select(earlier.id)
            .where(
                earlier.call_sid == WebhookDelivery.call_sid,
                earlier.sequence < WebhookDelivery.sequence,
                earlier.status.in_(UNFINISHED),
            )
            .exists()
        )
        due = or_(
            and_(
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at <= now,
            ),
            and_(
                WebhookDelivery.status == DeliveryStatus.DELIVERING.value,
                WebhookDelivery.lease_until < now,
            ),
        )
        candidates = (
            select(WebhookDelivery.id)
            .where(due, ~blocked)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.sequence)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._sessionmaker() as session, session.begin():
            ids = list((await session.scalars(candidates)).all())
            if not ids:
                return []
            # Re-check ``due`` so a row claimed meanwhile (SQLite) is not taken twice.
            result = await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids), due)
                .values(
                    status=DeliveryStatus.DELIVERING.value,
                    lease_until=lease_until,
                    claimed_by=self.name,
                )
                .returning(WebhookDelivery.id)
                .execution_options(synchronize_session=False)
            )
            taken = [row_id for (row_id,) in result.all()]
            if not taken:
                return []
            rows = await session.execute(
                select(WebhookDelivery, Tenant.auth_token)
                .join(Tenant, Tenant.id == WebhookDelivery.tenant_id)
                .where(WebhookDelivery.id.in_(taken))
            )
            return [
                _Claimed(
                    id=row.id,
                    call_sid=row.call_sid,
                    url=row.url,
                    method=row.method,
                    params=dict(row.params),
                    idempotency_key=row.idempotency_key,
                    attempts=row.attempts,
                    retry_from=row.retry_from,
                    auth_token=token,
                )
                for row, token in rows.all()
            ]

    # -- delivering --------------------------------------------------------

    async def _deliver(self, row: _Claimed) -> None:
        with bind_call(row.call_sid or ""):
            status_code: int | None = None
            error: str | None = None
            try:
                request = signed_request(
                    self._client,
                    url=row.url,
                    method=row.method,
                    params=row.params,
                    auth_token=row.auth_token,
                    user_agent=self._settings.webhook_user_agent,
                    idempotency_token=row.idempotency_key,
                )
                async with asyncio.timeout(self._settings.outbox_request_timeout_seconds):
                    response = await self._client.send(request, follow_redirects=True)
                status_code = response.status_code
                if not response.is_success:
                    error = f"HTTP {status_code}"
            except TimeoutError:
                error = "timeout"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            await self._record(row, status_code, error)

    async def _record(self, row: _Claimed, status_code: int | None, error: str | None) -> None:
        now = utcnow()
        attempts = row.attempts + 1
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_status_code": status_code,
            "last_error": error,
            "lease_until": None,
            "claimed_by": None,
        }
        if error is None:
            values.update(status=DeliveryStatus.DELIVERED.value, delivered_at=now)
            self.delivered += 1
        else:
            self.failed_attempts += 1
            self.last_error = error
            deadline = row.retry_from + timedelta(hours=self._settings.outbox_retry_hours)
            delay = backoff_seconds(
                attempts,
                base=self._settings.outbox_backoff_base_seconds,
                maximum=self._settings.outbox_backoff_max_seconds,
                rng=self._rng,
            )
            next_at = now + timedelta(seconds=delay)
            permanent = status_code is not None and _is_permanent(status_code)
            if permanent or next_at > deadline:
                values.update(status=DeliveryStatus.FAILED.value)
                log.warning(
                    "webhook delivery failed for good",
                    extra={"delivery_id": row.id, "url": row.url, "error": error},
                )
            else:
                values.update(status=DeliveryStatus.PENDING.value, next_attempt_at=next_at)
                if self._next_due is None or next_at < self._next_due:
                    self._next_due = next_at
        async with self._sessionmaker() as session, session.begin():
            # Only if we still hold the lease: a row re-claimed after our lease
            # ran out belongs to its new claimant.
            await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == row.id,
                    WebhookDelivery.status == DeliveryStatus.DELIVERING.value,
                    WebhookDelivery.claimed_by == self.name,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def _is_permanent(status_code: int) -> bool:
    """A 4xx other than 408/425/429 (or any 3xx left after redirects) will not change."""
    if status_code in _RETRYABLE_STATUS:
        return False
    return 300 <= status_code < 500
