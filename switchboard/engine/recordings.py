"""Files Asterisk wrote, turned into rows: recordings, voicemails, jobs.

Asterisk writes under its spool directory (bind-mounted, so the host sees
it); the file moves under the storage root and its rows are written in one
transaction with the transcription job, so no recording is left untranscribed.

Two decisions belong to the layers above the engine — whether the tenant's
plan lets it record, and how a transcription is queued — so the composition
root hands them in as a :class:`RecordingPolicy` (``runtime.py`` wires the
services' functions).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import wave
from array import array
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard import levels
from switchboard.models import Recording, Voicemail, utcnow

log = logging.getLogger(__name__)

# Asterisk's spool directory as Asterisk sees it.
ASTERISK_SPOOL = "/var/spool/asterisk"
# MixMonitor's ``D`` option (both directions on separate channels) writes
# interleaved raw signed linear; it needs this extension (with ``.wav`` the
# file gets a mono header over stereo samples). :meth:`RecordingStore.store`
# turns it into a two-channel WAV.
DUAL_SUFFIX = ".raw"
TELEPHONY_RATE = 8000


@dataclass(frozen=True, slots=True)
class RecordingPolicy:
    """What the engine asks of the layers above it when it records.

    Attributes:
        refusal: Why the tenant may not start a recording now (its plan's
            storage is full), as ``"code: message"``, or ``None``.
        queue_transcription: Queues the transcription of a new recording in
            the session's transaction (the caller commits).
    """

    refusal: Callable[[AsyncSession, str], Awaitable[str | None]]
    queue_transcription: Callable[[AsyncSession, Recording], object]


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file moved into storage: where, how long, how big, how many channels."""

    relative_path: str
    duration: float
    size_bytes: int
    channels: int


def wav_facts(path: Path) -> tuple[float, int]:
    """Duration in seconds and channel count of a WAV file (0 for an empty one)."""
    try:
        with wave.open(str(path), "rb") as wav:
            frames = wav.getnframes()
            rate = wav.getframerate() or 8000
            return frames / rate, wav.getnchannels()
    except (wave.Error, EOFError):
        return 0.0, 1


def raw_to_wav(source: Path, target: Path, *, swap: bool = False) -> None:
    """Wrap MixMonitor's interleaved two-channel raw audio in a WAV file.

    MixMonitor puts what it hears from the channel it records on the left and
    what it sends to that channel on the right; ``swap`` exchanges the two, so
    the caller is on the left whichever side was recorded.
    """
    data = source.read_bytes()
    samples = array("h", data[: len(data) - len(data) % 4])
    if swap:
        samples[0::2], samples[1::2] = samples[1::2], samples[0::2]
    with wave.open(str(target), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(TELEPHONY_RATE)
        wav.writeframes(samples.tobytes())


TRIM_LEAD_SECONDS = 0.3
"""Quiet kept before the first sound of a trimmed recording."""

TRIM_TAIL_SECONDS = 0.5
"""Quiet kept after the last sound of a trimmed recording: a word's faint end
(a released stop, a trailing fricative) must never be cut."""


def trim_silence(
    path: Path, *, lead_seconds: float = TRIM_LEAD_SECONDS, tail_seconds: float = TRIM_TAIL_SECONDS
) -> None:
    """Cut leading and trailing silence from a 16-bit WAV, in place.

    What counts as sound is measured against the recording itself
    (:mod:`switchboard.levels`): anything above its noise floor and within
    45 dB of its own speech level, so a quiet caller and the faint ends of
    words are kept whatever the line's gain. Only the stretches before the
    first and after the last such sound can go, and ``lead_seconds`` and
    ``tail_seconds`` of them stay: nothing inside or at the edge of speech is
    ever cut. A file with no sound at all is left as it is.
    """
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        raw = wav.readframes(params.nframes)
    if params.sampwidth != 2 or not raw:
        return
    samples = np.frombuffer(raw, dtype=np.int16).reshape(-1, params.nchannels)
    span = levels.active_span(levels.measure(samples, params.framerate))
    if span is None:
        return
    frame = round(params.framerate * levels.FRAME_SECONDS)
    start = max(0, span[0] * frame - round(lead_seconds * params.framerate))
    end = min(len(samples), (span[1] + 1) * frame + round(tail_seconds * params.framerate))
    if start == 0 and end == len(samples):
        return
    with wave.open(str(path), "wb") as out:
        out.setnchannels(params.nchannels)
        out.setsampwidth(2)
        out.setframerate(params.framerate)
        out.writeframes(samples[start:end].tobytes())


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


class RecordingStore:
    """Moves finished files into storage and records them in the database."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        spool_dir: Path | None,
        storage_root: Path,
        policy: RecordingPolicy,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._spool_dir = spool_dir
        self._storage_root = storage_root
        self._policy = policy

    async def refusal(self, tenant_id: str | None) -> str | None:
        """Why the tenant may not start a recording now (its plan's storage is full), or None."""
        if tenant_id is None:
            return None
        async with self._sessionmaker() as session:
            return await self._policy.refusal(session, tenant_id)

    def host_path(self, asterisk_path: str) -> Path | None:
        """Where the host sees a file Asterisk wrote at ``asterisk_path``."""
        if self._spool_dir is None or not asterisk_path.startswith(ASTERISK_SPOOL):
            return None
        return self._spool_dir / asterisk_path.removeprefix(ASTERISK_SPOOL).lstrip("/")

    async def wait_for_file(self, path: Path, *, timeout: float = 5.0) -> bool:
        """Wait until Asterisk has written ``path`` and stopped growing it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last = -1
        while loop.time() < deadline:
            size = await asyncio.to_thread(_size, path)
            if size > 44 and size == last:
                return True
            last = size
            await asyncio.sleep(0.1)
        return await asyncio.to_thread(_size, path) > 44

    async def store(
        self,
        source: Path,
        *,
        tenant_id: str | None,
        name: str,
        swap_channels: bool = False,
        trim: bool = False,
    ) -> StoredFile:
        """Move ``source`` to ``<storage>/recordings/<tenant>/<YYYY>/<MM>/<name>.wav``.

        A :data:`DUAL_SUFFIX` source becomes a two-channel WAV on the way
        (``swap_channels`` when MixMonitor recorded the callee's channel);
        ``trim`` cuts leading and trailing silence (``Record trim``).
        """
        now = utcnow()
        dual = source.suffix == DUAL_SUFFIX
        suffix = ".wav" if dual or not source.suffix else source.suffix
        relative = Path("recordings") / (tenant_id or "unknown") / f"{now:%Y}" / f"{now:%m}"
        relative = relative / f"{name}{suffix}"
        target = self._storage_root / relative

        def _move() -> StoredFile:
            target.parent.mkdir(parents=True, exist_ok=True)
            if dual:
                raw_to_wav(source, target, swap=swap_channels)
                source.unlink()
            else:
                shutil.move(str(source), target)
            if trim:
                trim_silence(target)
            duration, channels = wav_facts(target)
            return StoredFile(str(relative), duration, target.stat().st_size, channels)

        return await asyncio.to_thread(_move)

    async def save(
        self,
        stored: StoredFile,
        *,
        recording_sid: str,
        tenant_id: str | None,
        call_sid: str,
        source: str,
        voicemail: Voicemail | None = None,
        transcribe_callback: str | None = None,
    ) -> Recording:
        """Write the recording row, its voicemail row if any, and its job."""
        async with self._sessionmaker() as session, session.begin():
            recording = Recording(
                recording_sid=recording_sid,
                tenant_id=tenant_id,
                call_sid=call_sid,
                path=stored.relative_path,
                source=source,
                status="completed",
                channels=stored.channels,
                duration=stored.duration,
                size_bytes=stored.size_bytes,
                transcribe_callback=transcribe_callback,
            )
            session.add(recording)
            await session.flush()
            if voicemail is not None:
                voicemail.recording_id = recording.id
                voicemail.duration = stored.duration
                session.add(voicemail)
            self._policy.queue_transcription(session, recording)
        log.info(
            "recording stored",
            extra={
                "recording_sid": recording_sid,
                "seconds": round(stored.duration, 2),
                "voicemail": voicemail is not None,
            },
        )
        return recording
