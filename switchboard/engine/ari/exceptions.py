"""Typed errors of the ARI client.

Each carries a stable ``error_id``, a message and details, so the API's one
error translator can turn them into the seed's error bodies (for example a
503 with ``asterisk-ari-not-initialized`` while ARI is down).
"""

from __future__ import annotations

from typing import Any


class AriError(Exception):
    """Base of every ARI client error."""

    error_id = "asterisk-ari-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class AriNotConnected(AriError):  # noqa: N818 - name fixed by the engine's contract
    """ARI is not connected (or the connection dropped before the answer came).

    ``details["sent"]`` tells whether the request had been written to the
    socket; a request that was sent may or may not have been carried out.
    """

    error_id = "asterisk-ari-not-initialized"


class AriAuthError(AriNotConnected):
    """Asterisk refused the ARI credentials (HTTP 401 on the websocket).

    A kind of :class:`AriNotConnected` (the API still answers 503), with its
    own ``error_id`` so health checks and logs say what to fix.
    """

    error_id = "asterisk-ari-auth-failed"


class AriTimeout(AriError):  # noqa: N818 - name fixed by the engine's contract
    """No answer to a request within its timeout; it may still be carried out."""

    error_id = "asterisk-ari-timeout"


class AriRequestError(AriError):
    """Asterisk answered a request with an error status.

    Args:
        status: the HTTP status code (404 channel gone, 409 conflict, ...).
        message: Asterisk's error message, or the reason phrase.
        **details: method, uri, reason and the decoded body.
    """

    error_id = "asterisk-ari-request-failed"

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message, status=status, **details)
        self.status = status


class AriNotFound(AriRequestError):
    """404: the channel, bridge, recording or application does not exist."""

    error_id = "asterisk-ari-not-found"


class AriConflict(AriRequestError):
    """409: e.g. a channel with this id already exists, or a bad channel state."""

    error_id = "asterisk-ari-conflict"


class AriOriginateInDoubt(AriError):  # noqa: N818 - it names an outcome
    """An originate was sent, its answer was lost and the channel is not there.

    The call was either never created or already ended (e.g. Asterisk
    restarted). It is never re-sent automatically: one request, one call.
    """

    error_id = "asterisk-ari-originate-in-doubt"


def request_error(status: int, message: str, **details: Any) -> AriRequestError:
    """The most specific :class:`AriRequestError` for an HTTP status."""
    if status == 404:
        return AriNotFound(status, message, **details)
    if status == 409:
        return AriConflict(status, message, **details)
    return AriRequestError(status, message, **details)
