"""Typed errors of the AMI wrapper.

Each carries a stable ``error_id``, a message and details; no panoramisk
type ever leaves :mod:`switchboard.engine.ami`.
"""

from __future__ import annotations

from typing import Any


class AmiError(Exception):
    """Base of every AMI error."""

    error_id = "asterisk-ami-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class AmiNotConnected(AmiError):  # noqa: N818 - mirrors AriNotConnected
    """AMI is not connected, or the connection dropped before the answer.

    ``details["sent"]`` tells whether the action had been written; a sent
    action may or may not have been carried out and is never re-sent.
    """

    error_id = "asterisk-ami-not-connected"


class AmiAuthError(AmiNotConnected):
    """Asterisk refused the AMI username/secret (a kind of "not connected")."""

    error_id = "asterisk-ami-auth-failed"


class AmiTimeout(AmiError):  # noqa: N818 - mirrors AriTimeout
    """No complete answer to an action within its timeout."""

    error_id = "asterisk-ami-timeout"


class AmiActionError(AmiError):
    """Asterisk answered an action with ``Response: Error``.

    Args:
        action: the action name.
        message: Asterisk's ``Message`` header.
        **details: the response headers.
    """

    error_id = "asterisk-ami-action-failed"

    def __init__(self, action: str, message: str, **details: Any) -> None:
        super().__init__(f"{action}: {message}", action=action, **details)
        self.action = action
        self.asterisk_message = message
