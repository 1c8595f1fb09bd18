"""Streamed CSV: parse an upload row by row as it arrives, write a download row by row.

Imports read one physical line at a time, so a field may not hold a line
break (the contact and do-not-call columns never need one); exports yield
one encoded line per row, so neither side holds the whole file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row of an import was refused (lines count from 1, the header is line 1)."""

    row: int
    field: str | None
    message: str


async def rows(lines: AsyncIterator[str] | Iterable[str]) -> AsyncIterator[tuple[int, list[str]]]:
    """``(line number, cells)`` of each non-blank line; cells are stripped."""
    number = 0

    async def _each() -> AsyncIterator[str]:
        if isinstance(lines, AsyncIterator):
            async for line in lines:
                yield line
        else:
            for line in lines:
                yield line

    async for line in _each():
        number += 1
        if not line.strip():
            continue
        cells = next(csv.reader(io.StringIO(line)), [])
        yield number, [c.strip() for c in cells]


def line(cells: Sequence[Any]) -> str:
    """One CSV line (with its line break) for ``cells``.

    Cells starting with ``=``, ``+``, ``-`` or ``@`` that are not numbers get
    a leading apostrophe, so a spreadsheet opening the file runs no formula.
    """
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_safe(c) for c in cells])
    return buffer.getvalue()


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        if value[:1] == "+" and value[1:].isdigit():
            return value  # an E.164 number
        return "'" + value
    return value
