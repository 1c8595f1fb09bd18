"""The composition root of ``switchboard serve``: database, engine, API, outbox.

One process runs the call engine, the HTTP API (uvicorn, in the same event
loop) and the webhook outbox; the transcription worker runs as its own
process (``switchboard worker``) because Whisper is CPU-bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from switchboard.api.app import create_app
from switchboard.api.health import ComponentHealth, HealthRegistry
from switchboard.config import Settings, ensure_safe_to_serve
from switchboard.engine.recordings import RecordingPolicy
from switchboard.engine.service import Engine
from switchboard.engine.simulation import SimulatedPhones
from switchboard.fetch_policy import FetchPolicy, GuardedClient
from switchboard.models import Recording
from switchboard.models.base import utcnow
from switchboard.models.migrate import upgrade
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.outbox.delivery import OutboxDispatcher
from switchboard.scheduling import normal_scheduling_in_child, use_realtime_priority
from switchboard.services.call_directory import CallDirectory
from switchboard.services.limits import recording_refusal
from switchboard.services.messaging.callbacks import INBOUND_KIND
from switchboard.services.messaging.calls import send_from_call
from switchboard.services.messaging.hooks import MessagingHooks
from switchboard.services.messaging.replies import send_replies
from switchboard.services.messaging.sender import OwningSender, carrier_sender
from switchboard.services.messaging.sip import receive_sip_text
from switchboard.services.messaging.transport import SipTransport
from switchboard.services.retention import RetentionSweeper
from switchboard.services.transcripts import enqueue_transcription, worker_heartbeats
from switchboard.web import install_console

log = logging.getLogger(__name__)


@dataclass
class Database:
    """The migrated database and its session factory."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]


async def open_database(settings: Settings) -> Database:
    """Create the state directory (SQLite), migrate, and return the session factory."""
    if settings.resolved_database_url.startswith("sqlite"):
        settings.state_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    await upgrade(engine)
    return Database(engine, make_sessionmaker(engine))


async def _recording_refusal(session: AsyncSession, tenant_id: str) -> str | None:
    refused = await recording_refusal(session, tenant_id)
    return None if refused is None else f"{refused.code}: {refused.message}"


def _queue_transcription(session: AsyncSession, recording: Recording) -> None:
    enqueue_transcription(session, recording)


RECORDING_POLICY = RecordingPolicy(
    refusal=_recording_refusal, queue_transcription=_queue_transcription
)
"""The plan's storage limit and the transcription queue, as the engine records."""


def build_engine(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    clock: Callable[[], datetime] = utcnow,
    http: GuardedClient | None = None,
    on_callbacks: Callable[[], None] | None = None,
) -> Engine:
    """The call engine, given what it needs from the services above it.

    The call simulator (``switchboard call simulate``, the tests, the
    benchmarks) works against a running server: calls it places get simulated
    phones (:class:`SimulatedPhones`), every other call real ones.
    """
    return Engine(
        settings,
        sessionmaker,
        recording_policy=RECORDING_POLICY,
        clock=clock,
        http=http,
        on_callbacks=on_callbacks,
        edge=SimulatedPhones,
    )


def engine_health(engine: Engine, registry: HealthRegistry) -> None:
    """Register the engine's connections with ``/health/ready``."""

    async def ari() -> ComponentHealth:
        status = engine.ari.status
        return ComponentHealth(status.connected, status.last_error or str(status.state))

    async def ami() -> ComponentHealth:
        status = engine.ami.status
        return ComponentHealth(status.connected, status.last_error or str(status.state))

    registry.register("ari", ari)
    registry.register("ami", ami)


def outbox_health(outbox: OutboxDispatcher, registry: HealthRegistry) -> None:
    """Register the webhook outbox's dispatcher with ``/health/ready``."""

    async def check() -> ComponentHealth:
        status = outbox.status()
        return ComponentHealth(bool(status["running"]), f"delivered {status['delivered']}")

    registry.register("outbox", check)


def worker_health(
    sessionmaker: async_sessionmaker[AsyncSession], registry: HealthRegistry, *, stale: float
) -> None:
    """Register the transcription workers' heartbeats with ``/health/ready``."""

    async def check() -> ComponentHealth:
        async with sessionmaker() as session:
            beats = await worker_heartbeats(session)
        now = utcnow()
        alive = [b for b in beats if (now - b.at).total_seconds() < stale and b.state != "stopped"]
        if not alive:
            return ComponentHealth(False, "no transcription worker heartbeat")
        return ComponentHealth(True, f"{len(alive)} worker(s) alive")

    registry.register("worker", check)


def freeze_startup_heap() -> None:
    """Keep the cyclic GC off what startup built (modules, models, the app).

    A full collection walks every tracked object; with the startup heap frozen
    it walks only what calls made since, so it no longer stalls the event loop
    for tens of milliseconds (measured: one 44 ms pause in a call-setup run).
    """
    gc.collect()
    gc.freeze()


async def serve(settings: Settings, *, with_worker: bool = True) -> None:
    """Run engine + API + outbox (+ a worker process) until SIGINT/SIGTERM.

    Raises:
        UnsafeSettings: the development secret key on a non-loopback address.
    """
    ensure_safe_to_serve(settings)  # before anything starts or listens
    use_realtime_priority(settings.realtime_priority)  # before any thread starts
    database = await open_database(settings)
    # One client for every fetch a tenant steers: voice URLs, Play, callbacks, recordings.
    client = GuardedClient(FetchPolicy.from_settings(settings))
    outbox = OutboxDispatcher(sessionmaker=database.sessionmaker, client=client, settings=settings)
    engine = build_engine(
        settings, database.sessionmaker, http=client, on_callbacks=outbox.notify
    )
    sender = messaging_sender(settings, database.sessionmaker, engine, outbox)
    directory = call_directory(settings, database.sessionmaker, engine)
    retention = RetentionSweeper(database.sessionmaker, storage_root=settings.resolved_storage_root,
                                 interval=settings.retention_interval_seconds)
    health = HealthRegistry()
    engine_health(engine, health)
    outbox_health(outbox, health)
    if with_worker:
        worker_health(database.sessionmaker, health, stale=60)
    app = create_app(
        settings, sessionmaker=database.sessionmaker, health=health, engine=engine,
        fetch_client=client, messaging=sender, notify_outbox=outbox.notify,
    )
    install_console(app)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_config=None)
    )
    # This process owns SIGINT/SIGTERM (to stop the engine too), not uvicorn.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async with client:
        await engine.start()
        outbox.start()
        sender.start()
        retention.start()
        await directory.reload(force=True)
        directory.start()
        worker = await start_worker_process() if with_worker else None
        api = asyncio.create_task(server.serve(), name="api")
        freeze_startup_heap()
        log.info("switchboard running", extra={"api": settings.base_url})
        await stop.wait()
        log.info("switchboard stopping")
        server.should_exit = True
        await api
        if worker is not None:
            worker.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(worker.wait(), 15)
        await directory.stop()
        await retention.stop()
        await sender.stop()
        await sender.aclose()
        await outbox.stop()
        await engine.stop()
    await database.engine.dispose()


def messaging_sender(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: Engine,
    outbox: OutboxDispatcher,
) -> OwningSender:
    """The message sender: carriers' HTTP APIs and SIP MESSAGE through the engine's Asterisk.

    The engine's received texts are handed to the messaging services, and the
    outbox hands them the answers of messaging URLs (``<Message>`` replies).
    """
    sender = carrier_sender(settings, sessionmaker, extra={"sip": SipTransport(engine.texts.send)},
                            notify_outbox=outbox.notify)
    hooks = MessagingHooks(segment_price=settings.sms_segment_price,
                           notify_sender=sender.notify, notify_outbox=outbox.notify)
    engine.texts.handler = functools.partial(receive_sip_text, sessionmaker, hooks)
    engine.calls.executor.send_text = functools.partial(send_from_call, sessionmaker, hooks)

    async def answer(kind: str, params: dict[str, str], body: str) -> None:
        if kind == INBOUND_KIND and params.get("MessageSid"):
            await send_replies(sessionmaker, hooks, params["MessageSid"], body)

    outbox.answer_handler = answer
    return sender


def call_directory(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], engine: Engine
) -> CallDirectory:
    """Do-not-call lists and contact names in memory, for the engine's call path.

    The engine leaves listed numbers out of its dials and shows a contact's
    name as the caller ID name on the phones it rings.
    """
    directory = CallDirectory(sessionmaker, poll_seconds=settings.routing_poll_seconds)
    engine.calls.executor.call_screen = directory.refusal
    engine.calls.executor.dialer.caller_name = directory.name
    return directory


async def start_worker_process() -> asyncio.subprocess.Process:
    """The transcription worker as a child process, reading the same environment.

    It runs on this process's own interpreter (``python -m switchboard.cli
    worker``), so it starts whether or not the virtualenv's ``bin`` is on PATH:
    ``scripts/run`` runs ``.venv/bin/switchboard`` without it, and looking the
    command up on PATH left the demo without a worker.
    """
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "switchboard.cli",
        "worker",
        stdout=sys.stderr,
        stderr=sys.stderr,
        preexec_fn=normal_scheduling_in_child,  # batch work gives way to calls
    )
