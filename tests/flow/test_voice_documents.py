"""Every verb of a customer's voice document, replayed from real calls.

The customer's app is an ``httpx.MockTransport`` serving the scenario's
documents; the ARI side is the tape of the same call made for real.
"""

from __future__ import annotations

from switchboard.callflow.status import CallLogStatus
from tests.flow.harness import FlowWorld
from tests.flow.scenarios import SCENARIOS


def _first_hangup(world: FlowWorld) -> dict:
    return next(r for r in world.replay.sent if r["method"] == "DELETE")


async def test_say_play_pause_digits_and_hangup_run_in_order(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["app-says-plays-pauses-and-hangs-up"], tmp_path)
    row = await world.run()
    assert row["status"] == CallLogStatus.ANSWERED_BY_CALLS_PROVIDER
    sent = world.replay.sent
    plays = [r["query"]["media"] for r in sent if r["uri"].endswith("/play")]
    assert plays[0].startswith("sound:/fake/media/tts-") and plays[1] == "sound:beep"
    assert [r["query"] for r in sent if r["uri"].endswith("/dtmf")] == [{"dtmf": "12"}]
    assert sent[-1]["method"] == "DELETE"  # Hangup: the Say after it never plays
    assert len(plays) == 2
    assert world.replay.unused_requests == []


async def test_gathered_digits_are_posted_to_the_action_url(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["app-gathers-digits-and-follows-the-action"], tmp_path)
    await world.run()
    posted = dict(world.app.requests)
    assert posted["/gathered"]["Digits"] == "42"
    assert world.replay.unused_requests == []


async def test_a_gather_without_input_falls_through_to_the_next_verb(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["app-gather-times-out-and-falls-through"], tmp_path)
    await world.run()
    paths = [path for path, _ in world.app.requests]
    assert paths == ["/voice", "/next"]  # no action request: the Redirect ran
    assert world.replay.unused_requests == []


async def test_reject_busy_refuses_the_call_without_answering(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["app-rejects-busy"], tmp_path)
    row = await world.run()
    assert not any(r["uri"].endswith("/answer") for r in world.replay.sent)
    assert _first_hangup(world)["query"] == {"reason": "busy"}
    assert row["status"] == CallLogStatus.MISSED
    assert world.replay.unused_requests == []


async def test_redirect_fetches_the_next_document_and_runs_it(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["app-redirects-then-rejects"], tmp_path)
    await world.run()
    assert [path for path, _ in world.app.requests] == ["/voice", "/next"]
    assert _first_hangup(world)["query"] == {"reason": "rejected"}
    assert world.replay.unused_requests == []


async def test_a_recorded_message_is_kept_and_posted_to_the_action_url(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["app-records-a-message"], tmp_path)
    await world.run()
    [saved] = world.recordings.saved
    assert saved["source"] == "RecordVerb" and saved["voicemail"] is None
    posted = dict(world.app.requests)["/recorded"]
    assert posted["RecordingSid"] == saved["recording_sid"]
    assert posted["RecordingUrl"].endswith(f"/recordings/{saved['recording_sid']}")
    record = next(r for r in world.replay.sent if r["uri"].endswith("/record"))
    assert record["query"]["maxDurationSeconds"] == "15"
    assert record["query"]["maxSilenceSeconds"] == "2"
    assert world.replay.unused_requests == []


async def test_an_answered_dial_is_recorded_and_its_outcome_posted(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["app-dial-answered-recorded-then-action"], tmp_path)
    await world.run()
    posted = dict(world.app.requests)["/after"]
    assert posted["DialCallStatus"] == "completed" and "DialCallSid" in posted
    assert [a[0] for a in world.ami.actions] == ["MixMonitor", "StopMixMonitor"]
    [saved] = world.recordings.saved
    assert saved["stored"].channels == 2
    assert world.replay.unused_requests == []


async def test_a_busy_dial_posts_busy_to_its_action(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["app-dial-busy-then-action"], tmp_path)
    await world.run()
    assert dict(world.app.requests)["/after"]["DialCallStatus"] == "busy"
    assert world.replay.unused_requests == []


async def test_a_failed_dial_without_action_goes_on_with_the_document(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["app-dial-fails-then-goes-on"], tmp_path)
    row = await world.run()
    [leg] = world.log.legs.values()
    assert leg["dial_status"] == "failed"
    plays = [r for r in world.replay.sent if r["uri"].endswith("/play")]
    assert len(plays) == 1  # "Nobody is available."
    assert row["status"] == CallLogStatus.ANSWERED_BY_CALLS_PROVIDER
    assert world.replay.unused_requests == []


async def test_a_dial_that_times_out_posts_no_answer(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["app-dial-times-out-then-action"], tmp_path)
    await world.run()
    assert dict(world.app.requests)["/after"]["DialCallStatus"] == "no-answer"
    assert sorted(leg["dial_status"] for leg in world.log.legs.values()) == [
        "no-answer", "no-answer"]
    assert world.replay.unused_requests == []
