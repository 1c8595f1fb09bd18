"""Attribute readers for TwiML elements: the provider's defaults and ranges.

Each reader takes the element's attribute mapping and returns a typed value,
the provider's default when the attribute is absent, or raises
:class:`VoiceDocumentError` (``voicedoc-bad-attribute``) with the verb, the
attribute and the offending value in its details. Attributes we do not know
are ignored, as the provider only warns about them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urljoin

from switchboard.callflow.voicedoc.exceptions import VoiceDocumentError

_KEYS = frozenset("0123456789*#")
_SEND_DIGITS = re.compile(r"^[0-9*#wW]+$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class Attributes:
    """The attributes of one element, read with the verb's name for errors."""

    def __init__(self, verb: str, attrib: Mapping[str, str], base_url: str | None) -> None:
        self.verb = verb
        self._attrib = {local_name(key): value for key, value in attrib.items()}
        self.base_url = base_url

    def bad(self, name: str, reason: str) -> VoiceDocumentError:
        """An error for attribute ``name`` of this verb."""
        value = self._attrib.get(name)
        return VoiceDocumentError(
            "voicedoc-bad-attribute",
            f"<{self.verb}> {name}={value!r}: {reason}",
            {"verb": self.verb, "attribute": name, "value": value},
        )

    def raw(self, name: str) -> str | None:
        """The attribute's text, stripped, or ``None`` when absent."""
        value = self._attrib.get(name)
        return None if value is None else value.strip()

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        """A whole number within ``[minimum, maximum]``."""
        value = self.raw(name)
        if value is None or value == "":
            return default
        if not re.fullmatch(r"[+-]?\d+", value):
            raise self.bad(name, "not a whole number")
        number = int(value)
        if not minimum <= number <= maximum:
            raise self.bad(name, f"must be between {minimum} and {maximum}")
        return number

    def optional_integer(self, name: str, *, minimum: int, maximum: int) -> int | None:
        """A whole number within range, or ``None`` when absent."""
        if self.raw(name) in (None, ""):
            return None
        return self.integer(name, 0, minimum=minimum, maximum=maximum)

    def clamped(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        """A whole number, clamped into range as the provider does (``Dial timeout``)."""
        number = self.integer(name, default, minimum=-(2**31), maximum=2**31)
        return max(minimum, min(maximum, number))

    def boolean(self, name: str, default: bool) -> bool:
        """``true`` or ``false``, in any case."""
        value = self.raw(name)
        if value is None or value == "":
            return default
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise self.bad(name, "must be true or false")
        return lowered == "true"

    def choice(self, name: str, default: str, allowed: frozenset[str]) -> str:
        """One of ``allowed`` (compared case-insensitively, returned lower-case)."""
        value = self.raw(name)
        if value is None or value == "":
            return default
        lowered = value.lower()
        if lowered not in allowed:
            raise self.bad(name, f"must be one of {', '.join(sorted(allowed))}")
        return lowered

    def method(self, name: str = "method") -> str:
        """An HTTP method for a callback: ``GET`` or ``POST`` (default)."""
        return self.choice(name, "post", frozenset({"get", "post"})).upper()

    def url(self, name: str) -> str | None:
        """A URL, resolved against the document's URL when relative."""
        value = self.raw(name)
        if value is None or value == "":
            return None
        return resolve_url(value, self.base_url)

    def keys(self, name: str, default: str) -> str:
        """A set of DTMF keys (``0-9``, ``*``, ``#``); empty disables the feature."""
        value = self.raw(name)
        if value is None:
            return default
        if any(key not in _KEYS for key in value):
            raise self.bad(name, "keys must be among 0-9, * and #")
        return value

    def send_digits(self, name: str) -> str | None:
        """Digits to send after answer: ``0-9``, ``*``, ``#``, ``w`` (half-second wait)."""
        value = self.raw(name)
        if value is None or value == "":
            return None
        if not _SEND_DIGITS.fullmatch(value):
            raise self.bad(name, "digits must be among 0-9, *, #, w and W")
        return value

    def language(self, name: str, default: str) -> str:
        """A language tag such as ``en-US``."""
        value = self.raw(name)
        if value is None or value == "":
            return default
        if not _LANGUAGE.fullmatch(value):
            raise self.bad(name, "not a language tag")
        return value

    def text(self, name: str) -> str | None:
        """Free text (``callerId``, ``voice``), or ``None`` when absent or empty."""
        value = self.raw(name)
        return value or None


def resolve_url(url: str, base_url: str | None) -> str:
    """Resolve a possibly relative URL against the document's URL."""
    url = url.strip()
    return urljoin(base_url, url) if base_url else url


def local_name(tag: str) -> str:
    """A tag or attribute name without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


__all__ = ["Attributes", "local_name", "resolve_url"]
