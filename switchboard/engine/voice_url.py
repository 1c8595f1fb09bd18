"""Asking a voice URL what to do with a call, as the provider does.

The engine POSTs (or GETs) the provider's form parameters to the number's
voice URL, signed with ``X-Twilio-Signature``, and parses the voice document
that comes back. When that fails (unreachable, non-2xx, timeout, invalid
TwiML) it asks the fallback URL, adding ``ErrorCode`` and ``ErrorUrl``; when
that fails too, the caller gets the built-in voicemail: never dead air.

Only data moves here; the HTTP client is built by the composition root and
passed in, and the parsing is :func:`parse_voice_document`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from switchboard.callflow.verbs import Verb
from switchboard.callflow.voicedoc.exceptions import (
    VoiceDocumentError,
    VoiceUrlConnectionError,
    VoiceUrlDocumentError,
    VoiceUrlError,
    VoiceUrlRefusedError,
    VoiceUrlStatusError,
    VoiceUrlTimeoutError,
)
from switchboard.callflow.voicedoc.params import API_VERSION, DIRECTIONS, call_params
from switchboard.callflow.voicedoc.parser import MAX_DOCUMENT_BYTES, parse_voice_document
from switchboard.fetch_policy import FetchRefused
from switchboard.outbox.http import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    USER_AGENT,
    signed_request,
    url_with_query,
)

log = logging.getLogger(__name__)

__all__ = [
    "API_VERSION",
    "DIRECTIONS",
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "VoiceUrlResult",
    "call_params",
    "fetch_voice_document",
    "fetch_with_fallback",
    "signed_request",
    "url_with_query",
]

DEFAULT_TIMEOUT_SECONDS = 15.0

APPLICATION_ERROR_MESSAGE = "We are sorry, an application error has occurred. Goodbye."
"""What the provider says to the caller when a voice document cannot be run."""


async def fetch_voice_document(
    client: httpx.AsyncClient,
    *,
    url: str,
    method: str = "POST",
    params: Mapping[str, str],
    auth_token: str,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    user_agent: str = USER_AGENT,
) -> list[Verb]:
    """Request a voice document from ``url`` and parse it.

    Args:
        client: The shared HTTP client.
        url: The voice URL (or a ``Redirect``/``action`` URL).
        method: ``POST`` (default) or ``GET``.
        params: The form parameters (see :func:`call_params`; add ``Digits``,
            ``DialCallStatus``... for action URLs).
        auth_token: The tenant's auth token.
        timeout: Seconds for the whole exchange (connect, send, read).
        user_agent: The ``User-Agent`` header.

    Returns:
        The verbs of the document; relative URLs in it are resolved against
        the URL that served it.

    Raises:
        VoiceUrlStatusError: The answer was not 2xx.
        VoiceUrlTimeoutError: No complete answer within ``timeout``.
        VoiceUrlConnectionError: The URL could not be reached.
        VoiceUrlRefusedError: The fetch policy refused the URL, or a redirect
            from it (see :mod:`switchboard.fetch_policy`).
        VoiceUrlDocumentError: The answer is not a valid voice document
            (including one larger than 64 KiB).
    """
    try:
        request = signed_request(
            client, url=url, method=method, params=params, auth_token=auth_token,
            user_agent=user_agent,
        )
    except httpx.InvalidURL as exc:
        raise VoiceUrlRefusedError(f"invalid URL: {exc}", url=url) from exc
    try:
        async with asyncio.timeout(timeout):
            response = await client.send(request, stream=True, follow_redirects=True)
            try:
                if not response.is_success:
                    raise VoiceUrlStatusError(
                        f"voice URL answered {response.status_code}",
                        url=url,
                        status_code=response.status_code,
                    )
                body = await _read_capped(response, MAX_DOCUMENT_BYTES)
                served_from = str(response.url)
            finally:
                await response.aclose()
    except TimeoutError as exc:
        raise VoiceUrlTimeoutError(f"no answer within {timeout:g} s", url=url) from exc
    except httpx.TimeoutException as exc:
        raise VoiceUrlTimeoutError(f"no answer within {timeout:g} s", url=url) from exc
    except FetchRefused as exc:
        raise VoiceUrlRefusedError(exc.reason, url=url, refused_url=exc.url) from exc
    except httpx.HTTPError as exc:
        raise VoiceUrlConnectionError(f"{type(exc).__name__}: {exc}", url=url) from exc
    try:
        return parse_voice_document(body, base_url=served_from)
    except VoiceDocumentError as exc:
        raise VoiceUrlDocumentError(exc, url=url) from exc


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """The body, or as much of it as proves it is larger than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)


@dataclass(frozen=True, slots=True)
class VoiceUrlResult:
    """What :func:`fetch_with_fallback` got.

    ``verbs`` is ``None`` when neither URL gave a runnable document: the
    executor then runs the built-in voicemail. ``errors`` lists every failure
    on the way (to log on the call), first the voice URL's, then the
    fallback's. ``url`` is the URL whose document is in ``verbs``.
    """

    verbs: list[Verb] | None
    url: str | None
    errors: tuple[VoiceUrlError, ...] = field(default_factory=tuple)

    @property
    def used_fallback(self) -> bool:
        """Whether the document came from the fallback URL."""
        return self.verbs is not None and bool(self.errors)


async def fetch_with_fallback(
    client: httpx.AsyncClient,
    *,
    url: str,
    method: str = "POST",
    fallback_url: str | None,
    fallback_method: str = "POST",
    params: Mapping[str, str],
    auth_token: str,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    user_agent: str = USER_AGENT,
) -> VoiceUrlResult:
    """Fetch the voice document, falling back as the provider does.

    The voice URL first; on any :class:`VoiceUrlError` the fallback URL (when
    set) with the same parameters plus ``ErrorCode`` (the provider's code for
    the failure) and ``ErrorUrl`` (the URL that failed); then nothing.

    Args:
        client: The shared HTTP client.
        url: The number's voice URL.
        method: Its method.
        fallback_url: The number's voice fallback URL, if any.
        fallback_method: Its method.
        params: The call's form parameters (:func:`call_params`).
        auth_token: The tenant's auth token.
        timeout: Seconds allowed to each of the two requests.
        user_agent: The ``User-Agent`` header.

    Returns:
        The verbs and where they came from, or ``verbs=None`` (use the
        built-in voicemail) with the errors met.
    """
    errors: list[VoiceUrlError] = []
    candidates = [(url, method, dict(params))]
    for target, target_method, target_params in candidates:
        try:
            verbs = await fetch_voice_document(
                client,
                url=target,
                method=target_method,
                params=target_params,
                auth_token=auth_token,
                timeout=timeout,
                user_agent=user_agent,
            )
        except VoiceUrlError as exc:
            log.warning(
                "voice URL failed",
                extra={"url": target, "error_id": exc.error_id, "error_code": exc.error_code},
            )
            errors.append(exc)
            if fallback_url and len(candidates) == 1:
                fallback_params = {
                    **params,
                    "ErrorCode": str(exc.error_code),
                    "ErrorUrl": target,
                }
                candidates.append((fallback_url, fallback_method, fallback_params))
            continue
        return VoiceUrlResult(verbs=verbs, url=target, errors=tuple(errors))
    return VoiceUrlResult(verbs=None, url=None, errors=tuple(errors))
