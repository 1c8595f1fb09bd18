"""Component health: each part registers a check, ``/health/ready`` runs them all.

The database check is registered by the app; the engine registers AMI and ARI,
the worker its heartbeat. A check is an ``async`` callable returning
:class:`ComponentHealth`; one that raises or takes longer than the timeout
counts as failed, with the reason as its detail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """State of one component: ``ok`` and a short human-readable detail."""

    ok: bool
    detail: str = ""


HealthCheck = Callable[[], Awaitable[ComponentHealth]]


class HealthRegistry:
    """Named health checks, run concurrently on demand."""

    def __init__(self, *, timeout: float = 2.0) -> None:
        self._checks: dict[str, HealthCheck] = {}
        self._timeout = timeout

    def register(self, name: str, check: HealthCheck) -> None:
        """Add (or replace) the check of component ``name``."""
        self._checks[name] = check

    def unregister(self, name: str) -> None:
        """Remove the check of component ``name`` if present."""
        self._checks.pop(name, None)

    @property
    def names(self) -> list[str]:
        """Registered component names, in registration order."""
        return list(self._checks)

    async def _run(self, check: HealthCheck) -> ComponentHealth:
        try:
            return await asyncio.wait_for(check(), self._timeout)
        except TimeoutError:
            return ComponentHealth(ok=False, detail=f"no answer within {self._timeout:g} s")
        except Exception as exc:  # a failing check is a result, not an error
            return ComponentHealth(ok=False, detail=f"{type(exc).__name__}: {exc}")

    async def check_all(self) -> dict[str, ComponentHealth]:
        """Run every check at once and return their results by name."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run(self._checks[n]) for n in names))
        return dict(zip(names, results, strict=True))


def database_check(sessionmaker: async_sessionmaker[AsyncSession]) -> HealthCheck:
    """A check that the database answers ``SELECT 1``."""

    async def _check() -> ComponentHealth:
        async with sessionmaker() as session:
            await session.execute(text("SELECT 1"))
        return ComponentHealth(ok=True, detail="reachable")

    return _check
