"""Page/limit query parameters and the page envelope of ``/api/v1`` lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from switchboard.services.paging import MAX_LIMIT

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageParams:
    """``?page=1&limit=25`` as parsed from the query string."""

    page: int
    limit: int


def _page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page")] = 25,
) -> PageParams:
    return PageParams(page=page, limit=limit)


PageQuery = Annotated[PageParams, Depends(_page_params)]


class PageOut(BaseModel, Generic[T]):
    """One page of a list with the total number of rows."""

    items: list[T]
    total: int
    page: int
    limit: int
