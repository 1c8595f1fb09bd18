"""How a number takes voicemail at the end of its forwarding plan.

The engine's plan, the built-in voice app served over HTTP and the AstDB
mirror for the engine-down dialplan all read these settings, so a number
records its voicemail the same way whichever path carries the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

DEFAULT_GREETING = "sound:vm-intro"


@dataclass(frozen=True, slots=True)
class VoicemailSettings:
    """How the voicemail at the end of the plan records."""

    max_seconds: int = 120
    silence_seconds: int = 5
    greeting: str = DEFAULT_GREETING


class VoicemailNumber(Protocol):
    """What :func:`voicemail_settings` reads of a number (the model satisfies it)."""

    @property
    def voicemail_enabled(self) -> bool:
        """Whether the number takes voicemail when nobody answers."""

    @property
    def voicemail_max_seconds(self) -> int:
        """The longest message it keeps, in seconds."""

    @property
    def voicemail_greeting(self) -> str | None:
        """The greeting's URL or ``sound:`` name; ``None`` for the default."""


def voicemail_settings(number: VoicemailNumber, silence_seconds: int) -> VoicemailSettings | None:
    """How ``number`` takes voicemail (``None`` when it takes none)."""
    if not number.voicemail_enabled:
        return None
    return VoicemailSettings(
        max_seconds=number.voicemail_max_seconds,
        silence_seconds=silence_seconds,
        greeting=number.voicemail_greeting or DEFAULT_GREETING,
    )
