"""One back-off formula: exponential from base, capped, with equal jitter or none."""

from __future__ import annotations

import random

import pytest

from switchboard.backoff import Backoff, backoff_ceiling, backoff_delay


def test_the_ceiling_doubles_from_base_and_stops_at_the_cap() -> None:
    assert [backoff_ceiling(n, base=10.0, cap=900.0) for n in range(0, 9)] == [
        10.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0, 900.0,
    ]
    assert backoff_ceiling(10_000, base=1.0, cap=5.0) == 5.0  # no overflow


def test_without_jitter_the_wait_is_the_ceiling() -> None:
    assert backoff_delay(3, base=10.0, cap=900.0, jitter=None) == 40.0


def test_equal_jitter_waits_between_half_the_ceiling_and_the_ceiling() -> None:
    assert backoff_delay(4, base=1.0, cap=60.0, jitter=lambda: 0.0) == 4.0
    assert backoff_delay(4, base=1.0, cap=60.0, jitter=lambda: 0.999) == pytest.approx(7.996)
    rng = random.Random(7)
    delays = [backoff_delay(n, base=1.0, cap=60.0, jitter=rng.random) for n in range(1, 10)]
    assert 0.5 <= delays[0] <= 1.0
    assert 4.0 <= delays[3] <= 8.0
    assert all(30.0 <= d <= 60.0 for d in delays[6:])


def test_a_connections_backoff_is_the_same_formula_counting_its_own_failures() -> None:
    backoff = Backoff(base=0.5, cap=4.0, rng=lambda: 1.0)
    assert backoff.peek_ceiling() == 0.5
    assert [backoff.next_delay() for _ in range(5)] == [
        backoff_delay(n, base=0.5, cap=4.0, jitter=lambda: 1.0) for n in range(1, 6)
    ]
    backoff.reset()
    assert backoff.peek_ceiling() == 0.5
