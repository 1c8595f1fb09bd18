"""Transcript search and listing on SQLite FTS5 and PostgreSQL full-text search:
filters, ranking, highlighted snippets, pagination, superseded transcripts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from transcription_helpers import seed_recording

from switchboard.models import Recording
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
