"""Which call an ARI event belongs to.

Channel ids are chosen by the engine before it creates a channel, so a leg's
first event already has a home. Each typed event names the channels,
bridges, playbacks and recordings it concerns (:meth:`AriEvent.concerns`), most
specific first; the registry maps those ids to calls.
"""

from __future__ import annotations

from switchboard.engine.ari.events import AriEvent
from switchboard.engine.calls.call import Call


class CallRegistry:
    """The calls in progress, reachable by any of their channel and bridge ids."""

    def __init__(self) -> None:
        self._by_key: dict[str, Call] = {}
        self._calls: dict[str, Call] = {}

    def add(self, call: Call) -> None:
        """Register a new call under its caller channel."""
        self._calls[call.call_sid] = call
        self._by_key[call.channel_id] = call

    def attach(self, key: str, call: Call) -> None:
        """Route events about channel/bridge/playback/recording ``key`` to ``call``."""
        self._by_key[key] = call

    def detach(self, key: str) -> None:
        """Stop routing events about ``key``."""
        self._by_key.pop(key, None)

    def remove(self, call: Call) -> None:
        """Forget a finished call and every key pointing at it; refuse its pending commands."""
        call.mailbox.close()
        self._calls.pop(call.call_sid, None)
        for key in [k for k, c in self._by_key.items() if c is call]:
            del self._by_key[key]

    def find(self, event: AriEvent) -> Call | None:
        """The call ``event`` belongs to, if any."""
        for key in event.concerns():
            call = self._by_key.get(key)
            if call is not None:
                return call
        return None

    def by_sid(self, call_sid: str) -> Call | None:
        """A call in progress by its SID."""
        return self._calls.get(call_sid)

    def by_channel(self, channel_id: str) -> Call | None:
        """A call in progress by one of its channel ids."""
        return self._by_key.get(channel_id)

    def __len__(self) -> int:
        return len(self._calls)

    def all(self) -> list[Call]:
        """Every call in progress."""
        return list(self._calls.values())
