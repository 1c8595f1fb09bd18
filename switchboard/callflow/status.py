"""A call's statuses and the one rule that moves them.

A call log row carries two statuses: the business ``status`` (seed 003's
VoiceCall values: ``INCOMING_CALL``, ``ANSWERED_BY_STAFF``, ...) and the
telephony ``call_status`` (the provider's ``CallStatus`` words). Several
writers move the business status — the engine as the call runs, the built-in
app's webhooks, the reconciliation of calls the fallback carried — and they
race: a webhook may record a voicemail before the engine's end-of-call write
lands. Each writer therefore reports what *happened* (a :class:`CallEvent`)
and :func:`next_status` decides the status, here and only here. The engine's
batching writer turns the same function into SQL, so a status written by
another process is never overwritten by a guess.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import overload


class CallDirection(enum.StrEnum):
    """Direction of a call, in the VoiceCall record's upper-case values."""

    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class CallLogStatus(enum.StrEnum):
    """Business status of a call (seed 003 VoiceCall ``status``)."""

    INCOMING_CALL = "INCOMING_CALL"
    ANSWERED_BY_STAFF = "ANSWERED_BY_STAFF"
    MISSED = "MISSED"
    ANSWERED_BY_CALLS_PROVIDER = "ANSWERED_BY_CALLS_PROVIDER"
    MISSED_CALL_HANDLED = "MISSED_CALL_HANDLED"
    VOICEMAIL_RECEIVED = "VOICEMAIL_RECEIVED"


class CallStatus(enum.StrEnum):
    """Telephony status of a call, in the provider's ``CallStatus`` values."""

    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"


# The telephony statuses after which a call is over.
FINAL_CALL_STATUSES = frozenset(
    {
        CallStatus.COMPLETED,
        CallStatus.BUSY,
        CallStatus.NO_ANSWER,
        CallStatus.FAILED,
        CallStatus.CANCELED,
    }
)

# Every call log row starts here, whoever writes it first.
INITIAL_STATUS = CallLogStatus.INCOMING_CALL


class CallEvent(enum.StrEnum):
    """What happened to a call, as far as its business status cares."""

    REJECTED = "rejected"
    """The number is not in service, or the call could not be placed."""
    STAFF_ANSWERED = "staff-answered"
    """A person answered: a dialled target, or the called party of an outbound call."""
    APP_ANSWERED = "app-answered"
    """A voice application took over the answered call (an outbound call's ``url``)."""
    VOICEMAIL_LEFT = "voicemail-left"
    """The caller left a voicemail."""
    ENDED = "ended"
    """The call ended; if nothing else happened to it, it was missed."""
    APP_CALL_ENDED = "app-call-ended"
    """A call a voice application answered ended; if nothing else happened, the app had it."""


# event -> (the statuses it moves a call from, or None for any; where it moves it).
_MOVES: dict[CallEvent, tuple[frozenset[CallLogStatus] | None, CallLogStatus]] = {
    CallEvent.REJECTED: (None, CallLogStatus.MISSED),
    CallEvent.STAFF_ANSWERED: (None, CallLogStatus.ANSWERED_BY_STAFF),
    CallEvent.APP_ANSWERED: (None, CallLogStatus.ANSWERED_BY_CALLS_PROVIDER),
    CallEvent.VOICEMAIL_LEFT: (None, CallLogStatus.VOICEMAIL_RECEIVED),
    # The end of a call only settles a status nothing has decided yet: a
    # webhook may already have written a truer one.
    CallEvent.ENDED: (frozenset({INITIAL_STATUS}), CallLogStatus.MISSED),
    CallEvent.APP_CALL_ENDED: (
        frozenset({INITIAL_STATUS}),
        CallLogStatus.ANSWERED_BY_CALLS_PROVIDER,
    ),
}


@overload
def next_status(current: CallLogStatus, event: CallEvent) -> CallLogStatus: ...
@overload
def next_status(current: str, event: CallEvent) -> str: ...
def next_status(current: CallLogStatus | str, event: CallEvent) -> CallLogStatus | str:
    """The business status of a call at ``current`` once ``event`` happened.

    Args:
        current: The status the row holds now. A value outside
            :class:`CallLogStatus` (written by an older version) only moves
            on an event that moves every status.
        event: What happened.

    Returns:
        The new status (``current`` itself when the event does not move it).
    """
    sources, target = _MOVES[event]
    if sources is None or current in sources:
        return target
    return current


def replay(events: Iterable[CallEvent], start: CallLogStatus | str = INITIAL_STATUS) -> str:
    """The status after ``events`` happened in order, from ``start``."""
    status = start
    for event in events:
        status = next_status(status, event)
    return status
