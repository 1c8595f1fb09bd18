"""TwiML voice documents to verbs: a pure function over text.

A customer's server answers a voice URL with a document such as::

    <Response><Gather numDigits="1" action="/menu"><Say>Press 1</Say></Gather></Response>

:func:`parse_voice_document` turns it into the verbs of
:mod:`switchboard.callflow.verbs`, applying the provider's defaults and
refusing what the provider refuses. The document comes from outside: it is
parsed with defusedxml (no DTDs, no entity expansion, no external
references) and capped in size before parsing.

Provider behaviours kept here so the executor need not know TwiML:

* ``loop="0"`` on ``Say``/``Play`` means "repeat" and becomes 1000 plays.
* ``Dial timeout`` is clamped to 5–600 s; ``record="true"``/``"false"`` mean
  ``record-from-answer``/``do-not-record``.
* With ``base_url`` (the URL the document came from), relative URLs are
  resolved against it, and ``Gather``/``Record`` without ``action`` post back
  to the document's own URL.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import defusedxml
import defusedxml.ElementTree as SafeET

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
from switchboard.callflow.voicedoc.attributes import Attributes, local_name, resolve_url
from switchboard.callflow.voicedoc.exceptions import (
    DOCUMENT_PARSE_FAILURE,
    RESPONSE_TOO_LARGE,
    VoiceDocumentError,
)

MAX_DOCUMENT_BYTES = 64 * 1024
"""The provider refuses voice documents larger than 64 KiB."""

MAX_DIAL_TARGETS = 10
LOOP_FOREVER = 1000
"""What ``loop="0"`` means: the provider repeats up to 1000 times."""

DIAL_RECORD_VALUES = frozenset(
    {
        "do-not-record",
        "record-from-answer",
        "record-from-ringing",
        "record-from-answer-dual",
        "record-from-ringing-dual",
        "true",
        "false",
    }
)

# Real provider verbs that Switchboard does not run: a clearer error than "unknown".
_UNSUPPORTED_VERBS = frozenset(
    {
        "Conference",
        "Connect",
        "Enqueue",
        "Leave",
        "Pay",
        "Prompt",
        "Queue",
        "Refer",
        "Start",
        "Stop",
        "Stream",
        "Echo",
    }
)

_WHITESPACE = re.compile(r"\s+")

_Element = ET.Element


def parse_voice_document(text: str | bytes, *, base_url: str | None = None) -> list[Verb]:
    """Parse a TwiML voice document into verbs.

    Args:
        text: The document, as received (bytes are decoded by the XML parser
            from their declared encoding).
        base_url: The URL the document was fetched from, to resolve relative
            URLs and to default ``Gather``/``Record`` ``action`` to it.

    Returns:
        The verbs of the ``<Response>``, in document order (empty for an empty
        ``<Response/>``, which the provider treats as "hang up").

    Raises:
        VoiceDocumentError: The document is too large, not well-formed, uses
            DTDs or entities, has another root than ``Response``, contains an
            unknown or unsupported verb, a verb nested where it may not be, or
            an attribute value out of range.
    """
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise VoiceDocumentError(
            "voicedoc-too-large",
            f"document of {len(raw)} bytes exceeds {MAX_DOCUMENT_BYTES}",
            {"size": len(raw), "limit": MAX_DOCUMENT_BYTES},
            error_code=RESPONSE_TOO_LARGE,
        )
    root = _parse_xml(raw)
    if local_name(root.tag) != "Response":
        raise VoiceDocumentError(
            "voicedoc-wrong-root",
            f"root element is <{local_name(root.tag)}>, expected <Response>",
            {"root": local_name(root.tag)},
        )
    return [_verb(child, base_url) for child in root]


def _parse_xml(raw: bytes) -> _Element:
    if not raw.strip():
        raise VoiceDocumentError(
            "voicedoc-malformed", "empty document", {}, error_code=DOCUMENT_PARSE_FAILURE
        )
    try:
        root: _Element = SafeET.fromstring(
            raw, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise VoiceDocumentError(
            "voicedoc-forbidden-construct",
            f"document uses a forbidden XML construct: {type(exc).__name__}",
            {"construct": type(exc).__name__},
            error_code=DOCUMENT_PARSE_FAILURE,
        ) from exc
    except ET.ParseError as exc:
        raise VoiceDocumentError(
            "voicedoc-malformed",
            f"document is not well-formed XML: {exc}",
            {"position": list(exc.position)},
            error_code=DOCUMENT_PARSE_FAILURE,
        ) from exc
    return root


def _verb(element: _Element, base_url: str | None) -> Verb:
    name = local_name(element.tag)
    builder = _BUILDERS.get(name)
    if builder is None:
        error_id = (
            "voicedoc-unsupported-verb" if name in _UNSUPPORTED_VERBS else ("voicedoc-unknown-verb")
        )
        raise VoiceDocumentError(
            error_id, f"<{name}> is not a verb Switchboard runs", {"verb": name}
        )
    return builder(element, Attributes(name, element.attrib, base_url))


def _body(element: _Element) -> str:
    """The element's text including nested markup (SSML), whitespace collapsed."""
    return _WHITESPACE.sub(" ", "".join(element.itertext())).strip()


def _no_children(element: _Element, attrs: Attributes) -> None:
    for child in element:
        raise _bad_nesting(attrs.verb, local_name(child.tag))


def _bad_nesting(parent: str, child: str) -> VoiceDocumentError:
    return VoiceDocumentError(
        "voicedoc-bad-nesting",
        f"<{child}> may not be nested in <{parent}>",
        {"verb": parent, "child": child},
    )


def _loop(attrs: Attributes) -> int:
    loop = attrs.integer("loop", 1, minimum=0, maximum=LOOP_FOREVER)
    return LOOP_FOREVER if loop == 0 else loop


def _say(element: _Element, attrs: Attributes) -> Say:
    text = _body(element)
    if not text:
        raise VoiceDocumentError("voicedoc-bad-attribute", "<Say> has no text", {"verb": "Say"})
    return Say(
        text=text,
        voice=attrs.text("voice") or "man",
        language=attrs.language("language", "en-US"),
        loop=_loop(attrs),
    )


def _play(element: _Element, attrs: Attributes) -> Play:
    _no_children(element, attrs)
    digits = attrs.send_digits("digits")
    url = (element.text or "").strip()
    if not url and digits is None:
        raise VoiceDocumentError(
            "voicedoc-bad-attribute", "<Play> has neither a URL nor digits", {"verb": "Play"}
        )
    return Play(
        url=resolve_url(url, attrs.base_url) if url else "", loop=_loop(attrs), digits=digits
    )


def _pause(element: _Element, attrs: Attributes) -> Pause:
    _no_children(element, attrs)
    return Pause(length=attrs.integer("length", 1, minimum=0, maximum=600))


def _gather(element: _Element, attrs: Attributes) -> Gather:
    prompts: list[Say | Play | Pause] = []
    for child in element:
        child_name = local_name(child.tag)
        child_attrs = Attributes(child_name, child.attrib, attrs.base_url)
        if child_name == "Say":
            prompts.append(_say(child, child_attrs))
        elif child_name == "Play":
            prompts.append(_play(child, child_attrs))
        elif child_name == "Pause":
            prompts.append(_pause(child, child_attrs))
        else:
            raise _bad_nesting("Gather", child_name)
    return Gather(
        num_digits=attrs.optional_integer("numDigits", minimum=1, maximum=255),
        timeout=attrs.integer("timeout", 5, minimum=1, maximum=600),
        finish_on_key=attrs.keys("finishOnKey", "#"),
        action=attrs.url("action") or attrs.base_url,
        method=attrs.method(),
        prompts=tuple(prompts),
    )


def _dial(element: _Element, attrs: Attributes) -> Dial:
    targets: list[DialTarget] = []
    bare = (element.text or "").strip()
    if bare:
        targets.append(DialTarget(kind="number", value=bare))
    for child in element:
        targets.append(_noun(child, attrs.base_url))
        tail = (child.tail or "").strip()
        if tail:
            targets.append(DialTarget(kind="number", value=tail))
    if not targets:
        raise VoiceDocumentError(
            "voicedoc-bad-attribute", "<Dial> has nobody to dial", {"verb": "Dial"}
        )
    if len(targets) > MAX_DIAL_TARGETS:
        raise VoiceDocumentError(
            "voicedoc-bad-attribute",
            f"<Dial> has {len(targets)} targets, at most {MAX_DIAL_TARGETS} ring at once",
            {"verb": "Dial", "targets": len(targets)},
        )
    record = attrs.choice("record", "do-not-record", DIAL_RECORD_VALUES)
    record = {"true": "record-from-answer", "false": "do-not-record"}.get(record, record)
    return Dial(
        targets=tuple(targets),
        timeout=attrs.clamped("timeout", 30, minimum=5, maximum=600),
        caller_id=attrs.text("callerId"),
        record=record,
        action=attrs.url("action"),
        method=attrs.method(),
        time_limit=attrs.integer("timeLimit", 14400, minimum=1, maximum=86400),
        hangup_on_star=attrs.boolean("hangupOnStar", False),
        recording_status_callback=attrs.url("recordingStatusCallback"),
    )


_NOUN_KINDS = {"Number": "number", "Sip": "sip", "Client": "client"}


def _noun(element: _Element, base_url: str | None) -> DialTarget:
    name = local_name(element.tag)
    kind = _NOUN_KINDS.get(name)
    if kind is None:
        raise _bad_nesting("Dial", name)
    attrs = Attributes(name, element.attrib, base_url)
    if kind == "client":
        # <Client>alice</Client> or <Client><Identity>alice</Identity></Client>
        identity = next((c for c in element if local_name(c.tag) == "Identity"), None)
        value = _body(identity) if identity is not None else (element.text or "").strip()
    else:
        _no_children(element, attrs)
        value = (element.text or "").strip()
    if not value:
        raise VoiceDocumentError(
            "voicedoc-bad-attribute", f"<{name}> is empty", {"verb": "Dial", "noun": name}
        )
    return DialTarget(
        kind=kind,
        value=value,
        send_digits=attrs.send_digits("sendDigits") if kind == "number" else None,
        url=attrs.url("url"),
    )


def _record(element: _Element, attrs: Attributes) -> Record:
    _no_children(element, attrs)
    max_length = attrs.integer("maxLength", 3600, minimum=0, maximum=14400)
    return Record(
        max_length=max_length or 3600,
        timeout=attrs.integer("timeout", 5, minimum=0, maximum=3600),
        finish_on_key=attrs.keys("finishOnKey", "1234567890*#"),
        play_beep=attrs.boolean("playBeep", True),
        trim=attrs.choice("trim", "trim-silence", frozenset({"trim-silence", "do-not-trim"})),
        action=attrs.url("action") or attrs.base_url,
        method=attrs.method(),
        recording_status_callback=attrs.url("recordingStatusCallback"),
        transcribe=attrs.boolean("transcribe", False),
        transcribe_callback=attrs.url("transcribeCallback"),
    )


def _redirect(element: _Element, attrs: Attributes) -> Redirect:
    _no_children(element, attrs)
    url = (element.text or "").strip()
    if not url:
        raise VoiceDocumentError(
            "voicedoc-bad-attribute", "<Redirect> has no URL", {"verb": "Redirect"}
        )
    return Redirect(url=resolve_url(url, attrs.base_url), method=attrs.method())


def _send_text(element: _Element, attrs: Attributes) -> SendText:
    """``<Sms>text</Sms>`` or ``<Message>`` (text, or ``<Body>`` and ``<Media>`` nouns)."""
    bodies, media = [], []
    for child in element:
        noun = local_name(child.tag)
        if noun == "Body" and attrs.verb == "Message":
            bodies.append(_body(child))
        elif noun == "Media" and attrs.verb == "Message":
            url = (child.text or "").strip()
            media.append(resolve_url(url, attrs.base_url) if url else "")
        else:
            raise _bad_nesting(attrs.verb, noun)
    body = " ".join(bodies) if bodies else _WHITESPACE.sub(" ", element.text or "").strip()
    if (not body and not any(media)) or len(body) > 1600 or len(media) > 10 or "" in media:
        raise VoiceDocumentError(
            "voicedoc-bad-attribute",
            f"<{attrs.verb}> needs a text of 1 to 1600 characters or up to 10 media URLs",
            {"verb": attrs.verb},
        )
    return SendText(
        body=body, to=attrs.text("to"), from_=attrs.text("from"), media_urls=tuple(media),
        status_callback=attrs.url("statusCallback"),
    )


def _hangup(element: _Element, attrs: Attributes) -> Hangup:
    _no_children(element, attrs)
    return Hangup()


def _reject(element: _Element, attrs: Attributes) -> Reject:
    _no_children(element, attrs)
    return Reject(reason=attrs.choice("reason", "rejected", frozenset({"rejected", "busy"})))


_BUILDERS: dict[str, Callable[[_Element, Attributes], Verb]] = {
    "Say": _say,
    "Play": _play,
    "Pause": _pause,
    "Gather": _gather,
    "Dial": _dial,
    "Record": _record,
    "Redirect": _redirect,
    "Hangup": _hangup,
    "Reject": _reject,
    "Sms": _send_text,
    "Message": _send_text,
}
