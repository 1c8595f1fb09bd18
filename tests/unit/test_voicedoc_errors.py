"""Voice documents the provider refuses are refused with typed errors."""

from __future__ import annotations

import pytest

from switchboard.callflow.voicedoc import (
    MAX_DOCUMENT_BYTES,
    VoiceDocumentError,
    parse_voice_document,
)
from switchboard.callflow.voicedoc.exceptions import (
    DOCUMENT_PARSE_FAILURE,
    RESPONSE_TOO_LARGE,
    SCHEMA_VALIDATION,
)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Response><Say>&lol9;</Say></Response>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Response><Say>&xxe;</Say></Response>"""


def _error(doc: str | bytes) -> VoiceDocumentError:
    with pytest.raises(VoiceDocumentError) as info:
        parse_voice_document(doc)
    return info.value


def test_billion_laughs_is_refused() -> None:
    error = _error(BILLION_LAUGHS)
    assert error.error_id == "voicedoc-forbidden-construct"
    assert error.error_code == DOCUMENT_PARSE_FAILURE


def test_external_entity_is_refused() -> None:
    assert _error(EXTERNAL_ENTITY).error_id == "voicedoc-forbidden-construct"


def test_plain_doctype_is_refused() -> None:
    assert _error("<!DOCTYPE Response><Response/>").error_id == "voicedoc-forbidden-construct"


def test_oversized_document_is_refused_before_parsing() -> None:
    filler = "<Pause/>" * (MAX_DOCUMENT_BYTES // 8)
    error = _error(f"<Response>{filler}</Response>")
    assert error.error_id == "voicedoc-too-large"
    assert error.error_code == RESPONSE_TOO_LARGE
    assert error.details["limit"] == MAX_DOCUMENT_BYTES


def test_document_just_under_the_limit_is_accepted() -> None:
    head, tail = "<Response>", "</Response>"
    count = (MAX_DOCUMENT_BYTES - len(head) - len(tail)) // len("<Pause/>")
    assert len(parse_voice_document(head + "<Pause/>" * count + tail)) == count


@pytest.mark.parametrize(
    "doc",
    ["", "   ", "<Response>", "<Response><Say>hi</Response>", "not xml at all", "<?php echo 1;"],
)
def test_malformed_xml(doc: str) -> None:
    error = _error(doc)
    assert error.error_id == "voicedoc-malformed"
    assert error.error_code == DOCUMENT_PARSE_FAILURE


def test_html_error_page_is_malformed_or_wrong_root() -> None:
    error = _error("<html><body><h1>502 Bad Gateway</h1></body></html>")
    assert error.error_id == "voicedoc-wrong-root"
    assert error.details == {"root": "html"}


def test_unknown_verb() -> None:
    error = _error("<Response><Say>hi</Say><Dance/></Response>")
    assert error.error_id == "voicedoc-unknown-verb"
    assert error.details == {"verb": "Dance"}
    assert error.error_code == SCHEMA_VALIDATION


def test_unsupported_provider_verb_is_named_as_such() -> None:
    assert _error("<Response><Enqueue>q</Enqueue></Response>").error_id == (
        "voicedoc-unsupported-verb"
    )


@pytest.mark.parametrize(
    "doc",
    [
        "<Response><Gather><Dial>+1555</Dial></Gather></Response>",
        "<Response><Gather><Gather/></Gather></Response>",
        "<Response><Dial><Say>x</Say></Dial></Response>",
        "<Response><Hangup><Say>x</Say></Hangup></Response>",
        "<Response><Number>+1555</Number></Response>",
    ],
)
def test_bad_nesting(doc: str) -> None:
    assert _error(doc).error_id in ("voicedoc-bad-nesting", "voicedoc-unknown-verb")


@pytest.mark.parametrize(
    ("doc", "attribute"),
    [
        ('<Response><Say loop="-1">x</Say></Response>', "loop"),
        ('<Response><Say loop="many">x</Say></Response>', "loop"),
        ('<Response><Say language="english please">x</Say></Response>', "language"),
        ('<Response><Pause length="1.5"/></Response>', "length"),
        ('<Response><Gather numDigits="0"/></Response>', "numDigits"),
        ('<Response><Gather finishOnKey="x"/></Response>', "finishOnKey"),
        ('<Response><Gather method="PUT"/></Response>', "method"),
        ('<Response><Gather timeout="soon"/></Response>', "timeout"),
        ('<Response><Dial record="always">+1</Dial></Response>', "record"),
        ('<Response><Dial hangupOnStar="yes">+1</Dial></Response>', "hangupOnStar"),
        ('<Response><Dial timeLimit="0">+1</Dial></Response>', "timeLimit"),
        ('<Response><Dial><Number sendDigits="12a">+1</Number></Dial></Response>', "sendDigits"),
        ('<Response><Record maxLength="-5"/></Response>', "maxLength"),
        ('<Response><Record playBeep="1"/></Response>', "playBeep"),
        ('<Response><Record trim="sometimes"/></Response>', "trim"),
        ('<Response><Record transcribe="maybe"/></Response>', "transcribe"),
        ('<Response><Reject reason="nope"/></Response>', "reason"),
        ('<Response><Play digits="abc"/></Response>', "digits"),
    ],
)
def test_bad_attribute_values(doc: str, attribute: str) -> None:
    error = _error(doc)
    assert error.error_id == "voicedoc-bad-attribute"
    assert error.details["attribute"] == attribute


@pytest.mark.parametrize(
    "doc",
    [
        "<Response><Say></Say></Response>",
        "<Response><Say>   </Say></Response>",
        "<Response><Play/></Response>",
        "<Response><Dial/></Response>",
        "<Response><Dial><Number> </Number></Dial></Response>",
        "<Response><Redirect/></Response>",
    ],
)
def test_verbs_missing_their_content(doc: str) -> None:
    assert _error(doc).error_id == "voicedoc-bad-attribute"


def test_unknown_attributes_are_ignored_like_the_provider() -> None:
    assert parse_voice_document('<Response><Hangup flavour="vanilla"/></Response>')
