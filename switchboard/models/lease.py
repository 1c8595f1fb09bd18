"""One lease-and-claim queue over a table: the outbox's deliveries and transcription jobs.

A row waits (``waiting`` status) until ``next_attempt_at``; a claimant takes
it by setting its status to ``held``, its holder column and ``lease_until``.
A row whose lease ran out (its claimant died or hung) is due again. Claiming
is two statements in the caller's transaction:

1. pick the due rows' ids, oldest due first. On PostgreSQL the pick is
   ``FOR UPDATE SKIP LOCKED``: concurrent claimants skip each other's rows
   instead of waiting. SQLite has one writer at a time and no row locks;
2. ``UPDATE ... WHERE id IN (picked) AND <due>`` repeats the due condition,
   so a row another claimant took between the two statements (SQLite) is not
   taken twice; only the rows it returns are this claimant's.

Every later write of a held row is conditional on still holding it
(:meth:`LeaseQueue.held_by`): a claimant that lost a row to a lease expiry
cannot finish it a second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import SQLCoreOperations


@dataclass(frozen=True, slots=True)
class LeaseQueue:
    """How one table is claimed: its statuses and the column naming the holder.

    Attributes:
        table: The table (``Model.__table__``) with ``id``, ``status``,
            ``next_attempt_at``, ``lease_until`` and ``attempts`` columns.
        waiting: The status of a row waiting for its turn.
        held: The status of a leased row.
        holder: The column that names the claimant.
    """

    table: Table
    waiting: str
    held: str
    holder: str

    def due(self, now: datetime, *, max_attempts: int | None = None) -> ColumnElement[bool]:
        """Rows a claimant may take at ``now``.

        Args:
            now: The current time.
            max_attempts: A lapsed lease is taken again only below this many
                attempts (the rows that killed that many claimants are left to
                :meth:`abandoned`); ``None`` takes it again always.
        """
        c = self.table.c
        lapsed = and_(c.status == self.held, c.lease_until < now)
        if max_attempts is not None:
            lapsed = and_(lapsed, c.attempts < max_attempts)
        return or_(and_(c.status == self.waiting, c.next_attempt_at <= now), lapsed)

    def abandoned(self, now: datetime, *, max_attempts: int) -> ColumnElement[bool]:
        """Held rows whose lease ran out on their last allowed attempt."""
        c = self.table.c
        return and_(c.status == self.held, c.lease_until < now, c.attempts >= max_attempts)

    def held_by(self, row_id: Any, holder: Any) -> ColumnElement[bool]:
        """The row ``row_id``, only while ``holder`` still holds it (values or bind params)."""
        c = self.table.c
        return and_(c.id == row_id, c[self.holder] == holder, c.status == self.held)

    async def claim(
        self,
        session: AsyncSession,
        *,
        holder: str,
        now: datetime,
        lease_seconds: float,
        limit: int,
        where: Iterable[ColumnElement[bool]] = (),
        order_by: Sequence[SQLCoreOperations[Any]] = (),
        max_attempts: int | None = None,
        count_attempt: bool = False,
        values: dict[str, Any] | None = None,
    ) -> list[str]:
        """Lease up to ``limit`` due rows to ``holder``; their ids, in no particular order.

        Args:
            session: The caller's session; the caller commits.
            holder: The claimant's name, written to the holder column.
            now: The current time.
            lease_seconds: How long the claim holds without renewal.
            limit: The most rows to take.
            where: Further conditions a row must meet (e.g. its turn in order).
            order_by: Which due rows first (after ``next_attempt_at``).
            max_attempts: See :meth:`due`.
            count_attempt: Add one to ``attempts`` (a claim is an attempt).
            values: Further columns to set on the claimed rows.
        """
        c = self.table.c
        due = self.due(now, max_attempts=max_attempts)
        pick = (
            select(c.id)
            .where(due, *where)
            .order_by(c.next_attempt_at, *order_by)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        picked = list((await session.scalars(pick)).all())
        if not picked:
            return []
        claimed: dict[str, Any] = {
            "status": self.held,
            self.holder: holder,
            "lease_until": now + timedelta(seconds=lease_seconds),
            **(values or {}),
        }
        if count_attempt:
            claimed["attempts"] = c.attempts + 1
        result = await session.execute(
            update(self.table)
            .where(c.id.in_(picked), due)
            .values(claimed)
            .returning(c.id)
            .execution_options(synchronize_session=False)
        )
        return [row_id for (row_id,) in result.all()]

    async def renew(
        self,
        session: AsyncSession,
        row_id: str,
        *,
        holder: str,
        now: datetime,
        lease_seconds: float,
        values: dict[str, Any] | None = None,
    ) -> bool:
        """Extend the lease of a row still held by ``holder``; False when it was lost."""
        result = await session.execute(
            update(self.table)
            .where(self.held_by(row_id, holder))
            .values(lease_until=now + timedelta(seconds=lease_seconds), **(values or {}))
            .returning(self.table.c.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def release(
        self, session: AsyncSession, row_id: str, *, holder: str, values: dict[str, Any]
    ) -> bool:
        """Write ``values`` to a row still held by ``holder`` (its outcome); False when lost."""
        result = await session.execute(
            update(self.table)
            .where(self.held_by(row_id, holder))
            .values(lease_until=None, **values)
            .returning(self.table.c.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None
