"""``eventually()``: the one way a test waits for something to become true.

Tests wait on conditions, never on fixed sleeps: the machine is shared and
busy, so a sleep long enough today flakes tomorrow, and one long enough
always wastes minutes. :func:`eventually` polls a probe until it answers
something truthy and returns that answer, or fails with the last answer
seen, so a failure says what the test was waiting for and what it got.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")



async def _answer(probe: Callable[[], T | Awaitable[T]]) -> T:
    answer = probe()
    if inspect.isawaitable(answer):
        return await answer
    return answer


async def eventually(
    probe: Callable[[], T | Awaitable[T]],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "the condition",
) -> T:
    """Poll ``probe`` until it answers something truthy; return that answer.

    Args:
        probe: A function or coroutine function; blocking probes (Asterisk's
            CLI, a subprocess) should wrap themselves in ``asyncio.to_thread``.
        timeout: Seconds before giving up.
        interval: Seconds between polls.
        what: What is awaited, for the failure message.

    Raises:
        AssertionError: ``probe`` never answered truthy within ``timeout``;
            the message names ``what`` and the last answer.
    """
    deadline = time.monotonic() + timeout
    while True:
        answer = await _answer(probe)
        if answer:
            return answer
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not reached within {timeout:g} s; last: {answer!r}")
        await asyncio.sleep(interval)


def eventually_blocking(
    probe: Callable[[], T],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "the condition",
) -> T:
    """:func:`eventually` for a synchronous test (no event loop running): same contract.

    It runs on a private loop and leaves the thread's current loop alone (the
    test session's loop stays the current one).
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(
            eventually(probe, timeout=timeout, interval=interval, what=what)
        )
    finally:
        loop.close()
