"""The calls the fast call-flow specs replay, defined once for both tiers.

Each scenario is a real call: the real-Asterisk tier places it
(``tests/integration/test_ari_tapes.py``) through the call simulator with
these rules, number settings and caller behaviour, and records its ARI tape;
the fast tier (``tests/flow/``) runs the same call flow against that tape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DID = "+15550100200"
CALLER = "+15557654321"
PROMPTS = "/usr/share/asterisk/sounds/en_US_f_Allison"
# Every recording and every replay runs at this time (a Wednesday afternoon, UTC),
# so time-of-day rules decide the same way in both tiers.
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
WEEKEND = [{"days": ["sat", "sun"], "start": "00:00", "end": "24:00"}]
WEEKDAYS = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}]


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
        hangup_after: the caller hangs up this many seconds after the call starts.
        commands: live-call commands sent once the call is connected, in order:
            ``("hold",)``, ``("unhold",)``, ``("transfer", target, "blind"|"warm")``,
            ``("hangup",)``.
        outbound_to: place an outbound call to this number (through the
            simulated trunk) instead of receiving one.
    """

    name: str
    rules: list[dict[str, Any]] = field(default_factory=list)
    behaviour: str = "answer"
    say: str | None = None
    dtmf: str | None = None
    dtmf_delay: float = 1.0
    hold: float = 5.0
    talk: float = 2.0
    record: bool = False
    documents: dict[str, str] = field(default_factory=dict)
    hangup_after: float | None = None
    commands: tuple[tuple[str, ...], ...] = ()
    outbound_to: str | None = None
    trunk_context: str = "sb-test"


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
            "busy-condition-rule-after-busy",
            rules=[
                {"targets": ["+15550001111"], "ring_timeout": 5},
                {"targets": ["+15550002222"], "ring_timeout": 5, "condition": "busy"},
                {"targets": ["+15550003333"], "ring_timeout": 5, "condition": "no_answer"},
            ],
            behaviour="busy,answer,answer",
        ),
        Scenario(
            "no-answer-condition-rule-after-no-answer",
            rules=[
                {"targets": ["+15550001111"], "ring_timeout": 2},
                {"targets": ["+15550002222"], "ring_timeout": 5, "condition": "busy"},
                {"targets": ["+15550003333"], "ring_timeout": 5, "condition": "no_answer"},
            ],
            behaviour="noanswer,answer,answer",
        ),
        Scenario(
            "unavailable-condition-rule-after-unavailable",
            rules=[
                {"targets": ["+15550001111"], "ring_timeout": 5},
                {"targets": ["+15550002222"], "ring_timeout": 5, "condition": "busy"},
                {"targets": ["+15550003333"], "ring_timeout": 5, "condition": "unavailable"},
            ],
            behaviour="unavailable,answer,answer",
        ),
        Scenario(
            "time-of-day-rule-skipped-outside-its-window",
            rules=[
                {"targets": ["+15550001111"], "ring_timeout": 5, "schedule": WEEKEND},
                {"targets": ["+15550002222"], "ring_timeout": 5, "schedule": WEEKDAYS},
            ],
            behaviour="busy,answer",
        ),
        Scenario(
            "recorded-number-records-both-sides",
            rules=[{"targets": ["+15550001111"], "ring_timeout": 10}],
            record=True,
        ),
        Scenario(
            "caller-hangs-up-while-targets-ring",
            rules=[{"targets": ["+15550001111", "+15550002222"], "strategy": "simultaneous",
                    "ring_timeout": 20}],
            behaviour="noanswer",
            hangup_after=1.5,
        ),
        Scenario(
            "live-call-held-unheld-and-blind-transferred",
            rules=[{"targets": ["+15550001111"], "ring_timeout": 10}],
            talk=20,
            hold=20,
            commands=(("hold",), ("unhold",), ("transfer", "+15550002222", "blind"),
                      ("hangup",)),
        ),
        Scenario(
            "live-call-warm-transferred",
            rules=[{"targets": ["+15550001111"], "ring_timeout": 10}],
            talk=20,
            hold=20,
            commands=(("transfer", "+15550002222", "warm"), ("hangup",)),
        ),
        Scenario(
            "outbound-call-connects-the-numbers-staff",
            rules=[{"targets": ["+15550004444"], "ring_timeout": 10}],
            outbound_to="+15550003333",
            trunk_context="sb-sim",
        ),
        Scenario(
            "app-says-plays-pauses-and-hangs-up",
            documents={
                "/voice": "<Response><Say>Hello from the app.</Say><Play>sound:beep</Play>"
                '<Pause length="1"/><Play digits="12"/><Hangup/><Say>never</Say></Response>',
            },
        ),
        Scenario(
            "app-gathers-digits-and-follows-the-action",
            documents={
                "/voice": '<Response><Gather numDigits="2" timeout="4" action="/gathered">'
                "<Say>Press two digits.</Say></Gather><Say>No input.</Say></Response>",
                "/gathered": "<Response><Say>Thank you.</Say><Hangup/></Response>",
            },
            dtmf="42",
            dtmf_delay=0.5,
        ),
        Scenario(
            "app-gather-times-out-and-falls-through",
            documents={
                "/voice": '<Response><Gather numDigits="1" timeout="1" action="/gathered">'
                '<Play>sound:beep</Play></Gather><Redirect>/next</Redirect></Response>',
                "/next": "<Response><Hangup/></Response>",
            },
        ),
        Scenario(
            "app-rejects-busy",
            documents={"/voice": '<Response><Reject reason="busy"/></Response>'},
        ),
        Scenario(
            "app-redirects-then-rejects",
            documents={
                "/voice": "<Response><Redirect>/next</Redirect></Response>",
                "/next": "<Response><Reject/></Response>",
            },
        ),
        Scenario(
            "app-records-a-message",
            documents={
                "/voice": '<Response><Record maxLength="15" timeout="2" action="/recorded"/>'
                "</Response>",
                "/recorded": "<Response><Hangup/></Response>",
            },
            say=f"{PROMPTS}/tt-weasels",
        ),
        Scenario(
            "app-dial-answered-recorded-then-action",
            documents={
                "/voice": '<Response><Dial timeout="10" action="/after" '
                'record="record-from-answer-dual"><Number>+15550001111</Number></Dial>'
                "</Response>",
                "/after": "<Response><Hangup/></Response>",
            },
        ),
        Scenario(
            "app-dial-busy-then-action",
            documents={
                "/voice": '<Response><Dial timeout="10" action="/after">'
                "<Number>+15550001111</Number></Dial></Response>",
                "/after": "<Response><Hangup/></Response>",
            },
            behaviour="busy",
        ),
        Scenario(
            "app-dial-fails-then-goes-on",
            documents={
                "/voice": '<Response><Dial timeout="10"><Number>+15550001111</Number></Dial>'
                "<Say>Nobody is available.</Say></Response>",
            },
            behaviour="unavailable",
        ),
        Scenario(
            "app-dial-times-out-then-action",
            documents={
                "/voice": '<Response><Dial timeout="2" action="/after">'
                "<Number>+15550001111</Number><Number>+15550002222</Number></Dial></Response>",
                "/after": "<Response><Hangup/></Response>",
            },
            behaviour="noanswer",
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
