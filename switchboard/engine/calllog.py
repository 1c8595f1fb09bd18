"""Writes the call log off the call's critical path, in order, in batches.

Calls enqueue inserts and updates; one task applies them in arrival order,
many per transaction. A call never waits for the database to ring a target.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.engine.outbox import enqueue
from switchboard.models import CallLeg, CallLog, CallLogStatus
from switchboard.models.upsert import insert_missing

log = logging.getLogger(__name__)

_MAX_BATCH = 200
_GATHER_SECONDS = 0.005


@dataclass(frozen=True, slots=True)
class _Op:
    table: str
    kind: str
    key: str
    values: dict[str, Any]


class CallLogWriter:
    """Applies call-log writes in order; :meth:`flush` waits for them."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        on_callbacks: Callable[[], None] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._on_callbacks = on_callbacks
        self._queue: asyncio.Queue[_Op | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def start(self) -> None:
        """Start the writing task."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="call-log-writer")

    async def close(self) -> None:
        """Write everything queued, then stop."""
        if self._task is None:
            return
        await self._queue.put(None)
        await self._task
        self._task = None

    async def flush(self) -> None:
        """Wait until every write queued so far is in the database."""
        await self._idle.wait()

    def insert_call(self, values: dict[str, Any]) -> None:
        """Queue a new call log row (``values`` must hold ``call_sid``)."""
        self._put(_Op("call", "insert", values["call_sid"], values))

    def update_call(self, call_sid: str, **values: Any) -> None:
        """Queue an update of the call log row ``call_sid``."""
        self._put(_Op("call", "update", call_sid, values))

    def settle_status(self, call_sid: str, status: str) -> None:
        """Set the final status unless something already moved it past INCOMING_CALL.

        A provider webhook (voicemail received, answered by staff) may have
        written a truer status than the engine's end-of-call guess.
        """
        self._put(_Op("call", "settle", call_sid, {"status": status}))

    def insert_leg(self, values: dict[str, Any]) -> None:
        """Queue a new leg row (``values`` must hold ``leg_sid``)."""
        self._put(_Op("leg", "insert", values["leg_sid"], values))

    def update_leg(self, leg_sid: str, **values: Any) -> None:
        """Queue an update of the leg ``leg_sid``."""
        self._put(_Op("leg", "update", leg_sid, values))

    def enqueue_callback(
        self,
        *,
        tenant_id: str,
        call_sid: str,
        url: str,
        method: str,
        params: dict[str, str],
        kind: str,
    ) -> None:
        """Queue a webhook for the outbox, committed with the writes queued before it.

        The state change that caused the callback is queued first, so both land
        in the same transaction (or the callback in a later one, never before).
        """
        values = {"tenant_id": tenant_id, "url": url, "method": method, "params": params,
                  "kind": kind}
        self._put(_Op("callback", "insert", call_sid, values))

    def _put(self, op: _Op) -> None:
        self._idle.clear()
        self._queue.put_nowait(op)

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            # Let the call that queued this reach Asterisk first (its next ARI
            # request), and let writes of calls arriving together share a batch.
            await asyncio.sleep(_GATHER_SECONDS)
            batch: list[_Op] = []
            if first is None:
                stopping = True
            else:
                batch.append(first)
            while len(batch) < _MAX_BATCH and not self._queue.empty():
                op = self._queue.get_nowait()
                if op is None:
                    stopping = True
                    break
                batch.append(op)
            if batch:
                await self._apply(batch)
            if self._queue.empty():
                self._idle.set()

    async def _apply(self, batch: list[_Op]) -> None:
        try:
            async with self._sessionmaker() as session, session.begin():
                for op in batch:
                    await _execute(session, op)
            if self._on_callbacks and any(op.table == "callback" for op in batch):
                self._on_callbacks()
        except Exception:
            log.exception("call log batch failed; retrying one by one", extra={"ops": len(batch)})
            for op in batch:
                try:
                    async with self._sessionmaker() as session, session.begin():
                        await _execute(session, op)
                except Exception:
                    log.exception(
                        "call log write lost", extra={"call_sid": op.key, "kind": op.kind}
                    )


async def _execute(session: AsyncSession, op: _Op) -> None:
    if op.table == "callback":
        await enqueue(session, call_sid=op.key, **op.values)
        await session.flush()
        return
    model: type[CallLog] | type[CallLeg] = CallLog if op.table == "call" else CallLeg
    if op.kind == "insert" and model is CallLog:
        # A provider webhook about this call may have written its row first.
        await insert_missing(session, CallLog, op.values, "call_sid")
        return
    if op.kind == "insert":
        await session.execute(insert(model).values(**op.values))
        return
    if op.kind == "settle":
        await session.execute(
            update(CallLog)
            .where(CallLog.call_sid == op.key, CallLog.status == CallLogStatus.INCOMING_CALL)
            .values(**op.values)
        )
        return
    column = CallLog.call_sid if op.table == "call" else CallLeg.leg_sid
    await session.execute(update(model).where(column == op.key).values(**op.values))
