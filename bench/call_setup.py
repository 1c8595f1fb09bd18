"""Call-setup benchmark: the engine path against the same forwarding as pure dialplan.

What is timed: from the call entering the DID context to the forwarded leg
starting, both stamped by the dialplan itself (``UserEvent`` with
``${STRFTIME(,,%s.%6q)}``, microseconds) so neither AMI's event lag nor this
script's event loop is in the measurement:

- engine path: ``sb-bench-engine`` stamps ``SBCallEnter`` and enters
  ``switchboard-did`` -> ``Stasis`` -> the engine looks the number up, writes
  the call log and applies its rule -> one ARI originate (``POST channels/{id}``)
  -> the simulated phone (``sb-sim``) stamps ``SBTargetStart``;
- dialplan path: ``sb-bench-dialplan`` stamps ``SBCallEnter`` and runs
  ``Dial(Local/1@sb-sim)`` directly -> the same ``SBTargetStart`` stamp.

- minimal ARI path: ``sb-bench-ari`` stamps ``SBCallEnter`` and enters
  ``Stasis(sb-bench-minimal)``, a bare ARI app (:class:`MinimalApp`, its own
  process, the same ARI client and lanes as the engine) that originates the
  target at once and bridges it on answer: no routing, no call log. It is
  the floor any ARI engine pays on this machine, so "engine vs minimal"
  shows what Switchboard's own work costs.

The engine runs in its own process (as in production), so this script's own
work (placing calls, reading AMI events) does not compete with it. Calls are
placed sequentially and with 20 in flight; p50/p99 of both paths, the engine
overhead (p99 engine - p99 dialplan) and the ratio are printed. DESIGN.md's
target: engine overhead p99 <= 5 ms at 20 calls in flight.

The minimal app's setup is also split where it goes (the app stamps when it
sees StasisStart, sends the originate and gets its answer, on the same clock
as the dialplan stamps): "to app" (Stasis entry, the event, the app's wake-up),
"in app", "originate" (the request's round trip) and "to target" (originate
sent to target start). Each process's scheduling is printed at the start:
the engine and the minimal app use ``SWITCHBOARD_REALTIME_PRIORITY`` as
``switchboard serve`` does, Asterisk its asterisk.conf ``highpriority``.

For each batch the CPU Asterisk and the engine process spent per call is
printed too (``/proc`` accounting, all threads): DESIGN.md budgets the
engine at most 2 ms of CPU per call.

Sustained load (``--rate 150``): calls arrive at a fixed rate for
``--seconds`` whatever happens to earlier ones, each staying up
``--hold`` seconds, first through the dialplan path, then through the
engine. A call fails when its target does not start within 3 s. DESIGN.md's
target: the engine keeps up with at least 150 new calls/s with zero failed
calls.

Run: ``.venv/bin/python bench/call_setup.py [--calls 200] [--concurrency 1 --concurrency 20]
[--rate 150 --seconds 10 --hold 1]``
(root: it starts a private Asterisk from the cached rootfs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from switchboard import logs
from switchboard.asterisk import AsteriskInstance, ensure_rootfs, free_ports
from switchboard.config import Settings
from switchboard.engine.ami.client import AmiClient
from switchboard.engine.ari.client import AriClient
from switchboard.engine.ari.events import AriEvent, StasisEnd, StasisStart
from switchboard.engine.ari.exceptions import AriRequestError
from switchboard.engine.ari.facade import Ari, quietly
from switchboard.models import ForwardingRule, PhoneNumber, Tenant, Trunk
from switchboard.models.migrate import upgrade
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.models.state import bump_routing_revision
from switchboard.runtime import freeze_startup_heap
from switchboard.scheduling import use_realtime_priority
from switchboard.simulate import SimulationError, place_call

DID = "+15550100999"
CALLER = "+15557654321"
PATHS = {"dialplan": "sb-bench-dialplan", "ari": "sb-bench-ari", "engine": "sb-bench-engine"}
MINIMAL_APP = "sb-bench-minimal"
RING_SECONDS = 0.05
TALK_SECONDS = 0.1


@dataclass
class Stamps:
    """Dialplan stamps by bench id, and a future per call for its target start."""

    enter: dict[str, float] = field(default_factory=dict)
    target: dict[str, float] = field(default_factory=dict)
    waiting: dict[str, asyncio.Future[None]] = field(default_factory=dict)

    def on_event(self, event: dict[str, str]) -> None:
        """AMI callback: keep ``SBCallEnter`` / ``SBTargetStart`` stamps."""
        kind, bench, stamp = event.get("UserEvent"), event.get("Bench"), event.get("T")
        if not bench or not stamp:
            return
        if kind == "SBCallEnter":
            self.enter[bench] = float(stamp)
        elif kind == "SBTargetStart" and bench not in self.target:
            self.target[bench] = float(stamp)
            future = self.waiting.get(bench)
            if future is not None and not future.done():
                future.set_result(None)

    def setup_ms(self, ids: list[str]) -> list[float]:
        """Milliseconds from entering to target start, for calls with both stamps."""
        return [
            (self.target[i] - self.enter[i]) * 1000
            for i in ids
            if i in self.enter and i in self.target
        ]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def seed(url: str) -> None:
    """Schema, a tenant, a local trunk, the number and one rule with one target."""
    engine = make_engine(url)
    await upgrade(engine)
    async with make_sessionmaker(engine)() as session, session.begin():
        tenant = Tenant(name="Bench Co", timezone="UTC")
        session.add(tenant)
        await session.flush()
        session.add(Trunk(tenant_id=tenant.id, name="bench", kind="local", context="sb-test"))
        number = PhoneNumber(tenant_id=tenant.id, e164=DID)
        session.add(number)
        await session.flush()
        session.add(
            ForwardingRule(
                tenant_id=tenant.id,
                number_id=number.id,
                priority=0,
                targets=["+15550001111"],
                ring_timeout=20,
            )
        )
        await bump_routing_revision(session)
    await engine.dispose()


async def place_and_wait(
    settings: Settings,
    stamps: Stamps,
    path: str,
    bench_id: str,
    *,
    talk: float,
    did: str = DID,
    client: httpx.AsyncClient | None = None,
) -> None:
    """Place one call through ``path`` and wait (3 s at most) for its target to start.

    Raises:
        TimeoutError: the target did not start in time.
    """
    stamps.waiting[bench_id] = asyncio.get_running_loop().create_future()
    await place_call(
        settings,
        did=did,
        caller=CALLER,
        behaviour="answer",
        bench_id=bench_id,
        context=PATHS[path],
        ring_seconds=RING_SECONDS,
        talk_seconds=talk,
        hold_seconds=talk,
        client=client,
    )
    await asyncio.wait_for(stamps.waiting[bench_id], timeout=3)


def ari_http(settings: Settings, connections: int) -> httpx.AsyncClient:
    """The one HTTP client that places a run's calls (over ARI), kept alive between calls.

    A client per call cost this process about 25 ms of CPU each (a new TLS
    context), most of a core at 30 calls/s, and Asterisk a new HTTP
    connection and thread per call: load that is no part of what is measured.
    """
    return httpx.AsyncClient(
        auth=(settings.ari_user, settings.ari_password),
        limits=httpx.Limits(max_connections=connections),
    )


async def run_batch(
    settings: Settings, stamps: Stamps, path: str, calls: int, concurrency: int, *, did: str = DID
) -> tuple[list[float], int]:
    """Place ``calls`` calls through ``path``, ``concurrency`` at a time; setup times (ms)."""
    gate = asyncio.Semaphore(concurrency)
    ids: list[str] = []
    failures = 0

    # Calls hold their slot for about this long; the first ``concurrency`` start
    # spread over it, so calls arrive steadily instead of in waves of 20.
    slot_seconds = RING_SECONDS + TALK_SECONDS + 0.5

    async def one(index: int) -> None:
        nonlocal failures
        if index < concurrency:
            await asyncio.sleep(index * slot_seconds / concurrency)
        async with gate:
            bench_id = uuid.uuid4().hex[:12]
            ids.append(bench_id)
            try:
                await place_and_wait(
                    settings, stamps, path, bench_id, did=did, talk=TALK_SECONDS, client=client
                )
            except TimeoutError:
                failures += 1
                print(f"  no target start for call {bench_id} ({path})", file=sys.stderr)
                return
            # Keep the slot for the call's life so ``concurrency`` calls stay in flight.
            await asyncio.sleep(slot_seconds)

    async with ari_http(settings, concurrency) as client:
        await asyncio.gather(*(one(i) for i in range(calls)))
    await asyncio.sleep(0.3)  # the last SBCallEnter events may trail
    return stamps.setup_ms(ids), failures


@dataclass(frozen=True)
class CpuMeter:
    """CPU seconds used so far by Asterisk and by each path's app process (all threads)."""

    asterisk_pid: int
    app_pids: dict[str, int]

    def read(self) -> dict[str, float]:
        """CPU seconds since each process started, by ``asterisk`` and path name."""
        pids = {"asterisk": self.asterisk_pid, **self.app_pids}
        return {name: _cpu_seconds(pid) for name, pid in pids.items()}

    def row(self, path: str, before: dict[str, float], calls: int) -> str:
        """Milliseconds of CPU per call since ``before``: Asterisk and ``path``'s app."""
        after = self.read()
        per_call = {name: (after[name] - before[name]) * 1000 / max(calls, 1) for name in after}
        text = f"  CPU per call: Asterisk {per_call['asterisk']:.2f} ms"
        if path in self.app_pids:
            text += f", {path} app {per_call[path]:.2f} ms"
        return text


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: utime and stime are fields 14 and 15 of stat(5).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_sustained(
    settings: Settings,
    stamps: Stamps,
    path: str,
    *,
    rate: float,
    seconds: float,
    hold: float,
    client: httpx.AsyncClient,
) -> tuple[list[float], int, int]:
    """Place calls at ``rate`` per second for ``seconds``; (setup ms, failed, placed)."""
    loop = asyncio.get_running_loop()
    ids: list[str] = []
    failures = 0
    tasks: list[asyncio.Task[None]] = []

    async def one() -> None:
        nonlocal failures
        bench_id = uuid.uuid4().hex[:12]
        ids.append(bench_id)
        try:
            await place_and_wait(settings, stamps, path, bench_id, talk=hold, client=client)
        except (TimeoutError, SimulationError):
            failures += 1

    start = loop.time()
    total = int(rate * seconds)
    for index in range(total):
        delay = start + index / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    await asyncio.sleep(hold + 0.5)  # let the last calls end before the next batch
    return stamps.setup_ms(ids), failures, total


def trace_rows(trace: Path, stamps: Stamps, done: set[str]) -> str:
    """Where the minimal app's calls since the last report spent their setup time."""
    parts: dict[str, list[float]] = {"to app": [], "in app": [], "originate": [], "to target": []}
    lines = trace.read_text().splitlines() if trace.exists() else []
    for line in lines:
        bench, seen, sent, answered = line.split()
        if bench in done or bench not in stamps.enter or bench not in stamps.target:
            continue
        done.add(bench)
        parts["to app"].append((float(seen) - stamps.enter[bench]) * 1000)
        parts["in app"].append((float(sent) - float(seen)) * 1000)
        parts["originate"].append((float(answered) - float(sent)) * 1000)
        parts["to target"].append((stamps.target[bench] - float(sent)) * 1000)
    return "\n".join(
        f"    {name:<10} p50 {percentile(v, 50):7.2f} ms   p99 {percentile(v, 99):7.2f} ms"
        for name, v in parts.items()
        if v
    )


def _row(name: str, values: list[float]) -> str:
    return (
        f"  {name:<9} n={len(values):<4} p50 {percentile(values, 50):7.2f} ms   "
        f"p99 {percentile(values, 99):7.2f} ms   max {max(values):7.2f} ms"
    )


async def drive(
    settings: Settings,
    calls: int,
    modes: list[int],
    cpu: CpuMeter,
    *,
    rates: list[float],
    seconds: float,
    hold: float,
    trace: Path,
    paths: list[str],
) -> None:
    """Warm up, then run every concurrency mode and rate on both paths; print the figures."""
    stamps = Stamps()
    ami = AmiClient.from_settings(
        settings, on_event=stamps.on_event, events={"UserEvent"}, login_events="user"
    )
    ami.start()
    await ami.wait_connected(20)
    traced: set[str] = set()
    try:
        for path in paths:
            await run_batch(settings, stamps, path, 10, 2)  # warm-up, not counted
        trace_rows(trace, stamps, traced)
        for concurrency in modes:
            results: dict[str, list[float]] = {}
            print(f"\n{calls} calls per path, {concurrency} in flight")
            for path in paths:
                before = cpu.read()
                values, failed = await run_batch(settings, stamps, path, calls, concurrency)
                results[path] = values
                print(_row(path, values) + (f"   FAILED {failed}" if failed else ""))
                print(cpu.row(path, before, calls))
                if path == "ari":
                    print("  minimal app, enter -> StasisStart seen -> originate sent -> answered:")
                    print(trace_rows(trace, stamps, traced))
            if len(results) < len(PATHS):
                continue
            base, floor, ours = results["dialplan"], results["ari"], results["engine"]
            p50 = percentile(ours, 50) - percentile(base, 50)
            p99 = percentile(ours, 99) - percentile(base, 99)
            ratio = percentile(ours, 99) / max(percentile(base, 99), 1e-6)
            print(
                f"  engine overhead: p50 {p50:+.2f} ms, p99 {p99:+.2f} ms "
                f"(engine/dialplan p99 ratio {ratio:.1f}x; target p99 overhead <= 5 ms at 20)"
            )
            own50 = percentile(ours, 50) - percentile(floor, 50)
            own99 = percentile(ours, 99) - percentile(floor, 99)
            print(
                f"  over the minimal ARI app: p50 {own50:+.2f} ms, p99 {own99:+.2f} ms "
                "(what routing, the call log and the flow cost)"
            )
        async with ari_http(settings, 20) as client:
            for rate in rates:
                print(f"\n{rate:g} new calls/s for {seconds:g} s, each up {hold:g} s")
                for path in paths:
                    before = cpu.read()
                    values, failed, placed = await run_sustained(
                        settings,
                        stamps,
                        path,
                        rate=rate,
                        seconds=seconds,
                        hold=hold,
                        client=client,
                    )
                    print(_row(path, values) + f"   failed {failed}/{placed}")
                    print(cpu.row(path, before, placed))
    finally:
        await ami.close()


class MinimalApp:
    """Dial the target on StasisStart, bridge the two on answer, clean up on hangup."""

    def __init__(self, trace: Path | None = None) -> None:
        self.ari: Ari | None = None
        self.trace = trace.open("a", buffering=1) if trace else None
        self._peer: dict[str, str] = {}
        self._bridge: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def on_event(self, event: AriEvent) -> None:
        """ARI callback: start the work an event asks for."""
        if isinstance(event, StasisStart):
            channel = event.channel.id
            if event.args and event.args[0] == "call":
                self._spawn(self._dial(channel, *event.args[1:3], seen=time.time()))
            elif event.args and event.args[0] == "leg":
                self._spawn(self._bridge_with(event.args[1], channel))
        elif isinstance(event, StasisEnd) and event.channel.id in self._peer:
            self._spawn(self._end(event.channel.id))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._quietly(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _quietly(self, coro: Coroutine[Any, Any, None]) -> None:
        with contextlib.suppress(AriRequestError):  # a side hung up meanwhile
            await coro

    async def _dial(self, caller: str, bench_id: str, simulate: str, *, seen: float) -> None:
        assert self.ari is not None
        sent = time.time()
        await self.ari.originate(
            "Local/1@sb-sim",
            channel_id=str(uuid.uuid4()),
            app_args=f"leg,{caller}",
            originator=caller,
            timeout=20,
            variables={"__SB_SIMULATE": simulate, "__SB_BENCH_ID": bench_id},
        )
        if self.trace is not None:
            self.trace.write(f"{bench_id} {seen:.6f} {sent:.6f} {time.time():.6f}\n")
        await self.ari.channel(caller).ring()

    async def _bridge_with(self, caller: str, leg: str) -> None:
        assert self.ari is not None
        bridge = str(uuid.uuid4())
        self._peer |= {caller: leg, leg: caller}
        self._bridge |= {caller: bridge, leg: bridge}
        await self.ari.channel(caller).answer()
        created = await self.ari.create_bridge(bridge)
        await created.add(self.ari.channel(caller), self.ari.channel(leg))

    async def _end(self, channel: str) -> None:
        assert self.ari is not None
        other = self._peer.pop(channel, "")
        self._peer.pop(other, None)
        bridge = self._bridge.pop(channel, "")
        self._bridge.pop(other, None)
        await quietly(self.ari.channel(other).hangup())  # it may have gone already
        await quietly(self.ari.bridge(bridge).destroy())


async def serve_minimal() -> None:
    """Child process: run :class:`MinimalApp` until SIGTERM."""
    settings = Settings().model_copy(update={"ari_app": MINIMAL_APP})
    trace = os.environ.get("SB_BENCH_TRACE")
    use_realtime_priority(settings.realtime_priority)  # as the engine does
    app = MinimalApp(Path(trace) if trace else None)
    client = AriClient.from_settings(settings, on_event=app.on_event)
    app.ari = Ari(client)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    client.start()
    await client.wait_connected(20)
    for lane in client.lanes:
        await lane.wait_connected(20)
    freeze_startup_heap()
    print("ready", flush=True)
    await stop.wait()
    await client.close()


async def serve_engine() -> None:
    """Child process: run one Engine from ``SWITCHBOARD_*`` settings until SIGTERM."""
    from switchboard.runtime import build_engine  # only the child needs it

    settings = Settings()
    logs.configure(os.environ.get("SB_BENCH_LOG_LEVEL", "INFO"))  # as ``switchboard serve``
    use_realtime_priority(settings.realtime_priority)  # as ``switchboard serve`` does
    engine_db = make_engine(settings.database_url)
    engine = build_engine(settings, make_sessionmaker(engine_db))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await engine.start()
    await engine.wait_ready()
    freeze_startup_heap()  # as ``switchboard serve`` does
    print("ready", flush=True)
    await stop.wait()
    await engine.stop()
    await engine_db.dispose()


def scheduling(pid: int) -> str:
    """How ``pid`` is scheduled, e.g. ``SCHED_RR 10`` or ``normal, nice 0``."""
    policy = os.sched_getscheduler(pid) & ~os.SCHED_RESET_ON_FORK
    if policy in (os.SCHED_RR, os.SCHED_FIFO):
        name = "SCHED_RR" if policy == os.SCHED_RR else "SCHED_FIFO"
        return f"{name} {os.sched_getparam(pid).sched_priority}"
    return f"normal, nice {os.getpriority(os.PRIO_PROCESS, pid)}"


def raise_priority(pid: int, nice: int) -> None:
    """Renice every thread of ``pid`` (Linux nice is per thread; new ones inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.setpriority(os.PRIO_PROCESS, int(task.name), nice)


@contextlib.contextmanager
def engine_process(
    env: dict[str, str], log_dir: Path, role: str = "--serve-engine"
) -> Iterator[subprocess.Popen[str]]:
    """The engine (or ``--serve-minimal``) in its own Python process, ready when this yields.

    Its logs (INFO, as in production: a few lines per call) go to
    ``log_dir/<role>.log``.
    """
    name = role.removeprefix("--serve-")
    log_path = log_dir / f"{name}.log"
    with log_path.open("w") as log_file:
        child = subprocess.Popen(  # noqa: S603 - this script, our own arguments
            [sys.executable, __file__, role],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    try:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {name} process did not become ready: see {log_path}")
        print(f"{name} process pid {child.pid}, logs {log_path}")
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()


def main() -> None:
    """Parse arguments, start Asterisk, a database and the engine, run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=200, help="calls per path and mode")
    parser.add_argument(
        "--concurrency", type=int, action="append", help="calls in flight (repeatable)"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=None,
        help="renice the engine and the minimal app (e.g. -10) when they run without "
        "real-time priority (SWITCHBOARD_REALTIME_PRIORITY=0); Asterisk runs real-time",
    )
    parser.add_argument(
        "--path",
        choices=list(PATHS),
        action="append",
        help="run only these paths (repeatable; the overhead needs all three)",
    )
    parser.add_argument(
        "--rate", type=float, action="append", default=[], help="sustained new calls/s (repeatable)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of a sustained run")
    parser.add_argument("--hold", type=float, default=1.0, help="seconds each sustained call lasts")
    parser.add_argument("--serve-engine", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-minimal", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_engine:
        asyncio.run(serve_engine())
        return
    if args.serve_minimal:
        asyncio.run(serve_minimal())
        return
    # A terminated run still stops its Asterisk and engine (the finally blocks below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    modes = args.concurrency or [1, 20]
    base = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    defaults = Settings()
    rootfs = ensure_rootfs(defaults.rootfs_cache, defaults.debian_mirror or None, print)
    instance = AsteriskInstance.create(
        "bench", base_dir=base / "asterisk", ports=free_ports(), rootfs=rootfs
    )
    instance.start(timeout=60)
    try:
        url = f"sqlite+aiosqlite:///{base / 'switchboard.db'}"
        trace = base / "ari-trace.txt"  # the minimal app's stamps
        asyncio.run(seed(url))
        env = {
            **instance.env(),
            "SWITCHBOARD_DATABASE_URL": url,
            "SWITCHBOARD_STATE_DIR": str(base / "state"),
            "SB_BENCH_TRACE": str(trace),
        }
        settings = instance.apply_to(Settings(database_url=url, state_dir=base / "state"))
        print(f"Asterisk {instance.uptime().splitlines()[0] if instance.uptime() else ''}")
        with (
            engine_process(env, base) as child,
            engine_process(env, base, "--serve-minimal") as minimal,
        ):
            if args.nice is not None:
                for pid in (child.pid, minimal.pid):
                    raise_priority(pid, args.nice)
                print(f"the engine and the minimal app reniced to {args.nice}")
            for name, pid in (
                ("Asterisk", instance.pid or 0),
                ("engine", child.pid),
                ("minimal app", minimal.pid),
            ):
                print(f"{name} scheduling: {scheduling(pid)}")
            assert instance.pid is not None
            cpu = CpuMeter(
                asterisk_pid=instance.pid, app_pids={"engine": child.pid, "ari": minimal.pid}
            )
            asyncio.run(
                drive(
                    settings,
                    args.calls,
                    modes,
                    cpu,
                    rates=args.rate,
                    seconds=args.seconds,
                    hold=args.hold,
                    trace=trace,
                    paths=args.path or list(PATHS),
                )
            )
    finally:
        instance.stop()


if __name__ == "__main__":
    main()
