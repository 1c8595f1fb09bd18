"""``Record trim``: silence goes, every sound of the message stays, whatever its gain."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from switchboard.engine.recordings import (
    TRIM_LEAD_SECONDS,
    TRIM_TAIL_SECONDS,
    trim_silence,
    wav_facts,
)

RATE = 8000


def _write(path: Path, samples: np.ndarray, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.clip(np.round(samples), -32768, 32767).astype(np.int16).tobytes())


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)


def _at_dbfs(signal: np.ndarray, dbfs: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(signal**2)))
    return signal / rms * 32768.0 * 10 ** (dbfs / 20)


def _message(rng: np.random.Generator, *, ending_dbfs: float) -> tuple[np.ndarray, np.ndarray]:
    """Three loud 'syllables' (-15 dBFS) and a faint word ending (a fricative)."""
    syllables = []
    for _ in range(3):
        n = int(0.25 * RATE)
        envelope = np.sin(np.pi * np.arange(n) / n)
        voiced = np.sin(2 * np.pi * 180 * np.arange(n) / RATE) + 0.3 * rng.standard_normal(n)
        syllables += [_at_dbfs(voiced * envelope, -15.0), np.zeros(int(0.08 * RATE))]
    ending = _at_dbfs(rng.standard_normal(int(0.3 * RATE)), ending_dbfs)
    return np.concatenate(syllables), ending


@pytest.mark.parametrize("gain_db", [0.0, -20.0])
def test_a_faint_word_ending_is_kept_whole(tmp_path: Path, gain_db: float) -> None:
    """The old fixed -40 dBFS floor kept 150 ms past the last loud frame: it cut
    the last 150 ms of a 300 ms ending at -50 dBFS, and the whole message of a
    quiet caller was never trimmed at all."""
    rng = np.random.default_rng(7)
    speech, ending = _message(rng, ending_dbfs=-52.0)
    gain = 10 ** (gain_db / 20)
    lead, tail = np.zeros(2 * RATE), np.zeros(3 * RATE)
    message = np.concatenate([speech, ending]) * gain
    path = tmp_path / "vm.wav"
    _write(path, np.concatenate([lead, message, tail]))

    trim_silence(path)

    kept = _read(path)
    expected = np.clip(np.round(message), -32768, 32767).astype(np.int16)
    # Only zeros come before the message, so its first sound places it.
    start = int(np.flatnonzero(kept)[0] - np.flatnonzero(expected)[0])
    assert np.array_equal(kept[start : start + len(expected)], expected)
    assert start == pytest.approx(TRIM_LEAD_SECONDS * RATE, abs=0.011 * RATE)
    after = len(kept) - start - len(expected)
    assert after == pytest.approx(TRIM_TAIL_SECONDS * RATE, abs=0.011 * RATE)


def test_trim_over_line_noise_keeps_the_ending_above_the_noise(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    speech, ending = _message(rng, ending_dbfs=-45.0)
    message = np.concatenate([np.zeros(RATE), speech, ending, np.zeros(4 * RATE)])
    noise = _at_dbfs(rng.standard_normal(len(message)), -62.0)
    path = tmp_path / "noisy.wav"
    _write(path, message + noise)

    trim_silence(path)

    seconds, _ = wav_facts(path)
    spoken = (len(speech) + len(ending)) / RATE
    assert spoken + TRIM_TAIL_SECONDS <= seconds <= spoken + TRIM_LEAD_SECONDS + TRIM_TAIL_SECONDS + 0.1


def test_leading_and_trailing_silence_are_cut_speech_kept(tmp_path: Path) -> None:
    tone = 8000 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)  # 1 s, loud
    silence = np.zeros(2 * RATE)
    path = tmp_path / "r.wav"
    _write(path, np.concatenate([silence, tone, silence]))
    trim_silence(path)
    seconds, _ = wav_facts(path)
    assert seconds == pytest.approx(1.0 + TRIM_LEAD_SECONDS + TRIM_TAIL_SECONDS, abs=0.03)


def test_all_silent_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "quiet.wav"
    _write(path, np.zeros(RATE))
    trim_silence(path)
    assert wav_facts(path)[0] == 1.0


def test_steady_line_noise_alone_is_left_alone(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    path = tmp_path / "hiss.wav"
    _write(path, _at_dbfs(rng.standard_normal(3 * RATE), -50.0))
    trim_silence(path)
    assert wav_facts(path)[0] == 3.0
