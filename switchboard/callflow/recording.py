"""What made a recording: the one vocabulary its writers and readers share."""

from __future__ import annotations

import enum


class RecordingSource(enum.StrEnum):
    """What made a recording: the provider's ``RecordingSource`` values, and voicemail.

    Stored on a recording row's ``source`` and sent as ``RecordingSource`` in
    recording callbacks. Every writer and every reader uses these members, so
    a voicemail is recognised by equality, never by guessing at the spelling.
    """

    RECORD_VERB = "RecordVerb"
    DIAL_VERB = "DialVerb"
    OUTBOUND_API = "OutboundAPI"
    VOICEMAIL = "Voicemail"
