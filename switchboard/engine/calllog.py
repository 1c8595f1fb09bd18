"""Writes the call log off the call's critical path, in order, in batches.

Calls enqueue inserts and updates; one task applies them many per
transaction. A call never waits for the database to ring a target.

The writer is on every call's path, so a batch is folded before it is
written (see :func:`fold`): a row's updates in one batch become one update,
a leg inserted and updated in the same batch is inserted once, and rows of
the same shape go out in one ``executemany``. Core statements, not ORM
ones: the ORM's bulk machinery cost the engine more CPU than everything
else a call does.

Writes are typed: a row's columns are :class:`NewCall`/:class:`CallChanges`
(and :class:`NewLeg`/:class:`LegChanges` for legs), so a misspelt column
fails the type check; the business status is never written directly but
moved by a :class:`~switchboard.callflow.status.CallEvent` through
:func:`~switchboard.callflow.status.next_status`. When the batch cannot know
the row's status (another process may have moved it), the event becomes a
``CASE`` over every status, computed from the same function.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy import Table, bindparam, case, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import Insert, Update

from switchboard.callflow.status import (
    INITIAL_STATUS,
    CallDirection,
    CallEvent,
    CallLogStatus,
    CallStatus,
    next_status,
)
from switchboard.models import CallLeg, CallLog
from switchboard.outbox import enqueue
from switchboard.tasks import TaskKeeper

log = logging.getLogger(__name__)

_MAX_BATCH = 200
_GATHER_SECONDS = 0.05
_CALLS: Table = CallLog.__table__  # type: ignore[assignment]
_LEGS: Table = CallLeg.__table__  # type: ignore[assignment]
# In a folded update: the status change the batch could not decide, as
# ``((from, to), ...)`` over the statuses it moves (the rest stay as they are).
STATUS_MOVES = "_status_moves"


class NewCall(TypedDict):
    """A call log row as the engine first writes it (status: ``INCOMING_CALL``)."""

    call_sid: str
    direction: CallDirection
    call_status: CallStatus
    from_number: str
    to_number: str
    started_at: datetime
    external_id: str
    tenant_id: str | None
    number_id: str | None


class CallChanges(TypedDict, total=False):
    """Columns of a call log row the engine updates as the call runs."""

    call_status: CallStatus
    answered_at: datetime | None
    answered_by: str
    ended_at: datetime
    duration: int
    hangup_cause: int
    hangup_cause_text: str
    error: str
    recording_error: str
    has_recording: bool
    has_voicemail: bool


class NewLeg(TypedDict):
    """A leg row: one dialled target's channel."""

    call_sid: str
    leg_sid: str
    channel_id: str
    role: str
    target: str
    started_at: datetime
    dial_status: NotRequired[str | None]


class LegChanges(TypedDict, total=False):
    """Columns of a leg row updated as it rings, answers and ends."""

    dial_status: str
    answered_at: datetime | None
    ended_at: datetime | None
    hangup_cause: int | None


@dataclass(frozen=True, slots=True)
class _Op:
    table: str
    kind: str
    key: str
    values: dict[str, Any]
    event: CallEvent | None = None


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
        self._tasks = TaskKeeper("call-log writer", log)
        self._idle = asyncio.Event()
        self._idle.set()

    def start(self) -> None:
        """Start the writing task."""
        if self._task is None:
            self._task = self._tasks.spawn(self._run(), "call-log-writer")

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

    def insert_call(self, values: NewCall) -> None:
        """Queue a new call log row, at the initial status."""
        row: dict[str, Any] = {**values, "status": INITIAL_STATUS}
        self._put(_Op("call", "insert", values["call_sid"], row))

    def update_call(
        self, call_sid: str, *, event: CallEvent | None = None, **values: Unpack[CallChanges]
    ) -> None:
        """Queue an update of the call log row ``call_sid``.

        Args:
            call_sid: The row's call SID.
            event: What happened to the call, which moves its status
                (:func:`~switchboard.callflow.status.next_status`).
            **values: Columns to set.
        """
        self._put(_Op("call", "update", call_sid, dict(values), event))

    def insert_leg(self, values: NewLeg) -> None:
        """Queue a new leg row."""
        self._put(_Op("leg", "insert", values["leg_sid"], dict(values)))

    def update_leg(self, leg_sid: str, **values: Unpack[LegChanges]) -> None:
        """Queue an update of the leg ``leg_sid``."""
        self._put(_Op("leg", "update", leg_sid, dict(values)))

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
    values; a call's ``status`` is there when the batch decided it, else
    :data:`STATUS_MOVES` holds how its events move whatever the row holds.
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
    queue order is kept by merging later values over earlier ones, and events
    are applied in order.
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
        else:
            values = folded.call_updates.setdefault(op.key, {})
            values.update(op.values)
            if op.event is not None:
                _apply_event(values, op.event)
    return folded


def _apply_event(values: dict[str, Any], event: CallEvent) -> None:
    """Move the folded status by ``event``: decided if known, else kept as moves."""
    if "status" in values:
        values["status"] = next_status(values["status"], event)
        return
    moves = dict(values.pop(STATUS_MOVES, ()))
    after = {s: next_status(moves.get(s, s), event) for s in CallLogStatus}
    if len(set(after.values())) == 1:
        values["status"] = next(iter(after.values()))
    else:
        values[STATUS_MOVES] = tuple((s, t) for s, t in after.items() if s != t)


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
    """One executemany per set of columns updated (and statuses moved)."""
    rows: list[dict[str, Any]] = []
    for key, values in updates.items():
        if not values:
            continue
        row = {"k_key": key}
        for name, value in values.items():
            if name == STATUS_MOVES:
                row.update({f"m_{source}": target for source, target in value})
            else:
                row[f"v_{name}"] = value
        rows.append(row)
    for group in _same_shape(rows):
        columns = frozenset(name[2:] for name in group[0] if name.startswith("v_"))
        moved = frozenset(name[2:] for name in group[0] if name.startswith("m_"))
        await conn.execute(_keyed_update(table, key_name, columns, moved), group)


@functools.cache  # keyed by the Table (a column would compare as SQL) and names
def _keyed_update(
    table: Table, key_name: str, columns: frozenset[str], moved: frozenset[str]
) -> Update:
    """``UPDATE table SET col = :v_col ... WHERE key = :k_key``.

    ``moved`` names the statuses a pending event moves: ``status`` becomes
    ``CASE status WHEN <s> THEN :m_<s> ... ELSE status END``.
    """
    assignments: dict[str, Any] = {name: bindparam(f"v_{name}") for name in sorted(columns)}
    if moved:
        assignments["status"] = case(
            *((table.c.status == source, bindparam(f"m_{source}")) for source in sorted(moved)),
            else_=table.c.status,
        )
    return update(table).where(table.c[key_name] == bindparam("k_key")).values(assignments)
