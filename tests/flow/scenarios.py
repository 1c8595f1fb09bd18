"""The calls the fast call-flow specs replay, defined once for both tiers.

Each scenario is a real call: the real-Asterisk tier places it
(``tests/integration/test_ari_tapes.py``) through the call simulator with
these rules, number settings and caller behaviour, and records its ARI tape;
the fast tier (``tests/flow/``) runs the same call flow against that tape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DID = "+15550100200"
CALLER = "+15557654321"
PROMPTS = "/usr/share/asterisk/sounds/en_US_f_Allison"


@dataclass(frozen=True)
class Scenario:
    """One recorded call.

    Attributes:
        name: the tape's file name.
        rules: forwarding rules, as ``ForwardingRule`` columns.
        behaviour: the simulator's per-slot phones (``noanswer,answer``).
        say: a prompt the caller speaks once a recording starts.
        dtmf: keys the caller presses once answered.
        hold: seconds the caller stays once answered (without ``say``).
        talk: seconds an answering phone stays on the line.
        record: the number records answered calls.
        documents: a customer's voice app: path -> TwiML (``/voice`` first).
    """

    name: str
    rules: list[dict[str, Any]] = field(default_factory=list)
    behaviour: str = "answer"
    say: str | None = None
    dtmf: str | None = None
    hold: float = 5.0
    talk: float = 2.0
    record: bool = False
    documents: dict[str, str] = field(default_factory=dict)


SCENARIOS = {
    s.name: s
    for s in [
        Scenario(
            "single-target-answers",
            rules=[{"targets": ["+15550001111"], "ring_timeout": 10}],
        ),
        Scenario(
            "sequential-no-answer-then-answer",
            rules=[
                {
                    "targets": ["+15550001111", "+15550002222"],
                    "strategy": "sequential",
                    "ring_timeout": 2,
                }
            ],
            behaviour="noanswer,answer",
        ),
        Scenario(
            "simultaneous-first-answer-wins",
            rules=[
                {
                    "targets": ["+15550001111", "+15550002222"],
                    "strategy": "simultaneous",
                    "ring_timeout": 10,
                }
            ],
            behaviour="noanswer,answer",
        ),
        Scenario(
            "busy-then-voicemail",
            rules=[{"targets": ["+15550001111"], "ring_timeout": 2}],
            behaviour="busy",
            say=f"{PROMPTS}/tt-weasels",
        ),
        Scenario(
            "no-answer-then-voicemail",
            rules=[{"targets": ["+15550001111"], "ring_timeout": 2}],
            behaviour="noanswer",
            say=f"{PROMPTS}/tt-weasels",
        ),
    ]
}
