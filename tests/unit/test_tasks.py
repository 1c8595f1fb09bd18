"""The task keeper holds tasks until they end, logs failures by name, cancels the rest."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from switchboard.tasks import TaskKeeper


async def test_a_kept_task_survives_garbage_collection_and_is_let_go_when_done() -> None:
    keeper = TaskKeeper("test")
    release = asyncio.Event()
    done = []

    async def work() -> None:
        await release.wait()
        done.append(True)

    keeper.spawn(work(), "work")  # no reference kept here
    gc.collect()
    assert len(keeper) == 1
    release.set()
    await keeper.wait()
    assert done == [True]
    assert len(keeper) == 0


async def test_a_failure_is_logged_with_the_owner_and_the_tasks_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    keeper = TaskKeeper("engine")

    async def broken() -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="switchboard.tasks"):
        keeper.spawn(broken(), "call-CA1")
        await keeper.wait()
        await asyncio.sleep(0)  # the done callback runs on the next loop turn
    [record] = [r for r in caplog.records if r.name == "switchboard.tasks"]
    assert record.getMessage() == "engine task call-CA1 failed"
    assert record.exc_info is not None and str(record.exc_info[1]) == "boom"


async def test_cancel_all_ends_every_task() -> None:
    keeper = TaskKeeper("test")
    tasks = [keeper.spawn(asyncio.sleep(60), f"sleeper-{i}") for i in range(3)]
    await keeper.cancel_all()
    assert all(t.cancelled() for t in tasks)
    assert len(keeper) == 0
