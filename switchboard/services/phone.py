"""Phone numbers in E.164: the one place that validates and normalises them.

Clients send numbers as ``+15551234567``, ``15551234567`` (seed 004: the ``+``
is optional) or with the usual punctuation (``+1 (555) 123-4567``). Everything
stored and compared is the canonical ``+<country><number>`` form.
"""

from __future__ import annotations

import re

from switchboard.callflow.phone import is_e164
from switchboard.services.exceptions import BadRequest

__all__ = ["friendly_format", "is_e164", "normalize_e164"]

_PUNCTUATION = re.compile(r"[\s().\-]")

# Country of a calling code, longest prefix first. NANP (+1) is read as US:
# the inventory keeps the real country a trunk declares when it knows better.
_COUNTRY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("353", "IE"),
    ("61", "AU"),
    ("49", "DE"),
    ("44", "GB"),
    ("34", "ES"),
    ("33", "FR"),
    ("31", "NL"),
    ("1", "US"),
)
_NANP_TOLL_FREE = frozenset({"800", "833", "844", "855", "866", "877", "888"})


def normalize_e164(value: str, *, field: str = "phone_number") -> str:
    """The canonical E.164 form of ``value``.

    Args:
        value: A number such as ``+1 (555) 123-4567`` or ``15551234567``.
        field: The request field named in the error.

    Returns:
        ``+`` followed by 7 to 15 digits, the first not zero (the shortest
        numbers in use have 7).

    Raises:
        BadRequest: ``value`` is not a phone number in international form.
    """
    compact = _PUNCTUATION.sub("", value or "")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif not compact.startswith("+"):
        compact = "+" + compact
    if not is_e164(compact):
        raise BadRequest("Invalid E.164 format", field=field)
    return compact


def country_of(e164: str) -> str:
    """The ISO country code of a canonical number (``XX`` when unknown)."""
    digits = e164.lstrip("+")
    for prefix, country in _COUNTRY_PREFIXES:
        if digits.startswith(prefix):
            return country
    return "XX"


def area_code_of(e164: str) -> str | None:
    """The area code of a North American number; ``None`` elsewhere."""
    digits = e164.lstrip("+")
    if digits.startswith("1") and len(digits) == 11:
        return digits[1:4]
    return None


def number_type_of(e164: str) -> str:
    """``toll_free``, ``mobile`` or ``local``, as far as the prefix tells."""
    digits = e164.lstrip("+")
    area = area_code_of(e164)
    if area is not None:
        return "toll_free" if area in _NANP_TOLL_FREE else "local"
    if digits.startswith("4480"):
        return "toll_free"
    if digits.startswith("447"):
        return "mobile"
    return "local"


def friendly_format(e164: str) -> str:
    """A human form: ``(512) 555-0123`` for North America, else the number."""
    digits = e164.lstrip("+")
    if digits.startswith("1") and len(digits) == 11:
        return f"({digits[1:4]}) {digits[4:7]}-{digits[7:]}"
    return e164
