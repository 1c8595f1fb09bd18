"""Call-flow verbs as data.

Forwarding rules compile to a list of these; a TwiML document parses to a
list of these; the executor runs them on ARI. There is one implementation of
each behaviour, whatever produced the verbs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class DialOutcome(StrEnum):
    """How a ``Dial`` ended, in the provider's ``DialCallStatus`` values."""

    COMPLETED = "completed"
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"
    # Internal only, never sent to a webhook: no Dial has run yet in this call.
    NOT_DIALLED = "not-dialled"


# Outcomes after which a forwarding step "did not reach anybody".
UNREACHED = frozenset({DialOutcome.BUSY, DialOutcome.NO_ANSWER, DialOutcome.FAILED})
# Nobody has been reached yet: nothing dialled, or every dial failed.
NOBODY_YET = UNREACHED | {DialOutcome.NOT_DIALLED}


@dataclass(frozen=True, slots=True)
class DialTarget:
    """One party to ring.

    ``kind`` is ``number`` (E.164, through a trunk), ``endpoint`` (a PJSIP
    endpoint: desk phone / softphone), ``sip`` (a SIP URI) or ``client``.
    """

    kind: str
    value: str
    send_digits: str | None = None
    url: str | None = None
    # Position of this target in its number's forwarding plan (1-based); the
    # call simulator answers or refuses per slot, identically on both paths.
    slot: int = 0


@dataclass(frozen=True, slots=True)
class Dial:
    """Ring ``targets`` at once; the first to answer is bridged to the caller.

    ``only_after`` makes the verb conditional: it runs only when the outcome
    of the last ``Dial`` that ran (``NOT_DIALLED`` before any) is in the set;
    ``None`` means it always runs, as every verb of a voice document does.
    """

    targets: tuple[DialTarget, ...]
    timeout: int = 30
    caller_id: str | None = None
    record: str = "do-not-record"
    action: str | None = None
    method: str = "POST"
    time_limit: int = 14400
    hangup_on_star: bool = False
    recording_status_callback: str | None = None
    only_after: frozenset[DialOutcome] | None = None
    rule_id: str | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """Record the caller (voicemail or message), ended by silence, key or length."""

    max_length: int = 3600
    timeout: int = 5
    finish_on_key: str = "1234567890*#"
    play_beep: bool = True
    trim: str = "trim-silence"
    action: str | None = None
    method: str = "POST"
    recording_status_callback: str | None = None
    transcribe: bool = False
    transcribe_callback: str | None = None
    voicemail: bool = False
    only_after: frozenset[DialOutcome] | None = None


@dataclass(frozen=True, slots=True)
class Say:
    """Speak text with the local text-to-speech engine."""

    text: str
    voice: str = "woman"
    language: str = "en-US"
    loop: int = 1


@dataclass(frozen=True, slots=True)
class Play:
    """Play an audio file: a URL, or ``sound:NAME`` for an Asterisk prompt."""

    url: str = ""
    loop: int = 1
    digits: str | None = None
    only_after: frozenset[DialOutcome] | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    """Silence for ``length`` seconds."""

    length: int = 1


@dataclass(frozen=True, slots=True)
class Gather:
    """Collect DTMF digits while playing nested prompts, then post them."""

    num_digits: int | None = None
    timeout: int = 5
    finish_on_key: str = "#"
    action: str | None = None
    method: str = "POST"
    prompts: tuple[Say | Play | Pause, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Redirect:
    """Fetch a new voice document from ``url`` and run it instead."""

    url: str
    method: str = "POST"


@dataclass(frozen=True, slots=True)
class Hangup:
    """End the call."""


@dataclass(frozen=True, slots=True)
class Reject:
    """Refuse the call without answering (``busy`` or ``rejected``)."""

    reason: str = "rejected"


@dataclass(frozen=True, slots=True)
class SendText:
    """Send a text during the call (``<Sms>``, or ``<Message>`` in a voice document).

    ``to`` defaults to the other party of the call, ``from_`` to the tenant's
    number on the call; the call goes on at once.
    """

    body: str
    to: str | None = None
    from_: str | None = None
    media_urls: tuple[str, ...] = ()
    status_callback: str | None = None


Verb = Dial | Record | Say | Play | Pause | Gather | Redirect | Hangup | Reject | SendText
