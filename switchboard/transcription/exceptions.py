"""Typed errors of the transcription pipeline.

Each carries a stable ``error_id`` and says whether retrying can help: the
worker retries a transient failure with back-off and ends a permanent one
(a poison file) as ``failed`` at once, so no job ever loops.
"""

from __future__ import annotations

from typing import Any, ClassVar


class TranscriptionError(Exception):
    """Base of every transcription error."""

    error_id: ClassVar[str] = "transcription-error"
    retryable: ClassVar[bool] = True

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class AudioMissingError(TranscriptionError):
    """The recording's file is not (yet) on the storage root."""

    error_id = "transcription-audio-missing"

    def __init__(self, path: str) -> None:
        super().__init__(f"audio file not found: {path}", path=path)


class AudioDecodeError(TranscriptionError):
    """The file exists but is not decodable audio: retrying will not help."""

    error_id = "transcription-audio-undecodable"
    retryable = False

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot decode {path}: {reason}", path=path, reason=reason)


class ModelLoadError(TranscriptionError):
    """The configured Whisper model cannot be found or loaded."""

    error_id = "transcription-model-unavailable"
    retryable = False
