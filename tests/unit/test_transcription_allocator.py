"""The worker's glibc malloc tunables: merged with the operator's, applied once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from switchboard.transcription.allocator import (
    ENV_NAME,
    TUNABLES,
    merged_tunables,
    needs_restart,
)


def test_all_tunables_are_added_to_an_empty_value() -> None:
    value = merged_tunables("")

    assert value.split(":") == [f"{name}={v}" for name, v in TUNABLES]


def test_a_tunable_the_operator_set_is_kept_as_set() -> None:
    value = merged_tunables("glibc.malloc.hugetlb=0:glibc.malloc.arena_max=2")

    items = value.split(":")
    assert items[:2] == ["glibc.malloc.hugetlb=0", "glibc.malloc.arena_max=2"]
    assert "glibc.malloc.hugetlb=1" not in items
    assert sum(i.startswith("glibc.malloc.hugetlb=") for i in items) == 1
    assert {i.split("=")[0] for i in items} >= {name for name, _ in TUNABLES}


def test_merging_twice_changes_nothing() -> None:
    once = merged_tunables("glibc.malloc.arena_max=2")

    assert merged_tunables(once) == once


def test_restart_is_needed_only_without_the_tunables_and_only_on_linux() -> None:
    assert needs_restart({}, platform="linux")
    assert not needs_restart({ENV_NAME: merged_tunables("")}, platform="linux")
    assert not needs_restart({}, platform="darwin")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tunables are Linux's")
def test_a_process_restarts_itself_once_with_the_tunables() -> None:
    script = (
        "import os, sys\n"
        "from switchboard.transcription.allocator import restart_with_tunables\n"
        "print('start', flush=True)\n"
        "restart_with_tunables()\n"
        "print(os.environ['GLIBC_TUNABLES'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != ENV_NAME}

    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )

    lines = done.stdout.splitlines()
    assert lines == ["start", "start", merged_tunables("")]  # one re-exec, then it runs on
