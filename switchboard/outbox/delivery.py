"""The outbox dispatcher: claims due rows, delivers them signed, records outcomes.

See :mod:`switchboard.outbox` for the guarantees. How it works:

* the main loop claims up to ``outbox_concurrency`` rows that are due and
  first in their call's order, leasing them (``lease_until``), and starts one
  delivery task per row;
* each delivery sends one signed request and hands its outcome to a recorder
  task, which writes all the outcomes that arrived meanwhile in one
  transaction (one executemany UPDATE), then wakes the main loop, since the
  calls' next rows may now be due;
* it sleeps until woken (a commit with :meth:`OutboxDispatcher.notify`, a
  recorded outcome) or the earliest retry or the poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from switchboard.backoff import backoff_delay
from switchboard.config import Settings
from switchboard.fetch_policy import FetchRefused, GuardedClient, require_guarded
from switchboard.logs import bind_call
from switchboard.models.base import utcnow
from switchboard.models.lease import LeaseQueue
from switchboard.models.outbox import UNFINISHED, DeliveryStatus, WebhookDelivery
from switchboard.models.tenant import Tenant
from switchboard.outbox.http import signed_request
from switchboard.tasks import TaskKeeper

log = logging.getLogger(__name__)

_RETRYABLE_STATUS = frozenset({408, 425, 429})
_RECORD_BATCH = 256
_TABLE = cast(Table, WebhookDelivery.__table__)

# Rows are claimed with the one lease-and-claim queue (shared with transcription jobs).
DELIVERIES = LeaseQueue(
    table=_TABLE,
    waiting=DeliveryStatus.PENDING.value,
    held=DeliveryStatus.DELIVERING.value,
    holder="claimed_by",
)

# One UPDATE for a batch of outcomes; only rows this dispatcher still holds:
# a row re-claimed after our lease ran out belongs to its new claimant.
_RECORD = (
    update(_TABLE)
    .where(DELIVERIES.held_by(bindparam("b_id"), bindparam("b_owner")))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        last_status_code=bindparam("b_code"),
        last_error=bindparam("b_error"),
        next_attempt_at=bindparam("b_next"),
        delivered_at=bindparam("b_delivered"),
        lease_until=None,
        claimed_by=None,
    )
)


def _is_permanent(status_code: int) -> bool:
    """A 4xx other than 408/425/429 (or any 3xx left after redirects) will not change."""
    if status_code in _RETRYABLE_STATUS:
        return False
    return 300 <= status_code < 500


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
    kind: str = ""


class OutboxDispatcher:
    """Delivers outbox rows; one per engine process, built by the composition root."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: GuardedClient,
        settings: Settings,
        name: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Create a dispatcher (not started).

        Args:
            sessionmaker: The database session factory.
            client: The shared HTTP client, bound to the fetch policy: a
                callback URL the policy refuses fails at once, for good.
            settings: ``outbox_*`` and ``webhook_user_agent`` settings.
            name: This claimant's name in ``claimed_by`` (unique per process).
            rng: Randomness for the back-off jitter (tests pass a seeded one).

        Raises:
            ValueError: The lease could run out while its request is in flight.
            TypeError: ``client`` is not a :class:`GuardedClient`.
        """
        if settings.outbox_lease_seconds <= settings.outbox_request_timeout_seconds:
            # A lease that can run out while its request is still in flight
            # would let a second delivery of the same row start.
            raise ValueError("outbox_lease_seconds must exceed outbox_request_timeout_seconds")
        self._sessionmaker = sessionmaker
        self._client = require_guarded(client, "the outbox")
        self._settings = settings
        self.name = name or f"outbox-{uuid.uuid4().hex[:12]}"
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._main = TaskKeeper("outbox dispatcher", log)
        self._inflight = TaskKeeper("outbox delivery", log)
        self._outcomes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._next_due: datetime | None = None
        self.delivered = 0
        self.failed_attempts = 0
        self.last_error: str | None = None
        # Given (kind, params, body) of each delivered row whose answer matters:
        # a messaging URL's answer carries the texts to send back (set by the
        # composition root; see services/messaging/replies.py).
        self.answer_handler: Callable[[str, dict[str, str], str], Awaitable[None]] | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Start delivering in the background."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = self._main.spawn(self.run(), self.name)

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

    # -- main loop ---------------------------------------------------------

    async def run(self) -> None:
        """Claim and deliver until :meth:`stop`; survives database hiccups."""
        recorder = asyncio.create_task(self._record_loop(), name=f"{self.name}-recorder")
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
                    self._inflight.spawn(self._deliver(row), f"{self.name}-{row.id}")
                if claimed and len(claimed) == free:
                    continue  # there may be more ready right now
                await self._sleep()
        finally:
            await self._inflight.wait()
            # Record what was delivered before going away (bounded: the
            # database may be what is failing).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outcomes.join(), timeout=5)
            recorder.cancel()
            await asyncio.gather(recorder, return_exceptions=True)

    async def _sleep(self) -> None:
        timeout = self._settings.outbox_poll_seconds
        if self._next_due is not None:
            due = (self._next_due - utcnow()).total_seconds()
            timeout = max(0.0, min(timeout, due))
            self._next_due = None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    # -- claiming ----------------------------------------------------------

    async def claim(self, *, limit: int) -> list[_Claimed]:
        """Lease up to ``limit`` rows that are due and first in their call's order."""
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
        async with self._sessionmaker() as session, session.begin():
            taken = await DELIVERIES.claim(
                session,
                holder=self.name,
                now=utcnow(),
                lease_seconds=self._settings.outbox_lease_seconds,
                limit=limit,
                where=(~blocked,),
                order_by=(WebhookDelivery.sequence,),
            )
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
                    kind=row.kind,
                )
                for row, token in rows.all()
            ]

    # -- delivering --------------------------------------------------------

    async def _deliver(self, row: _Claimed) -> None:
        with bind_call(row.call_sid or ""):
            status_code: int | None = None
            error: str | None = None
            refused = False
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
                elif self.answer_handler is not None:
                    await self._hand_answer(row, response.text)
            except TimeoutError:
                error = "timeout"
            except FetchRefused as exc:
                # The operator's policy will refuse it again: no retry (replay after a fix).
                error, refused = f"{exc.error_id}: {exc}", True
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            self._outcomes.put_nowait(self._outcome(row, status_code, error, permanent=refused))

    async def _hand_answer(self, row: _Claimed, body: str) -> None:
        handler = self.answer_handler
        assert handler is not None
        try:
            await handler(row.kind, row.params, body)
        except Exception:  # the delivery itself succeeded; log the handler's fault
            log.exception("webhook answer handler failed", extra={"delivery_id": row.id})

    def _outcome(
        self, row: _Claimed, status_code: int | None, error: str | None, *, permanent: bool = False
    ) -> dict[str, Any]:
        """The row's new state after one attempt, as parameters of :data:`_RECORD`."""
        now = utcnow()
        attempts = row.attempts + 1
        outcome: dict[str, Any] = {
            "b_id": row.id,
            "b_owner": self.name,
            "b_attempts": attempts,
            "b_code": status_code,
            "b_error": error,
            "b_next": now,
            "b_delivered": None,
        }
        if error is None:
            outcome.update(b_status=DeliveryStatus.DELIVERED.value, b_delivered=now)
            return outcome
        self.failed_attempts += 1
        self.last_error = error
        deadline = row.retry_from + timedelta(hours=self._settings.outbox_retry_hours)
        delay = backoff_delay(
            attempts,
            base=self._settings.outbox_backoff_base_seconds,
            cap=self._settings.outbox_backoff_max_seconds,
            jitter=self._rng.random,
        )
        next_at = now + timedelta(seconds=delay)
        permanent = permanent or (status_code is not None and _is_permanent(status_code))
        if permanent or next_at > deadline:
            outcome.update(b_status=DeliveryStatus.FAILED.value)
            log.warning(
                "webhook delivery failed for good",
                extra={"delivery_id": row.id, "url": row.url, "error": error},
            )
        else:
            outcome.update(b_status=DeliveryStatus.PENDING.value, b_next=next_at)
            if self._next_due is None or next_at < self._next_due:
                self._next_due = next_at
        return outcome

    async def _record_loop(self) -> None:
        """Write outcomes in batches; retry a batch while the database is away."""
        while True:
            batch = [await self._outcomes.get()]
            while len(batch) < _RECORD_BATCH and not self._outcomes.empty():
                batch.append(self._outcomes.get_nowait())
            while True:
                try:
                    async with self._sessionmaker() as session, session.begin():
                        await session.execute(_RECORD, batch)
                    break
                except Exception as exc:
                    self.last_error = f"recording outcomes failed: {exc}"
                    log.warning("outbox could not record outcomes", exc_info=True)
                    await asyncio.sleep(self._settings.outbox_poll_seconds)
            self.delivered += sum(1 for o in batch if o["b_status"] == DeliveryStatus.DELIVERED)
            for _ in batch:
                self._outcomes.task_done()
            # The calls' next rows may be due now.
            self._wake.set()
