"""Quiet hours: marketing texts are not sent at night in the tenant's time zone."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(value: str) -> time:
    """``"21:30"`` as a time; ValueError when not ``HH:MM``."""
    match = _HHMM.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not HH:MM")
    return time(int(match.group(1)), int(match.group(2)))


def in_quiet_hours(now: datetime, timezone: str, start: str | None, end: str | None) -> bool:
    """Whether ``now`` (aware) falls in ``[start, end)`` local time; the span may cross midnight."""
    if not start or not end:
        return False
    local = now.astimezone(ZoneInfo(timezone)).time()
    begin, finish = parse_hhmm(start), parse_hhmm(end)
    if begin == finish:
        return False
    if begin < finish:
        return begin <= local < finish
    return local >= begin or local < finish
