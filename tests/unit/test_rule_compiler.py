"""Forwarding rules compiled to dial steps and to the verbs the engine runs."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from switchboard.callflow.rules import (
    NOBODY_YET,
    UNREACHED,
    VoicemailSettings,
    Window,
    asterisk_timespec,
    compile_steps,
    parse_target,
    parse_window,
    plan_verbs,
)
from switchboard.callflow.verbs import Dial, DialOutcome, DialTarget, Hangup, Play, Record

NEW_YORK = "America/New_York"
WEEKDAYS_9_TO_5 = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}


@dataclass
class Rule:
    id: str
    targets: list[str]
    priority: int = 0
    enabled: bool = True
    strategy: str = "sequential"
    ring_timeout: int = 20
    condition: str = "always"
    schedule: list[dict[str, Any]] | None = field(default=None)


def _dials(verbs: list[Any]) -> list[Dial]:
    return [v for v in verbs if isinstance(v, Dial)]


def test_sequential_rule_rings_each_target_after_the_previous_went_unanswered():
    (first, second, third) = compile_steps([Rule("r", ["+15550001", "+15550002", "+15550003"])])
    assert [s.targets for s in (first, second, third)] == [
        (DialTarget("number", "+15550001", slot=1),),
        (DialTarget("number", "+15550002", slot=2),),
        (DialTarget("number", "+15550003", slot=3),),
    ]
    assert first.run_after == NOBODY_YET
    assert second.run_after == third.run_after == UNREACHED


def test_simultaneous_rule_rings_all_targets_in_one_step():
    (step,) = compile_steps(
        [Rule("r", ["endpoint:alice", "+15550002"], strategy="simultaneous", ring_timeout=15)]
    )
    assert step.targets == (
        DialTarget("endpoint", "alice", slot=1),
        DialTarget("number", "+15550002", slot=2),
    )
    assert step.timeout == 15 and step.rule_id == "r"


def test_rules_run_in_priority_order_and_disabled_or_empty_rules_vanish():
    steps = compile_steps(
        [
            Rule("late", ["+15550003"], priority=5),
            Rule("off", ["+15550009"], priority=0, enabled=False),
            Rule("empty", [], priority=1),
            Rule("early", ["+15550001"], priority=2),
        ]
    )
    assert [s.rule_id for s in steps] == ["early", "late"]
    # Slots count targets in plan order; skipped rules take none.
    assert [s.targets[0].slot for s in steps] == [1, 2]


@pytest.mark.parametrize(
    ("condition", "after"),
    [
        ("always", NOBODY_YET),
        ("busy", frozenset({DialOutcome.BUSY})),
        ("no_answer", frozenset({DialOutcome.NO_ANSWER})),
        ("unavailable", frozenset({DialOutcome.FAILED})),
        ("something-new", NOBODY_YET),
    ],
)
def test_condition_decides_after_which_outcomes_a_rule_runs(condition, after):
    first, second = compile_steps(
        [
            Rule("a", ["+15550001"], priority=0),
            Rule("b", ["+15550002", "+15550003"], priority=1, condition=condition),
        ]
    )[:2]
    assert second.run_after == after


def test_targets_are_endpoints_sip_uris_or_numbers():
    assert parse_target("endpoint:desk-7") == DialTarget("endpoint", "desk-7")
    assert parse_target("sip:bob@example.com") == DialTarget("sip", "sip:bob@example.com")
    assert parse_target("+441632960123") == DialTarget("number", "+441632960123")


def test_window_parsing():
    assert parse_window(WEEKDAYS_9_TO_5) == Window(frozenset(range(5)), 9 * 60, 17 * 60)
    assert parse_window({"days": ["Saturday"], "start": "22:00", "end": "24:00"}) == Window(
        frozenset({5}), 22 * 60, 24 * 60
    )
    assert parse_window({}) == Window(frozenset(range(7)), 0, 24 * 60)


@pytest.mark.parametrize(
    "raw",
    [
        {"days": ["funday"]},
        {"start": "17:00", "end": "09:00"},
        {"start": "09:00", "end": "09:00"},
        {"start": "9am"},
    ],
)
def test_bad_windows_are_refused(raw):
    with pytest.raises(ValueError):
        parse_window(raw)


def _plan(now: datetime, **kwargs: Any) -> list[Any]:
    steps = compile_steps(
        [
            Rule("day", ["+15550001"], priority=0, schedule=[WEEKDAYS_9_TO_5]),
            Rule("any", ["+15550002"], priority=1),
        ]
    )
    options: dict[str, Any] = {"timezone": NEW_YORK, "voicemail": VoicemailSettings()}
    return plan_verbs(steps, now=now, **{**options, **kwargs})


@pytest.mark.parametrize(
    ("utc", "rules"),
    [
        ("2026-11-25T14:00:00", ["day", "any"]),  # Wednesday 09:00 in New York
        ("2026-11-25T21:59:00", ["day", "any"]),  # 16:59
        ("2026-11-25T22:00:00", ["any"]),  # 17:00: the end is exclusive
        ("2026-11-25T13:59:00", ["any"]),  # 08:59
        ("2026-11-28T15:00:00", ["any"]),  # Saturday 10:00
        ("2026-11-26T03:00:00", ["any"]),  # Thursday in UTC, still Wednesday 22:00 in New York
        ("2026-07-01T13:30:00", ["day", "any"]),  # summer time: 09:30 EDT
    ],
)
def test_schedules_are_read_in_the_tenant_zone(utc, rules):
    now = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert [d.rule_id for d in _dials(_plan(now))] == rules


def test_plan_ends_with_voicemail_when_nobody_answered_then_hangs_up():
    verbs = _plan(
        datetime(2026, 11, 25, 15, tzinfo=UTC),
        voicemail=VoicemailSettings(
            max_seconds=60, silence_seconds=4, greeting="sound:custom-greeting"
        ),
    )
    play, record, hangup = verbs[-3:]
    assert play == Play(url="sound:custom-greeting", only_after=NOBODY_YET)
    assert isinstance(record, Record)
    assert (record.max_length, record.timeout, record.finish_on_key) == (60, 4, "#")
    assert record.voicemail and record.play_beep and record.only_after == NOBODY_YET
    assert isinstance(hangup, Hangup)


def test_no_voicemail_means_the_plan_just_hangs_up():
    verbs = _plan(datetime(2026, 11, 25, 15, tzinfo=UTC), voicemail=None)
    assert [type(v) for v in verbs] == [Dial, Dial, Hangup]


def test_recorded_numbers_record_both_sides_from_answer():
    now = datetime(2026, 11, 25, 15, tzinfo=UTC)
    assert {d.record for d in _dials(_plan(now, record=True))} == {"record-from-answer-dual"}
    assert {d.record for d in _dials(_plan(now))} == {"do-not-record"}


def test_dial_verbs_carry_the_step_conditions():
    first, second = _dials(_plan(datetime(2026, 11, 25, 15, tzinfo=UTC)))
    assert first.only_after == NOBODY_YET and first.timeout == 20
    assert second.only_after == NOBODY_YET
    assert second.targets == (DialTarget("number", "+15550002", slot=2),)


def test_windows_become_iftime_specs_ending_on_their_last_minute():
    window = parse_window(WEEKDAYS_9_TO_5)
    assert asterisk_timespec(window, NEW_YORK) == (
        "09:00-16:59,mon&tue&wed&thu&fri,*,*,America/New_York"
    )
    late = parse_window({"days": ["sun"], "start": "20:30", "end": "24:00"})
    assert asterisk_timespec(late, "UTC") == "20:30-23:59,sun,*,*,UTC"
