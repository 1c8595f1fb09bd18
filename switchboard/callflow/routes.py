"""What the engine knows about a number when a call arrives (an in-memory view).

Built from the database by :mod:`switchboard.engine.routing`; read on the
call's critical path without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.callflow.rules import ForwardingStep
from switchboard.callflow.verbs import DialTarget
from switchboard.callflow.voicemail import VoicemailSettings


@dataclass(frozen=True, slots=True)
class TrunkRoute:
    """How external numbers are reached: a PJSIP trunk or a dialplan context."""

    name: str
    kind: str
    context: str | None = None


@dataclass(frozen=True, slots=True)
class NumberRoute:
    """A DID with everything needed to handle a call to it."""

    number_id: str
    tenant_id: str
    did: str
    enabled: bool
    timezone: str
    account_sid: str
    auth_token: str
    steps: tuple[ForwardingStep, ...]
    voicemail: VoicemailSettings | None
    record: bool
    trunk: TrunkRoute | None
    voice_url: str | None = None
    voice_method: str = "POST"
    voice_fallback_url: str | None = None
    status_callback: str | None = None
    status_callback_events: frozenset[str] = frozenset({"completed"})


def dial_string(target: DialTarget, trunk: TrunkRoute | None) -> str:
    """The Asterisk dial string of ``target``, or ``""`` when it cannot be reached."""
    if target.kind in ("endpoint", "client"):
        return f"PJSIP/{target.value}"
    if trunk is None:
        return ""
    if target.kind == "sip":
        return f"PJSIP/{trunk.name}/{target.value}" if trunk.kind == "pjsip" else ""
    if trunk.kind == "local":
        return f"Local/{target.value}@{trunk.context}"
    return f"PJSIP/{target.value}@{trunk.name}"
