"""The call simulator's edge: simulated phones in place of a simulated call's targets.

``switchboard call simulate`` (and the tests and benchmarks, through
:mod:`switchboard.simulate`) places a real call into a DID with
``SB_SIMULATE`` set on the caller: per plan slot, what the phone there does
(``answer``, ``noanswer``, ``busy``, ``unavailable``). The DID context hands
it (and ``SB_BENCH_ID``) to the engine as Stasis arguments; this edge,
installed by the composition root, remembers them per call and

* dials ``Local/<slot>@sb-sim`` (the ``sb-sim`` dialplan context plays the
  phone) instead of the real target,
* gives each leg the caller's ``SB_SIMULATE``/``SB_BENCH_ID`` (ARI legs
  inherit nothing from the caller),
* sets the global ``SBREC_<linkedid>`` once a ``Record`` verb is recording,
  so the simulated caller knows when to speak.

Calls without ``SB_SIMULATE`` are dialled for real (:class:`TrunkDialing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.callflow.verbs import DialTarget
from switchboard.engine.ari.facade import Ari, quietly
from switchboard.engine.calls.call import Call
from switchboard.engine.calls.edge import TrunkDialing

SIMULATION_CONTEXT = "sb-sim"


def simulated_endpoint(target: DialTarget) -> str:
    """The simulated phone standing in for ``target``: its plan slot in ``sb-sim``."""
    return f"Local/{target.slot}@{SIMULATION_CONTEXT}"


@dataclass(frozen=True, slots=True)
class _Simulated:
    behaviour: str
    bench_id: str


class SimulatedPhones(TrunkDialing):
    """:class:`TrunkDialing`, except for calls the simulator placed.

    Args:
        ari: where the ``SBREC_`` global is set.
    """

    def __init__(self, ari: Ari) -> None:
        self._ari = ari
        self._calls: dict[str, _Simulated] = {}

    def arrived(self, call: Call, extra_args: Sequence[str]) -> None:
        """Remember the simulation asked for by the DID context's arguments, if any."""
        behaviour = extra_args[0] if extra_args else ""
        bench_id = extra_args[1] if len(extra_args) > 1 else ""
        if behaviour or bench_id:
            self._calls[call.call_sid] = _Simulated(behaviour, bench_id)

    def ended(self, call: Call) -> None:
        """Forget the call."""
        self._calls.pop(call.call_sid, None)

    def endpoint(self, call: Call, target: DialTarget) -> str:
        """A simulated phone for a simulated call, else the real target."""
        simulated = self._calls.get(call.call_sid)
        if simulated is not None and simulated.behaviour:
            return simulated_endpoint(target)
        return super().endpoint(call, target)

    def leg_variables(self, call: Call) -> dict[str, str]:
        """The caller's simulation and benchmark id, inherited by whatever the leg dials."""
        simulated = self._calls.get(call.call_sid)
        if simulated is None:
            return {}
        variables = {}
        if simulated.behaviour:
            variables["__SB_SIMULATE"] = simulated.behaviour
        if simulated.bench_id:
            variables["__SB_BENCH_ID"] = simulated.bench_id
        return variables

    async def recording_started(self, call: Call) -> None:
        """Tell the simulated caller (dialplan ``sb-sim-caller``) to speak now."""
        if call.call_sid in self._calls:
            await quietly(self._ari.set_global(f"SBREC_{call.linkedid}", "1"))
