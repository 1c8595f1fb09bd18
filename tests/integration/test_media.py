"""Say and Play audio: real espeak-ng and sox, a real HTTP server, 8 kHz mono WAV out."""

from __future__ import annotations

import asyncio
import io
import subprocess
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile

from switchboard.engine.media import MediaCache, MediaError
from switchboard.fetch_policy import LOOPBACK, FetchPolicy, GuardedClient


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with GuardedClient(FetchPolicy.from_entries(LOOPBACK)) as http:
        yield http


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def cache(cache_dir: Path, client: httpx.AsyncClient) -> MediaCache:
    return MediaCache(
        directory=cache_dir, asterisk_directory="/var/spool/asterisk/switchboard", client=client
    )


@pytest.fixture
def audio_server() -> Iterator[tuple[str, dict[str, tuple[bytes, str]]]]:
    """A tiny real HTTP server serving bytes by path (audio files)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    files: dict[str, tuple[bytes, str]] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path not in files:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body, content_type = files[self.path]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", files
    server.shutdown()
    server.server_close()


def _tone(rate: int, seconds: float = 0.5, channels: int = 2) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    mono = (0.4 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    data = np.stack([mono] * channels, axis=1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data.tobytes())
    return buffer.getvalue()


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _make_mp3(directory: Path) -> bytes:
    wav = directory / "tone.wav"
    wav.write_bytes(_tone(22050, seconds=1.0, channels=1))
    mp3 = directory / "tone.mp3"
    subprocess.run(["sox", str(wav), "-C", "64", str(mp3)], check=True)
    return mp3.read_bytes()


def _assert_telephony_wav(path: Path) -> np.ndarray:
    info = soundfile.info(str(path))
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    samples, _ = soundfile.read(str(path), dtype="float32")
    assert float(np.sqrt(np.mean(samples**2))) > 0.01  # not silence
    return samples


async def test_say_renders_8khz_mono_speech_and_names_it_for_asterisk(
    cache: MediaCache, cache_dir: Path
) -> None:
    media = await cache.say_to_file("Thank you for calling.", "man", "en-US")
    assert media.path.parent == cache_dir
    assert media.path.suffix == ".wav"
    assert media.uri == f"sound:/var/spool/asterisk/switchboard/{media.path.stem}"
    samples = _assert_telephony_wav(media.path)
    assert len(samples) > 8000 * 0.5  # about a second of speech
    assert media.path.stat().st_mode & 0o044 == 0o044  # readable by Asterisk's user


async def test_say_is_cached_by_its_inputs(cache: MediaCache) -> None:
    first = await cache.say_to_file("Hello", "man", "en-US")
    mtime = first.path.stat().st_mtime_ns
    again = await cache.say_to_file("Hello", "man", "en-US")
    assert again == first
    assert first.path.stat().st_mtime_ns == mtime
    woman = await cache.say_to_file("Hello", "woman", "en-US")
    other_text = await cache.say_to_file("Goodbye", "man", "en-US")
    assert len({first.path, woman.path, other_text.path}) == 3


async def test_concurrent_say_of_the_same_text_renders_once(
    cache: MediaCache, cache_dir: Path
) -> None:
    results = await asyncio.gather(
        *(cache.say_to_file("Same words", "man", "en-US") for _ in range(5))
    )
    assert len(set(results)) == 1
    assert _names(cache_dir) == [results[0].path.name]


async def test_say_in_another_language_and_unknown_language_falls_back(cache: MediaCache) -> None:
    french = await cache.say_to_file("Bonjour", "alice", "fr-FR")
    _assert_telephony_wav(french.path)
    unknown = await cache.say_to_file("Hello", "man", "xx-YY")
    _assert_telephony_wav(unknown.path)


async def test_say_does_not_block_the_event_loop(cache: MediaCache) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        await cache.say_to_file("A fairly long sentence " * 20, "man", "en-US")
    finally:
        task.cancel()
    assert ticks > 3  # the loop kept running while espeak-ng and sox worked


async def test_play_fetches_wav_and_converts(
    cache: MediaCache, audio_server: tuple[str, dict[str, tuple[bytes, str]]]
) -> None:
    base, files = audio_server
    files["/hold.wav"] = (_tone(44100), "audio/x-wav")
    media = await cache.fetch_audio(base + "/hold.wav")
    assert media.uri.startswith("sound:/var/spool/asterisk/switchboard/play-")
    samples = _assert_telephony_wav(media.path)
    assert abs(len(samples) - 4000) < 100  # 0.5 s at 8 kHz


async def test_play_fetches_mp3_by_extension(
    cache: MediaCache, audio_server: tuple[str, dict[str, tuple[bytes, str]]], tmp_path: Path
) -> None:
    base, files = audio_server
    files["/music.mp3"] = (_make_mp3(tmp_path), "application/octet-stream")
    media = await cache.fetch_audio(base + "/music.mp3")
    _assert_telephony_wav(media.path)


async def test_play_is_cached(
    cache: MediaCache, audio_server: tuple[str, dict[str, tuple[bytes, str]]]
) -> None:
    base, files = audio_server
    files["/once.wav"] = (_tone(8000), "audio/wav")
    first = await cache.fetch_audio(base + "/once.wav")
    del files["/once.wav"]  # a second download would now fail
    assert await cache.fetch_audio(base + "/once.wav") == first


async def test_play_errors_are_typed(
    cache_dir: Path,
    client: httpx.AsyncClient,
    audio_server: tuple[str, dict[str, tuple[bytes, str]]],
) -> None:
    base, files = audio_server
    small = MediaCache(
        directory=cache_dir, asterisk_directory="/x", client=client, max_download_bytes=10_000
    )
    files["/big.wav"] = (_tone(44100, seconds=1.0), "audio/wav")
    files["/page.html"] = (b"<html></html>", "text/html")
    files["/broken.wav"] = (b"RIFF not really a wav", "audio/wav")
    cases = {
        "/missing.wav": "media-fetch-failed",
        "/big.wav": "media-too-large",
        "/page.html": "media-unsupported-type",
        "/broken.wav": "media-convert-failed",
    }
    for path, error_id in cases.items():
        with pytest.raises(MediaError) as info:
            await small.fetch_audio(base + path)
        assert info.value.error_id == error_id, path
    assert _names(cache_dir) == []  # no partial files left
