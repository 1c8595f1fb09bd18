"""Inbound calls end to end: a real Asterisk, the engine, a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from switchboard.engine.service import Engine
from switchboard.models import CallLeg, CallLogStatus, Voicemail
from switchboard.runtime import build_engine
from switchboard.simulate import place_call, wait_for_call_log
from tests.integration.engine_helpers import CALLER, DID, PROMPTS, engine_settings, seed_number

pytestmark = pytest.mark.asterisk


class Clock:
    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def engine(clean_asterisk, db_url, db_engine, sessionmaker, tmp_path, clock) -> AsyncIterator[Engine]:
    settings = engine_settings(clean_asterisk, db_url, tmp_path)
    engine = build_engine(settings, sessionmaker, clock=clock)
    await engine.start()
    await engine.wait_ready()
    yield engine
    await engine.stop()


async def _call(engine: Engine, sessionmaker, **kwargs):
    await engine.routing.reload()
    await engine.astdb.sync(engine.routing.routes)
    call = await place_call(engine.settings, did=kwargs.pop("did", DID), caller=CALLER, **kwargs)
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None, "the call never finished in the call log"
    await engine.writer.flush()
    async with sessionmaker() as session:
        legs = (await session.scalars(select(CallLeg).where(CallLeg.call_sid == row.call_sid)
                                      .order_by(CallLeg.started_at))).all()
    return row, legs


async def test_forwarded_call_answered_at_first_target(engine, sessionmaker):
    await seed_number(sessionmaker, [{"targets": ["+15550001111"], "ring_timeout": 10}])
    row, legs = await _call(engine, sessionmaker, behaviour="answer")
    assert row.status == CallLogStatus.ANSWERED_BY_STAFF
    assert row.answered_by == "+15550001111"
    assert row.call_status == "completed"
    assert row.from_number == CALLER and row.to_number == DID
    assert row.call_sid.startswith("CA") and len(row.call_sid) == 34
    assert row.duration is not None and row.duration >= 1
    assert [leg.dial_status for leg in legs] == ["answered"]


async def test_sequential_rule_falls_through_to_second_target(engine, sessionmaker):
    await seed_number(sessionmaker, [{"targets": ["+15550001111", "+15550002222"],
                                      "strategy": "sequential", "ring_timeout": 2}])
    row, legs = await _call(engine, sessionmaker, behaviour="noanswer,answer")
    assert row.status == CallLogStatus.ANSWERED_BY_STAFF
    assert row.answered_by == "+15550002222"
    assert [(leg.target, leg.dial_status) for leg in legs] == [
        ("+15550001111", "no-answer"), ("+15550002222", "answered")]


async def test_simultaneous_ring_first_answer_wins(engine, sessionmaker):
    await seed_number(sessionmaker, [{"targets": ["+15550001111", "+15550002222"],
                                      "strategy": "simultaneous", "ring_timeout": 10}])
    row, legs = await _call(engine, sessionmaker, behaviour="noanswer,answer")
    assert row.answered_by == "+15550002222"
    statuses = {leg.target: leg.dial_status for leg in legs}
    assert statuses == {"+15550001111": "canceled", "+15550002222": "answered"}
    # both legs started together
    assert abs((legs[0].started_at - legs[1].started_at).total_seconds()) < 0.5


@pytest.mark.parametrize("behaviour", ["busy", "noanswer"])
async def test_unanswered_call_goes_to_voicemail_with_spoken_audio(
        engine, sessionmaker, behaviour, asterisk):
    await seed_number(sessionmaker, [{"targets": ["+15550001111"], "ring_timeout": 2}])
    prompt = Path(asterisk.rootfs, PROMPTS.lstrip("/"), "tt-weasels.wav")
    spoken = prompt.stat().st_size / 16000  # 8 kHz, 16-bit mono
    row, _ = await _call(engine, sessionmaker, behaviour=behaviour,
                         say=f"{PROMPTS}/tt-weasels")
    assert row.status == CallLogStatus.VOICEMAIL_RECEIVED
    async with sessionmaker() as session:
        vm = await session.scalar(select(Voicemail).where(Voicemail.call_sid == row.call_sid))
    assert vm is not None and vm.status == "new" and vm.from_number == CALLER
    assert spoken - 0.5 <= vm.duration <= spoken + 2.5
    files = list((engine.settings.resolved_storage_root / "recordings").rglob("*.wav"))
    assert len(files) == 1 and files[0].stat().st_size > 8000


async def test_unknown_number_is_rejected_and_logged(engine, sessionmaker):
    await seed_number(sessionmaker, [{"targets": ["+15550001111"]}])
    row, legs = await _call(engine, sessionmaker, did="+15559999999", behaviour="answer")
    assert row.status == CallLogStatus.MISSED
    assert row.error == "unknown number"
    assert row.tenant_id is None and legs == []
