"""The E.164 grammar every number that reaches Asterisk or a rule must match."""

from __future__ import annotations

import re

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def is_e164(value: str) -> bool:
    """Whether ``value`` is already a canonical E.164 number (``+`` and 7 to 15 digits)."""
    return bool(E164.match(value))
