"""The TwiML writer is the parser's inverse for every verb kind."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from switchboard.callflow.rules import compile_steps, plan_verbs
from switchboard.callflow.verbs import (
    Dial,
    DialTarget,
    Gather,
    Hangup,
    Pause,
    Play,
    Record,
    Redirect,
    Reject,
    Say,
    Verb,
)
from switchboard.callflow.voicedoc import parse_voice_document
from switchboard.callflow.voicedoc.writer import render_voice_document
from switchboard.callflow.voicemail import VoicemailSettings

EVERY_KIND: list[tuple[str, Verb]] = [
    ("say", Say(text="Hello & welcome <to> \"Acme\"", voice="woman", language="fr-FR", loop=3)),
    ("say forever", Say(text="again", voice="man", loop=1000)),
    ("play url", Play(url="https://media.example/greeting.wav?x=1&y=2", loop=2)),
    ("play prompt", Play(url="sound:vm-intro")),
    ("play digits", Play(digits="1w2#")),
    ("pause", Pause(length=4)),
    ("gather", Gather(num_digits=2, timeout=7, finish_on_key="*", action="/menu?a=1&b=2",
                      method="GET", prompts=(Say(text="Press 1"), Pause(length=1),
                                             Play(url="https://m.example/beep.wav")))),
    ("gather defaults", Gather()),
    ("gather no finish key", Gather(finish_on_key="", action="/x")),
    ("dial one number", Dial(targets=(DialTarget("number", "+15550001111"),))),
    ("dial many", Dial(
        targets=(DialTarget("number", "+15550001111", send_digits="ww12#"),
                 DialTarget("sip", "sip:alice@pbx.example;transport=tcp"),
                 DialTarget("client", "frontdesk", url="/whisper")),
        timeout=25, caller_id="+15559990000", record="record-from-answer-dual",
        action="/api/voice/incoming?step=3", method="GET", time_limit=600,
        hangup_on_star=True)),
    ("record", Record(max_length=120, timeout=5, finish_on_key="#", play_beep=True,
                      trim="do-not-trim", action="/api/voice/incoming?step=4",
                      recording_status_callback="/api/voice/recording?type=voicemail",
                      transcribe=True, transcribe_callback="https://t.example/cb")),
    ("record defaults", Record()),
    ("redirect", Redirect(url="https://app.example/next?from=a&to=b", method="GET")),
    ("hangup", Hangup()),
    ("reject busy", Reject(reason="busy")),
    ("reject", Reject()),
]


@pytest.mark.parametrize(("name", "verb"), EVERY_KIND, ids=[n for n, _ in EVERY_KIND])
def test_every_verb_round_trips_through_the_parser(name: str, verb: Verb) -> None:
    document = render_voice_document([verb])
    assert parse_voice_document(document) == [verb], document


def test_a_whole_document_round_trips_in_order() -> None:
    verbs = [v for _, v in EVERY_KIND]
    assert parse_voice_document(render_voice_document(verbs)) == verbs


def test_empty_response_is_an_empty_document() -> None:
    document = render_voice_document([])
    assert document == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert parse_voice_document(document) == []


def test_document_is_plain_twiml_a_provider_reads() -> None:
    document = render_voice_document(
        [Dial(targets=(DialTarget("number", "+15550001111"), DialTarget("number", "+15550002222")),
              timeout=20, action="/api/voice/incoming?step=0")]
    )
    root = ET.fromstring(document.split("?>", 1)[1])
    dial = root.find("Dial")
    assert dial is not None
    assert dial.get("action") == "/api/voice/incoming?step=0"
    assert dial.get("timeout") == "20"
    assert [n.text for n in dial.findall("Number")] == ["+15550001111", "+15550002222"]


def test_endpoint_targets_must_be_chosen_as_client_or_sip_first() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        render_voice_document([Dial(targets=(DialTarget("endpoint", "desk1"),))])


def test_compiled_forwarding_plan_round_trips_once_engine_fields_are_resolved() -> None:
    rules = [SimpleNamespace(id="r1", priority=1, enabled=True, strategy="sequential",
                             targets=["+15550001111", "+15550002222"], ring_timeout=15,
                             condition="always", schedule=None)]
    plan = plan_verbs(compile_steps(rules), now=datetime(2026, 1, 5, 12, tzinfo=UTC),
                      timezone="UTC", voicemail=VoicemailSettings(greeting="https://g.example/vm.wav"))
    # What a document can say: no conditions, no rule ids, no plan slots.
    served: list[Verb] = []
    for verb in plan:
        if isinstance(verb, Dial):
            targets = tuple(DialTarget(t.kind, t.value) for t in verb.targets)
            served.append(Dial(targets=targets, timeout=verb.timeout, record=verb.record))
        elif isinstance(verb, Record):
            served.append(Record(max_length=verb.max_length, timeout=verb.timeout,
                                 finish_on_key=verb.finish_on_key, play_beep=verb.play_beep))
        elif isinstance(verb, Play):
            served.append(Play(url=verb.url, loop=verb.loop))
        else:
            served.append(verb)
    assert parse_voice_document(render_voice_document(served)) == served
    assert [type(v).__name__ for v in served] == ["Dial", "Dial", "Play", "Record", "Hangup"]


def test_a_text_verb_round_trips_through_the_writer() -> None:
    from switchboard.callflow.verbs import SendText
    from switchboard.callflow.voicedoc.parser import parse_voice_document
    from switchboard.callflow.voicedoc.writer import render_voice_document

    verb = SendText(body="See you at 7", to="+15550001111", from_="+15550002222",
                    media_urls=("https://m.example/a.png",),
                    status_callback="https://app.example/s")
    assert parse_voice_document(render_voice_document([verb])) == [verb]
