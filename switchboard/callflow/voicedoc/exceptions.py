"""Typed errors of voice documents: parsing them and fetching them.

Every error carries a stable ``error_id``, a message, details, and the
provider's numeric error code (``error_code``), which is what the provider
posts to a fallback URL as ``ErrorCode`` and shows in its debugger.
"""

from __future__ import annotations

from typing import Any

# The provider's error codes for the failures we can meet.
DOCUMENT_PARSE_FAILURE = 12100
SCHEMA_VALIDATION = 12200
RESPONSE_TOO_LARGE = 11750
HTTP_RETRIEVAL_FAILURE = 11200
HTTP_CONNECTION_FAILURE = 11205
HTTP_TIMEOUT = 11205
INVALID_CONTENT_TYPE = 12300


class VoiceDocumentError(Exception):
    """A voice document could not be turned into verbs.

    ``error_id`` is one of ``voicedoc-too-large``, ``voicedoc-malformed``,
    ``voicedoc-forbidden-construct``, ``voicedoc-wrong-root``,
    ``voicedoc-unknown-verb``, ``voicedoc-bad-nesting``,
    ``voicedoc-bad-attribute``.
    """

    def __init__(
        self,
        error_id: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        error_code: int = SCHEMA_VALIDATION,
    ) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message
        self.details = details or {}
        self.error_code = error_code

    def __str__(self) -> str:
        return f"{self.error_id}: {self.message}"


class VoiceUrlError(Exception):
    """Fetching a voice document from a voice URL failed.

    Subclasses say how; ``url`` is the URL that failed and ``error_code`` the
    provider's code for it.
    """

    error_id = "voice-url-error"
    error_code = HTTP_RETRIEVAL_FAILURE

    def __init__(self, message: str, *, url: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.details = details

    def __str__(self) -> str:
        return f"{self.error_id}: {self.message} ({self.url})"


class VoiceUrlStatusError(VoiceUrlError):
    """The voice URL answered with a non-2xx status (``details['status_code']``)."""

    error_id = "voice-url-bad-status"
    error_code = HTTP_RETRIEVAL_FAILURE


class VoiceUrlTimeoutError(VoiceUrlError):
    """The voice URL did not answer within the timeout."""

    error_id = "voice-url-timeout"
    error_code = HTTP_TIMEOUT


class VoiceUrlConnectionError(VoiceUrlError):
    """The voice URL could not be reached (refused, DNS, TLS)."""

    error_id = "voice-url-connection-failed"
    error_code = HTTP_CONNECTION_FAILURE


class VoiceUrlRefusedError(VoiceUrlError):
    """The fetch policy refused the voice URL (scheme, or an address it may not reach)."""

    error_id = "voice-url-refused"
    error_code = HTTP_RETRIEVAL_FAILURE


class VoiceUrlDocumentError(VoiceUrlError):
    """The voice URL answered 2xx with a document that is not valid TwiML.

    ``cause`` is the :class:`VoiceDocumentError`; ``error_code`` is its code.
    """

    error_id = "voice-url-bad-document"

    def __init__(self, cause: VoiceDocumentError, *, url: str) -> None:
        super().__init__(cause.message, url=url, cause_id=cause.error_id, **cause.details)
        self.cause = cause
        self.error_code = cause.error_code
