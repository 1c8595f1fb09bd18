"""Where a call's targets meet Asterisk: their dial strings and what their legs carry.

The flow asks this edge, never the call, how to reach a target. The
composition root chooses the implementation: :class:`TrunkDialing` dials
the real targets (PJSIP endpoints, the tenant's trunk), and the call
simulator's :class:`~switchboard.engine.simulation.SimulatedPhones` answers
for the calls it placed — so nothing about simulation or benchmarks lives
in ``Call``, ``DialTarget`` or the routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from switchboard.callflow.routes import dial_string
from switchboard.callflow.verbs import DialTarget
from switchboard.engine.calls.call import Call


class CallEdge(Protocol):
    """What the flow asks of the edge about a call."""

    def arrived(self, call: Call, extra_args: Sequence[str]) -> None:
        """An inbound call entered Stasis; ``extra_args`` follow its first three arguments."""

    def ended(self, call: Call) -> None:
        """The call is over."""

    def endpoint(self, call: Call, target: DialTarget) -> str:
        """The dial string of ``target`` for ``call``, or ``""`` when it cannot be reached."""

    def leg_variables(self, call: Call) -> dict[str, str]:
        """Channel variables a leg of ``call`` is created with (besides its caller ID)."""

    async def recording_started(self, call: Call) -> None:
        """``call``'s caller is being recorded now (a ``Record`` verb)."""


class TrunkDialing:
    """The production edge: targets are dialled as they are, over the number's trunk."""

    def arrived(self, call: Call, extra_args: Sequence[str]) -> None:
        """Nothing to remember."""

    def ended(self, call: Call) -> None:
        """Nothing to forget."""

    def endpoint(self, call: Call, target: DialTarget) -> str:
        """``PJSIP/<endpoint>``, or the number over the route's trunk (see ``dial_string``)."""
        return dial_string(target, call.route.trunk if call.route else None)

    def leg_variables(self, call: Call) -> dict[str, str]:
        """None."""
        return {}

    async def recording_started(self, call: Call) -> None:
        """Nobody to tell."""
