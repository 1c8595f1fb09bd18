"""Connection supervision shared by the ARI and AMI clients.

A long-lived connection to Asterisk must come back by itself after Asterisk
restarts, must not hammer a server that rejects it, must stop retrying during
a deliberate shutdown, and must say what state it is in for ``/health/ready``.
This module holds those rules once:

* :class:`~switchboard.backoff.Backoff` — the one back-off formula, with jitter
  (:mod:`switchboard.backoff`; re-exported here for the clients).
* :class:`QuickFailureTracker` — counts connections that are refused or die
  right after they were established; back-off cannot fix bad credentials, so
  after a few of those in a row the supervisor gives up loudly.
* :class:`ConnectionSupervisor` — runs a client's ``session`` coroutine in a
  loop, keeps :class:`ConnectionStatus`, and offers ``wait_connected``.

A session coroutine connects, calls :meth:`ConnectionSupervisor.mark_connected`
once the connection is usable, and returns or raises when it ends. Raising
:class:`ConnectionRejected` says "the server refused us" (counts as a quick
failure); any other error is treated as "unreachable" and retried forever
with back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from switchboard.backoff import Backoff
from switchboard.tasks import TaskKeeper

__all__ = [
    "Backoff",
    "ConnectionLost",
    "ConnectionRejected",
    "ConnectionState",
    "ConnectionStatus",
    "ConnectionSupervisor",
    "QuickFailureTracker",
    "SupervisedClient",
]

log = logging.getLogger(__name__)


class ConnectionState(enum.StrEnum):
    """Where a supervised connection stands."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """A snapshot of a connection's health, for ``/health/ready``.

    Attributes:
        state: connecting, connected, failed (gave up) or closed (shut down).
        reason: short machine-readable cause of the last failure, such as
            ``auth_failed``, ``unreachable``, ``lost`` or ``dead_connection``.
        last_error: human-readable description of the last failure.
        connected_since: when the current connection was established.
        attempts: connection attempts since the last successful one.
    """

    state: ConnectionState
    reason: str | None = None
    last_error: str | None = None
    connected_since: datetime | None = None
    attempts: int = 0

    @property
    def connected(self) -> bool:
        """Whether the connection is usable right now."""
        return self.state is ConnectionState.CONNECTED


class ConnectionRejected(Exception):  # noqa: N818 - it is a signal, not a bug
    """The server answered and refused the connection (e.g. bad credentials).

    Args:
        reason: short machine-readable cause, e.g. ``auth_failed``.
        message: human-readable description.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class ConnectionLost(Exception):  # noqa: N818 - it is a signal, not a bug
    """An established connection ended; ``reason`` says how (``lost``, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class QuickFailureTracker:
    """Counts consecutive connections that were refused or died at once.

    Args:
        limit: how many quick failures in a row mean "give up".
        quick_seconds: a connection that lasted less than this counts as quick.
        clock: monotonic clock; injectable for tests.
    """

    def __init__(
        self,
        *,
        limit: int = 3,
        quick_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.quick_seconds = quick_seconds
        self._clock = clock
        self._count = 0

    @property
    def count(self) -> int:
        """Quick failures in a row so far."""
        return self._count

    def rejected(self) -> bool:
        """Record a refused connection; returns True when it is time to give up."""
        self._count += 1
        return self._count >= self.limit

    def ended(self, connected_at: float) -> bool:
        """Record the end of an established connection; True means give up."""
        if self._clock() - connected_at < self.quick_seconds:
            self._count += 1
        else:
            self._count = 0
        return self._count >= self.limit

    def reset(self) -> None:
        """Forget past failures."""
        self._count = 0


Session = Callable[[], Awaitable[None]]


class ConnectionSupervisor:
    """Runs a session coroutine forever, with back-off, until closed or given up.

    Args:
        name: used in logs (``ari``, ``ami``).
        session: connects, calls :meth:`mark_connected`, returns/raises at the end.
        backoff: the delay schedule between attempts.
        tracker: decides when repeated quick failures mean "give up".
        on_give_up: called once, with the final status, when the supervisor gives up.
    """

    def __init__(
        self,
        *,
        name: str,
        session: Session,
        backoff: Backoff,
        tracker: QuickFailureTracker,
        on_give_up: Callable[[ConnectionStatus], None] | None = None,
    ) -> None:
        self._name = name
        self._session = session
        self._backoff = backoff
        self._tracker = tracker
        self._on_give_up = on_give_up
        self._status = ConnectionStatus(state=ConnectionState.CONNECTING)
        self._connected_at: float | None = None
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    @property
    def status(self) -> ConnectionStatus:
        """The current status snapshot."""
        return self._status

    def start(self) -> None:
        """Start the reconnect loop; idempotent, and restarts it after a give-up."""
        if self._task is None or self._task.done():
            self._closing = False
            self._tracker.reset()
            self._backoff.reset()
            self._set(ConnectionStatus(state=ConnectionState.CONNECTING))
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"{self._name}-supervisor"
            )
            self._task.add_done_callback(self._log_task_end)

    def mark_connected(self) -> None:
        """Called by the session once the connection is usable."""
        self._connected_at = time.monotonic()
        self._set(
            ConnectionStatus(
                state=ConnectionState.CONNECTED,
                reason=self._status.reason,
                last_error=self._status.last_error,
                connected_since=datetime.now(UTC),
            )
        )
        log.info("%s connected", self._name)

    async def wait_connected(self, timeout: float | None = None) -> ConnectionStatus:
        """Wait until connected, failed or closed; returns the status then.

        Args:
            timeout: seconds to wait at most; ``None`` waits forever.

        Raises:
            TimeoutError: not connected within ``timeout``.
        """
        return await self.wait_status(
            lambda status: status.state is not ConnectionState.CONNECTING, timeout
        )

    async def wait_status(
        self, predicate: Callable[[ConnectionStatus], bool], timeout: float | None = None
    ) -> ConnectionStatus:
        """Wait until ``predicate(status)`` holds; returns that status.

        Raises:
            TimeoutError: it did not hold within ``timeout``.
        """
        async with asyncio.timeout(timeout):
            while not predicate(self._status):
                self._changed.clear()
                await self._changed.wait()
        return self._status

    async def close(self) -> None:
        """Stop reconnecting and cancel the running session."""
        self._closing = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set(ConnectionStatus(state=ConnectionState.CLOSED, reason="closed"))

    def _set(self, status: ConnectionStatus) -> None:
        self._status = status
        self._changed.set()

    def _fail(self, reason: str, message: str, attempts: int) -> None:
        self._set(
            ConnectionStatus(
                state=ConnectionState.CONNECTING,
                reason=reason,
                last_error=message,
                attempts=attempts,
            )
        )

    async def _run(self) -> None:
        attempts = 0
        while not self._closing:
            attempts += 1
            self._connected_at = None
            give_up = False
            try:
                await self._session()
                reason, message = "lost", f"{self._name} connection closed"
            except ConnectionRejected as exc:
                reason, message = exc.reason, exc.message
                give_up = self._tracker.rejected()
            except ConnectionLost as exc:
                reason, message = exc.reason, exc.message
            except (OSError, TimeoutError, EOFError) as exc:
                reason, message = "unreachable", f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a bug in a session must not end reconnects
                log.exception("%s session failed unexpectedly", self._name)
                reason, message = "error", f"{type(exc).__name__}: {exc}"
            if self._connected_at is not None:
                attempts = 0
                give_up = self._tracker.ended(self._connected_at) or give_up
                if time.monotonic() - self._connected_at >= self._tracker.quick_seconds:
                    self._backoff.reset()
            if self._closing:
                break
            if give_up:
                final = ConnectionStatus(
                    state=ConnectionState.FAILED,
                    reason=reason,
                    last_error=f"gave up after {self._tracker.count} quick failures: {message}",
                    attempts=attempts,
                )
                self._set(final)
                log.error(
                    "%s: giving up: %s", self._name, final.last_error, extra={"reason": reason}
                )
                if self._on_give_up is not None:
                    self._on_give_up(final)
                return
            delay = self._backoff.next_delay()
            self._fail(reason, message, attempts)
            log.warning(
                "%s connection failed (%s): %s; retrying in %.2fs",
                self._name,
                reason,
                message,
                delay,
                extra={"reason": reason},
            )
            await asyncio.sleep(delay)

    def _log_task_end(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s supervisor crashed", self._name, exc_info=task.exception())
            self._set(
                ConnectionStatus(
                    state=ConnectionState.FAILED,
                    reason="crashed",
                    last_error=repr(task.exception()),
                )
            )


class SupervisedClient:
    """What every supervised client shares: its status, start, waits, close, tasks.

    A subclass sets ``self._supervisor`` and ``self._tasks`` (a
    :class:`~switchboard.tasks.TaskKeeper`) in its constructor and adds its own
    ``wait_connected`` (its own error types).
    """

    _supervisor: ConnectionSupervisor
    _tasks: TaskKeeper

    @property
    def status(self) -> ConnectionStatus:
        """Connection health for ``/health/ready``."""
        return self._supervisor.status

    def start(self) -> None:
        """Start connecting in the background; reconnects until :meth:`close`.

        Calling it again after the client gave up (``status.state == "failed"``)
        starts a fresh round of attempts.
        """
        self._supervisor.start()

    async def wait_status(
        self, predicate: Callable[[ConnectionStatus], bool], timeout: float | None = None
    ) -> ConnectionStatus:
        """Wait until ``predicate(status)`` holds (e.g. "no longer connected").

        Raises:
            TimeoutError: it did not hold within ``timeout``.
        """
        return await self._supervisor.wait_status(predicate, timeout)

    async def close(self) -> None:
        """Stop reconnecting, close the connection, fail what is pending."""
        await self._supervisor.close()
        await self._tasks.cancel_all()

    def _spawn(self, work: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        """Run ``work`` (a callback's result) as a kept task whose failure is logged."""

        async def run() -> Any:
            return await work

        return self._tasks.spawn(run(), name)
