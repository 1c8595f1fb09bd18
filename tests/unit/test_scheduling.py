"""Real-time scheduling for the engine process: applied, inherited, refused clearly."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Runs in a child interpreter, so this test process keeps its normal scheduling.
PROBE = """
import json, os, subprocess, sys, threading
from switchboard.scheduling import normal_scheduling_in_child, use_realtime_priority
if len(sys.argv) > 2:
    os.setegid(65534); os.seteuid(65534)  # drops CAP_SYS_NICE with it
why = use_realtime_priority(int(sys.argv[1]))
seen = {}
thread = threading.Thread(target=lambda: seen.update(thread=os.sched_getscheduler(0)))
thread.start(); thread.join()
child = "-1"
if len(sys.argv) == 2:  # (nobody may not run this venv's python)
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.sched_getscheduler(0))"],
        capture_output=True, text=True, check=True, preexec_fn=normal_scheduling_in_child,
    ).stdout
print(json.dumps({
    "why": why,
    "policy": os.sched_getscheduler(0),
    "priority": os.sched_getparam(0).sched_priority,
    "thread": seen["thread"],
    "child": int(child),
}))
"""


def probe(priority: int, *, unprivileged: bool = False) -> dict[str, object]:
    argv = [sys.executable, "-c", PROBE, str(priority)] + (["nobody"] if unprivileged else [])
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.skipif(os.geteuid() != 0, reason="real-time scheduling needs root here")
def test_the_process_and_its_threads_run_round_robin_but_its_children_do_not() -> None:
    result = probe(5)
    assert result["why"] is None
    assert result["policy"] == os.SCHED_RR
    assert result["priority"] == 5
    assert result["thread"] == os.SCHED_RR  # threads inherit it
    assert result["child"] == os.SCHED_OTHER  # a worker or converter starts normal again


def test_priority_zero_leaves_scheduling_alone() -> None:
    result = probe(0)
    assert result["why"] is None
    assert result["policy"] == os.SCHED_OTHER


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to an unprivileged user")
def test_an_unprivileged_process_is_told_why_and_goes_on() -> None:
    result = probe(5, unprivileged=True)
    assert "refused" in str(result["why"])
    assert "CAP_SYS_NICE" in str(result["why"])
    assert result["policy"] == os.SCHED_OTHER
