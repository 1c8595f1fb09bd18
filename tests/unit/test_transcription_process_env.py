"""The worker's start environment: glibc malloc tunables and one BLAS thread, applied once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from switchboard.transcription.process_env import (
    ENVIRONMENT,
    TUNABLES,
    TUNABLES_NAME,
    merged_tunables,
    needs_restart,
    whisper_environment,
)


def test_all_tunables_are_added_to_an_empty_value() -> None:
    value = merged_tunables("")

    assert value.split(":") == [f"{name}={v}" for name, v in TUNABLES]


def test_a_tunable_the_operator_set_is_kept_as_set() -> None:
    value = merged_tunables("glibc.malloc.hugetlb=0:glibc.malloc.arena_max=2")

    items = value.split(":")
    assert items[:2] == ["glibc.malloc.hugetlb=0", "glibc.malloc.arena_max=2"]
    assert sum(i.startswith("glibc.malloc.hugetlb=") for i in items) == 1
    assert {i.split("=")[0] for i in items} >= {name for name, _ in TUNABLES}


def test_merging_twice_changes_nothing() -> None:
    once = merged_tunables("glibc.malloc.arena_max=2")

    assert merged_tunables(once) == once


def test_blas_threads_default_to_one_unless_the_operator_chose() -> None:
    assert whisper_environment({})["OPENBLAS_NUM_THREADS"] == "1"
    assert whisper_environment({"OPENBLAS_NUM_THREADS": "4"})["OPENBLAS_NUM_THREADS"] == "4"
    assert whisper_environment({"PATH": "/bin"})["PATH"] == "/bin"


def test_restart_is_needed_only_outside_that_environment_and_only_on_linux() -> None:
    assert needs_restart({}, platform="linux")
    assert needs_restart({TUNABLES_NAME: merged_tunables("")}, platform="linux")  # no BLAS var
    assert not needs_restart(whisper_environment({"HOME": "/x"}), platform="linux")
    assert not needs_restart({}, platform="darwin")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tunables are Linux's")
def test_a_process_restarts_itself_once_into_that_environment() -> None:
    script = (
        "import os\n"
        "from switchboard.transcription.process_env import restart_for_whisper\n"
        "print('start', flush=True)\n"
        "restart_for_whisper()\n"
        "print(os.environ['GLIBC_TUNABLES'], os.environ['OPENBLAS_NUM_THREADS'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in {TUNABLES_NAME, *ENVIRONMENT}}

    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )

    assert done.stdout.splitlines() == ["start", "start", f"{merged_tunables('')} 1"]
