"""One back-off formula for every retry: connections, webhook deliveries, jobs.

After ``failures`` failed attempts, the next one waits up to the *ceiling*
``min(cap, base * 2 ** (failures - 1))``. With jitter ("equal jitter") the
wait is half the ceiling plus a random part of the other half: never less
than half, so a fleet retrying the same target spreads out without any of
them retrying at once. Without jitter (a queue whose rows already spread
out) the wait is the ceiling itself.

:class:`Backoff` is the same formula for a connection that counts its own
failures and starts again from ``base`` after a healthy session.
"""

from __future__ import annotations

import random
from collections.abc import Callable

# 2**64 seconds is past any cap; the exponent stops growing there.
_MAX_EXPONENT = 64

Jitter = Callable[[], float]
"""A source of uniform numbers in [0, 1) (``random.random``, or a seeded one)."""


def backoff_ceiling(failures: int, *, base: float, cap: float) -> float:
    """The longest wait after ``failures`` failed attempts (the first waits ``base``)."""
    exponent = min(max(0, failures - 1), _MAX_EXPONENT)
    return float(min(cap, base * 2.0**exponent))


def backoff_delay(
    failures: int, *, base: float, cap: float, jitter: Jitter | None = random.random
) -> float:
    """The wait before the next attempt after ``failures`` failed ones.

    Args:
        failures: Attempts that failed so far (1 after the first failure).
        base: The first wait, in seconds.
        cap: The longest wait, in seconds.
        jitter: Randomness for equal jitter; ``None`` waits the ceiling exactly.

    Returns:
        Seconds to wait, between half the ceiling and the ceiling.
    """
    ceiling = backoff_ceiling(failures, base=base, cap=cap)
    if jitter is None:
        return ceiling
    return ceiling / 2 + ceiling / 2 * jitter()


class Backoff:
    """The formula with its own failure count, for a reconnecting connection.

    Args:
        base: first delay in seconds.
        cap: the largest delay (``Settings.reconnect_max_seconds``).
        rng: source of uniform numbers in [0, 1); injectable for tests.
    """

    def __init__(
        self, *, base: float = 0.5, cap: float = 10.0, rng: Jitter = random.random
    ) -> None:
        if base <= 0 or cap < base:
            raise ValueError("back-off needs 0 < base <= cap")
        self._base = base
        self._cap = cap
        self._rng = rng
        self._failures = 0

    def peek_ceiling(self) -> float:
        """The upper bound of the next delay, before jitter."""
        return backoff_ceiling(self._failures + 1, base=self._base, cap=self._cap)

    def next_delay(self) -> float:
        """The delay before the next attempt; advances the schedule."""
        self._failures += 1
        return backoff_delay(self._failures, base=self._base, cap=self._cap, jitter=self._rng)

    def reset(self) -> None:
        """Start again from the base delay (after a healthy connection)."""
        self._failures = 0
