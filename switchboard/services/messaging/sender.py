"""The message sender: takes queued texts and hands them to their transport.

Woken after every commit that queued a text (and every ``poll_seconds``), it
claims due ``queued`` rows by moving them to ``sending`` with a lease, sends
each through its transport, and records the outcome with its status
callback in one transaction: ``sent`` (SIP MESSAGE taken by Asterisk),
``sending`` (a carrier took it; its callbacks bring ``sent``/``delivered``),
back to ``queued`` with back-off after a passing failure, or ``failed``. A
row whose lease ran out before its outcome was written (a crash) is taken
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.backoff import backoff_delay
from switchboard.config import Settings
from switchboard.models import Message, MessageStatus, PhoneNumber, Trunk, utcnow
from switchboard.services.messaging.callbacks import enqueue_status_callback
from switchboard.services.messaging.carrier_api import CarrierMessaging
from switchboard.services.messaging.send import CARRIER_TRANSPORTS
from switchboard.services.messaging.transport import (
    Delivery,
    Handoff,
    MessageTransport,
    TransportError,
)

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
BATCH = 32


class MessageSender:
    """Sends queued messages; one per process that owns transports."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        transports: Mapping[str, MessageTransport],
        base_url: str,
        poll_seconds: float = 5.0,
        max_attempts: int = 5,
        notify_outbox: Callable[[], None] | None = None,
    ) -> None:
        """Create a sender (not started).

        Args:
            sessionmaker: The database session factory.
            transports: Transports by name (``sip``, ``twilio``, ``telnyx``, ``plivo``).
            base_url: Our public base URL: carriers report delivery to
                ``/api/messaging/<carrier>/status`` there.
            poll_seconds: How often to look for due messages without a wake-up.
            max_attempts: Tries before a message fails.
            notify_outbox: Wakes the webhook outbox after status callbacks are queued.
        """
        self._sessionmaker = sessionmaker
        self.transports = dict(transports)
        self._base_url = base_url.rstrip("/")
        self._poll = poll_seconds
        self._max_attempts = max_attempts
        self._notify_outbox = notify_outbox
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._rng = random.Random()
        self.sent = 0

    def start(self) -> None:
        """Start sending in the background."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="message-sender")
            self._task.add_done_callback(self._crashed)

    async def stop(self) -> None:
        """Stop; a text being sent keeps its lease and is taken again later."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def notify(self) -> None:
        """Wake the sender (a text was queued and committed)."""
        self._wake.set()

    def _crashed(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("message sender crashed", exc_info=task.exception())

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                busy = await self.run_once()
            except Exception:
                log.warning("message sender pass failed", exc_info=True)
                busy = False
            if busy:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)

    async def run_once(self) -> bool:
        """Claim and send one batch; whether it was full (more may be waiting)."""
        claimed = await self._claim()
        await asyncio.gather(*(self._send(d, t, a) for d, t, a in claimed))
        return len(claimed) == BATCH

    async def _claim(self) -> list[tuple[Delivery, str, int]]:
        now = utcnow()
        due = or_(
            and_(Message.status == MessageStatus.QUEUED.value, Message.next_attempt_at <= now),
            # taken, never handed on, lease run out: the sender died mid-send
            and_(Message.status == MessageStatus.SENDING.value, Message.next_attempt_at < now),
        )
        async with self._sessionmaker() as session, session.begin():
            ids = list((await session.scalars(
                select(Message.id).where(due).order_by(Message.next_attempt_at).limit(BATCH)
                .with_for_update(skip_locked=True)
            )).all())
            if not ids:
                return []
            taken = (await session.execute(
                update(Message).where(Message.id.in_(ids), due)
                .values(status=MessageStatus.SENDING.value, attempts=Message.attempts + 1,
                        next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
                .returning(Message.id).execution_options(synchronize_session=False)
            )).scalars().all()
            if not taken:
                return []
            rows = await session.execute(
                select(Message, Trunk.account_sid, Trunk.auth_token)
                .outerjoin(PhoneNumber, PhoneNumber.id == Message.number_id)
                .outerjoin(Trunk, Trunk.id == PhoneNumber.trunk_id)
                .where(Message.id.in_(taken))
            )
            claimed = []
            for message, account, token in rows.all():
                transport = message.transport or ""
                claimed.append((Delivery(
                    message_sid=message.message_sid, from_number=message.from_number,
                    to_number=message.to_number, body=message.body,
                    media_urls=tuple(message.media_urls), route=message.route,
                    account_id=account, auth_token=token,
                    status_url=f"{self._base_url}/api/messaging/{transport}/status",
                ), transport, message.attempts))
            return claimed

    async def _send(self, delivery: Delivery, transport_name: str, attempts: int) -> None:
        transport = self.transports.get(transport_name)
        outcome: Handoff | TransportError
        if transport is None:
            outcome = TransportError(f"no {transport_name} transport in this process",
                                     permanent=False)
        else:
            try:
                outcome = await transport.send(delivery)
            except TransportError as exc:
                outcome = exc
            except Exception as exc:  # a transport bug must not lose the message
                log.exception("transport failed", extra={"transport": transport_name})
                outcome = TransportError(f"{type(exc).__name__}", permanent=False)
        await self._record(delivery.message_sid, outcome, attempts)

    async def _record(
        self, message_sid: str, outcome: Handoff | TransportError, attempts: int
    ) -> None:
        now = utcnow()
        async with self._sessionmaker() as session, session.begin():
            message = (await session.scalars(
                select(Message).where(Message.message_sid == message_sid)
            )).one()
            if isinstance(outcome, Handoff):
                message.status = outcome.status
                message.provider_id = outcome.provider_id or message.provider_id
                message.sent_at = now
                message.next_attempt_at = None
                message.error_code = message.error_message = None
                self.sent += 1
            elif outcome.permanent or attempts >= self._max_attempts:
                message.status = MessageStatus.FAILED.value
                message.next_attempt_at = None
                message.error_code = (outcome.code or "transport")[:16]
                message.error_message = outcome.message[:500]
                log.warning("message failed: %s", outcome.message, extra={"sid": message_sid})
            else:
                delay = backoff_delay(attempts, base=1.0, cap=300.0, jitter=self._rng.random)
                message.status = MessageStatus.QUEUED.value
                message.next_attempt_at = now + timedelta(seconds=delay)
                message.error_message = outcome.message[:500]
            await enqueue_status_callback(session, message)
        if self._notify_outbox is not None:
            self._notify_outbox()


def carrier_sender(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    extra: Mapping[str, MessageTransport] | None = None,
    notify_outbox: Callable[[], None] | None = None,
) -> OwningSender:
    """A sender with the carriers' HTTP transports (and ``extra`` ones, e.g. ``sip``)."""
    client = httpx.AsyncClient()
    transports: dict[str, MessageTransport] = {
        name: CarrierMessaging(name, client, base_urls=settings.carrier_api_urls,
                               timeout=settings.carrier_api_timeout)
        for name in CARRIER_TRANSPORTS
    }
    transports.update(extra or {})
    return OwningSender(
        client, sessionmaker=sessionmaker, transports=transports, base_url=settings.base_url,
        poll_seconds=settings.messaging_poll_seconds,
        max_attempts=settings.messaging_max_attempts, notify_outbox=notify_outbox,
    )


class OwningSender(MessageSender):
    """A sender that owns the HTTP client of its carrier transports."""

    def __init__(self, client: httpx.AsyncClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client = client

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
