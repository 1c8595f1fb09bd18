"""Consent keywords carriers require every sender to honour (CTIA, US carriers).

A message whose whole text (trimmed, any case, trailing punctuation ignored)
is one of these words is a consent instruction: ``STOP`` and its synonyms opt
the sender out of the tenant's texts, ``START``/``UNSTOP`` opt back in,
``HELP``/``INFO`` asks who is texting. The sender gets a confirmation reply
in every case; after an opt-out that reply is the last text it receives.
"""

from __future__ import annotations

import enum

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
HELP = frozenset({"HELP", "INFO"})


class Keyword(enum.StrEnum):
    """What a consent keyword asks for."""

    OPT_OUT = "opt-out"
    OPT_IN = "opt-in"
    HELP = "help"


def keyword_of(body: str) -> tuple[Keyword, str] | None:
    """The consent instruction in ``body`` and the word used, or ``None``."""
    word = body.strip().rstrip(".!").strip().upper()
    if word in OPT_OUT:
        return Keyword.OPT_OUT, word
    if word in OPT_IN:
        return Keyword.OPT_IN, word
    if word in HELP:
        return Keyword.HELP, word
    return None


def confirmation(keyword: Keyword, business: str) -> str:
    """The reply a consent keyword gets, naming the business."""
    if keyword is Keyword.OPT_OUT:
        return (f"{business}: You are unsubscribed and will receive no more messages. "
                "Reply START to resubscribe.")
    if keyword is Keyword.OPT_IN:
        return (f"{business}: You are subscribed again. Reply HELP for help, "
                "STOP to unsubscribe.")
    return (f"{business}: Reply STOP to unsubscribe, START to resubscribe. "
            "Msg & data rates may apply.")
