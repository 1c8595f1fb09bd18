"""Transcript search and listing on SQLite FTS5 and PostgreSQL full-text search:
filters, ranking, highlighted snippets, pagination, superseded transcripts,
the index kept by triggers (migration 0010) and its migration of old rows."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from alembic import command
from sqlalchemy import delete, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from transcription_helpers import seed_recording

from switchboard import ids
from switchboard.models import CallLog, Recording, Tenant, Transcript
from switchboard.models.migrate import alembic_config
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.services import transcripts as service
from switchboard.services.exceptions import BadRequest, NotFound
from switchboard.transcription.transcriber import Segment, TranscriptResult

Sessions = async_sessionmaker[AsyncSession]
DAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def result(text: str, model: str = "tiny.en") -> TranscriptResult:
    segment = Segment(start=0.0, end=2.0, text=text, speaker="caller", channel=0, confidence=0.9)
    return TranscriptResult(
        text=text, segments=[segment], language="en", model=model,
        audio_seconds=2.0, processing_seconds=0.1,
    )


@pytest.fixture
def silence(tmp_path: Path) -> Path:
    path = tmp_path / "silence.wav"
    sf.write(str(path), np.zeros(8000, dtype=np.int16), 8000, subtype="PCM_16")
    return path


async def add_call(
    sessionmaker: Sessions, storage: Path, audio: Path, text: str, **call: object
) -> Recording:
    async with sessionmaker() as session, session.begin():
        rec = await seed_recording(session, storage, audio, enqueue=False, **call)  # type: ignore[arg-type]
        await session.flush()
        await service.save_transcript(session, rec, result(text))
    return rec


async def test_search_filters_by_direction_number_and_date_range(
    sessionmaker: Sessions, tmp_path: Path, silence: Path
) -> None:
    inbound = await add_call(
        sessionmaker, tmp_path, silence, "please call me back about the invoice",
        direction="INBOUND", from_number="+15551230001", started_at=DAY,
    )
    outbound = await add_call(
        sessionmaker, tmp_path, silence, "calling about your invoice from last week",
        direction="OUTBOUND", to_number="+15551230002", started_at=DAY + timedelta(days=3),
    )
    async with sessionmaker() as session:
        both = await service.search_transcripts(session, "invoice")
        only_in = await service.search_transcripts(session, "invoice", direction="inbound")
        by_number = await service.search_transcripts(session, "invoice", number="+15551230002")
        late = await service.search_transcripts(
            session, "invoice", date_start=DAY + timedelta(days=1)
        )
        early = await service.search_transcripts(
            session, "invoice", date_end=DAY + timedelta(days=1)
        )
    assert {h.call_sid for h in both.items} == {inbound.call_sid, outbound.call_sid}
    assert [h.call_sid for h in only_in.items] == [inbound.call_sid]
    assert [h.call_sid for h in by_number.items] == [outbound.call_sid]
    assert [h.call_sid for h in late.items] == [outbound.call_sid]
    assert [h.call_sid for h in early.items] == [inbound.call_sid]
    assert early.items[0].started_at == DAY
    assert early.items[0].direction == "INBOUND"


async def test_every_word_must_match_and_the_snippet_marks_them(
    sessionmaker: Sessions, tmp_path: Path, silence: Path
) -> None:
    await add_call(sessionmaker, tmp_path, silence, "the delivery truck arrives on monday")
    await add_call(sessionmaker, tmp_path, silence, "the delivery was cancelled")
    async with sessionmaker() as session:
        page = await service.search_transcripts(session, "delivery monday")
    assert page.total == 1
    snippet = page.items[0].snippet
    assert "<mark>delivery</mark>" in snippet and "<mark>monday</mark>" in snippet


async def test_better_match_ranks_first(
    sessionmaker: Sessions, tmp_path: Path, silence: Path
) -> None:
    weak = await add_call(
        sessionmaker, tmp_path, silence,
        "we talked about many things today such as weather holidays and a refund maybe",
    )
    strong = await add_call(
        sessionmaker, tmp_path, silence, "refund refund I want my refund for the refund order"
    )
    async with sessionmaker() as session:
        page = await service.search_transcripts(session, "refund")
    assert [h.call_sid for h in page.items] == [strong.call_sid, weak.call_sid]


async def test_search_pages_and_ignores_superseded_transcripts(
    sessionmaker: Sessions, tmp_path: Path, silence: Path
) -> None:
    recs = [
        await add_call(sessionmaker, tmp_path, silence, f"appointment number {i}")
        for i in range(3)
    ]
    async with sessionmaker() as session, session.begin():
        await service.save_transcript(session, recs[0], result("nothing relevant", model="base"))
    async with sessionmaker() as session:
        first = await service.search_transcripts(session, "appointment", page=1, limit=1)
        second = await service.search_transcripts(session, "appointment", page=2, limit=1)
        listed = await service.list_transcripts(session, page=1, limit=10)
    assert first.total == second.total == 2
    assert {first.items[0].call_sid, second.items[0].call_sid} == {recs[1].call_sid, recs[2].call_sid}
    assert listed.total == 3
    assert {t.model for t in listed.items} == {"tiny.en", "base"}


async def test_search_refuses_a_query_without_words(sessionmaker: Sessions) -> None:
    async with sessionmaker() as session:
        with pytest.raises(BadRequest):
            await service.search_transcripts(session, ' "*" ')
        quoted = await service.search_transcripts(session, 'AND "OR" NEAR(')
    assert quoted.total == 0


async def test_a_call_without_transcript_is_not_found(sessionmaker: Sessions) -> None:
    async with sessionmaker() as session:
        with pytest.raises(NotFound):
            await service.get_call_transcripts(session, "CA" + "0" * 32)


async def test_enqueue_adds_the_job_in_the_recording_transaction(
    sessionmaker: Sessions, tmp_path: Path, silence: Path
) -> None:
    async with sessionmaker() as session, session.begin():
        rec = await seed_recording(session, tmp_path, silence)
    async with sessionmaker() as session:
        job = await service.job_for_recording(session, rec.id)
    assert job is not None and job.status == "queued" and job.model is None


async def test_a_call_log_written_after_its_transcript_reindexes_it(
    sessionmaker: Sessions,
) -> None:
    sid = ids.call_sid()
    async with sessionmaker() as session, session.begin():
        rec = Recording(recording_sid=ids.recording_sid(), call_sid=sid, path="r/x.wav",
                        source="call", duration=2.0)
        session.add(rec)
        await session.flush()
        await service.save_transcript(session, rec, result("the parcel never arrived"))
    async with sessionmaker() as session:
        unfiled = await service.search_transcripts(session, "parcel", direction="outbound")
        anywhere = await service.search_transcripts(session, "parcel")
    assert unfiled.total == 0 and [h.call_sid for h in anywhere.items] == [sid]
    assert anywhere.items[0].direction is None
    async with sessionmaker() as session, session.begin():
        session.add(CallLog(call_sid=sid, direction="OUTBOUND", status="ANSWERED_BY_STAFF",
                            from_number="+15550009999", to_number="+15550008888",
                            started_at=DAY))
    async with sessionmaker() as session:
        outbound = await service.search_transcripts(session, "parcel", direction="outbound")
        by_number = await service.search_transcripts(session, "parcel", number="+15550008888")
        that_day = await service.search_transcripts(
            session, "parcel", date_start=DAY, date_end=DAY + timedelta(days=1)
        )
        day_after = await service.search_transcripts(
            session, "parcel", date_start=DAY + timedelta(days=1)
        )
    assert [h.call_sid for h in outbound.items] == [sid]
    assert outbound.items[0].direction == "OUTBOUND"
    assert [h.call_sid for h in by_number.items] == [sid]
    assert [h.call_sid for h in that_day.items] == [sid]
    assert day_after.total == 0
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(CallLog).where(CallLog.call_sid == sid).values(direction="INBOUND")
        )
    async with sessionmaker() as session:
        outbound = await service.search_transcripts(session, "parcel", direction="outbound")
        inbound = await service.search_transcripts(session, "parcel", direction="inbound")
    assert outbound.total == 0 and [h.call_sid for h in inbound.items] == [sid]


async def test_search_keeps_to_the_tenant_and_forgets_deleted_transcripts(
    sessionmaker: Sessions, tmp_path: Path, silence: Path
) -> None:
    async with sessionmaker() as session, session.begin():
        mine, theirs = Tenant(name="Mine"), Tenant(name="Theirs")
        session.add_all([mine, theirs])
    recs = {}
    for tenant in (mine, theirs):
        rec = await add_call(sessionmaker, tmp_path, silence, "the boiler is leaking again")
        async with sessionmaker() as session, session.begin():
            await session.execute(
                update(Transcript).where(Transcript.recording_id == rec.id)
                .values(tenant_id=tenant.id)
            )
        recs[tenant.id] = rec
    async with sessionmaker() as session:
        page = await service.search_transcripts(session, "boiler", tenant_id=mine.id)
        everyone = await service.search_transcripts(session, "boiler")
    assert [h.call_sid for h in page.items] == [recs[mine.id].call_sid]
    assert everyone.total == 2
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(Transcript).where(Transcript.recording_id == recs[mine.id].id))
    async with sessionmaker() as session:
        gone = await service.search_transcripts(session, "boiler", tenant_id=mine.id)
        kept = await service.search_transcripts(session, "boiler", tenant_id=theirs.id)
    assert gone.total == 0 and gone.items == []
    assert [h.call_sid for h in kept.items] == [recs[theirs.id].call_sid]


async def test_many_matches_rank_within_newest_blocks_and_pages_cover_each_once(
    sessionmaker: Sessions, tmp_path: Path, silence: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "RANK_WINDOW", 3)
    monkeypatch.setattr(service, "COUNT_CAP", 5)
    # Day 0 is the oldest; "refund" said 1 to 3 times, in varying amounts of other words.
    strengths = [1, 3, 1, 2, 3, 1, 2]
    calls = []
    for day, times in enumerate(strengths):
        words = " ".join(["refund"] * times + ["about", "the", "order"] * (4 - times))
        rec = await add_call(sessionmaker, tmp_path, silence, words,
                             started_at=DAY + timedelta(days=day))
        calls.append(rec.call_sid)
    await add_call(sessionmaker, tmp_path, silence, "nothing to see here")
    async with sessionmaker() as session:
        pages = [await service.search_transcripts(session, "refund", page=n, limit=2)
                 for n in (1, 2, 3, 4, 5)]
        all_at_once = await service.search_transcripts(session, "refund", limit=10)
    seen = [h.call_sid for p in pages for h in p.items]
    assert sorted(seen) == sorted(calls)  # every match once, across block boundaries
    assert seen == [h.call_sid for h in all_at_once.items]
    assert pages[0].total == 5 and pages[0].total_exact is False
    assert pages[4].items == []
    # Newest block (days 6, 5, 4) first, best match first within it; then days 3, 2, 1; then 0.
    assert seen == [calls[4], calls[6], calls[5], calls[1], calls[3], calls[2], calls[0]]
    ranks = [h.rank for h in all_at_once.items]
    assert ranks[0] > ranks[1] > ranks[2] and ranks[3] > ranks[4] > ranks[5]


async def test_a_word_not_said_is_not_found_and_a_small_total_is_exact(
    sessionmaker: Sessions, tmp_path: Path, silence: Path
) -> None:
    await add_call(sessionmaker, tmp_path, silence, "my voicemail box is full")
    async with sessionmaker() as session:
        found = await service.search_transcripts(session, "voicemail")
        missing = await service.search_transcripts(session, "elephant")
        half = await service.search_transcripts(session, "voicemail elephant")
    assert found.total == 1 and found.total_exact
    assert missing.total == 0 and missing.items == [] and missing.total_exact
    assert half.total == 0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def fresh_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """An empty database of its own (migrations are run by the test)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        await engine.dispose()
        return
    admin_url = os.environ.get(
        "SWITCHBOARD_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    name = f"sb_fresh_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url)
    async with admin.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
            text(f'CREATE DATABASE "{name}"')
        )
    engine = make_engine(admin_url.rsplit("/", 1)[0] + f"/{name}")
    yield engine
    await engine.dispose()
    async with admin.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
            text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )
    await admin.dispose()


async def _alembic(engine: AsyncEngine, action: str, revision: str) -> None:
    cfg = alembic_config()

    def run(connection: object) -> None:
        cfg.attributes["connection"] = connection
        getattr(command, action)(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def test_migration_0010_indexes_the_transcripts_already_there(
    fresh_engine: AsyncEngine, tmp_path: Path, silence: Path
) -> None:
    await _alembic(fresh_engine, "upgrade", "heads")
    await _alembic(fresh_engine, "downgrade", "0010@-1")  # search as migration 0002 left it
    sessions = make_sessionmaker(fresh_engine)
    old = await add_call(sessions, tmp_path, silence, "the invoice was paid twice",
                         direction="OUTBOUND", to_number="+15551230002", started_at=DAY)
    await add_call(sessions, tmp_path, silence, "the invoice is late")
    async with sessions() as session, session.begin():
        await service.save_transcript(session, old, result("the invoice was paid once"))
    await _alembic(fresh_engine, "upgrade", "heads")
    async with sessions() as session:
        every = await service.search_transcripts(session, "invoice")
        filtered = await service.search_transcripts(
            session, "invoice", direction="outbound", number="+15551230002",
            date_start=DAY, date_end=DAY + timedelta(hours=1),
        )
        superseded = await service.search_transcripts(session, "twice")
    assert every.total == 2
    assert [h.call_sid for h in filtered.items] == [old.call_sid]
    assert "<mark>invoice</mark>" in filtered.items[0].snippet
    assert superseded.total == 0
    # New transcripts are indexed by the new triggers.
    await add_call(sessions, tmp_path, silence, "a third invoice")
    async with sessions() as session:
        assert (await service.search_transcripts(session, "invoice")).total == 3


async def test_total_is_exact_up_to_the_cap_and_a_lower_bound_past_it(
    sessionmaker: Sessions, tmp_path: Path, silence: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "RANK_WINDOW", 3)
    monkeypatch.setattr(service, "COUNT_CAP", 3)
    for day in range(3):
        await add_call(sessionmaker, tmp_path, silence, "a question about billing",
                       started_at=DAY + timedelta(days=day))
    async with sessionmaker() as session:
        exact = await service.search_transcripts(session, "billing", limit=2)
    assert (exact.total, exact.total_exact, len(exact.items)) == (3, True, 2)
    await add_call(sessionmaker, tmp_path, silence, "billing again")
    async with sessionmaker() as session:
        capped = await service.search_transcripts(session, "billing", limit=2)
        last = await service.search_transcripts(session, "billing", page=2, limit=2)
        beyond = await service.search_transcripts(session, "billing", page=3, limit=2)
    assert (capped.total, capped.total_exact) == (3, False)
    assert (last.total, last.total_exact, len(last.items)) == (3, False, 2)
    assert beyond.items == [] and beyond.total == 3 and beyond.total_exact is False
