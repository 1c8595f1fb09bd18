"""Transcripts: queue a recording for transcription, read, search, re-transcribe.

The engine calls :func:`enqueue_transcription` in the transaction that adds
the recording row, so no recording is ever left without its job. The worker
stores results with :func:`save_transcript`; older transcripts of the same
recording stay, with their model name, and lose ``is_current``.

Search is full-text: SQLite FTS5 or PostgreSQL ``tsvector`` (a GIN index),
in a ``transcript_search`` index kept by triggers (migration 0010) that also
holds each transcript's tenant, direction, numbers and time, so filters and
counts need no join. Ranked within blocks of the newest matches, with
``<mark>`` highlighted snippets; counts are capped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import TextClause, bindparam, column, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.ids import new_uuid
from switchboard.models import (
    Recording,
    SystemState,
    Transcript,
    TranscriptionJob,
    Voicemail,
)
from switchboard.models.base import UTCDateTime, utcnow
from switchboard.services.exceptions import BadRequest, NotFound
from switchboard.services.paging import Page, check_paging, paginate


class TranscribedSegment(Protocol):
    """What is stored of one segment of a transcription."""

    def as_dict(self) -> dict[str, Any]:
        """The segment, JSON-ready."""


class TranscriptResult(Protocol):
    """What :func:`save_transcript` stores of a transcription.

    The worker's :class:`switchboard.transcription.transcriber.TranscriptResult`
    satisfies it; the service reads only these, so it does not import the
    worker's layer above it.
    """

    @property
    def text(self) -> str:
        """The whole text."""

    @property
    def segments(self) -> Sequence[TranscribedSegment]:
        """The timed segments."""

    @property
    def language(self) -> str:
        """The language decoded."""

    @property
    def model(self) -> str:
        """The model's name."""

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio transcribed."""

    @property
    def processing_seconds(self) -> float:
        """Seconds spent transcribing."""

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

# Hits are ranked by relevance within blocks of this many matches, newest
# block first: a word found in 60 k transcripts ranks its newest 1 000 (a few
# ms), not all of them. A query with fewer matches is ranked as a whole.
RANK_WINDOW = 1000
# Matches are counted up to here; past it ``total`` is this lower bound and
# ``total_exact`` is false.
COUNT_CAP = 1000
_SNIPPET_WORDS = 16
_HIT_COLUMNS = (
    "t.id, t.recording_id, t.call_sid, t.model, t.created_at, c.started_at, c.direction, "
    "c.from_number, c.to_number"
)
_PG_HEADLINE = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=24, MinWords=8, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)
# SQLite keys a document by its time: milliseconds since 1970 * 4096 + n.
_SQLITE_KEY = "CAST(round((julianday(:{name}) - 2440587.5) * 86400000.0) AS INTEGER) * 4096"


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of search hits, best first, and how many transcripts matched.

    ``total`` is exact when ``total_exact``; otherwise more than
    :data:`COUNT_CAP` matched and ``total`` is that lower bound.
    """

    items: Sequence[SearchHit]
    total: int
    total_exact: bool
    page: int
    limit: int


def facet_token(kind: str, value: str) -> str:
    """The index token of a facet (migration 0010): ``x<kind><hex of value>0``."""
    return f"x{kind}{value.encode('utf-8').hex()}0"


@dataclass(frozen=True, slots=True)
class _Query:
    """A validated search, as both dialects need it."""

    words: list[str]
    raw: str
    tenant_id: str | None
    facets: list[str]
    date_start: datetime | None
    date_end: datetime | None


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
) -> SearchPage:
    """Full-text search over current transcripts, best match first.

    The index (migration 0010) holds the tenant, direction, numbers and time
    of each transcript, so filtering, counting and picking the page need no
    join; the page's hits are then joined to their call logs.

    Args:
        session: The database session (SQLite or PostgreSQL).
        q: Words to find; every word must occur (stemmed). On PostgreSQL
            ``websearch_to_tsquery`` syntax (quotes, ``or``, ``-``) applies.
        tenant_id: Only this tenant's transcripts (None: all).
        date_start: Calls started at or after this time (millisecond precision;
            UTC when it has no zone).
        date_end: Calls started before this time.
        direction: ``inbound`` or ``outbound`` (any case).
        number: A number the call was from or to.
        page: 1-based page.
        limit: Hits per page.

    Returns:
        One page of hits with ``<mark>`` highlighted snippets, and the total.
        Relevance orders hits within blocks of :data:`RANK_WINDOW` matches,
        newest block first.

    Raises:
        BadRequest: ``q`` has no words, or a paging value is out of range.
    """
    check_paging(page, limit)
    words = _WORD.findall(q or "")
    if not words:
        raise BadRequest("q must contain at least one word", field="q")
    # A date without a zone is UTC, as in the call-log filters.
    if date_start is not None and date_start.tzinfo is None:
        date_start = date_start.replace(tzinfo=UTC)
    if date_end is not None and date_end.tzinfo is None:
        date_end = date_end.replace(tzinfo=UTC)
    facets = []  # the call's direction and numbers; the tenant is apart
    if direction:
        facets.append(facet_token("d", direction.upper()))
    if number:
        facets.append(facet_token("n", number))
    query = _Query(
        words=words,
        raw=q,
        tenant_id=tenant_id,
        facets=facets,
        date_start=date_start,
        date_end=date_end,
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    search = _PostgresSearch(query) if postgres else _SqliteSearch(query)
    if postgres:
        # A generic plan cannot tell a word in 60 % of transcripts from a rare
        # one (the good plans differ); plan each query for its words.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    offset = (page - 1) * limit
    first = offset // RANK_WINDOW
    start = offset - first * RANK_WINDOW
    ranked: list[tuple[Any, float]] = []
    counted: int | None = None  # how many match, when known
    at_least = 0
    block = first
    # The blocks overlapping the page (two when it straddles a boundary). Each
    # asks for one match more than it ranks, to know whether more follow.
    while len(ranked) < start + limit:
        params = {**search.params, "window": RANK_WINDOW + 1, "skip": block * RANK_WINDOW}
        rows = (await session.execute(search.block_sql(), params)).all()
        more = len(rows) > RANK_WINDOW
        rows = rows[:RANK_WINDOW]
        # Best first; the newer of equal scores first (rows come newest first).
        scored = [(row[0], search.relevance(row[1]), i) for i, row in enumerate(rows)]
        scored.sort(key=lambda hit: (-hit[1], hit[2]))
        ranked.extend((key, relevance) for key, relevance, _ in scored)
        if not more:
            if rows or block == 0:  # the last block: every match is known
                counted = block * RANK_WINDOW + len(rows)
            break
        at_least = (block + 1) * RANK_WINDOW + 1
        block += 1
    if counted is None and at_least > COUNT_CAP:
        counted = at_least  # past the cap: no need to count
    if counted is None:
        counted = (await session.execute(search.count_sql(), search.params)).scalar_one()
    hits = await _hits(session, search, ranked[start : start + limit])
    return SearchPage(
        items=hits,
        total=min(counted, COUNT_CAP),
        total_exact=counted <= COUNT_CAP,
        page=page,
        limit=limit,
    )


class _SqliteSearch:
    """FTS5 statements over ``transcript_search`` (rowid = time key)."""

    def __init__(self, query: _Query) -> None:
        words = " AND ".join(f'"{w}"' for w in query.words)
        match = f"{{text}} : ({words})"
        tenant = [] if query.tenant_id is None else [facet_token("t", query.tenant_id)]
        for token in tenant + query.facets:
            match += f' AND {{facets}} : "{token}"'
        self.params: dict[str, Any] = {"match": match, "cap": COUNT_CAP + 1}
        where = ["transcript_search MATCH :match"]
        self._binds = []
        if query.date_start is not None:
            where.append("rowid >= " + _SQLITE_KEY.format(name="date_start"))
            self.params["date_start"] = query.date_start
            self._binds.append(bindparam("date_start", type_=UTCDateTime()))
        if query.date_end is not None:
            where.append("rowid < " + _SQLITE_KEY.format(name="date_end"))
            self.params["date_end"] = query.date_end
            self._binds.append(bindparam("date_end", type_=UTCDateTime()))
        self._where = " AND ".join(where)

    def count_sql(self) -> TextClause:
        """How many documents match, up to ``:cap``."""
        return text(
            f"SELECT count(*) FROM (SELECT 1 FROM transcript_search WHERE {self._where} LIMIT :cap)"
        ).bindparams(*self._binds)

    def block_sql(self) -> TextClause:
        """Keys and bm25 of the ``:window`` matches after ``:skip``, newest first."""
        # Weight 0 for the facets column: filters do not change relevance.
        return text(
            "SELECT rowid, bm25(transcript_search, 1.0, 0.0) FROM transcript_search "
            f"WHERE {self._where} ORDER BY rowid DESC LIMIT :window OFFSET :skip"
        ).bindparams(*self._binds)

    @staticmethod
    def relevance(score: Any) -> float:
        """bm25 is lower for better matches; relevance is higher."""
        return -float(score or 0.0)

    def page_sql(self) -> TextClause:
        """The page's hits (``:keys``): snippet, transcript and call facts."""
        return text(
            f"SELECT s.rowid AS key, snippet(transcript_search, 0, '{MARK_START}', '{MARK_END}', "
            f"'…', {_SNIPPET_WORDS}) AS snippet, {_HIT_COLUMNS} FROM transcript_search s "
            "JOIN transcript_search_keys k ON k.key = s.rowid "
            "JOIN transcripts t ON t.id = k.transcript_id "
            "LEFT JOIN call_logs c ON c.call_sid = t.call_sid "
            "WHERE transcript_search MATCH :match AND s.rowid IN :keys"
        ).bindparams(bindparam("keys", expanding=True))


class _PostgresSearch:
    """Full-text statements over ``transcript_search`` (GIN on ``document``).

    The tenant is a column (a btree on ``(tenant_id, at)`` gives a tenant's
    newest matches in order); direction and numbers are lexemes.
    """

    def __init__(self, query: _Query) -> None:
        self.params: dict[str, Any] = {"q": query.raw, "cap": COUNT_CAP + 1}
        lexemes = [f"'{t}'" for t in query.facets]
        matches = "s.document @@ tq"
        if lexemes:
            matches = "s.document @@ (tq && CAST(:facets AS tsquery))"
            self.params["facets"] = " & ".join(lexemes)
        # An empty query (only stop words) would leave the facets alone to match.
        where = ["numnode(tq) > 0", matches]
        if query.tenant_id is not None:
            where.append("s.tenant_id = :tenant_id")
            self.params["tenant_id"] = query.tenant_id
        if query.date_start is not None:
            where.append("s.at >= :date_start")
            self.params["date_start"] = query.date_start
        if query.date_end is not None:
            where.append("s.at < :date_end")
            self.params["date_end"] = query.date_end
        self._where = " AND ".join(where)
        self._source = "FROM transcript_search s, websearch_to_tsquery('english', :q) AS tq"

    def count_sql(self) -> TextClause:
        """How many documents match, up to ``:cap``."""
        return text(
            f"SELECT count(*) FROM (SELECT 1 {self._source} WHERE {self._where} LIMIT :cap) m"
        )

    def block_sql(self) -> TextClause:
        """Ids and ts_rank of the ``:window`` matches after ``:skip``, newest first."""
        return text(
            f"SELECT s.transcript_id, ts_rank(s.document, tq) {self._source} "
            f"WHERE {self._where} ORDER BY s.at DESC, s.transcript_id DESC "
            "LIMIT :window OFFSET :skip"
        )

    @staticmethod
    def relevance(score: Any) -> float:
        """ts_rank is higher for better matches."""
        return float(score or 0.0)

    def page_sql(self) -> TextClause:
        """The page's hits (``:keys``): headline, transcript and call facts."""
        return text(
            f"SELECT t.id AS key, ts_headline('english', t.text, tq, '{_PG_HEADLINE}') AS snippet, "
            f"{_HIT_COLUMNS} FROM transcripts t "
            "CROSS JOIN websearch_to_tsquery('english', :q) AS tq "
            "LEFT JOIN call_logs c ON c.call_sid = t.call_sid WHERE t.id IN :keys"
        ).bindparams(bindparam("keys", expanding=True))


async def _hits(
    session: AsyncSession,
    search: _SqliteSearch | _PostgresSearch,
    ranked: list[tuple[Any, float]],
) -> list[SearchHit]:
    """The page's hits in rank order, joined to their transcripts and call logs."""
    if not ranked:
        return []
    sql = search.page_sql().columns(
        column("key"),
        column("snippet"),
        column("id"),
        column("recording_id"),
        column("call_sid"),
        column("model"),
        column("created_at", UTCDateTime()),
        column("started_at", UTCDateTime()),
        column("direction"),
        column("from_number"),
        column("to_number"),
    )
    params = {**search.params, "keys": [key for key, _ in ranked]}
    rows = {r.key: r for r in await session.execute(sql, params)}
    hits = []
    for key, relevance in ranked:
        row = rows.get(key)
        if row is None:  # deleted since it was ranked
            continue
        hits.append(
            SearchHit(
                transcript_id=row.id,
                recording_id=row.recording_id,
                call_sid=row.call_sid,
                model=row.model,
                snippet=row.snippet or "",
                rank=abs(relevance),
                created_at=row.created_at,
                started_at=row.started_at,
                direction=row.direction,
                from_number=row.from_number,
                to_number=row.to_number,
            )
        )
    return hits
