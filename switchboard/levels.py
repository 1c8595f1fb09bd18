"""Speech and noise levels of a recording, measured against the recording itself.

A fixed floor (say -40 dBFS) cannot tell a quiet word ending from silence: a
caller far from the microphone, a soft voice or a low-gain line puts whole
words under it, and the ends of words ("greetings", "fifth") fall under it in
almost every message. Whatever decides that a stretch is silent — trimming a
voicemail, skipping a silent channel before Whisper — measures two levels of
the recording first: its **noise floor** (a low percentile of the 10 ms frame
levels) and its **speech level** (a high percentile), and calls a frame
active when it rises clearly above the floor *and* is no more than
:data:`SPEECH_RANGE_DB` below the speech. The same audio at any gain gives the
same answer.

Pure numpy; the engine (``Record trim``) and the transcription worker (the
speech gate) both use it, so it sits below both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FRAME_SECONDS = 0.01
"""Length of one analysis frame."""

SPEECH_RANGE_DB = 45.0
"""How far below the message's speech level a sound still counts as speech.

Word endings (fricatives, released stops, trailing vowels) sit 30-40 dB below
the loudest syllables of the same message."""

ABOVE_FLOOR_DB = 6.0
"""How far above the noise floor a frame must be to count as anything."""

SILENT_DBFS = -100.0
"""Level given to digital silence (its true level is minus infinity)."""

Audio = npt.NDArray[np.float32] | npt.NDArray[np.int16] | npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Levels:
    """The frame levels of a recording and the two levels measured from them.

    Attributes:
        frames: RMS level of each :data:`FRAME_SECONDS` frame, in dBFS.
        floor: The noise floor (10th percentile of the frame levels).
        speech: The speech level (98th percentile of the frame levels).
    """

    frames: npt.NDArray[np.float64]
    floor: float
    speech: float

    @property
    def threshold(self) -> float:
        """The level above which a frame is active (speech, or something like it)."""
        return max(self.speech - SPEECH_RANGE_DB, self.floor + ABOVE_FLOOR_DB)

    def active(self) -> npt.NDArray[np.bool_]:
        """Which frames are active."""
        return self.frames > self.threshold


def measure(samples: Audio, rate: int) -> Levels:
    """Frame levels of ``samples`` with their noise floor and speech level.

    Args:
        samples: int16 or float (full scale 1.0) audio, one channel, or
            ``(frames, channels)``: the channels' power is averaged.
        rate: The sample rate.

    Returns:
        The levels; a recording shorter than one frame has no frames and
        both levels at :data:`SILENT_DBFS`.
    """
    data = np.asarray(samples)
    scale = 32768.0 if data.dtype == np.int16 else 1.0
    if data.ndim == 1:
        data = data[:, None]
    frame = max(1, round(rate * FRAME_SECONDS))
    count = data.shape[0] // frame
    if count == 0:
        return Levels(np.zeros(0), SILENT_DBFS, SILENT_DBFS)
    blocks = data[: count * frame].astype(np.float64).reshape(count, frame, -1) / scale
    power = np.mean(np.square(blocks), axis=(1, 2))
    frames = np.maximum(10.0 * np.log10(np.maximum(power, 1e-30)), SILENT_DBFS)
    floor, speech = np.percentile(frames, [10.0, 98.0])
    return Levels(frames, float(floor), float(speech))


def active_span(levels: Levels) -> tuple[int, int] | None:
    """First and last active frame (inclusive), or None when nothing is active."""
    active = np.flatnonzero(levels.active())
    if active.size == 0:
        return None
    return int(active[0]), int(active[-1])

