"""Insert-if-missing for rows keyed by a unique column (SQLite and PostgreSQL).

The engine and the provider webhooks may both write a row for the same
call or recording SID, racing; ``INSERT ... ON CONFLICT DO NOTHING`` keeps
exactly one, whichever comes first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_missing(
    session: AsyncSession, model: type[Any], values: dict[str, Any], key: str
) -> bool:
    """Insert a row unless one with the same unique ``key`` exists; whether it was new."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    column = getattr(model, key)
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=[key])
    return (await session.execute(stmt.returning(column))).first() is not None
