"""Page/limit pagination with totals, shared by every list in the services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.services.exceptions import BadRequest

T = TypeVar("T")

MAX_LIMIT = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and how many rows the whole list has."""

    items: Sequence[T]
    total: int
    page: int
    limit: int


def check_paging(page: int, limit: int) -> None:
    """Refuse a page below 1 or a limit outside 1..MAX_LIMIT.

    Raises:
        BadRequest: naming the offending parameter.
    """
    if page < 1:
        raise BadRequest("page must be at least 1", field="page")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}", field="limit")


async def paginate(session: AsyncSession, stmt: Select[Any], page: int, limit: int) -> Page[Any]:
    """Run ``stmt`` (already ordered) for one page, with the total count.

    Args:
        session: The database session.
        stmt: A select of one entity, ordered.
        page: 1-based page number.
        limit: Rows per page.

    Returns:
        The page's rows (scalars) and the total of the unpaged query.
    """
    check_paging(page, limit)
    # COUNT(*) over the same FROM and WHERE (not over a subquery of whole rows),
    # so the database may answer it from an index alone.
    counted = stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    total = (await session.execute(counted)).scalar_one()
    rows = (await session.execute(stmt.offset((page - 1) * limit).limit(limit))).scalars().all()
    return Page(items=rows, total=int(total), page=page, limit=limit)
