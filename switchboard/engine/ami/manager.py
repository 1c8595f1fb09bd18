"""panoramisk's ``Manager``, cut down to one TCP connection.

panoramisk's own ``Manager`` reconnects, pings without checking the answers,
re-sends unanswered actions after a reconnect and starts coroutine callbacks
without keeping them. :class:`OneShotManager` keeps only its parsing and
action bookkeeping; the wrapper in :mod:`switchboard.engine.ami.client`
creates one per connection and throws it away with the connection, so an
action can never outlive the connection it was sent on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from panoramisk import Manager


class OneShotManager(Manager):  # type: ignore[misc]  # panoramisk is untyped
    """A panoramisk ``Manager`` for exactly one TCP connection.

    It never reconnects, never pings on its own and never re-sends actions:
    all three are the wrapper's job. Events go straight to ``forward``.
    """

    def __init__(self, *, forward: Callable[[Any], None], **config: Any) -> None:
        super().__init__(**config)
        self.lost: asyncio.Future[None] = self.loop.create_future()
        self._forward = forward

    def ping(self) -> None:
        """Disabled: the wrapper's watchdog pings and checks the answers."""

    def dispatch(self, event: Any) -> list[str]:
        """Hand every unsolicited event to the wrapper (no callback tasks)."""
        self._forward(event)
        return []

    def connection_lost(self, exc: Exception | None) -> None:
        """Record the loss instead of scheduling panoramisk's reconnect."""
        self._connected = False
        if not self.lost.done():
            self.lost.set_result(None)
