"""The AstDB mirror of a number's routing, read by the engine-down dialplan.

Layout (family ``sb``, keys under the DID; see asterisk-config's
``switchboard-fallback`` context, which reads exactly these)::

    sb/<did>/on            1 when the number takes calls
    sb/<did>/n             number of dial steps
    sb/<did>/<i>/after     outcomes of the previous dial that let step i run,
                           as Asterisk DIALSTATUS words joined by '&'
                           (NONE stands for "nothing dialled yet")
    sb/<did>/<i>/timeout   ring timeout in seconds
    sb/<did>/<i>/dial      dial string ('&'-joined), '' when unreachable
    sb/<did>/<i>/count     number of targets in step i, reachable or not
    sb/<did>/<i>/nwin      number of schedule windows (0: always)
    sb/<did>/<i>/win<j>    IFTIME time spec of window j
    sb/<did>/rec           1 to record answered calls
    sb/<did>/vm            1 to take a voicemail when nobody answers
    sb/<did>/vmmax         voicemail max length (s)
    sb/<did>/vmsil         voicemail silence timeout (s)
    sb/<did>/tenant        tenant id (for reconciliation)
"""

from __future__ import annotations

from switchboard.callflow.routes import NumberRoute, dial_string
from switchboard.callflow.rules import asterisk_timespec
from switchboard.callflow.verbs import DialOutcome

FAMILY = "sb"

# Our outcomes in the words of Asterisk's DIALSTATUS.
_DIALSTATUS: dict[DialOutcome, tuple[str, ...]] = {
    DialOutcome.NOT_DIALLED: ("NONE",),
    DialOutcome.BUSY: ("BUSY",),
    DialOutcome.NO_ANSWER: ("NOANSWER",),
    DialOutcome.FAILED: ("CHANUNAVAIL", "CONGESTION"),
}


def astdb_entries(route: NumberRoute) -> dict[str, str]:
    """Every AstDB key (under family ``sb``) and value mirroring ``route``."""
    did = route.did
    entries = {
        f"{did}/on": "1" if route.enabled else "0",
        f"{did}/n": str(len(route.steps)),
        f"{did}/rec": "1" if route.record else "0",
        f"{did}/vm": "1" if route.voicemail else "0",
        f"{did}/tenant": route.tenant_id,
    }
    if route.voicemail:
        entries[f"{did}/vmmax"] = str(route.voicemail.max_seconds)
        entries[f"{did}/vmsil"] = str(route.voicemail.silence_seconds)
    for i, step in enumerate(route.steps, start=1):
        words = sorted(w for outcome in step.run_after for w in _DIALSTATUS.get(outcome, ()))
        dials = [dial_string(t, route.trunk) for t in step.targets]
        entries[f"{did}/{i}/after"] = "&".join(words)
        entries[f"{did}/{i}/timeout"] = str(step.timeout)
        entries[f"{did}/{i}/dial"] = "&".join(d for d in dials if d)
        entries[f"{did}/{i}/count"] = str(len(step.targets))
        entries[f"{did}/{i}/nwin"] = str(len(step.windows))
        for j, window in enumerate(step.windows, start=1):
            entries[f"{did}/{i}/win{j}"] = asterisk_timespec(window, route.timezone)
    return entries
