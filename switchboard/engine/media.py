"""Audio for ``Say`` and ``Play``: local text-to-speech and fetched files, cached.

Asterisk plays 8 kHz 16-bit mono WAV without transcoding, so everything is
rendered or converted to that once and kept in a cache directory that
Asterisk can read. The executor hands Asterisk the returned media URI
(``sound:/path/without/extension``), which is the same file as Asterisk sees
it: the host directory and its path inside Asterisk (a bind mount, a chroot)
are both given to :class:`MediaCache`.

``Say`` uses espeak-ng (any ``voice`` maps to a male or female variant; the
``language`` picks the espeak voice, English when espeak does not know it),
then sox. ``Play`` downloads the URL with a size cap and converts WAV or MP3
with sox (MP3 needs the ``libsox-fmt-mp3`` package). Subprocesses run with
asyncio, so the event loop never waits on them; concurrent requests for the
same entry render it once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

from switchboard.fetch_policy import FetchRefused, GuardedClient, require_guarded
from switchboard.scheduling import normal_scheduling_in_child

log = logging.getLogger(__name__)

_FORMAT_VERSION = 1  # bump to invalidate every cached rendering
_FEMALE_VOICES = frozenset({"woman", "alice", "female"})
_SOX_OUTPUT = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "wav"]
_CONTENT_TYPES = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mpeg3": "mp3",
    "audio/x-mpeg-3": "mp3",
}


class MediaError(Exception):
    """Audio could not be produced; ``error_id`` says why.

    ``media-tts-failed``, ``media-convert-failed``, ``media-fetch-failed``,
    ``media-fetch-refused`` (the fetch policy), ``media-too-large``,
    ``media-unsupported-type``.
    """

    def __init__(self, error_id: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message
        self.details = details or {}

    def __str__(self) -> str:
        return f"{self.error_id}: {self.message}"


@dataclass(frozen=True, slots=True)
class Media:
    """A cached audio file: where the host has it and how Asterisk names it."""

    path: Path
    uri: str


class MediaCache:
    """Renders and fetches audio into a directory shared with Asterisk."""

    def __init__(
        self,
        *,
        directory: Path,
        asterisk_directory: str | PurePosixPath,
        client: GuardedClient,
        max_download_bytes: int = 16 * 1024 * 1024,
        fetch_timeout_seconds: float = 30.0,
        fetch_ttl_seconds: float = 3600.0,
        espeak: str = "espeak-ng",
        sox: str = "sox",
    ) -> None:
        """Create a cache.

        Args:
            directory: The cache directory as this host sees it (created if missing).
            asterisk_directory: The same directory as Asterisk sees it.
            client: The shared HTTP client for ``Play`` URLs, bound to the
                fetch policy (a plain client is refused: TypeError).
            max_download_bytes: Larger ``Play`` files are refused.
            fetch_timeout_seconds: Time allowed to download one file.
            fetch_ttl_seconds: A fetched URL is downloaded again after this long.
            espeak: The espeak-ng executable.
            sox: The sox executable.
        """
        self._directory = directory
        self._asterisk_directory = PurePosixPath(asterisk_directory)
        self._client = require_guarded(client, "the media cache")
        self._max_download_bytes = max_download_bytes
        self._fetch_timeout = fetch_timeout_seconds
        self._fetch_ttl = fetch_ttl_seconds
        self._espeak = espeak
        self._sox = sox
        self._locks: dict[str, asyncio.Lock] = {}
        directory.mkdir(parents=True, exist_ok=True)

    def media(self, name: str) -> Media:
        """The cache entry ``name`` (a file stem), host path and Asterisk URI."""
        return Media(
            path=self._directory / f"{name}.wav",
            uri=f"sound:{self._asterisk_directory / name}",
        )

    async def say_to_file(self, text: str, voice: str = "man", language: str = "en-US") -> Media:
        """Speak ``text`` into a cached 8 kHz mono WAV.

        Args:
            text: What to say.
            voice: The TwiML voice (``man``, ``woman``, ``alice``, ``Polly.*``...).
            language: The TwiML language tag (``en-US``, ``fr-FR``...).

        Returns:
            The cached file and its Asterisk URI.

        Raises:
            MediaError: espeak-ng or sox failed.
        """
        name = "tts-" + _key("say", text, voice.lower(), language.lower())
        entry = self.media(name)
        async with self._lock(name):
            if entry.path.exists():
                return entry
            raw = self._temp(".raw.wav")
            try:
                await self._speak(text, _espeak_voice(voice, language), raw)
                await self._convert(raw, entry.path, input_type="wav")
            finally:
                raw.unlink(missing_ok=True)
        return entry

    async def fetch_audio(self, url: str) -> Media:
        """Download a ``Play`` URL and convert it into a cached 8 kHz mono WAV.

        Args:
            url: An ``http(s)`` URL of a WAV or MP3 file.

        Returns:
            The cached file and its Asterisk URI.

        Raises:
            MediaError: The download failed, was too large or of an unknown
                type, or sox could not convert it.
        """
        name = "play-" + _key("play", url)
        entry = self.media(name)
        async with self._lock(name):
            if entry.path.exists() and time.time() - entry.path.stat().st_mtime < self._fetch_ttl:
                return entry
            download = self._temp(".download")
            try:
                kind = await self._download(url, download)
                await self._convert(download, entry.path, input_type=kind)
            finally:
                download.unlink(missing_ok=True)
        return entry

    # -- helpers -------------------------------------------------------------

    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    def _temp(self, suffix: str) -> Path:
        return self._directory / f".tmp-{uuid.uuid4().hex}{suffix}"

    async def _speak(self, text: str, voice: str, out: Path) -> None:
        try:
            await _run([self._espeak, "-v", voice, "-w", str(out), "--stdin"], stdin=text.encode())
        except MediaError as exc:
            if voice.startswith("en-us"):
                raise MediaError("media-tts-failed", exc.message, exc.details) from exc
            log.warning("espeak-ng voice unavailable, using English", extra={"voice": voice})
            variant = voice.partition("+")[2]
            fallback = "en-us" + (f"+{variant}" if variant else "")
            await _run(
                [self._espeak, "-v", fallback, "-w", str(out), "--stdin"], stdin=text.encode()
            )

    async def _convert(self, source: Path, target: Path, *, input_type: str) -> None:
        tmp = self._temp(".wav")
        try:
            await _run(
                [self._sox, "-D", "-t", input_type, str(source), *_SOX_OUTPUT, str(tmp)],
                error_id="media-convert-failed",
            )
            tmp.chmod(0o644)  # Asterisk runs as another user
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    async def _download(self, url: str, target: Path) -> str:
        size = 0
        try:
            async with asyncio.timeout(self._fetch_timeout):
                async with self._client.stream("GET", url, follow_redirects=True) as response:
                    if not response.is_success:
                        raise MediaError(
                            "media-fetch-failed",
                            f"{url} answered {response.status_code}",
                            {"url": url, "status_code": response.status_code},
                        )
                    kind = _audio_kind(response.headers.get("content-type", ""), url)
                    with target.open("wb") as out:  # small writes; not worth a thread
                        async for chunk in response.aiter_bytes():
                            size += len(chunk)
                            if size > self._max_download_bytes:
                                raise MediaError(
                                    "media-too-large",
                                    f"{url} is larger than {self._max_download_bytes} bytes",
                                    {"url": url, "limit": self._max_download_bytes},
                                )
                            out.write(chunk)
        except TimeoutError as exc:
            raise MediaError("media-fetch-failed", f"{url} timed out", {"url": url}) from exc
        except FetchRefused as exc:
            raise MediaError("media-fetch-refused", str(exc), {"url": url}) from exc
        except httpx.HTTPError as exc:
            raise MediaError("media-fetch-failed", f"{url}: {exc}", {"url": url}) from exc
        return kind


def _key(*parts: str) -> str:
    blob = json.dumps([_FORMAT_VERSION, *parts], ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def _espeak_voice(voice: str, language: str) -> str:
    """espeak-ng voice name for a TwiML voice and language (``en-us+f3``)."""
    lowered = voice.lower()
    female = lowered in _FEMALE_VOICES or lowered.startswith(("polly.", "google."))
    return f"{language.lower()}+{'f3' if female else 'm3'}"


def _audio_kind(content_type: str, url: str) -> str:
    """``wav`` or ``mp3`` from the Content-Type, else from the URL's extension."""
    kind = _CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
    if kind:
        return kind
    suffix = PurePosixPath(httpx.URL(url).path).suffix.lower()
    if suffix in (".wav", ".mp3"):
        return suffix[1:]
    raise MediaError(
        "media-unsupported-type",
        f"cannot play {content_type or 'unknown type'} from {url}",
        {"url": url, "content_type": content_type},
    )


async def _run(
    argv: list[str], *, stdin: bytes | None = None, error_id: str = "media-tts-failed"
) -> None:
    """Run a converter without blocking the loop; raise :class:`MediaError` on failure."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=normal_scheduling_in_child,  # not in the engine's real-time class
        )
    except OSError as exc:
        raise MediaError(error_id, f"cannot run {argv[0]}: {exc}", {"argv": argv[:1]}) from exc
    _, stderr = await process.communicate(stdin)
    if process.returncode != 0:
        message = stderr.decode(errors="replace").strip()[-500:]
        raise MediaError(
            error_id, f"{argv[0]} exited {process.returncode}: {message}", {"argv": argv[:1]}
        )
