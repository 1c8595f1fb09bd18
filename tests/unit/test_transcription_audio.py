"""Decoding, resampling and the energy gate, on real files in every format we accept."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from switchboard.transcription.audio import (
    WHISPER_RATE,
    decode,
    for_whisper,
    has_speech_energy,
    resample,
)
from switchboard.transcription.exceptions import AudioDecodeError, AudioMissingError

RATE = 8000


def _tone(seconds: float = 1.0, freq: float = 440.0, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize(
    ("suffix", "fmt", "subtype"),
    [
        (".wav", "WAV", "PCM_16"),
        (".wav", "WAV", "ULAW"),
        (".wav", "WAV", "ALAW"),
        (".flac", "FLAC", "PCM_16"),
        (".ogg", "OGG", "VORBIS"),
    ],
)
def test_decodes_every_accepted_format_to_float_channels(
    tmp_path: Path, suffix: str, fmt: str, subtype: str
) -> None:
    path = tmp_path / f"tone{suffix}"
    sf.write(str(path), _tone(), RATE, format=fmt, subtype=subtype)
    decoded = decode(path)
    assert decoded.sample_rate == RATE
    assert len(decoded.channels) == 1
    assert decoded.channels[0].dtype == np.float32
    assert decoded.seconds == pytest.approx(1.0, abs=0.01)
    assert 0.3 < float(np.max(np.abs(decoded.channels[0]))) < 0.6


def test_headerless_slin_from_asterisk_is_read_as_8khz_16bit(tmp_path: Path) -> None:
    path = tmp_path / "message.sln"
    path.write_bytes((_tone(0.5) * 32767).astype("<i2").tobytes())
    decoded = decode(path)
    assert decoded.sample_rate == 8000
    assert decoded.seconds == pytest.approx(0.5, abs=0.001)


def test_two_channel_file_keeps_channels_apart(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    said = np.concatenate([_tone(0.6, level=0.5), np.zeros(int(0.4 * RATE), np.float32)])
    stereo = np.stack([said, np.zeros(RATE, dtype=np.float32)], axis=1)
    sf.write(str(path), stereo, RATE, subtype="PCM_16")
    channels, seconds = for_whisper(path)
    assert len(channels) == 2
    assert seconds == pytest.approx(1.0)
    assert has_speech_energy(channels[0])
    assert not has_speech_energy(channels[1])


def _syllables(dbfs: float, *, seconds: float = 2.0) -> np.ndarray:
    """Speech-like bursts (4 a second, 150 ms each) at ``dbfs`` RMS, silence between."""
    rng = np.random.default_rng(5)
    out = np.zeros(int(seconds * RATE), dtype=np.float64)
    n = int(0.15 * RATE)
    for start in range(0, len(out) - n, RATE // 4):
        burst = np.sin(np.pi * np.arange(n) / n) * rng.standard_normal(n)
        out[start : start + n] = burst / np.sqrt(np.mean(burst**2)) * 10 ** (dbfs / 20)
    return out.astype(np.float32)


def test_a_quiet_caller_passes_the_speech_gate() -> None:
    """A fixed -45 dBFS gate skipped this whole channel; the caller's own level decides now."""
    assert has_speech_energy(resample(_syllables(-55.0), RATE))


def test_steady_line_noise_fails_the_speech_gate_at_any_level() -> None:
    rng = np.random.default_rng(9)
    for dbfs in (-65.0, -40.0, -25.0):
        hiss = (rng.standard_normal(2 * RATE) * 10 ** (dbfs / 20)).astype(np.float32)
        assert not has_speech_energy(resample(hiss, RATE)), dbfs


def test_speech_over_loud_noise_passes_the_speech_gate() -> None:
    rng = np.random.default_rng(11)
    noisy = _syllables(-25.0) + (rng.standard_normal(2 * RATE) * 10 ** (-40 / 20))
    assert has_speech_energy(resample(noisy.astype(np.float32), RATE))


def test_inaudible_dither_fails_the_speech_gate() -> None:
    assert not has_speech_energy(resample(_syllables(-85.0), RATE))


def test_resampling_doubles_8khz_and_does_not_alias_a_3khz_tone() -> None:
    tone = _tone(1.0, freq=3000.0)
    out = resample(tone, RATE)
    assert len(out) == 2 * len(tone)
    spectrum = np.abs(np.fft.rfft(out[1000:-1000]))
    freqs = np.fft.rfftfreq(len(out) - 2000, 1 / WHISPER_RATE)
    peak = freqs[np.argmax(spectrum)]
    assert peak == pytest.approx(3000.0, abs=5)
    # Linear interpolation leaves an image at 16000 - 3000 = 5000 Hz; a polyphase filter does not.
    image = spectrum[np.abs(freqs - 5000) < 20].max()
    assert image < 0.01 * spectrum.max()


def test_same_rate_is_returned_unchanged() -> None:
    samples = _tone()
    assert resample(samples, WHISPER_RATE) is samples


def test_corrupt_file_is_a_permanent_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage that is not audio" * 3)
    with pytest.raises(AudioDecodeError) as info:
        decode(path)
    assert not info.value.retryable
    assert "broken.wav" in str(info.value)


def test_empty_wav_is_a_permanent_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    sf.write(str(path), np.zeros(0, dtype=np.float32), RATE, subtype="PCM_16")
    with pytest.raises(AudioDecodeError, match="no audio"):
        decode(path)


def test_missing_file_is_retryable(tmp_path: Path) -> None:
    with pytest.raises(AudioMissingError) as info:
        decode(tmp_path / "not-yet-written.wav")
    assert info.value.retryable


def test_gsm_round_trip_through_sox_decodes(tmp_path: Path) -> None:
    source = tmp_path / "tone.wav"
    sf.write(str(source), _tone(), RATE, subtype="PCM_16")
    gsm = tmp_path / "tone.gsm"
    back = tmp_path / "back.wav"
    subprocess.run(["sox", "-D", str(source), str(gsm)], check=True)
    subprocess.run(
        ["sox", "-D", str(gsm), "-e", "signed-integer", "-b", "16", str(back)], check=True
    )
    assert decode(back).seconds == pytest.approx(1.0, abs=0.03)
