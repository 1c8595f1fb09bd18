"""Recording in, timed segments out: the pipeline around one Whisper model.

A two-channel call recording is transcribed channel by channel (each
channel is one party, so nobody talks over anybody inside a channel) and the
segments are merged into one timeline, each tagged with its speaker. The
channels are handed to the model at the same time: a model loaded with
several replicas (``load_model(..., workers=N)``) runs them side by side on
free cores, and one replica takes them in turn. A channel with nothing
louder than line noise is skipped: Whisper invents text for silence.

All of it is blocking work: faster-whisper decodes while its ``segments``
generator is iterated, so :meth:`Transcriber.transcribe` consumes it here, in
whatever thread the caller chose, never on an event loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faster_whisper.vad import VadOptions

from switchboard.config import Settings
from switchboard.transcription.audio import WHISPER_RATE, Samples, for_whisper, has_speech_energy
from switchboard.transcription.model import LoadedModel

DEFAULT_SPEAKERS = ("caller", "callee")
"""Speaker of channel 0 and channel 1 of a two-channel call recording."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of speech with its time in the recording and its speaker.

    Attributes:
        start: Seconds from the start of the recording.
        end: Seconds from the start of the recording.
        text: What was said.
        speaker: ``caller``/``callee``/``agent``, or None for unknown.
        channel: The channel the words came from.
        confidence: 0–1, the geometric mean of the token probabilities.
    """

    start: float
    end: float
    text: str
    speaker: str | None
    channel: int
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored on :class:`~switchboard.models.Transcript`."""
        return {
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "text": self.text,
            "speaker": self.speaker,
            "channel": self.channel,
            "confidence": round(self.confidence, 3),
        }


@dataclass(frozen=True, slots=True)
class TranscriptResult:
    """Everything one transcription produced."""

    text: str
    segments: list[Segment]
    language: str
    model: str
    audio_seconds: float
    processing_seconds: float
    skipped_channels: list[int] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        """Duration-weighted mean confidence of the segments (0 when empty)."""
        total = sum(max(s.end - s.start, 0.01) for s in self.segments)
        if not total:
            return 0.0
        return sum(s.confidence * max(s.end - s.start, 0.01) for s in self.segments) / total


def confidence_from_logprob(avg_logprob: float) -> float:
    """Map Whisper's mean token log-probability to a 0–1 confidence."""
    return min(1.0, max(0.0, math.exp(avg_logprob)))


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """How Whisper decodes; built from the settings, overridable per run."""

    beam_size: int = 5
    language: str | None = "en"
    initial_prompt: str | None = None
    vad: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> DecodeOptions:
        """The options the settings ask for."""
        return cls(
            beam_size=max(1, settings.whisper_beam_size),
            language=settings.whisper_language or None,
            initial_prompt=settings.whisper_initial_prompt or None,
            vad=settings.whisper_vad,
        )


class Transcriber:
    """Runs one loaded model over recordings.

    Holds no state of its own: as many threads may transcribe with it at once
    as the model was loaded for (``load_model(..., workers=N)``).
    """

    def __init__(self, *, model: LoadedModel, options: DecodeOptions) -> None:
        self._loaded = model
        self._options = options

    @property
    def model_name(self) -> str:
        """The name stored on the transcripts this transcriber makes."""
        return self._loaded.name

    def transcribe(
        self, path: Path, *, speakers: Sequence[str | None] = DEFAULT_SPEAKERS
    ) -> TranscriptResult:
        """Transcribe a file, every channel, into one time-ordered result.

        Args:
            path: The audio file.
            speakers: Speaker name per channel; a mono file takes the first.

        Returns:
            The merged segments, the full text and the timings.

        Raises:
            AudioMissingError: No such file.
            AudioDecodeError: Not decodable audio.
        """
        started = time.perf_counter()
        channels, seconds = for_whisper(path)
        voiced = [i for i, samples in enumerate(channels) if has_speech_energy(samples)]
        skipped = [i for i in range(len(channels)) if i not in voiced]

        def channel(index: int) -> tuple[list[Segment], str]:
            speaker = speakers[index] if index < len(speakers) else None
            return self._transcribe_channel(channels[index], index, speaker)

        if len(voiced) > 1:
            with ThreadPoolExecutor(max_workers=len(voiced)) as pool:
                results = list(pool.map(channel, voiced))
        else:
            results = [channel(i) for i in voiced]
        segments = [segment for found, _ in results for segment in found]
        language = results[-1][1] if results else self._options.language or "en"
        segments.sort(key=lambda s: (s.start, s.channel))
        return TranscriptResult(
            text=" ".join(s.text for s in segments),
            segments=segments,
            language=language,
            model=self._loaded.name,
            audio_seconds=seconds,
            processing_seconds=time.perf_counter() - started,
            skipped_channels=skipped,
        )

    def _transcribe_channel(
        self, samples: Samples, channel: int, speaker: str | None
    ) -> tuple[list[Segment], str]:
        opts = self._options
        vad_parameters = VadOptions(min_silence_duration_ms=700, speech_pad_ms=300)
        raw, info = self._loaded.model.transcribe(
            samples,
            language=opts.language,
            beam_size=opts.beam_size,
            initial_prompt=opts.initial_prompt,
            vad_filter=opts.vad,
            vad_parameters=vad_parameters if opts.vad else None,
        )
        found: list[Segment] = []
        for seg in raw:  # decoding happens while iterating
            text = seg.text.strip()
            if not text:
                continue
            found.append(
                Segment(
                    start=float(seg.start),
                    end=float(seg.end),
                    text=text,
                    speaker=speaker,
                    channel=channel,
                    confidence=confidence_from_logprob(seg.avg_logprob),
                )
            )
        return found, info.language


def audio_seconds(samples: Samples) -> float:
    """Duration of a 16 kHz channel."""
    return len(samples) / WHISPER_RATE
