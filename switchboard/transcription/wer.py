"""Word error rate with the normalisation that makes it mean something.

Raw WER between "press 1" and "press one" is 50 %; so both sides are
lower-cased, punctuation stripped, digits and ordinals spelled out,
contractions expanded and keypad symbols named before words are compared.
Used by the benchmark and the quality tests; pure functions only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_CONTRACTIONS = {
    "can't": "cannot",
    "won't": "will not",
    "n't": " not",
    "'re": " are",
    "'ve": " have",
    "'ll": " will",
    "'d": " would",
    "'m": " am",
    "it's": "it is",
    "that's": "that is",
    "there's": "there is",
    "what's": "what is",
    "let's": "let us",
    "he's": "he is",
    "she's": "she is",
    "here's": "here is",
}
_SYMBOLS = {"#": " pound ", "*": " star ", "%": " percent ", "&": " and ", "+": " plus "}
# Words written closed or open by different transcribers; compared closed.
_COMPOUNDS = {
    "mail box": "mailbox",
    "voice mail": "voicemail",
    "file name": "filename",
    "touch tone": "touchtone",
    "good bye": "goodbye",
    "e mail": "email",
    "re record": "rerecord",
    "key pad": "keypad",
    "pass word": "password",
}
_NUMBER = re.compile(r"\d+(?:st|nd|rd|th)?")


def number_words(n: int) -> str:
    """Spell a non-negative integer below one million in English words."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    if n < 1_000_000:
        thousands, rest = divmod(n, 1000)
        return f"{number_words(thousands)} thousand" + (f" {number_words(rest)}" if rest else "")
    return " ".join(_ONES[int(d)] for d in str(n))


def _ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head} {last}".strip()


def _spell(match: re.Match[str]) -> str:
    token = match.group(0)
    digits = token.rstrip("stndrh")
    words = (
        number_words(int(digits)) if len(digits) <= 6 else " ".join(_ONES[int(d)] for d in digits)
    )
    return f" {_ordinal(words) if digits != token else words} "


def normalize(text: str) -> list[str]:
    """Lower-case, expand, spell numbers and strip punctuation; return the words."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    for symbol, word in _SYMBOLS.items():
        text = text.replace(symbol, word)
    for short, long in _CONTRACTIONS.items():
        text = text.replace(short, long)
    text = _NUMBER.sub(_spell, text)
    text = re.sub(r"[^a-z0-9' ]+", " ", text).replace("'", "")
    text = " ".join(text.split())
    for open_form, closed in _COMPOUNDS.items():
        text = re.sub(rf"\b{open_form}\b", closed, text)
    return text.split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Word-level Levenshtein distance (substitutions, insertions, deletions)."""
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1]


def wer(pairs: Iterable[tuple[str, str]]) -> float:
    """Corpus WER: total word errors over total reference words.

    Args:
        pairs: (reference, hypothesis) texts.

    Returns:
        The error rate (0.0 is perfect; can exceed 1.0 with insertions).
    """
    errors = words = 0
    for reference, hypothesis in pairs:
        ref = normalize(reference)
        errors += edit_distance(ref, normalize(hypothesis))
        words += len(ref)
    return errors / words if words else 0.0
