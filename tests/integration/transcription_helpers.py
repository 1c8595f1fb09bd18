"""Helpers of the transcription tests: real prompts, built recordings, seeded rows."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard import ids
from switchboard.config import Settings
from switchboard.models import CallLog, Recording, RecordingSource, Voicemail, utcnow
from switchboard.services.transcripts import enqueue_transcription
from switchboard.transcription.corpus import Prompt, load_prompts

_PROMPTS: dict[str, Prompt] = {}


class Overlap:
    """Wraps a function and counts the most calls of it in flight at once, from any thread."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self._function = function
        self._lock = threading.Lock()
        self._running = 0
        self.most = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self._running += 1
            self.most = max(self.most, self._running)
        try:
            return self._function(*args, **kwargs)
        finally:
            with self._lock:
                self._running -= 1


def prompt(name: str) -> Prompt:
    """A core sound prompt by name; fails the test when the rootfs is missing."""
    if not _PROMPTS:
        _PROMPTS.update({p.name: p for p in load_prompts(Settings())})
    if not _PROMPTS:
        pytest.fail("core sound prompts not found: build the Asterisk rootfs first")
    return _PROMPTS[name]


def two_channel(path: Path, left: Path, right: Path, *, right_offset: float) -> float:
    """Write a stereo 8 kHz WAV: ``left`` at 0 s on channel 0, ``right`` at an offset on 1.

    Returns:
        The duration of the result in seconds.
    """
    a, rate = sf.read(str(left), dtype="int16")
    b, rate_b = sf.read(str(right), dtype="int16")
    assert rate == rate_b == 8000
    start = int(right_offset * rate)
    frames = max(len(a), start + len(b)) + rate // 2
    stereo = np.zeros((frames, 2), dtype=np.int16)
    stereo[: len(a), 0] = a
    stereo[start : start + len(b), 1] = b
    sf.write(str(path), stereo, rate, subtype="PCM_16")
    return frames / rate


def joined(path: Path, parts: list[Path], gap: float = 0.5) -> float:
    """Write prompts one after another (mono, 8 kHz) with silence between them."""
    chunks: list[np.ndarray] = []
    for part in parts:
        data, rate = sf.read(str(part), dtype="int16")
        chunks += [data, np.zeros(int(gap * rate), dtype=np.int16)]
    audio = np.concatenate(chunks)
    sf.write(str(path), audio, 8000, subtype="PCM_16")
    return len(audio) / 8000


async def seed_recording(
    session: AsyncSession,
    storage_root: Path,
    audio: Path,
    *,
    channels: int = 1,
    voicemail: bool = True,
    direction: str = "INBOUND",
    from_number: str = "+15550001111",
    to_number: str = "+15550002222",
    started_at: datetime | None = None,
    enqueue: bool = True,
) -> Recording:
    """A call, its recording (file copied under the storage root), maybe a voicemail,
    and the transcription job, added in one transaction like the engine does
    (with the engine's own ``RecordingSource`` values)."""
    call_sid = ids.call_sid()
    relative = Path("recordings") / f"{call_sid}{audio.suffix}"
    (storage_root / relative).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(audio, storage_root / relative)
    session.add(
        CallLog(
            call_sid=call_sid,
            direction=direction,
            status="VOICEMAIL_RECEIVED" if voicemail else "ANSWERED_BY_STAFF",
            from_number=from_number,
            to_number=to_number,
            started_at=started_at or utcnow(),
        )
    )
    recording = Recording(
        id=ids.new_uuid(),
        recording_sid=ids.recording_sid(),
        call_sid=call_sid,
        path=str(relative),
        source=RecordingSource.VOICEMAIL if voicemail else RecordingSource.DIAL_VERB,
        channels=channels,
        format=audio.suffix.lstrip("."),
    )
    session.add(recording)
    if voicemail:
        session.add(
            Voicemail(
                call_sid=call_sid,
                recording_id=recording.id,
                from_number=from_number,
                to_number=to_number,
            )
        )
    if enqueue:
        enqueue_transcription(session, recording)
    return recording
