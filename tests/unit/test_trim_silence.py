import wave

import numpy as np

from switchboard.engine.recordings import trim_silence, wav_facts


def _write(path, samples, rate=8000):
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype(np.int16).tobytes())


def test_leading_and_trailing_silence_are_cut_speech_kept(tmp_path):
    rate = 8000
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate))  # 1 s, loud
    silence = np.zeros(2 * rate)
    path = tmp_path / "r.wav"
    _write(path, np.concatenate([silence, tone, silence]))
    trim_silence(path)
    seconds, _ = wav_facts(path)
    assert 1.0 <= seconds <= 1.0 + 2 * 0.15 + 0.05


def test_all_silent_file_is_left_alone(tmp_path):
    path = tmp_path / "quiet.wav"
    _write(path, np.zeros(8000))
    trim_silence(path)
    assert wav_facts(path)[0] == 1.0
