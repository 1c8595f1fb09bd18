"""What a request that queues texts needs from the running process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MessagingHooks:
    """Price of a segment, and who to wake after the commit (each may be absent)."""

    segment_price: str
    notify_sender: Callable[[], None] | None = None
    notify_outbox: Callable[[], None] | None = None
