"""Writes the call log off the call's critical path, in order, in batches.

Calls enqueue inserts and updates; one task applies them many per
transaction. A call never waits for the database to ring a target.

The writer is on every call's path, so a batch is folded before it is
written (see :func:`fold`): a row's updates in one batch become one update,
a leg inserted and updated in the same batch is inserted once, and rows of
the same shape go out in one ``executemany``. Core statements, not ORM
ones: the ORM's bulk machinery cost the engine more CPU than everything
else a call does.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, case, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import Insert, Update

from switchboard.engine.outbox import enqueue
from switchboard.models import CallLeg, CallLog, CallLogStatus

log = logging.getLogger(__name__)

_MAX_BATCH = 200
_GATHER_SECONDS = 0.05
_CALLS: Table = CallLog.__table__  # type: ignore[assignment]
_LEGS: Table = CallLeg.__table__  # type: ignore[assignment]
# The engine's end-of-call guess: only while the row still says INCOMING_CALL.
_SETTLE = "_settle"


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
        values = {
            "tenant_id": tenant_id,
            "url": url,
            "method": method,
            "params": params,
            "kind": kind,
        }
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
                await _write_folded(session, fold(batch))
            if self._on_callbacks and any(op.table == "callback" for op in batch):
                self._on_callbacks()
        except Exception:
            log.exception("call log batch failed; retrying one by one", extra={"ops": len(batch)})
            for op in batch:
                try:
                    async with self._sessionmaker() as session, session.begin():
                        await _write_folded(session, fold([op]))
                except Exception:
                    log.exception(
                        "call log write lost", extra={"call_sid": op.key, "kind": op.kind}
                    )


@dataclass
class FoldedBatch:
    """A batch reduced to the fewest statements that leave the same rows.

    ``call_inserts``/``leg_inserts``: rows to insert (legs with their later
    updates merged in). ``call_updates``/``leg_updates``: per key, the merged
    values (``_settle`` holds a status to set only over INCOMING_CALL).
    ``callbacks``: outbox rows, written last, in order.
    """

    call_inserts: list[dict[str, Any]] = field(default_factory=list)
    leg_inserts: dict[str, dict[str, Any]] = field(default_factory=dict)
    call_updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    leg_updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    callbacks: list[_Op] = field(default_factory=list)


def fold(batch: list[_Op]) -> FoldedBatch:
    """Fold ``batch`` (in queue order) into a :class:`FoldedBatch`.

    Inserts are written before updates and callbacks after both, all in one
    transaction, so reordering across rows changes nothing; within a row the
    queue order is kept by merging later values over earlier ones.
    """
    folded = FoldedBatch()
    for op in batch:
        if op.table == "callback":
            folded.callbacks.append(op)
        elif op.table == "leg":
            if op.kind == "insert":
                folded.leg_inserts[op.key] = dict(op.values)
            elif op.key in folded.leg_inserts:
                folded.leg_inserts[op.key].update(op.values)
            else:
                folded.leg_updates.setdefault(op.key, {}).update(op.values)
        elif op.kind == "insert":
            # Not merged: a provider webhook may have inserted the row first,
            # and the updates must reach it either way.
            folded.call_inserts.append(op.values)
        elif op.kind == "settle":
            _merge_settle(folded.call_updates.setdefault(op.key, {}), op.values["status"])
        else:
            values = folded.call_updates.setdefault(op.key, {})
            values.update(op.values)
            if "status" in op.values:
                values.pop(_SETTLE, None)
    return folded


def _merge_settle(values: dict[str, Any], status: str) -> None:
    """A settle after ``values``: decided now if this batch already set the status."""
    if "status" not in values:
        values[_SETTLE] = status
    elif values["status"] == CallLogStatus.INCOMING_CALL:
        values["status"] = status


async def _write_folded(session: AsyncSession, folded: FoldedBatch) -> None:
    conn = await session.connection()
    for rows in _same_shape(folded.call_inserts):
        await conn.execute(_insert_missing_calls(conn.dialect.name), rows)
    for rows in _same_shape(list(folded.leg_inserts.values())):
        await conn.execute(insert(_LEGS), rows)
    await _update_by_key(conn, _CALLS, "call_sid", folded.call_updates)
    await _update_by_key(conn, _LEGS, "leg_sid", folded.leg_updates)
    for op in folded.callbacks:
        await enqueue(session, call_sid=op.key, **op.values)
    if folded.callbacks:
        await session.flush()


def _same_shape(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``rows`` grouped by their set of columns (one executemany each)."""
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return list(groups.values())


# The statements below are built once per shape: they run for every batch.


@functools.cache
def _insert_missing_calls(dialect: str) -> Insert:
    dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return dialect_insert(_CALLS).on_conflict_do_nothing(index_elements=["call_sid"])


async def _update_by_key(
    conn: AsyncConnection, table: Table, key_name: str, updates: dict[str, dict[str, Any]]
) -> None:
    """One executemany per set of columns updated."""
    rows = [
        {"k_key": key, **{f"v_{name}": value for name, value in values.items()}}
        for key, values in updates.items()
        if values
    ]
    for group in _same_shape(rows):
        columns = frozenset(name[2:] for name in group[0] if name != "k_key")
        await conn.execute(_keyed_update(table, key_name, columns), group)


@functools.cache  # keyed by the Table (a column would compare as SQL) and names
def _keyed_update(table: Table, key_name: str, columns: frozenset[str]) -> Update:
    """``UPDATE table SET col = :v_col ... WHERE key = :k_key`` (``_settle`` guarded)."""
    assignments: dict[str, Any] = {
        name: bindparam(f"v_{name}") for name in sorted(columns) if name != _SETTLE
    }
    if _SETTLE in columns:
        assignments["status"] = case(
            (table.c.status == CallLogStatus.INCOMING_CALL, bindparam(f"v_{_SETTLE}")),
            else_=table.c.status,
        )
    return update(table).where(table.c[key_name] == bindparam("k_key")).values(assignments)
