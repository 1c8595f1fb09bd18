"""How many SMS segments a text takes, in GSM-7 or UCS-2 (3GPP TS 23.038).

A text whose every character is in the GSM 03.38 default alphabet (or its
extension table, which costs two septets: the escape and the character) is
sent in GSM-7: 160 septets in one segment, 153 per segment when split (the
user-data header takes 7). Anything else goes as UCS-2: 70 UTF-16 code
units in one segment, 67 per segment when split; a character outside the
Basic Multilingual Plane (most emoji) takes two units, and a split never
cuts a surrogate pair, nor a GSM-7 escape from its character.
Carriers bill per segment, so this is also the unit of the plan's allowance.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BODY = 1600

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


@dataclass(frozen=True, slots=True)
class Segmentation:
    """The encoding of a text and the segments it is split into."""

    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` has a GSM-7 encoding."""
    return all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text)


def _pack(costs: list[int], single: int, multi: int) -> int:
    """Segments needed for characters of these unit costs, never splitting one."""
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments += 1
            used = 0
        used += cost
    return segments


def segment(text: str) -> Segmentation:
    """Encoding and segment count of ``text`` (an empty text is one segment)."""
    if is_gsm7(text):
        costs = [2 if c in _GSM7_EXTENSION else 1 for c in text]
        return Segmentation("GSM-7", _pack(costs, 160, 153), sum(costs))
    costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return Segmentation("UCS-2", _pack(costs, 70, 67), sum(costs))
