"""``<Message>`` verbs of a messaging webhook's answer (the provider's messaging TwiML).

A messaging URL answers an inbound text with a document such as::

    <Response>
      <Message>Thanks, see you at 7!</Message>
      <Message to="+15550001111"><Body>New booking</Body><Media>https://…/a.png</Media></Message>
    </Response>

Each ``<Message>`` is a text to send: to the sender of the inbound text
unless ``to`` says otherwise, from the number it was sent to unless
``from`` does. Parsing is pure and refuses entity tricks and huge documents
(``defusedxml``); anything that is not a ``<Response>`` yields no message.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

MAX_DOCUMENT = 64 * 1024
MAX_MESSAGES = 10


@dataclass(frozen=True, slots=True)
class ReplyMessage:
    """One ``<Message>`` verb."""

    body: str
    media_urls: tuple[str, ...] = ()
    to: str | None = None
    from_: str | None = None


def parse_messages(document: str) -> list[ReplyMessage]:
    """The ``<Message>`` verbs of ``document`` (none when it is not messaging TwiML)."""
    if not document.strip() or len(document) > MAX_DOCUMENT:
        return []
    try:
        root = ElementTree.fromstring(document)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return []
    if root.tag != "Response":
        return []
    replies = []
    for verb in root:
        if verb.tag != "Message":
            continue
        replies.append(_message(verb))
        if len(replies) == MAX_MESSAGES:
            break
    return [r for r in replies if r.body or r.media_urls]


def _message(verb: Element) -> ReplyMessage:
    bodies = [child.text or "" for child in verb if child.tag == "Body"]
    media = tuple((child.text or "").strip() for child in verb if child.tag == "Media")
    body = "".join(bodies) if bodies else (verb.text or "")
    return ReplyMessage(body=body.strip(), media_urls=tuple(m for m in media if m),
                        to=verb.get("to"), from_=verb.get("from"))
