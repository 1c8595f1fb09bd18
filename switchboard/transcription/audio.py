"""Audio for Whisper: decode a recording, resample it to 16 kHz, find speech.

Asterisk writes 8 kHz 16-bit WAV (or headerless ``.sln``); tenants upload
μ-law/A-law WAV, FLAC or OGG. Everything is decoded with ``soundfile`` into
float32 channels and resampled with a polyphase filter (``resample_poly``):
linear interpolation folds the aliasing of an 8 kHz signal into the band
Whisper listens to and measurably costs words.

Everything here is blocking CPU work; callers run it in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
from scipy.signal import resample_poly

from switchboard import levels
from switchboard.transcription.exceptions import AudioDecodeError, AudioMissingError

WHISPER_RATE = 16_000
"""The sample rate Whisper models are trained on."""

_RAW_SLIN_RATES = {".sln": 8000, ".raw": 8000, ".sln16": 16000, ".sln48": 48000}

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    """A recording decoded to float32 in [-1, 1], one row per channel."""

    channels: list[Samples]
    sample_rate: int

    @property
    def seconds(self) -> float:
        """Duration of the recording."""
        if not self.channels:
            return 0.0
        return len(self.channels[0]) / self.sample_rate


def decode(path: Path) -> DecodedAudio:
    """Decode an audio file into float32 channels at its own sample rate.

    Args:
        path: A WAV (PCM, μ-law, A-law), FLAC or OGG file, or a headerless
            signed-linear file (``.sln`` at 8 kHz, ``.sln16`` at 16 kHz).

    Returns:
        The decoded channels and their sample rate.

    Raises:
        AudioMissingError: The file does not exist (may be transient).
        AudioDecodeError: The file exists but holds no decodable audio; a
            permanent failure, retrying will not help.
    """
    if not path.is_file():
        raise AudioMissingError(str(path))
    try:
        raw_rate = _RAW_SLIN_RATES.get(path.suffix.lower())
        if raw_rate is not None:
            data, rate = sf.read(
                str(path),
                dtype="float32",
                always_2d=True,
                format="RAW",
                subtype="PCM_16",
                samplerate=raw_rate,
                channels=1,
                endian="LITTLE",
            )
        else:
            data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AudioDecodeError(str(path), str(exc)) from exc
    if data.shape[0] == 0:
        raise AudioDecodeError(str(path), "the file holds no audio frames")
    if not np.all(np.isfinite(data)):
        raise AudioDecodeError(str(path), "the file holds non-finite samples")
    channels = [np.ascontiguousarray(data[:, i], dtype=np.float32) for i in range(data.shape[1])]
    return DecodedAudio(channels=channels, sample_rate=int(rate))


def resample(samples: Samples, rate: int, target: int = WHISPER_RATE) -> Samples:
    """Resample with a polyphase anti-aliasing filter (exact rational ratio).

    Args:
        samples: One channel of float32 samples.
        rate: Its sample rate.
        target: The wanted sample rate.

    Returns:
        The resampled channel, float32.
    """
    if rate == target:
        return samples
    g = gcd(rate, target)
    out = resample_poly(samples, target // g, rate // g)
    return np.asarray(out, dtype=np.float32)


def for_whisper(path: Path) -> tuple[list[Samples], float]:
    """Decode ``path`` and bring every channel to 16 kHz mono float32.

    Args:
        path: The audio file.

    Returns:
        The channels at 16 kHz, and the duration of the recording in seconds.
    """
    decoded = decode(path)
    channels = [resample(ch, decoded.sample_rate) for ch in decoded.channels]
    return channels, decoded.seconds


SPEECH_GATE_ABOVE_FLOOR_DB = 10.0
"""How far above a channel's own noise floor speech rises, at the least."""

SPEECH_GATE_MIN_DBFS = -70.0
"""Below this nothing is heard on a telephone line (μ-law's finest step is about -78 dBFS)."""


def has_speech_energy(
    samples: Samples,
    rate: int = WHISPER_RATE,
    *,
    min_voiced_ms: int = 200,
) -> bool:
    """Cheap gate: does this channel hold anything but line noise or silence?

    A silent channel (the callee's side of a voicemail, a muted leg) makes
    Whisper invent text ("Thank you."). This gate runs before the model and
    skips such channels outright; finer voice-activity filtering (Silero VAD)
    happens inside the decoder.

    Levels are the channel's own (:mod:`switchboard.levels`): a frame is
    voiced when it is within the speech range of the channel's loudest
    sounds, :data:`SPEECH_GATE_ABOVE_FLOOR_DB` over its noise floor and
    above :data:`SPEECH_GATE_MIN_DBFS`. A quiet caller on a low-gain line
    passes; steady line noise at any level does not.

    Args:
        samples: One channel of float32 samples.
        rate: Its sample rate.
        min_voiced_ms: How much voiced audio is needed to say "speech".

    Returns:
        True when at least ``min_voiced_ms`` of frames are voiced.
    """
    measured = levels.measure(samples, rate)
    gate = max(
        measured.threshold,
        measured.floor + SPEECH_GATE_ABOVE_FLOOR_DB,
        SPEECH_GATE_MIN_DBFS,
    )
    voiced = int(np.count_nonzero(measured.frames > gate))
    return voiced * levels.FRAME_SECONDS * 1000 >= min_voiced_ms
