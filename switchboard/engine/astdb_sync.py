"""Keeps Asterisk's AstDB mirror of the routing table in step with the database.

The engine-down dialplan reads it (see :mod:`switchboard.callflow.astdb_plan`).
A full rewrite happens at start-up and after every AMI reconnect; in between
only the numbers whose entries changed are rewritten.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from switchboard.callflow.astdb_plan import FAMILY, astdb_entries
from switchboard.callflow.routes import NumberRoute

log = logging.getLogger(__name__)


class AstdbClient(Protocol):
    """The AMI operations the mirror uses."""

    async def db_put(self, family: str, key: str, value: str) -> None:
        """Store one key."""

    async def db_deltree(self, family: str, key: str | None = None) -> bool:
        """Delete a family, or one subtree of it."""


class AstdbMirror:
    """Writes routes into AstDB, remembering what it wrote."""

    def __init__(self, ami: AstdbClient, *, concurrency: int = 32) -> None:
        self._ami = ami
        self._written: dict[str, dict[str, str]] = {}
        self._needs_full = True
        self._lock = asyncio.Lock()
        self._concurrency = concurrency
        self.synced = asyncio.Event()

    def invalidate(self) -> None:
        """Force a full rewrite next time (after an AMI reconnect)."""
        self._needs_full = True
        self.synced.clear()

    async def sync(self, routes: dict[str, NumberRoute]) -> int:
        """Bring AstDB to ``routes``; returns how many numbers were rewritten."""
        async with self._lock:
            desired = {did: astdb_entries(route) for did, route in routes.items()}
            if self._needs_full:
                await self._ami.db_deltree(FAMILY)
                self._written = {}
            changed = [did for did, entries in desired.items() if self._written.get(did) != entries]
            removed = [did for did in self._written if did not in desired]
            semaphore = asyncio.Semaphore(self._concurrency)

            async def put(key: str, value: str) -> None:
                async with semaphore:
                    await self._ami.db_put(FAMILY, key, value)

            for did in removed:
                await self._ami.db_deltree(FAMILY, did)
                del self._written[did]
            for did in changed:
                if did in self._written:
                    await self._ami.db_deltree(FAMILY, did)
                await asyncio.gather(*(put(k, v) for k, v in desired[did].items()))
                self._written[did] = desired[did]
            self._needs_full = False
            self.synced.set()
        if changed or removed:
            log.info(
                "astdb mirror synced", extra={"changed": len(changed), "removed": len(removed)}
            )
        return len(changed)
