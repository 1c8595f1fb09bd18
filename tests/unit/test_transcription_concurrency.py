"""How many jobs one worker transcribes at once, by default and when told."""

from __future__ import annotations

import pytest

from switchboard.config import Settings
from switchboard.transcription.worker import WorkerOptions, default_concurrency, usable_cpus


@pytest.mark.parametrize(
    ("threads", "cpus", "expected"),
    [(1, 2, 2), (1, 8, 8), (2, 2, 1), (2, 5, 2), (4, 2, 1)],
)
def test_one_job_per_cpu_at_the_threads_of_a_job(threads: int, cpus: int, expected: int) -> None:
    settings = Settings(whisper_threads=threads)

    assert default_concurrency(settings, cpus=cpus) == expected


def test_a_concurrency_in_the_settings_wins_over_the_cpus() -> None:
    settings = Settings(whisper_threads=1, transcription_concurrency=3)

    assert default_concurrency(settings, cpus=16) == 3


def test_worker_options_take_the_default_unless_the_command_line_says_otherwise() -> None:
    settings = Settings(whisper_threads=1)

    assert WorkerOptions.from_settings(settings).concurrency == usable_cpus()
    assert WorkerOptions.from_settings(settings, concurrency=None).concurrency == usable_cpus()
    assert WorkerOptions.from_settings(settings, concurrency=1).concurrency == 1
