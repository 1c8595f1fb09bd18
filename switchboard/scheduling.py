"""Real-time CPU scheduling for the processes that sit on a call's path.

A call's setup crosses several processes: Asterisk, then the engine, then
Asterisk again. Under ordinary (CFS) scheduling each hop waits behind whatever
else is runnable, and on a small machine that includes the transcription
worker, the API and the database. Measured on the 2-core reference machine
(bench/call_setup.py, 20 calls in flight): the engine's StasisStart sat 10 ms
(p50) in its socket before the event loop ran, although the engine used a
tenth of a core. In round-robin real-time scheduling it waited 0.25 ms.

So, like Asterisk's own ``-p`` (``highpriority`` in asterisk.conf, priority
10), the engine runs in ``SCHED_RR``, by default at the same priority: one
step below, it waited behind Asterisk's own threads whenever both cores ran
them (in-app delay p50 0.65–0.93 ms against 0.11–0.16 ms at 10 or 11, minimal
app setup p50 4.8–5.4 ms against 2.9–3.4 ms). Above Asterisk it would
pre-empt media threads with API work, which shares the engine's loop. Its threads (database drivers,
executors) inherit the policy on purpose: a thread holding the GIL must not
wait behind other work while the event loop waits for the GIL. Processes it
starts (the worker, media converters) go back to normal scheduling through
:func:`normal_scheduling_in_child`, and the kernel's real-time throttling
keeps 5 % of each second for everything else.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def use_realtime_priority(priority: int) -> str | None:
    """Put this process in ``SCHED_RR`` at ``priority`` (0 leaves it alone).

    Call it before the process starts its threads: threads inherit the
    policy of the thread that creates them.

    Returns:
        None when applied (or not asked for), otherwise why not, also logged
        as a warning: the process then goes on in normal scheduling.
    """
    if priority <= 0:
        return None
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(priority))
    except PermissionError:
        why = (
            f"real-time priority {priority} refused (needs root or CAP_SYS_NICE); "
            "call setup may lag when the machine is busy"
        )
    except OSError as exc:
        why = f"real-time priority {priority} not applied: {exc.strerror or exc}"
    else:
        log.info("running in real-time scheduling", extra={"priority": priority})
        return None
    log.warning(why)
    return why


def normal_scheduling_in_child() -> None:
    """``preexec_fn`` for a child process: start it in normal scheduling, nice 0.

    Converters and the transcription worker are batch work; run in real time
    they would take the CPU from calls instead of giving way.
    """
    if os.sched_getscheduler(0) != os.SCHED_OTHER:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
