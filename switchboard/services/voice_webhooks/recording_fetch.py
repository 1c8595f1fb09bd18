"""A provider's recording, fetched once into storage (issue 14.5).

A recording callback reports where the provider keeps the audio
(``RecordingUrl``). Proxying that URL on every playback let a tenant read any
address the server could reach, so the audio is fetched exactly once, when
the callback arrives, through the fetch policy
(:class:`~switchboard.fetch_policy.GuardedClient`), into the storage root
like the engine's own recordings; playback and transcription then read the
stored file and never the URL.

The outcome tells the callback what to do:

* stored: the recording row points at the file;
* :class:`RecordingNotFetched` — the URL will never give audio here (refused by
  the policy, a 4xx answer, not audio, too large): the row is kept as
  ``failed`` and the call log says why, so the tenant sees it;
* :class:`~switchboard.services.exceptions.ProviderFailed` — the provider is
  down or slow: nothing is stored and the callback answers 502, so the
  provider repeats it later.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
import wave
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import httpx

from switchboard.fetch_policy import FetchRefused, GuardedClient
from switchboard.models import utcnow
from switchboard.services.exceptions import ProviderFailed

_AUDIO_TYPES = {
    "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/mpeg3": "mp3", "audio/x-mpeg-3": "mp3",
}


class RecordingNotFetched(Exception):
    """The recording's URL will not give its audio here; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FetchedRecording:
    """A provider's recording in storage."""

    relative_path: str
    format: str
    size_bytes: int
    duration: float | None
    channels: int | None


@dataclass(frozen=True, slots=True)
class RecordingFetcher:
    """Fetches provider recordings into the storage root, once each.

    Attributes:
        client: The policy-bound HTTP client.
        storage_root: Where recordings live (``Settings.resolved_storage_root``).
        max_bytes: Larger recordings are not kept.
        timeout: Seconds for the whole download.
    """

    client: GuardedClient
    storage_root: Path
    max_bytes: int
    timeout: float

    async def fetch(
        self, url: str, *, tenant_id: str, recording_sid: str,
        credentials: tuple[str, str] | None = None,
    ) -> FetchedRecording:
        """Download ``url`` to ``recordings/<tenant>/<YYYY>/<MM>/<sid>.<wav|mp3>``.

        Args:
            url: The provider's ``RecordingUrl``.
            tenant_id: The tenant the recording belongs to.
            recording_sid: Its SID (the file's name; a repeat overwrites the same file).
            credentials: Basic auth for the provider (the tenant's trunk account), if any.

        Raises:
            RecordingNotFetched: refused by the policy, a 4xx or 3xx answer,
                not audio, or larger than ``max_bytes``.
            ProviderFailed: the provider is unreachable, timed out or answered 5xx.
        """
        now = utcnow()
        folder = PurePosixPath("recordings", tenant_id, f"{now:%Y}", f"{now:%m}")
        (self.storage_root / folder).mkdir(parents=True, exist_ok=True)
        partial = self.storage_root / folder / f".{recording_sid}.{uuid.uuid4().hex}.part"
        try:
            kind, size = await self._download(url, partial, credentials)
            relative = folder / f"{recording_sid}.{kind}"
            os.replace(partial, self.storage_root / relative)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        duration, channels = (
            await asyncio.to_thread(_wav_facts, self.storage_root / relative)
            if kind == "wav" else (None, None)
        )
        return FetchedRecording(str(relative), kind, size, duration, channels)

    async def _download(
        self, url: str, target: Path, credentials: tuple[str, str] | None
    ) -> tuple[str, int]:
        size = 0
        try:
            async with asyncio.timeout(self.timeout), self.client.stream(
                "GET", url, auth=credentials or httpx.USE_CLIENT_DEFAULT, follow_redirects=True,
            ) as response:
                if response.status_code >= 500 or response.status_code in (408, 429):
                    raise ProviderFailed(
                        f"The provider answered {response.status_code} for the recording"
                    )
                if not response.is_success:
                    raise RecordingNotFetched(
                        f"the provider answered {response.status_code} for the recording"
                    )
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise RecordingNotFetched(f"larger than {self.max_bytes} bytes")
                with target.open("wb") as out:  # chunk writes: not worth a thread each
                    first = b""
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise RecordingNotFetched(f"larger than {self.max_bytes} bytes")
                        if len(first) < 16:
                            first += chunk[:16]
                        out.write(chunk)
                kind = _audio_kind(response.headers.get("content-type", ""), url, first)
        except FetchRefused as exc:
            raise RecordingNotFetched(str(exc)) from exc
        except TimeoutError as exc:
            raise ProviderFailed("The recording could not be fetched in time") from exc
        except httpx.HTTPError as exc:
            raise ProviderFailed("The recording could not be fetched from the provider") from exc
        return kind, size


def _audio_kind(content_type: str, url: str, first: bytes) -> str:
    """``wav`` or ``mp3`` from the Content-Type, the URL's extension or the first bytes."""
    kind = _AUDIO_TYPES.get(content_type.split(";")[0].strip().lower())
    if kind:
        return kind
    suffix = PurePosixPath(httpx.URL(url).path).suffix.lower()
    if suffix in (".wav", ".mp3"):
        return suffix[1:]
    if first.startswith(b"RIFF") and first[8:12] == b"WAVE":
        return "wav"
    if first.startswith(b"ID3") or (len(first) > 1 and first[0] == 0xFF and first[1] >= 0xE0):
        return "mp3"
    raise RecordingNotFetched(f"not a WAV or MP3 file ({content_type or 'no content type'})")


def _wav_facts(path: Path) -> tuple[float | None, int | None]:
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / (wav.getframerate() or 8000), wav.getnchannels()
    except (wave.Error, EOFError):
        return None, None
