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
