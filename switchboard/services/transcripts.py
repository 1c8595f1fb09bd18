"""Transcripts: queue a recording for transcription, read, search, re-transcribe.

The engine calls :func:`enqueue_transcription` in the transaction that adds
the recording row, so no recording is ever left without its job. The worker
stores results with :func:`save_transcript`; older transcripts of the same
recording stay, with their model name, and lose ``is_current``.

Search is full-text: SQLite FTS5 (table ``transcripts_fts``, kept by
triggers) or PostgreSQL ``tsvector`` (generated column ``search_vector``
with a GIN index), both from migration 0002; ranked, with ``<mark>``
highlighted snippets.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.ids import new_uuid
from switchboard.models import Recording, SystemState, Transcript, TranscriptionJob, Voicemail
from switchboard.models.base import UTCDateTime, utcnow
from switchboard.services.exceptions import BadRequest, NotFound
from switchboard.services.paging import Page, check_paging, paginate

if TYPE_CHECKING:
    from switchboard.transcription.transcriber import TranscriptResult

HEARTBEAT_PREFIX = "worker_heartbeat:"
MARK_START, MARK_END = "<mark>", "</mark>"
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One transcript matching a search, with its call's facts."""

    transcript_id: str
    recording_id: str
    call_sid: str | None
    model: str
    snippet: str
    rank: float
    created_at: datetime
    started_at: datetime | None
    direction: str | None
    from_number: str | None
    to_number: str | None


@dataclass(frozen=True, slots=True)
class WorkerHeartbeat:
    """The last sign of life of one transcription worker."""

    worker_id: str
    at: datetime
    state: str
    details: dict[str, Any]


# -- writing ---------------------------------------------------------------


def enqueue_transcription(
    session: AsyncSession, recording: Recording, *, model: str | None = None
) -> TranscriptionJob:
    """Queue a transcription job for ``recording`` in the caller's transaction.

    Args:
        session: The session that adds (or added) the recording; the caller commits.
        recording: The recording row; its ``id`` is assigned here if still empty.
        model: A model other than the worker's default (re-transcription).

    Returns:
        The new job (status ``queued``, due now).
    """
    if recording.id is None:
        recording.id = new_uuid()
    job = TranscriptionJob(
        recording_id=recording.id,
        tenant_id=recording.tenant_id,
        model=model,
        status="queued",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(job)
    return job


async def save_transcript(
    session: AsyncSession, recording: Recording, result: TranscriptResult
) -> Transcript:
    """Store a transcription result as the recording's current transcript.

    Older transcripts are kept with ``is_current`` false. When the recording is
    a voicemail, its text is copied to ``Voicemail.transcription``.
    """
    await session.execute(
        update(Transcript)
        .where(Transcript.recording_id == recording.id, Transcript.is_current.is_(True))
        .values(is_current=False)
        .execution_options(synchronize_session=False)
    )
    transcript = Transcript(
        tenant_id=recording.tenant_id,
        recording_id=recording.id,
        call_sid=recording.call_sid,
        model=result.model,
        language=result.language,
        text=result.text,
        segments=[s.as_dict() for s in result.segments],
        audio_seconds=result.audio_seconds,
        processing_seconds=result.processing_seconds,
        is_current=True,
    )
    session.add(transcript)
    await session.execute(
        update(Voicemail)
        .where(Voicemail.recording_id == recording.id)
        .values(transcription=result.text, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return transcript


async def retranscribe(
    session: AsyncSession,
    *,
    model: str,
    call_sid: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tenant_id: str | None = None,
) -> list[TranscriptionJob]:
    """Queue recordings of a call, or of a date range, for another model.

    Previous transcripts stay (with their model name) until the new one lands.
    A recording that already has a pending job for ``model`` is skipped.

    Args:
        session: The caller commits.
        model: The model to transcribe with (name or directory).
        call_sid: One call's recordings; or else
        since: recordings created at or after this time, and
        until: before this time.
        tenant_id: Only this tenant's recordings (None: all, for operators).

    Returns:
        The queued jobs.

    Raises:
        BadRequest: Neither a call nor a date range was given.
    """
    if call_sid is None and since is None and until is None:
        raise BadRequest("give a call_sid or a date range", field="call_sid")
    stmt = select(Recording)
    if call_sid is not None:
        stmt = stmt.where(Recording.call_sid == call_sid)
    if since is not None:
        stmt = stmt.where(Recording.created_at >= since)
    if until is not None:
        stmt = stmt.where(Recording.created_at < until)
    if tenant_id is not None:
        stmt = stmt.where(Recording.tenant_id == tenant_id)
    pending = select(TranscriptionJob.recording_id).where(
        TranscriptionJob.model == model, TranscriptionJob.status.in_(("queued", "running"))
    )
    stmt = stmt.where(Recording.id.not_in(pending)).order_by(Recording.created_at)
    recordings = (await session.execute(stmt)).scalars().all()
    return [enqueue_transcription(session, rec, model=model) for rec in recordings]


# -- reading ---------------------------------------------------------------


async def get_call_transcripts(
    session: AsyncSession, call_sid: str, *, tenant_id: str | None = None
) -> list[Transcript]:
    """The current transcripts of a call's recordings, oldest recording first.

    Raises:
        NotFound: The call has no transcript (in this tenant).
    """
    stmt = select(Transcript).where(
        Transcript.call_sid == call_sid, Transcript.is_current.is_(True)
    )
    if tenant_id is not None:
        stmt = stmt.where(Transcript.tenant_id == tenant_id)
    rows = (await session.execute(stmt.order_by(Transcript.created_at))).scalars().all()
    if not rows:
        raise NotFound("Transcript not found", field="call_id")
    return list(rows)


async def transcript_history(session: AsyncSession, recording_id: str) -> list[Transcript]:
    """Every transcript of a recording, newest first (current and superseded)."""
    stmt = (
        select(Transcript)
        .where(Transcript.recording_id == recording_id)
        .order_by(Transcript.created_at.desc())
    )
    return list((await session.execute(stmt)).scalars().all())


async def job_for_recording(session: AsyncSession, recording_id: str) -> TranscriptionJob | None:
    """The latest transcription job of a recording (its status, attempts, last error)."""
    stmt = (
        select(TranscriptionJob)
        .where(TranscriptionJob.recording_id == recording_id)
        .order_by(TranscriptionJob.created_at.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_transcripts(
    session: AsyncSession, *, tenant_id: str | None = None, page: int = 1, limit: int = 25
) -> Page[Transcript]:
    """Current transcripts, newest first, one page with the total."""
    stmt = select(Transcript).where(Transcript.is_current.is_(True))
    if tenant_id is not None:
        stmt = stmt.where(Transcript.tenant_id == tenant_id)
    stmt = stmt.order_by(Transcript.created_at.desc(), Transcript.id)
    return await paginate(session, stmt, page, limit)


async def worker_heartbeats(session: AsyncSession) -> list[WorkerHeartbeat]:
    """The heartbeats of every transcription worker that ever ran (for /health/ready)."""
    stmt = select(SystemState).where(SystemState.key.startswith(HEARTBEAT_PREFIX))
    beats: list[WorkerHeartbeat] = []
    for row in (await session.execute(stmt)).scalars():
        data = json.loads(row.value or "{}")
        beats.append(
            WorkerHeartbeat(
                worker_id=row.key.removeprefix(HEARTBEAT_PREFIX),
                at=datetime.fromisoformat(data.pop("at")),
                state=str(data.pop("state", "unknown")),
                details=data,
            )
        )
    return beats


# -- search ----------------------------------------------------------------


def _fts5_query(q: str) -> str:
    """Every word of ``q`` as a quoted FTS5 string: all must occur, no syntax."""
    return " ".join(f'"{w}"' for w in _WORD.findall(q))


async def search_transcripts(
    session: AsyncSession,
    q: str,
    *,
    tenant_id: str | None = None,
    date_start: datetime | None = None,
    date_end: datetime | None = None,
    direction: str | None = None,
    number: str | None = None,
    page: int = 1,
    limit: int = 25,
) -> Page[SearchHit]:
    """Full-text search over current transcripts, best match first.

    Args:
        session: The database session (SQLite or PostgreSQL).
        q: Words to find; every word must occur (stemmed on PostgreSQL).
        tenant_id: Only this tenant's transcripts (None: all).
        date_start: Calls started at or after this time.
        date_end: Calls started before this time.
        direction: ``inbound`` or ``outbound`` (any case).
        number: A number the call was from or to.
        page: 1-based page.
        limit: Hits per page.

    Returns:
        One page of hits with ``<mark>`` highlighted snippets, and the total.

    Raises:
        BadRequest: ``q`` has no words, or a paging value is out of range.
    """
    check_paging(page, limit)
    if not _WORD.search(q or ""):
        raise BadRequest("q must contain at least one word", field="q")
    dialect = session.get_bind().dialect
    postgres = dialect.name == "postgresql"
    where = ["t.is_current = :current"]
    params: dict[str, Any] = {"current": True, "limit": limit, "offset": (page - 1) * limit}
    if tenant_id is not None:
        where.append("t.tenant_id = :tenant_id")
        params["tenant_id"] = tenant_id
    if date_start is not None:
        where.append("COALESCE(c.started_at, t.created_at) >= :date_start")
        params["date_start"] = date_start
    if date_end is not None:
        where.append("COALESCE(c.started_at, t.created_at) < :date_end")
        params["date_end"] = date_end
    if direction:
        where.append("c.direction = :direction")
        params["direction"] = direction.upper()
    if number:
        where.append("(c.from_number = :number OR c.to_number = :number)")
        params["number"] = number
    if postgres:
        params["q"] = q
        source = (
            "FROM transcripts t CROSS JOIN websearch_to_tsquery('english', :q) AS query "
            "LEFT JOIN call_logs c ON c.call_sid = t.call_sid"
        )
        where.append("t.search_vector @@ query")
        snippet = (
            "ts_headline('english', t.text, query, 'StartSel=<mark>, StopSel=</mark>, "
            'MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "\')'
        )
        score, order = "ts_rank_cd(t.search_vector, query)", "score DESC"
    else:
        params["q"] = _fts5_query(q)
        source = (
            "FROM transcripts_fts f JOIN transcripts t ON t.id = f.transcript_id "
            "LEFT JOIN call_logs c ON c.call_sid = t.call_sid"
        )
        where.append("transcripts_fts MATCH :q")
        snippet = f"snippet(transcripts_fts, 0, '{MARK_START}', '{MARK_END}', '…', 16)"
        score, order = "bm25(transcripts_fts)", "score ASC"
    condition = " AND ".join(where)
    dates = [bindparam(n, type_=UTCDateTime()) for n in ("date_start", "date_end") if n in params]
    count_sql = text(f"SELECT COUNT(*) {source} WHERE {condition}").bindparams(*dates)
    count_params = {k: v for k, v in params.items() if k not in ("limit", "offset")}
    total = (await session.execute(count_sql, count_params)).scalar_one()
    rows_sql = text(
        f"SELECT t.id, t.recording_id, t.call_sid, t.model, {snippet} AS snippet, "
        f"{score} AS score, t.created_at, c.started_at, c.direction, c.from_number, "
        f"c.to_number {source} WHERE {condition} ORDER BY {order}, t.created_at DESC "
        "LIMIT :limit OFFSET :offset"
    ).bindparams(*dates)
    rows = (await session.execute(rows_sql, params)).all()
    as_utc = UTCDateTime()
    hits = [
        SearchHit(
            transcript_id=r[0],
            recording_id=r[1],
            call_sid=r[2],
            model=r[3],
            snippet=r[4] or "",
            rank=abs(float(r[5] or 0.0)),
            created_at=_as_datetime(as_utc, r[6], dialect) or utcnow(),
            started_at=_as_datetime(as_utc, r[7], dialect),
            direction=r[8],
            from_number=r[9],
            to_number=r[10],
        )
        for r in rows
    ]
    return Page(items=hits, total=int(total), page=page, limit=limit)


def _as_datetime(kind: UTCDateTime, value: Any, dialect: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return kind.process_result_value(value, dialect)
