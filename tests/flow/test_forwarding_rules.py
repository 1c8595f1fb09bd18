"""Forwarding rules as the built-in app runs them, replayed from real calls.

Each spec replays a tape recorded from a real call through Asterisk
(``tests/fixtures/ari/``) through the engine's real call flow; the
real-Asterisk tier re-records every tape and checks it has not drifted.
"""

from __future__ import annotations

from switchboard.callflow.status import CallLogStatus
from tests.flow.harness import FlowWorld
from tests.flow.scenarios import SCENARIOS


async def test_a_single_target_that_answers_is_bridged_and_logged(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["single-target-answers"], tmp_path)
    row = await world.run()
    assert row["status"] == CallLogStatus.ANSWERED_BY_STAFF
    assert row["answered_by"] == "+15550001111"
    assert row["call_status"] == "completed"
    assert row["duration"] >= 1
    assert [leg["dial_status"] for leg in world.log.legs_in_order()] == ["answered"]
    assert world.replay.unused_requests == []


async def test_sequential_rule_falls_through_to_the_second_target(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["sequential-no-answer-then-answer"], tmp_path)
    row = await world.run()
    assert row["status"] == CallLogStatus.ANSWERED_BY_STAFF
    assert row["answered_by"] == "+15550002222"
    assert [(leg["target"], leg["dial_status"]) for leg in world.log.legs_in_order()] == [
        ("+15550001111", "no-answer"),
        ("+15550002222", "answered"),
    ]
    assert world.replay.unused_requests == []


async def test_simultaneous_rule_bridges_the_first_to_answer_and_cancels_the_rest(
    tmp_path,
) -> None:
    world = FlowWorld(SCENARIOS["simultaneous-first-answer-wins"], tmp_path)
    row = await world.run()
    assert row["answered_by"] == "+15550002222"
    statuses = {leg["target"]: leg["dial_status"] for leg in world.log.legs.values()}
    assert statuses == {"+15550001111": "canceled", "+15550002222": "answered"}
    legs = world.log.legs_in_order()
    assert abs((legs[0]["started_at"] - legs[1]["started_at"]).total_seconds()) < 0.5
    assert world.replay.unused_requests == []


async def test_a_busy_target_sends_the_caller_to_voicemail(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["busy-then-voicemail"], tmp_path)
    row = await world.run()
    assert row["status"] == CallLogStatus.VOICEMAIL_RECEIVED
    assert [leg["dial_status"] for leg in world.log.legs.values()] == ["busy"]
    [saved] = world.recordings.saved
    assert saved["source"] == "Voicemail" and saved["voicemail"] is not None
    assert world.replay.unused_requests == []


async def test_an_unanswered_target_sends_the_caller_to_voicemail(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["no-answer-then-voicemail"], tmp_path)
    row = await world.run()
    assert row["status"] == CallLogStatus.VOICEMAIL_RECEIVED
    assert [leg["dial_status"] for leg in world.log.legs.values()] == ["no-answer"]
    assert world.replay.unused_requests == []


def _dialled(world: FlowWorld) -> list[tuple[str, str]]:
    return [(leg["target"], leg["dial_status"]) for leg in world.log.legs_in_order()]


async def test_a_busy_condition_rule_runs_only_after_busy(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["busy-condition-rule-after-busy"], tmp_path)
    row = await world.run()
    assert row["answered_by"] == "+15550002222"
    assert _dialled(world) == [("+15550001111", "busy"), ("+15550002222", "answered")]
    assert world.replay.unused_requests == []


async def test_a_no_answer_condition_rule_runs_only_after_no_answer(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["no-answer-condition-rule-after-no-answer"], tmp_path)
    row = await world.run()
    assert row["answered_by"] == "+15550003333"  # the busy rule was skipped
    assert _dialled(world) == [("+15550001111", "no-answer"), ("+15550003333", "answered")]
    assert world.replay.unused_requests == []


async def test_an_unavailable_condition_rule_runs_after_an_unreachable_target(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["unavailable-condition-rule-after-unavailable"], tmp_path)
    row = await world.run()
    assert row["answered_by"] == "+15550003333"
    assert _dialled(world) == [("+15550001111", "failed"), ("+15550003333", "answered")]
    assert world.replay.unused_requests == []


async def test_a_rule_outside_its_time_window_is_skipped(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["time-of-day-rule-skipped-outside-its-window"], tmp_path)
    row = await world.run()  # a Wednesday at 15:00: the weekend rule does not ring
    assert row["answered_by"] == "+15550002222"
    assert _dialled(world) == [("+15550002222", "answered")]
    assert world.replay.unused_requests == []


async def test_a_recorded_number_records_caller_and_callee_on_two_channels(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["recorded-number-records-both-sides"], tmp_path)
    row = await world.run()
    assert row["status"] == CallLogStatus.ANSWERED_BY_STAFF and row["has_recording"] is True
    [(action, channel, path, options), (stop, _)] = world.ami.actions
    assert (action, options, stop) == ("MixMonitor", "D", "StopMixMonitor")
    assert channel.startswith("Local/+15550100200@switchboard-did-") and path.endswith(".raw")
    [saved] = world.recordings.saved
    assert saved["source"] == "DialVerb" and saved["stored"].channels == 2
    assert world.replay.unused_requests == []


async def test_a_caller_who_hangs_up_while_targets_ring_cancels_every_leg(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["caller-hangs-up-while-targets-ring"], tmp_path)
    row = await world.run()
    assert row["status"] == CallLogStatus.MISSED
    assert row["call_status"] == "canceled" and row["duration"] == 0
    assert [status for _, status in _dialled(world)] == ["canceled", "canceled"]
    assert world.replay.unused_requests == []
