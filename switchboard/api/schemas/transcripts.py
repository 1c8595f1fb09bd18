"""Bodies of ``/api/v1/transcripts`` (seed 001)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from switchboard.models import Transcript
from switchboard.services.transcripts import SearchHit


class SegmentOut(BaseModel):
    """A timed piece of speech."""

    start: float
    end: float
    text: str
    speaker: str | None = None
    confidence: float | None = None


class TranscriptOut(BaseModel):
    """The transcript of one recording."""

    id: str
    recording_id: str
    call_sid: str | None
    model: str
    language: str
    text: str
    segments: list[SegmentOut]
    audio_seconds: float
    created_at: datetime

    @classmethod
    def of(cls, t: Transcript) -> TranscriptOut:
        """The view of a transcript row."""
        return cls(
            id=t.id,
            recording_id=t.recording_id,
            call_sid=t.call_sid,
            model=t.model,
            language=t.language,
            text=t.text,
            audio_seconds=t.audio_seconds,
            created_at=t.created_at,
            segments=[_segment(s) for s in t.segments],
        )


def _segment(raw: dict[str, Any]) -> SegmentOut:
    return SegmentOut(
        start=float(raw.get("start", 0.0)),
        end=float(raw.get("end", 0.0)),
        text=str(raw.get("text", "")),
        speaker=raw.get("speaker"),
        confidence=raw.get("confidence"),
    )


class CallTranscriptOut(BaseModel):
    """``GET /api/v1/transcripts/call/{call_id}``: every recording of the call."""

    call_sid: str
    transcripts: list[TranscriptOut]
    segments: list[SegmentOut]


class TranscriptPageOut(BaseModel):
    """A page of transcripts."""

    items: list[TranscriptOut]
    total: int
    page: int
    limit: int


class SearchHitOut(BaseModel):
    """A transcript that matched, with a highlighted snippet."""

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

    @classmethod
    def of(cls, hit: SearchHit) -> SearchHitOut:
        """The view of a search hit."""
        return cls(**{name: getattr(hit, name) for name in cls.model_fields})


class SearchPageOut(BaseModel):
    """A page of search hits, best first.

    ``total`` counts the matches exactly while ``total_exact`` is true; past
    1 000 matches it is that lower bound and ``total_exact`` is false.
    """

    items: list[SearchHitOut]
    total: int
    total_exact: bool = True
    page: int
    limit: int
