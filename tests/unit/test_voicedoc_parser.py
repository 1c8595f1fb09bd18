"""TwiML voice documents parse to verbs with the provider's defaults."""

from __future__ import annotations

import pytest

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
)
from switchboard.callflow.voicedoc import VoiceDocumentError, parse_voice_document

BASE = "https://app.example.com/voice/incoming"


def test_say_with_defaults() -> None:
    verbs = parse_voice_document("<Response><Say>Hello there</Say></Response>")
    assert verbs == [Say(text="Hello there", voice="man", language="en-US", loop=1)]


def test_say_attributes_and_ssml_body_flattened() -> None:
    doc = """<?xml version="1.0" encoding="UTF-8"?>
    <Response>
      <Say voice="alice" language="en-GB" loop="3">Your   call
        <break strength="x-weak" time="100ms"/> is <emphasis>important</emphasis>.</Say>
    </Response>"""
    assert parse_voice_document(doc) == [
        Say(text="Your call is important.", voice="alice", language="en-GB", loop=3)
    ]


def test_loop_zero_means_repeat() -> None:
    verbs = parse_voice_document('<Response><Play loop="0">https://x/a.wav</Play></Response>')
    assert verbs == [Play(url="https://x/a.wav", loop=1000)]


def test_play_digits_without_url() -> None:
    verbs = parse_voice_document('<Response><Play digits="wwww3"></Play></Response>')
    assert verbs == [Play(url="", digits="wwww3")]


def test_play_relative_url_resolved_against_document_url() -> None:
    verbs = parse_voice_document("<Response><Play>/media/hi.mp3</Play></Response>", base_url=BASE)
    assert verbs == [Play(url="https://app.example.com/media/hi.mp3")]


def test_pause_default_and_length() -> None:
    verbs = parse_voice_document('<Response><Pause/><Pause length="7"/></Response>')
    assert verbs == [Pause(length=1), Pause(length=7)]


def test_nested_gather() -> None:
    doc = """<Response>
      <Gather numDigits="1" timeout="10" finishOnKey="*" action="/menu" method="GET">
        <Say>For sales press 1.</Say>
        <Pause length="2"/>
        <Play>https://cdn.example.com/jingle.wav</Play>
      </Gather>
      <Say>We did not receive any input. Goodbye!</Say>
    </Response>"""
    verbs = parse_voice_document(doc, base_url=BASE)
    assert verbs == [
        Gather(
            num_digits=1,
            timeout=10,
            finish_on_key="*",
            action="https://app.example.com/menu",
            method="GET",
            prompts=(
                Say(text="For sales press 1.", voice="man"),
                Pause(length=2),
                Play(url="https://cdn.example.com/jingle.wav"),
            ),
        ),
        Say(text="We did not receive any input. Goodbye!", voice="man"),
    ]


def test_gather_defaults_post_back_to_the_document() -> None:
    [gather] = parse_voice_document("<Response><Gather/></Response>", base_url=BASE)
    assert gather == Gather(num_digits=None, timeout=5, finish_on_key="#", action=BASE)


def test_gather_empty_finish_on_key_disables_it() -> None:
    [gather] = parse_voice_document('<Response><Gather finishOnKey=""/></Response>')
    assert isinstance(gather, Gather)
    assert gather.finish_on_key == ""
    assert gather.action is None


def test_dial_bare_number() -> None:
    verbs = parse_voice_document("<Response><Dial>+15558675310</Dial></Response>")
    assert verbs == [Dial(targets=(DialTarget(kind="number", value="+15558675310"),))]


def test_dial_several_numbers_with_all_attributes() -> None:
    doc = """<Response>
      <Dial timeout="20" callerId="+15551112222" record="record-from-answer-dual"
            action="/dial-done" method="GET" hangupOnStar="true" timeLimit="600">
        <Number sendDigits="wwww1928" url="/whisper">+15558675310</Number>
        <Number>+15551234567</Number>
        <Sip>sip:alice@pbx.example.com</Sip>
        <Client>bob</Client>
        <Client><Identity>carol</Identity></Client>
      </Dial>
    </Response>"""
    [dial] = parse_voice_document(doc, base_url=BASE)
    assert dial == Dial(
        targets=(
            DialTarget(
                kind="number",
                value="+15558675310",
                send_digits="wwww1928",
                url="https://app.example.com/whisper",
            ),
            DialTarget(kind="number", value="+15551234567"),
            DialTarget(kind="sip", value="sip:alice@pbx.example.com"),
            DialTarget(kind="client", value="bob"),
            DialTarget(kind="client", value="carol"),
        ),
        timeout=20,
        caller_id="+15551112222",
        record="record-from-answer-dual",
        action="https://app.example.com/dial-done",
        method="GET",
        hangup_on_star=True,
        time_limit=600,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", "record-from-answer"),
        ("false", "do-not-record"),
        ("record-from-ringing", "record-from-ringing"),
        ("record-from-ringing-dual", "record-from-ringing-dual"),
        ("do-not-record", "do-not-record"),
    ],
)
def test_dial_record_values(value: str, expected: str) -> None:
    [dial] = parse_voice_document(f'<Response><Dial record="{value}">+1555</Dial></Response>')
    assert isinstance(dial, Dial)
    assert dial.record == expected


@pytest.mark.parametrize(("given", "clamped"), [("1", 5), ("45", 45), ("9000", 600)])
def test_dial_timeout_is_clamped_like_the_provider(given: str, clamped: int) -> None:
    [dial] = parse_voice_document(f'<Response><Dial timeout="{given}">+1555</Dial></Response>')
    assert isinstance(dial, Dial)
    assert dial.timeout == clamped


def test_dial_defaults() -> None:
    [dial] = parse_voice_document("<Response><Dial><Number>+1555</Number></Dial></Response>")
    assert dial == Dial(
        targets=(DialTarget(kind="number", value="+1555"),),
        timeout=30,
        caller_id=None,
        record="do-not-record",
        action=None,
        method="POST",
        time_limit=14400,
        hangup_on_star=False,
    )


def test_dial_ten_targets_allowed_eleven_refused() -> None:
    ten = "".join(f"<Number>+1555000{i:04d}</Number>" for i in range(10))
    [dial] = parse_voice_document(f"<Response><Dial>{ten}</Dial></Response>")
    assert isinstance(dial, Dial)
    assert len(dial.targets) == 10
    with pytest.raises(VoiceDocumentError) as info:
        parse_voice_document(f"<Response><Dial>{ten}<Number>+1</Number></Dial></Response>")
    assert info.value.error_id == "voicedoc-bad-attribute"


def test_record_with_all_attributes() -> None:
    doc = """<Response>
      <Say>Leave a message after the beep.</Say>
      <Record action="https://app.example.com/recorded" method="GET" timeout="10"
              finishOnKey="#*" maxLength="30" playBeep="false" trim="do-not-trim"
              recordingStatusCallback="/rec-status" transcribe="true"
              transcribeCallback="/transcribed"/>
      <Hangup/>
    </Response>"""
    verbs = parse_voice_document(doc, base_url=BASE)
    assert verbs[1] == Record(
        max_length=30,
        timeout=10,
        finish_on_key="#*",
        play_beep=False,
        trim="do-not-trim",
        action="https://app.example.com/recorded",
        method="GET",
        recording_status_callback="https://app.example.com/rec-status",
        transcribe=True,
        transcribe_callback="https://app.example.com/transcribed",
    )
    assert verbs[2] == Hangup()


def test_record_defaults() -> None:
    [record] = parse_voice_document("<Response><Record/></Response>", base_url=BASE)
    assert record == Record(
        max_length=3600,
        timeout=5,
        finish_on_key="1234567890*#",
        play_beep=True,
        trim="trim-silence",
        action=BASE,
        method="POST",
        transcribe=False,
    )


def test_redirect_hangup_reject() -> None:
    doc = """<Response>
      <Redirect method="GET">next.xml</Redirect>
      <Hangup/>
      <Reject reason="busy"/>
      <Reject/>
    </Response>"""
    assert parse_voice_document(doc, base_url=BASE) == [
        Redirect(url="https://app.example.com/voice/next.xml", method="GET"),
        Hangup(),
        Reject(reason="busy"),
        Reject(reason="rejected"),
    ]


def test_empty_response_is_no_verbs() -> None:
    assert parse_voice_document("<Response/>") == []
    assert parse_voice_document(b"<?xml version='1.0'?>\n<Response></Response>") == []


def test_bytes_in_declared_encoding() -> None:
    doc = '<?xml version="1.0" encoding="ISO-8859-1"?><Response><Say>Caf\xe9</Say></Response>'
    [say] = parse_voice_document(doc.encode("latin-1"))
    assert say == Say(text="Café", voice="man")


def test_method_is_case_insensitive() -> None:
    [redirect] = parse_voice_document('<Response><Redirect method="get">/x</Redirect></Response>')
    assert redirect == Redirect(url="/x", method="GET")


def test_sms_and_message_verbs_become_texts_sent_during_the_call() -> None:
    from switchboard.callflow.verbs import SendText
    from switchboard.callflow.voicedoc.parser import parse_voice_document

    verbs = parse_voice_document(
        '<Response><Sms to="+15550001111" statusCallback="/sms-status">Your code is 1</Sms>'
        '<Message><Body>Hello</Body><Media>/card.png</Media></Message>'
        "<Message>Plain</Message></Response>",
        base_url="https://app.example/voice",
    )
    assert verbs == [
        SendText(body="Your code is 1", to="+15550001111",
                 status_callback="https://app.example/sms-status"),
        SendText(body="Hello", media_urls=("https://app.example/card.png",)),
        SendText(body="Plain"),
    ]


def test_an_empty_or_oversized_text_verb_is_a_document_error() -> None:
    import pytest

    from switchboard.callflow.voicedoc.exceptions import VoiceDocumentError
    from switchboard.callflow.voicedoc.parser import parse_voice_document

    for document in ("<Response><Sms></Sms></Response>",
                     f"<Response><Message>{'a' * 1601}</Message></Response>",
                     "<Response><Sms><Media>x</Media></Sms></Response>"):
        with pytest.raises(VoiceDocumentError):
            parse_voice_document(document)
