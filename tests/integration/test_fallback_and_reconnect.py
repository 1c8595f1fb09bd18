"""Engine down and Asterisk restarts: calls keep flowing, nothing is lost.

With the engine stopped, the dialplan fallback forwards calls by the AstDB
mirror and takes voicemails; the next engine reconciles them from the CDRs.
When Asterisk restarts under a running engine, ARI and AMI come back, the
AstDB mirror is rewritten and calls work again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.asterisk import AsteriskInstance
from switchboard.config import Settings
from switchboard.engine.reconcile import CdrReconciler
from switchboard.engine.service import Engine
from switchboard.models import CallLog, CallLogStatus, Recording, Voicemail
from switchboard.models.state import set_value
from switchboard.runtime import build_engine
from switchboard.simulate import SimulatedCall, place_call, wait_for_call_log
from tests.eventually import eventually
from tests.integration.engine_helpers import CALLER, DID, PROMPTS, engine_settings, seed_number

pytestmark = pytest.mark.asterisk

OTHER_CALLER = "+15557650000"


async def _started(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> Engine:
    engine = build_engine(settings, sessionmaker)
    await engine.start()
    await engine.wait_ready()
    return engine


async def _run_and_stop(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Run an engine long enough to mirror the routes (and skip old CDRs), then stop it."""
    engine = await _started(settings, sessionmaker)
    await engine.reconciler.run_once()
    await engine.stop()


async def _wait_no_channels(asterisk: AsteriskInstance, timeout: float = 30.0) -> None:
    async def gone() -> bool:
        return await asyncio.to_thread(asterisk.channel_count) == 0

    try:
        await eventually(gone, timeout=timeout, interval=0.2, what="no channel left")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{await asterisk.acli('core show channels')}") from None


async def _log_of(
    sessionmaker: async_sessionmaker[AsyncSession], call: SimulatedCall, timeout: float = 15.0
) -> CallLog:
    row = await wait_for_call_log(sessionmaker, call, timeout=timeout)
    assert row is not None, f"no call log for {call.channel_id}"
    return row


async def _wait_for_mirror(asterisk: AsteriskInstance, key: str, timeout: float = 15.0) -> str:
    async def mirror() -> str:
        text = await asterisk.acli("database show sb")
        return text if key in text else ""

    return await eventually(mirror, timeout=timeout, interval=0.2, what=f"{key} in AstDB")


@pytest.fixture
def clean_asterisk(clean_own_asterisk: AsteriskInstance) -> AsteriskInstance:
    """This module's own Asterisk (its fallback CDRs must not reach other tests' engines)."""
    return clean_own_asterisk


@pytest.fixture
def settings(clean_asterisk: AsteriskInstance, db_url: str, tmp_path: Path) -> Settings:
    return engine_settings(clean_asterisk, db_url, tmp_path)


async def test_engine_down_calls_are_forwarded_and_reconciled_once(
    clean_asterisk, settings, db_engine, sessionmaker
):
    await seed_number(sessionmaker, [{"targets": ["+15550001111"], "ring_timeout": 2}])
    await _run_and_stop(settings, sessionmaker)

    answered = await place_call(
        settings, did=DID, caller=CALLER, behaviour="answer", talk_seconds=1
    )
    voicemail = await place_call(
        settings, did=DID, caller=OTHER_CALLER, behaviour="noanswer", say=f"{PROMPTS}/tt-weasels"
    )
    await _wait_no_channels(clean_asterisk)
    vm_dir = clean_asterisk.spool_dir / "switchboard" / "vm"
    left = list(vm_dir.glob("*.wav"))
    assert left and max(f.stat().st_size for f in left) > 8000

    engine = await _started(settings, sessionmaker)
    try:
        forwarded = await _log_of(sessionmaker, answered)
        recorded = await _log_of(sessionmaker, voicemail)
        await engine.writer.flush()
        assert await engine.reconciler.run_once() == 0
    finally:
        await engine.stop()

    assert forwarded.handled_by == "fallback"
    assert forwarded.status == CallLogStatus.ANSWERED_BY_STAFF
    assert forwarded.from_number == CALLER and forwarded.to_number == DID
    assert forwarded.answered_at is not None and forwarded.tenant_id is not None
    assert forwarded.answered_by == "+15550001111"  # the rule's target, as the engine logs it

    assert recorded.handled_by == "fallback"
    assert recorded.status == CallLogStatus.VOICEMAIL_RECEIVED
    assert recorded.has_voicemail and recorded.from_number == OTHER_CALLER
    async with sessionmaker() as session:
        vm = await session.scalar(select(Voicemail).where(Voicemail.call_sid == recorded.call_sid))
        rec = await session.scalar(select(Recording).where(Recording.call_sid == recorded.call_sid))
    assert vm is not None and vm.duration > 1.0 and vm.from_number == OTHER_CALLER
    assert rec is not None and (settings.resolved_storage_root / rec.path).stat().st_size > 8000
    assert not any(vm_dir.glob("*.wav")), "the voicemail file was not moved to storage"

    # Reading the whole CDR file again (offset lost) still writes nothing twice.
    again = CdrReconciler(
        sessionmaker,
        cdr_csv=settings.asterisk_cdr_csv,
        spool_dir=settings.asterisk_spool_dir,
        recordings=engine.recordings,
        lookup=engine.routing.lookup,
    )
    async with sessionmaker() as session:
        before = await session.scalar(select(func.count()).select_from(CallLog))
    async with sessionmaker() as session, session.begin():
        await set_value(session, "cdr_csv_offset", "0")
    await again.run_once()
    async with sessionmaker() as session:
        after = await session.scalar(select(func.count()).select_from(CallLog))
        mine = await session.scalar(
            select(func.count())
            .select_from(CallLog)
            .where(CallLog.external_id.in_([answered.channel_id, voicemail.channel_id]))
        )
    assert mine == 2
    assert after == before


async def test_ari_and_ami_reconnect_after_asterisk_restart_and_rewrite_astdb(
    clean_asterisk, settings, db_engine, sessionmaker
):
    await seed_number(sessionmaker, [{"targets": ["+15550001111"], "ring_timeout": 5}])
    engine = await _started(settings, sessionmaker)
    try:
        ari_since = engine.ari.status.connected_since
        ami_since = engine.ami.status.connected_since
        assert f"/sb/{DID}/1/dial" in await clean_asterisk.acli("database show sb")
        # Empty the mirror behind the engine's back: only a rewrite brings it back.
        await clean_asterisk.acli("database deltree sb")
        assert DID not in await clean_asterisk.acli("database show sb")

        await asyncio.to_thread(clean_asterisk.restart, 60)

        await engine.ari.wait_status(
            lambda s: s.connected and s.connected_since != ari_since, timeout=30
        )
        await engine.ami.wait_status(
            lambda s: s.connected and s.connected_since != ami_since, timeout=30
        )
        mirror = await _wait_for_mirror(clean_asterisk, f"/sb/{DID}/1/dial")
        assert f"/sb/{DID}/on" in mirror

        call = await place_call(
            settings, did=DID, caller=CALLER, behaviour="answer", talk_seconds=1
        )
        row = await _log_of(sessionmaker, call, timeout=30)
    finally:
        await engine.stop()
    assert row.handled_by == "engine"
    assert row.status == CallLogStatus.ANSWERED_BY_STAFF
    assert row.answered_by == "+15550001111"
