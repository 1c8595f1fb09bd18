"""Verbs to TwiML: the inverse of :mod:`switchboard.callflow.voicedoc.parser`.

The built-in voice app (``/api/voice/incoming``) answers with the verbs the
forwarding rules compile to; this module writes them as the voice document a
provider (or another Switchboard engine) executes. It is pure and total over
what TwiML can say: ``parse_voice_document(render_voice_document(verbs))``
gives back ``verbs`` for every verb kind.

Every attribute is written explicitly, defaults included, so the document
means the same whatever defaults its reader assumes (the parser's ``Say``
voice default differs from the dataclass's, for instance).

Fields that exist only inside the engine have no TwiML form and are not
written: ``only_after`` and ``rule_id`` (conditions are resolved before a
document is served), ``DialTarget.slot`` and ``Record.voicemail``. A target of
kind ``endpoint`` has no noun either: the caller chooses ``Client`` or ``Sip``
before rendering (see :mod:`switchboard.services.voice_webhooks`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

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
    SendText,
    Verb,
)

CONTENT_TYPE = "application/xml"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_NOUNS = {"number": "Number", "sip": "Sip", "client": "Client"}


def render_voice_document(verbs: Sequence[Verb]) -> str:
    """Write ``verbs`` as a TwiML ``<Response>`` document.

    Args:
        verbs: The verbs, in the order they run.

    Returns:
        The document, with its XML declaration, as text (encode it as UTF-8).

    Raises:
        ValueError: A dial target's kind has no TwiML noun (``endpoint``).
    """
    root = ET.Element("Response")
    for verb in verbs:
        root.append(_element(verb))
    return _DECLARATION + ET.tostring(root, encoding="unicode")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _set(element: ET.Element, name: str, value: str | int | None) -> None:
    if value is not None:
        element.set(name, str(value))


def _element(verb: Verb) -> ET.Element:
    match verb:
        case Say():
            return _say(verb)
        case Play():
            return _play(verb)
        case Pause():
            return ET.Element("Pause", {"length": str(verb.length)})
        case Gather():
            return _gather(verb)
        case Dial():
            return _dial(verb)
        case Record():
            return _record(verb)
        case Redirect():
            element = ET.Element("Redirect", {"method": verb.method})
            element.text = verb.url
            return element
        case Hangup():
            return ET.Element("Hangup")
        case Reject():
            return ET.Element("Reject", {"reason": verb.reason})
        case SendText():
            return _message(verb)
    raise TypeError(f"not a verb: {verb!r}")  # pragma: no cover - Verb is closed


def _message(verb: SendText) -> ET.Element:
    element = ET.Element("Message")
    _set(element, "to", verb.to)
    _set(element, "from", verb.from_)
    _set(element, "statusCallback", verb.status_callback)
    ET.SubElement(element, "Body").text = verb.body
    for url in verb.media_urls:
        ET.SubElement(element, "Media").text = url
    return element


def _say(verb: Say) -> ET.Element:
    element = ET.Element(
        "Say", {"voice": verb.voice, "language": verb.language, "loop": str(verb.loop)}
    )
    element.text = verb.text
    return element


def _play(verb: Play) -> ET.Element:
    element = ET.Element("Play", {"loop": str(verb.loop)})
    _set(element, "digits", verb.digits)
    if verb.url:
        element.text = verb.url
    return element


def _gather(verb: Gather) -> ET.Element:
    element = ET.Element(
        "Gather",
        {"timeout": str(verb.timeout), "finishOnKey": verb.finish_on_key, "method": verb.method},
    )
    _set(element, "numDigits", verb.num_digits)
    _set(element, "action", verb.action)
    for prompt in verb.prompts:
        element.append(_element(prompt))
    return element


def _dial(verb: Dial) -> ET.Element:
    element = ET.Element(
        "Dial",
        {
            "timeout": str(verb.timeout),
            "record": verb.record,
            "method": verb.method,
            "timeLimit": str(verb.time_limit),
            "hangupOnStar": _flag(verb.hangup_on_star),
        },
    )
    _set(element, "callerId", verb.caller_id)
    _set(element, "action", verb.action)
    _set(element, "recordingStatusCallback", verb.recording_status_callback)
    for target in verb.targets:
        element.append(_noun(target))
    return element


def _noun(target: DialTarget) -> ET.Element:
    name = _NOUNS.get(target.kind)
    if name is None:
        raise ValueError(
            f"a {target.kind!r} target has no TwiML noun; render it as a client or sip target"
        )
    element = ET.Element(name)
    if target.kind == "number":
        _set(element, "sendDigits", target.send_digits)
    _set(element, "url", target.url)
    element.text = target.value
    return element


def _record(verb: Record) -> ET.Element:
    element = ET.Element(
        "Record",
        {
            "maxLength": str(verb.max_length),
            "timeout": str(verb.timeout),
            "finishOnKey": verb.finish_on_key,
            "playBeep": _flag(verb.play_beep),
            "trim": verb.trim,
            "method": verb.method,
            "transcribe": _flag(verb.transcribe),
        },
    )
    _set(element, "action", verb.action)
    _set(element, "recordingStatusCallback", verb.recording_status_callback)
    _set(element, "transcribeCallback", verb.transcribe_callback)
    return element


__all__ = ["CONTENT_TYPE", "render_voice_document"]
