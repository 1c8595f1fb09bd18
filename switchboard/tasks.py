"""Background tasks kept referenced until they end, their failures logged.

``asyncio.create_task`` keeps only a weak reference: a task nobody holds can
be collected mid-flight, and an exception nobody retrieves vanishes (or
surfaces as "exception was never retrieved" long after). Every long-lived
component that starts tasks (the engine's calls and loops, the ARI and AMI
clients' callbacks, the outbox's deliveries, the call-log writer) keeps them
in a :class:`TaskKeeper`, which holds each task until it ends, logs its
failure with the task's name, and cancels what is left on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class TaskKeeper:
    """A set of running tasks: kept until done, failures logged, cancelled together.

    Args:
        what: Who owns the tasks, for the log (``"engine"``, ``"outbox"``...).
        logger: Where failures are logged (the owner's module logger).
    """

    def __init__(self, what: str, logger: logging.Logger = log) -> None:
        self._what = what
        self._log = logger
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """Run ``coro`` as a kept task named ``name``."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self._log.error(
                "%s task %s failed",
                self._what,
                task.get_name(),
                exc_info=error,
                extra={"task": task.get_name()},
            )

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[asyncio.Task[Any]]:
        return iter(list(self._tasks))

    async def wait(self) -> None:
        """Wait until every task running now has ended (failures are logged, not raised)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    async def cancel_all(self) -> None:
        """Cancel every task and wait for them to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
