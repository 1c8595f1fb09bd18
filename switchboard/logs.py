"""Structured logging: one JSON object per line, with the call SID when known.

Code that works on a call sets :data:`call_sid_var` (see :func:`bind_call`);
every record logged in that task then carries ``call_sid``.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

call_sid_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("call_sid", default=None)

_RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats records as JSON with the ``extra`` fields and the call SID."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON line for ``record``."""
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        sid = getattr(record, "call_sid", None) or call_sid_var.get()
        if sid:
            data["call_sid"] = sid
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key != "call_sid" and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def configure(level: str = "INFO") -> None:
    """Send JSON logs to stderr; call once from the composition root."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("websockets").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


@contextlib.contextmanager
def bind_call(call_sid: str) -> Iterator[None]:
    """Tag every log record in this context with ``call_sid``."""
    token = call_sid_var.set(call_sid)
    try:
        yield
    finally:
        call_sid_var.reset(token)
