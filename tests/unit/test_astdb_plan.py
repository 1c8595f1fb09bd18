"""The AstDB mirror the engine-down dialplan reads: keys and values per number."""

from dataclasses import replace

from switchboard.callflow.astdb_plan import astdb_entries
from switchboard.callflow.routes import NumberRoute, TrunkRoute
from switchboard.callflow.rules import ForwardingStep, compile_steps
from switchboard.callflow.voicemail import VoicemailSettings
from tests.unit.test_rule_compiler import WEEKDAYS_9_TO_5, Rule

DID = "+15550100200"


def _route(steps: list[ForwardingStep], **changes: object) -> NumberRoute:
    route = NumberRoute(
        number_id="n1",
        tenant_id="t1",
        did=DID,
        enabled=True,
        timezone="Europe/Paris",
        account_sid="AC" + "0" * 32,
        auth_token="x" * 32,
        steps=tuple(steps),
        voicemail=VoicemailSettings(max_seconds=90, silence_seconds=4),
        record=False,
        trunk=TrunkRoute(name="carrier", kind="pjsip"),
    )
    return replace(route, **changes)  # type: ignore[arg-type]


def test_number_level_keys():
    entries = astdb_entries(_route(compile_steps([Rule("r", ["+15550001"])]), record=True))
    assert {k: v for k, v in entries.items() if k.count("/") == 1} == {
        f"{DID}/on": "1",
        f"{DID}/n": "1",
        f"{DID}/rec": "1",
        f"{DID}/vm": "1",
        f"{DID}/vmmax": "90",
        f"{DID}/vmsil": "4",
        f"{DID}/tenant": "t1",
    }


def test_steps_mirror_the_compiled_plan():
    steps = compile_steps(
        [
            Rule("a", ["+15550001", "endpoint:alice"], ring_timeout=12),
            Rule("b", ["+15550003"], priority=1, condition="busy", schedule=[WEEKDAYS_9_TO_5]),
        ]
    )
    entries = astdb_entries(_route(steps))
    assert entries[f"{DID}/n"] == "3"
    # First step: runs when nothing was dialled yet, or after any failure.
    assert entries[f"{DID}/1/after"] == "BUSY&CHANUNAVAIL&CONGESTION&NOANSWER&NONE"
    assert entries[f"{DID}/1/timeout"] == "12"
    assert entries[f"{DID}/1/dial"] == "PJSIP/+15550001@carrier"
    assert entries[f"{DID}/1/count"] == "1"
    assert entries[f"{DID}/1/nwin"] == "0"
    # Second target of the sequential rule: only after the first went unanswered.
    assert entries[f"{DID}/2/after"] == "BUSY&CHANUNAVAIL&CONGESTION&NOANSWER"
    assert entries[f"{DID}/2/dial"] == "PJSIP/alice"
    assert entries[f"{DID}/2/count"] == "1"
    # The on-busy rule, with its schedule as an IFTIME spec in the tenant's zone.
    assert entries[f"{DID}/3/after"] == "BUSY"
    assert entries[f"{DID}/3/nwin"] == "1"
    assert entries[f"{DID}/3/win1"] == "09:00-16:59,mon&tue&wed&thu&fri,*,*,Europe/Paris"


def test_simultaneous_targets_are_joined_with_ampersands():
    steps = compile_steps([Rule("r", ["+15550001", "+15550002"], strategy="simultaneous")])
    trunk = TrunkRoute(name="lab", kind="local", context="sb-test")
    entries = astdb_entries(_route(steps, trunk=trunk))
    assert entries[f"{DID}/1/dial"] == "Local/+15550001@sb-test&Local/+15550002@sb-test"
    assert entries[f"{DID}/1/count"] == "2"


def test_numbers_without_a_trunk_keep_only_reachable_targets():
    steps = compile_steps([Rule("r", ["+15550001", "endpoint:alice"], strategy="simultaneous")])
    entries = astdb_entries(_route(steps, trunk=None))
    assert entries[f"{DID}/1/dial"] == "PJSIP/alice"
    only_external = astdb_entries(_route(compile_steps([Rule("r", ["+15550001"])]), trunk=None))
    assert only_external[f"{DID}/1/dial"] == ""  # the fallback treats it as CHANUNAVAIL


def test_released_number_without_voicemail_or_rules():
    entries = astdb_entries(_route([], enabled=False, voicemail=None))
    assert entries == {
        f"{DID}/on": "0",
        f"{DID}/n": "0",
        f"{DID}/rec": "0",
        f"{DID}/vm": "0",
        f"{DID}/tenant": "t1",
    }
