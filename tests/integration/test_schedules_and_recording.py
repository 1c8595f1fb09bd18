"""Time-of-day rules (engine and fallback) and recorded calls, on a real Asterisk.

The engine's clock is injected, so a rule's schedule is on or off whatever
the real time; the fallback reads the real time through ``IFTIME``, so its
windows are built around the real current time in the tenant's zone.
"""

from __future__ import annotations

import asyncio
import wave
from array import array
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from switchboard.asterisk import AsteriskInstance
from switchboard.config import Settings
from switchboard.engine.reconcile import MissedCall, fold_missed_calls, parse_rows
from switchboard.engine.service import Engine
from switchboard.models import CallLog, CallLogStatus, Recording, TranscriptionJob
from switchboard.runtime import build_engine
from switchboard.simulate import place_call, wait_for_call_log
from tests.eventually import eventually
from tests.integration.engine_helpers import CALLER, DID, engine_settings, seed_number

pytestmark = pytest.mark.asterisk

ZONE = "America/New_York"
DAYTIME = "+15550001111"
ALWAYS = "+15550002222"
WEEKDAYS_9_TO_5 = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}]


class ShiftedClock:
    """Real time moved to ``start`` (so time still passes during a call)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def set(self, local: datetime) -> None:
        self.offset = local.astimezone(UTC) - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _rules(schedule: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A scheduled rule first, then an always-on rule to fall back on."""
    return [
        {"targets": [DAYTIME], "ring_timeout": 5, "schedule": schedule},
        {"targets": [ALWAYS], "ring_timeout": 5},
    ]


@pytest.fixture
def clean_asterisk(clean_own_asterisk: AsteriskInstance) -> AsteriskInstance:
    """This module's own Asterisk (its fallback CDRs must not reach other tests' engines)."""
    return clean_own_asterisk


@pytest.fixture
def settings(clean_asterisk: AsteriskInstance, db_url: str, tmp_path: Path) -> Settings:
    return engine_settings(clean_asterisk, db_url, tmp_path)


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
async def engine(settings, db_engine, sessionmaker, clock) -> AsyncIterator[Engine]:
    engine = build_engine(settings, sessionmaker, clock=clock)
    await engine.start()
    await engine.wait_ready()
    yield engine
    await engine.stop()


async def _engine_call(engine: Engine, sessionmaker, **kwargs: Any) -> CallLog:
    await engine.routing.reload()
    call = await place_call(engine.settings, did=DID, caller=CALLER, **kwargs)
    row = await wait_for_call_log(sessionmaker, call, timeout=30)
    assert row is not None, "the call never finished in the call log"
    await engine.writer.flush()
    return row


def _channel_levels(path: Path) -> tuple[float, float]:
    """Mean absolute sample of the left and right channels of a stereo WAV."""
    with wave.open(str(path), "rb") as wav:
        samples = array("h", wav.readframes(wav.getnframes()))
    left, right = samples[0::2], samples[1::2]
    return sum(map(abs, left)) / max(len(left), 1), sum(map(abs, right)) / max(len(right), 1)


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(ZONE))


@pytest.mark.parametrize(
    ("local_time", "answered_by"),
    [
        ("2026-11-25 10:00", DAYTIME),  # Wednesday morning
        ("2026-11-25 16:59", DAYTIME),  # last minute of the window
        ("2026-11-25 17:00", ALWAYS),  # the end is exclusive
        ("2026-11-25 08:59", ALWAYS),  # before opening
        ("2026-11-28 10:00", ALWAYS),  # Saturday
    ],
)
async def test_time_of_day_rule_follows_the_tenant_clock(
    engine, sessionmaker, clock, local_time, answered_by
):
    await seed_number(sessionmaker, _rules(WEEKDAYS_9_TO_5), timezone=ZONE)
    clock.set(_local(local_time))
    row = await _engine_call(engine, sessionmaker, behaviour="answer", talk_seconds=0.5)
    assert row.status == CallLogStatus.ANSWERED_BY_STAFF
    assert row.answered_by == answered_by


def _windows_around_now(now: datetime, *, inside: bool) -> list[dict[str, Any]]:
    """A window of today containing ``now`` (local), or one of today missing it."""
    minute = now.hour * 60 + now.minute
    if inside:
        start, end = max(0, minute - 30), min(24 * 60, minute + 30)
    elif minute < 12 * 60:
        start, end = minute + 60, minute + 120
    else:
        start, end = minute - 120, minute - 60

    def hhmm(m: int) -> str:
        return f"{m // 60:02d}:{m % 60:02d}"

    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]
    return [{"days": [day], "start": hhmm(start), "end": hhmm(end)}]


def _read_cdrs(settings: Settings) -> str:
    assert settings.asterisk_cdr_csv is not None
    try:
        return settings.asterisk_cdr_csv.read_text()
    except FileNotFoundError:  # no call has ended yet on this Asterisk
        return ""


async def _fallback_call(asterisk: AsteriskInstance, settings: Settings) -> MissedCall:
    call = await place_call(settings, did=DID, caller=CALLER, behaviour="answer", talk_seconds=0.5)

    async def ended() -> MissedCall | None:
        text = await asyncio.to_thread(_read_cdrs, settings)
        mine = [m for m in fold_missed_calls(parse_rows(text)) if m.linkedid == call.channel_id]
        if mine and mine[0].end is not None and await asyncio.to_thread(asterisk.channel_count) == 0:
            return mine[0]
        return None

    return await eventually(ended, timeout=30, interval=0.3, what="the fallback call's CDR")


@pytest.mark.parametrize(("inside", "slot"), [(True, 1), (False, 2)])
async def test_fallback_applies_time_of_day_windows_with_iftime(
    clean_asterisk, settings, db_engine, sessionmaker, inside, slot
):
    now = datetime.now(ZoneInfo(ZONE))
    if now.hour == 23 and now.minute >= 58 or now.hour == 0 and now.minute < 2:
        pytest.skip("too close to midnight for a same-day window")  # pragma: no cover
    await seed_number(sessionmaker, _rules(_windows_around_now(now, inside=inside)), timezone=ZONE)
    engine = build_engine(settings, sessionmaker)
    await engine.start()
    await engine.wait_ready()
    await engine.stop()
    missed = await _fallback_call(clean_asterisk, settings)
    assert missed.answered_by is not None
    assert missed.answered_by.startswith(f"Local/{slot}@sb-sim-")


async def test_recorded_call_keeps_both_sides_and_queues_transcription(
    engine, sessionmaker, settings
):
    await seed_number(sessionmaker, [{"targets": [DAYTIME], "ring_timeout": 5}], record=True)
    row = await _engine_call(engine, sessionmaker, behaviour="answer", talk_seconds=2)
    assert row.status == CallLogStatus.ANSWERED_BY_STAFF
    async with sessionmaker() as session:
        recording = await session.scalar(
            select(Recording).where(Recording.call_sid == row.call_sid)
        )
        assert recording is not None
        job = await session.scalar(
            select(TranscriptionJob).where(TranscriptionJob.recording_id == recording.id)
        )
        fresh = await session.scalar(select(CallLog).where(CallLog.call_sid == row.call_sid))
    assert fresh is not None and fresh.has_recording
    assert job is not None
    assert recording.channels == 2
    path = settings.resolved_storage_root / recording.path
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 2 and wav.getframerate() == 8000
        seconds = wav.getnframes() / wav.getframerate()
    assert 1.0 <= seconds <= 4.0
    assert abs(recording.duration - seconds) < 0.01
    caller, callee = _channel_levels(path)
    assert callee > 500 > caller  # the answering phone's tone, on the callee's side only


async def test_fallback_recorded_call_is_reconciled_with_both_sides(
    clean_asterisk, settings, db_engine, sessionmaker
):
    await seed_number(sessionmaker, [{"targets": [DAYTIME], "ring_timeout": 5}], record=True)
    engine = build_engine(settings, sessionmaker)
    await engine.start()
    await engine.wait_ready()
    await engine.reconciler.run_once()
    await engine.stop()
    missed = await _fallback_call(clean_asterisk, settings)
    assert missed.answered_by is not None

    engine = build_engine(settings, sessionmaker)
    await engine.start()
    try:
        await engine.reconciler.run_once()
    finally:
        await engine.stop()
    async with sessionmaker() as session:
        row = await session.scalar(select(CallLog).where(CallLog.external_id == missed.linkedid))
        assert row is not None
        recording = await session.scalar(
            select(Recording).where(Recording.call_sid == row.call_sid)
        )
        assert recording is not None
        job = await session.scalar(
            select(TranscriptionJob).where(TranscriptionJob.recording_id == recording.id)
        )
    assert row.handled_by == "fallback" and row.has_recording and job is not None
    assert recording.channels == 2 and recording.duration > 0.3
    caller, callee = _channel_levels(settings.resolved_storage_root / recording.path)
    assert callee > 500 > caller  # the answering phone's tone, on the callee's side only
    assert not list((clean_asterisk.spool_dir / "switchboard" / "rec").iterdir())
