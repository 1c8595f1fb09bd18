"""Typed ARI events: real frames of Asterisk 22 decode into their types, once."""

from __future__ import annotations

import pytest

from switchboard.engine.ari.events import (
    EVENT_TYPES,
    ChannelDestroyed,
    ChannelLeftBridge,
    Dial,
    PlaybackFinished,
    RecordingFinished,
    StasisStart,
    UnknownEvent,
    decode_event,
    encode_event,
)

# Frames as Asterisk 22.10 sent them during a sequential forward (recorded).
STASIS_START = (
    '{"type":"StasisStart","timestamp":"2026-12-02T12:41:41.532+0000","args":["inbound","+155'
    '50100200","sim-c30079e1d25148dcb1d8792975390454","noanswer/answer",""],"channel":{"id":"'
    'sim-c30079e1d25148dcb1d8792975390454;2","name":"Local/+15550100200@switchboard-did-00000'
    '000;2","state":"Ring","protocol_id":"","caller":{"name":"+15557654321","number":"+155576'
    '54321"},"connected":{"name":"+15557654321","number":"+15557654321"},"accountcode":"","di'
    'alplan":{"context":"switchboard-did","exten":"+15550100200","priority":2,"app_name":"Sta'
    'sis","app_data":"switchboard,inbound,+15550100200,sim-c30079e1d25148dcb1d8792975390454,n'
    'oanswer/answer,"},"creationtime":"2026-12-02T12:41:41.531+0000","language":"en"},"asteri'
    'sk_id":"02:fc:00:00:00:01","application":"switchboard"}'
)
DIAL_STARTING = (
    '{"type":"Dial","timestamp":"2026-12-02T12:41:41.543+0000","dialstatus":"","forward":"","'
    'dialstring":"1@sb-sim","peer":{"id":"9dd69c2e-8ea6-498c-81fd-80179ded4f27","name":"Local'
    '/1@sb-sim-00000001;1","state":"Down","protocol_id":"","caller":{"name":"+15557654321","n'
    'umber":"+15557654321"},"connected":{"name":"+15557654321","number":"+15557654321"},"acco'
    'untcode":"","dialplan":{"context":"sb-sim","exten":"1","priority":1,"app_name":"AppDial2'
    '","app_data":"(Outgoing Line)"},"creationtime":"2026-12-02T12:41:41.542+0000","language"'
    ':"en"},"asterisk_id":"02:fc:00:00:00:01","application":"switchboard"}'
)
DESTROYED_NO_ANSWER = (
    '{"type":"ChannelDestroyed","timestamp":"2026-12-02T12:41:43.544+0000","cause":19,"cause_'
    'txt":"User alerting, no answer","channel":{"id":"9dd69c2e-8ea6-498c-81fd-80179ded4f27","'
    'name":"Local/1@sb-sim-00000001;1","state":"Ringing","protocol_id":"","caller":{"name":"+'
    '15557654321","number":"+15557654321"},"connected":{"name":"+15557654321","number":"+1555'
    '7654321"},"accountcode":"","dialplan":{"context":"sb-sim","exten":"1","priority":1,"app_'
    'name":"AppDial2","app_data":"(Outgoing Line)"},"creationtime":"2026-12-02T12:41:41.542+0'
    '000","language":"en"},"asterisk_id":"02:fc:00:00:00:01","application":"switchboard"}'
)
LEFT_BRIDGE = (
    '{"type":"ChannelLeftBridge","timestamp":"2026-12-02T12:41:45.349+0000","bridge":{"id":"d'
    '6544aec-e0fc-41c2-a272-cd8c783c92d5","technology":"simple_bridge","bridge_type":"mixing"'
    ',"bridge_class":"stasis","creator":"Stasis","name":"","channels":["sim-c30079e1d25148dcb'
    '1d8792975390454;2"],"creationtime":"2026-12-02T12:41:43.848+0000","video_mode":"talker"}'
    ',"channel":{"id":"06bc5967-f9d7-4305-ab03-364cc256f59a","name":"Local/2@sb-sim-00000002;'
    '1","state":"Up","protocol_id":"","caller":{"name":"+15557654321","number":"+15557654321"'
    '},"connected":{"name":"+15557654321","number":"+15557654321"},"accountcode":"","dialplan'
    '":{"context":"sb-sim","exten":"2","priority":1,"app_name":"Stasis","app_data":"switchboa'
    'rd,leg,CA261e2c9b4878335945a2c251be94f4dc"},"creationtime":"2026-12-02T12:41:43.546+0000'
    '","language":"en"},"asterisk_id":"02:fc:00:00:00:01","application":"switchboard"}'
)


def test_stasis_start_carries_the_channel_and_the_stasis_arguments() -> None:
    event = decode_event(STASIS_START)
    assert isinstance(event, StasisStart)
    assert event.args[:2] == ("inbound", "+15550100200")
    assert event.channel.name.startswith("Local/+15550100200@switchboard-did-")
    assert event.channel.caller.number == "+15557654321"
    assert event.channel.dialplan.context == "switchboard-did"
    assert event.concerns() == (event.channel.id,)


def test_dial_progress_names_the_dialled_peer() -> None:
    event = decode_event(DIAL_STARTING)
    assert isinstance(event, Dial)
    assert event.dialstatus == ""
    assert event.caller is None  # originated over ARI: no calling channel
    assert event.concerns() == (event.peer.id,)


def test_a_destroyed_channel_says_why() -> None:
    event = decode_event(DESTROYED_NO_ANSWER)
    assert isinstance(event, ChannelDestroyed)
    assert (event.cause, event.cause_txt) == (19, "User alerting, no answer")


def test_leaving_a_bridge_concerns_the_channel_then_the_bridge() -> None:
    event = decode_event(LEFT_BRIDGE)
    assert isinstance(event, ChannelLeftBridge)
    assert event.concerns() == (event.channel.id, event.bridge.id)


def test_playbacks_and_recordings_concern_themselves_then_their_target() -> None:
    played = decode_event(
        '{"type":"PlaybackFinished","playback":{"id":"p1","media_uri":"sound:beep",'
        '"target_uri":"channel:c1","language":"en","state":"failed"}}'
    )
    assert isinstance(played, PlaybackFinished)
    assert played.playback.state == "failed"  # Asterisk has no PlaybackFailed event
    assert played.concerns() == ("p1", "c1")
    recorded = decode_event(
        '{"type":"RecordingFinished","recording":{"name":"RE1","format":"wav",'
        '"target_uri":"bridge:b1","state":"done","duration":3}}'
    )
    assert isinstance(recorded, RecordingFinished)
    assert recorded.concerns() == ("RE1", "b1")


def test_an_event_of_an_undeclared_type_is_unknown_not_an_error() -> None:
    event = decode_event('{"type":"ChannelVarset","variable":"X","value":"1"}')
    assert event == UnknownEvent(kind="ChannelVarset")
    assert event.concerns() == ()


@pytest.mark.parametrize("frame", ["[1, 2]", "not json", '{"no": "type"}'])
def test_a_frame_that_is_no_event_is_refused(frame: str) -> None:
    with pytest.raises(ValueError):
        decode_event(frame)


def test_a_declared_event_without_its_required_fields_is_refused() -> None:
    with pytest.raises(ValueError, match="malformed StasisStart"):
        decode_event('{"type":"StasisStart","args":[]}')


def test_encoding_keeps_exactly_what_decoding_reads() -> None:
    event = decode_event(STASIS_START)
    assert decode_event(encode_event(event)) == event
    assert b"creationtime" not in encode_event(event)


def test_the_engine_asks_asterisk_for_every_declared_type_and_rest_answers() -> None:
    assert "RESTResponse" in EVENT_TYPES and "StasisStart" in EVENT_TYPES
    assert "PlaybackFailed" not in EVENT_TYPES  # not an Asterisk event
    assert len(set(EVENT_TYPES)) == len(EVENT_TYPES)
