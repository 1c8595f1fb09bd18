"""Back-off schedule, quick-failure tracker and the connection supervisor's rules."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.engine.connection import (
    Backoff,
    ConnectionLost,
    ConnectionRejected,
    ConnectionState,
    ConnectionSupervisor,
    QuickFailureTracker,
)


def test_backoff_doubles_up_to_the_cap() -> None:
    backoff = Backoff(base=0.5, cap=4.0, rng=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_backoff_jitter_stays_between_half_and_full_ceiling() -> None:
    low = Backoff(base=1.0, cap=8.0, rng=lambda: 0.0)
    assert [low.next_delay() for _ in range(4)] == [0.5, 1.0, 2.0, 4.0]


def test_backoff_reset_starts_again_from_base() -> None:
    backoff = Backoff(base=0.5, cap=10.0, rng=lambda: 1.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_backoff_refuses_a_cap_below_the_base() -> None:
    with pytest.raises(ValueError):
        Backoff(base=2.0, cap=1.0)


def test_tracker_gives_up_after_limit_rejections_in_a_row() -> None:
    tracker = QuickFailureTracker(limit=3)
    assert [tracker.rejected() for _ in range(3)] == [False, False, True]


def test_tracker_counts_connections_that_die_at_once_and_forgets_after_a_healthy_one() -> None:
    now = [100.0]
    tracker = QuickFailureTracker(limit=2, quick_seconds=5.0, clock=lambda: now[0])
    assert tracker.ended(connected_at=99.0) is False  # died after 1 s: quick
    assert tracker.count == 1
    assert tracker.ended(connected_at=50.0) is False  # lived 50 s: healthy, resets
    assert tracker.count == 0
    tracker.ended(connected_at=99.5)
    assert tracker.ended(connected_at=99.9) is True


async def test_supervisor_gives_up_loudly_on_repeated_rejection() -> None:
    attempts = 0

    async def refused() -> None:
        nonlocal attempts
        attempts += 1
        raise ConnectionRejected("auth_failed", "HTTP 401")

    given_up = []
    supervisor = ConnectionSupervisor(
        name="test",
        session=refused,
        backoff=Backoff(base=0.01, cap=0.02),
        tracker=QuickFailureTracker(limit=3),
        on_give_up=given_up.append,
    )
    supervisor.start()
    status = await supervisor.wait_connected(timeout=5)
    assert status.state is ConnectionState.FAILED
    assert status.reason == "auth_failed"
    assert "HTTP 401" in (status.last_error or "")
    assert attempts == 3
    assert given_up == [status]
    await asyncio.sleep(0.1)
    assert attempts == 3  # no retry storm after giving up
    supervisor.start()  # e.g. after the credentials were fixed: tries again
    again = await supervisor.wait_connected(timeout=5)
    assert again.state is ConnectionState.FAILED
    assert attempts == 6
    await supervisor.close()


async def test_supervisor_keeps_retrying_an_unreachable_server_and_connects_later() -> None:
    attempts = 0
    stop = asyncio.Event()

    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 6:  # more than the quick-failure limit: unreachable never gives up
            raise ConnectionRefusedError("refused")
        supervisor.mark_connected()
        await stop.wait()
        raise ConnectionLost("lost", "closed")

    supervisor = ConnectionSupervisor(
        name="test",
        session=flaky,
        backoff=Backoff(base=0.01, cap=0.02),
        tracker=QuickFailureTracker(limit=3),
    )
    supervisor.start()
    status = await supervisor.wait_connected(timeout=5)
    assert status.connected
    assert status.connected_since is not None
    assert status.reason == "unreachable"  # the last failure is still reported
    await supervisor.close()
    assert supervisor.status.state is ConnectionState.CLOSED


async def test_closing_stops_reconnecting() -> None:
    attempts = 0

    async def short_lived() -> None:
        nonlocal attempts
        attempts += 1
        supervisor.mark_connected()
        await asyncio.sleep(0.01)

    supervisor = ConnectionSupervisor(
        name="test",
        session=short_lived,
        backoff=Backoff(base=0.01, cap=0.01),
        tracker=QuickFailureTracker(limit=1000),
    )
    supervisor.start()
    await supervisor.wait_connected(timeout=5)
    await supervisor.close()
    seen = attempts
    await asyncio.sleep(0.1)
    assert attempts == seen
