"""Uploaded text files read as they arrive (CSV imports), never whole in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request

from switchboard.services.exceptions import BadRequest

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


async def text_lines(request: Request, *, max_bytes: int = MAX_UPLOAD_BYTES) -> AsyncIterator[str]:
    """The request body as UTF-8 lines (a BOM and carriage returns dropped).

    Raises:
        BadRequest: the body is larger than ``max_bytes`` or not UTF-8.
    """
    pending = b""
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BadRequest(f"The file is larger than {max_bytes // (1024 * 1024)} MB",
                             field="file")
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            yield _decode(raw)
    if pending:
        yield _decode(pending)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        raise BadRequest("The file is not UTF-8 text", field="file") from None
