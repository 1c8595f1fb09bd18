"""Every ARI tape the fast call-flow specs replay, checked against a fresh real call.

For each scenario (``tests/flow/scenarios.py``) a real call goes through a
real Asterisk and the engine, with a :class:`~tests.flow.tape.TapeRecorder`
around the engine's ARI transport and event callback. The fresh recording
must have the shape of the tape under ``tests/fixtures/ari/`` (the same
requests in the same order with the same answers; for every channel, bridge,
playback and recording the same events in the same order), so the fast tier
cannot drift from what Asterisk really does. ``--record-tapes`` writes the
fresh recordings instead (after a deliberate change of the call flow).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from switchboard.engine.service import Engine
from switchboard.models.migrate import upgrade
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.runtime import build_engine
from switchboard.simulate import place_call, wait_for_call_log
from tests.conftest import wipe
from tests.flow.scenarios import CALLER, DID, SCENARIOS, Scenario
from tests.flow.tape import TAPES, TapeRecorder, load_tape, save_tape, shape
from tests.integration.engine_helpers import engine_settings, seed_number

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def engine(clean_asterisk, sqlite_url, tmp_path) -> AsyncIterator[Engine]:
    database = make_engine(sqlite_url)
    await upgrade(database)
    await wipe(database)
    settings = engine_settings(clean_asterisk, sqlite_url, tmp_path)
    engine = build_engine(settings, make_sessionmaker(database))
    await engine.start()
    await engine.wait_ready()
    yield engine
    await engine.stop()
    await database.dispose()


async def record(engine: Engine, scenario: Scenario) -> list[dict]:
    sessionmaker = engine.routing._sessionmaker  # noqa: SLF001 - the engine's own database
    await seed_number(sessionmaker, scenario.rules, record=scenario.record)
    await engine.routing.reload()
    recorder = TapeRecorder()
    engine.asterisk.transport = recorder.transport(engine.ari)
    engine.calls.on_event = recorder.tap(engine.calls.on_event)  # type: ignore[method-assign]
    call = await place_call(
        engine.settings,
        did=DID,
        caller=CALLER,
        behaviour=scenario.behaviour,
        say=scenario.say,
        dtmf=scenario.dtmf,
        hold_seconds=scenario.hold,
        talk_seconds=scenario.talk,
    )
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None, "the call never finished"
    await engine.writer.flush()
    return recorder.tape()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_a_fresh_real_call_has_the_shape_of_its_tape(engine, name, request) -> None:
    fresh = await record(engine, SCENARIOS[name])
    if request.config.getoption("--record-tapes") or not (TAPES / f"{name}.json").exists():
        save_tape(name, fresh)
        if not request.config.getoption("--record-tapes"):
            pytest.fail(f"no tape {name} yet: recorded one, check it in")
        return
    expected, got = shape(load_tape(name)), shape(fresh)
    assert got == expected, json.dumps({"tape": expected, "fresh": got}, indent=1)
