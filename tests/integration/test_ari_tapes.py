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

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import select, update
from webhook_receiver import Receiver, Reply

from switchboard.engine.calls.call import Call
from switchboard.engine.service import Engine
from switchboard.models import CallLog, PhoneNumber, Tenant
from switchboard.models.migrate import upgrade
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.models.state import bump_routing_revision
from switchboard.runtime import build_engine
from switchboard.simulate import place_call, wait_for_call_log
from tests.conftest import wipe
from tests.flow.scenarios import CALLER, DID, NOW, SCENARIOS, Scenario
from tests.flow.tape import TAPES, TapeRecorder, load_tape, save_tape, shape
from tests.integration.engine_helpers import engine_settings, seed_number

pytestmark = pytest.mark.asterisk


TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def customer_app() -> Iterator[Receiver]:
    receiver = Receiver(token=TOKEN)
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
async def engine(clean_asterisk, sqlite_url, tmp_path) -> AsyncIterator[Engine]:
    database = make_engine(sqlite_url)
    await upgrade(database)
    await wipe(database)
    settings = engine_settings(clean_asterisk, sqlite_url, tmp_path)
    engine = build_engine(settings, make_sessionmaker(database), clock=lambda: NOW)
    await engine.start()
    await engine.wait_ready()
    yield engine
    await engine.stop()
    await database.dispose()


async def _finished(sessionmaker, call_sid: str) -> CallLog:
    for _ in range(600):
        async with sessionmaker() as session:
            row = await session.scalar(select(CallLog).where(CallLog.call_sid == call_sid))
        if row is not None and row.ended_at is not None:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"call {call_sid} never finished")


async def _connected(engine: Engine) -> Call:
    for _ in range(300):
        calls = [c for c in engine.registry.all() if c.bridge_id is not None]
        if calls:
            return calls[0]
        await asyncio.sleep(0.05)
    raise AssertionError("no call got connected")


async def _drive(engine: Engine, tenant_id: str, commands: tuple[tuple[str, ...], ...]) -> None:
    call = await _connected(engine)
    for command, *args in commands:
        await asyncio.sleep(0.5)
        if command in ("hold", "unhold"):
            await engine.control.hold(tenant_id, call.call_sid, on=command == "hold")
        elif command == "transfer":
            result = await engine.control.transfer(
                tenant_id, call.call_sid, target=args[0], transfer_type=args[1]
            )
            assert result == "transferred"
        elif command == "hangup":
            await engine.control.hangup(tenant_id, call.call_sid)


async def _hang_up_caller(engine: Engine, channel_id: str, after: float) -> None:
    await asyncio.sleep(after)
    settings = engine.settings
    url = f"http://{settings.asterisk_host}:{settings.ari_port}/ari/channels/{channel_id}"
    async with httpx.AsyncClient(auth=(settings.ari_user, settings.ari_password)) as http:
        await http.delete(url)  # not through the engine: the tape must not show it


async def record(engine: Engine, scenario: Scenario, app: Receiver) -> list[dict]:
    sessionmaker = engine.routing._sessionmaker  # noqa: SLF001 - the engine's own database
    tenant_id, _ = await seed_number(
        sessionmaker, scenario.rules, record=scenario.record, trunk_context=scenario.trunk_context
    )
    if scenario.documents:
        for path, document in scenario.documents.items():
            app.routes[path] = Reply(body=document)
        async with sessionmaker() as session, session.begin():
            await session.execute(update(Tenant).values(auth_token=TOKEN))
            await session.execute(update(PhoneNumber).values(voice_url=app.url("/voice")))
            await bump_routing_revision(session)
    await engine.routing.reload()
    recorder = TapeRecorder()
    engine.asterisk.transport = recorder.transport(engine.ari)
    engine.calls.on_event = recorder.tap(engine.calls.on_event)  # type: ignore[method-assign]
    if scenario.outbound_to:
        placed = await engine.control.place_call(
            tenant_id, from_number=DID, to_number=scenario.outbound_to
        )
        await _finished(sessionmaker, placed.call_sid)
        await engine.writer.flush()
        return recorder.tape()
    call = await place_call(
        engine.settings,
        did=DID,
        caller=CALLER,
        behaviour=scenario.behaviour,
        say=scenario.say,
        dtmf=scenario.dtmf,
        dtmf_delay=scenario.dtmf_delay,
        hold_seconds=scenario.hold,
        talk_seconds=scenario.talk,
    )
    helpers = []
    if scenario.hangup_after is not None:
        helpers.append(_hang_up_caller(engine, call.channel_id, scenario.hangup_after))
    if scenario.commands:
        helpers.append(_drive(engine, tenant_id, scenario.commands))
    await asyncio.gather(*helpers)
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None, "the call never finished"
    await engine.writer.flush()
    return recorder.tape()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_a_fresh_real_call_has_the_shape_of_its_tape(
    engine, customer_app, name, request
) -> None:
    fresh = await record(engine, SCENARIOS[name], customer_app)
    if request.config.getoption("--record-tapes") or not (TAPES / f"{name}.json").exists():
        save_tape(name, fresh)
        if not request.config.getoption("--record-tapes"):
            pytest.fail(f"no tape {name} yet: recorded one, check it in")
        return
    expected, got = shape(load_tape(name)), shape(fresh)
    assert got == expected, json.dumps({"tape": expected, "fresh": got}, indent=1)
