"""Read and write :class:`SystemState` values, e.g. the routing revision."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models.system import SystemState

ROUTING_REVISION = "routing_revision"


async def get_value(session: AsyncSession, key: str, default: str = "") -> str:
    """The value stored under ``key``, or ``default``."""
    row = await session.get(SystemState, key)
    return row.value if row else default


async def set_value(session: AsyncSession, key: str, value: str) -> None:
    """Store ``value`` under ``key`` (in the caller's transaction)."""
    row = await session.get(SystemState, key)
    if row is None:
        session.add(SystemState(key=key, value=value))
    else:
        row.value = value


async def bump_routing_revision(session: AsyncSession) -> int:
    """Mark numbers/rules/endpoints as changed, in the caller's transaction.

    Every write to routing data calls this; engines watch the revision and
    reload their routing table and the AstDB mirror when it moves.
    """
    row = (
        await session.execute(
            select(SystemState).where(SystemState.key == ROUTING_REVISION).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        session.add(SystemState(key=ROUTING_REVISION, value="1"))
        return 1
    row.value = str(int(row.value or "0") + 1)
    return int(row.value)
