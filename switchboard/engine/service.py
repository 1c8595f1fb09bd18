"""The call engine: ARI + AMI connections, the routing table, running calls.

Built once by the composition root (``switchboard serve``, tests) and handed
what it needs; nothing here reaches for a global. ARI events are routed to the
call they concern; a StasisStart of an inbound call starts that call's task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard import ids
from switchboard.callflow.routes import NumberRoute
from switchboard.config import Settings
from switchboard.engine.ami.client import AmiClient
from switchboard.engine.ari.client import AriClient
from switchboard.engine.astdb_sync import AstdbMirror
from switchboard.engine.calllog import CallLogWriter
from switchboard.engine.calls.call import Call, Event
from switchboard.engine.calls.executor import FlowExecutor
from switchboard.engine.calls.inbound import InboundCallHandler
from switchboard.engine.calls.outbound import OutboundCallHandler
from switchboard.engine.calls.voice_app import VoiceApp
from switchboard.engine.control import CallControl
from switchboard.engine.events import CallRegistry
from switchboard.engine.media import MediaCache
from switchboard.engine.pjsip_sync import PjsipSync
from switchboard.engine.reconcile import CdrReconciler
from switchboard.engine.recordings import ASTERISK_SPOOL, RecordingPolicy, RecordingStore
from switchboard.engine.routing import RoutingTable
from switchboard.models import CallDirection, utcnow

log = logging.getLogger(__name__)


def _media_cache(settings: Settings, http: httpx.AsyncClient) -> MediaCache:
    """Spoken and fetched audio, in a directory Asterisk reads too."""
    if settings.asterisk_spool_dir is not None:
        return MediaCache(
            directory=settings.asterisk_spool_dir / "switchboard" / "media",
            asterisk_directory=f"{ASTERISK_SPOOL}/switchboard/media",
            client=http,
        )
    directory = settings.state_dir / "media"
    return MediaCache(directory=directory, asterisk_directory=str(directory), client=http)


# The only ARI events the engine reads. Asterisk sends a dozen more per call
# (variable sets, dialplan steps, caller-id and state changes); filtering them
# at the source saves Asterisk the encoding and the engine the parsing.
# RESTResponse must stay: answers to REST-over-websocket requests are events.
EVENTS_USED = (
    "RESTResponse", "StasisStart", "StasisEnd", "ChannelDestroyed", "ChannelHangupRequest",
    "Dial", "ChannelDtmfReceived", "ChannelLeftBridge", "PlaybackFinished", "PlaybackFailed",
    "RecordingFinished", "RecordingFailed", "ApplicationReplaced",
)  # fmt: skip

DID_CONTEXT = "switchboard-did"
FALLBACK_CONTEXT = "switchboard-fallback"


class Engine:
    """Owns the Asterisk connections and every call in progress."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utcnow,
        recording_policy: RecordingPolicy,
        http: httpx.AsyncClient | None = None,
        on_callbacks: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.registry = CallRegistry()
        self.writer = CallLogWriter(sessionmaker, on_callbacks=on_callbacks)
        self._own_http = http is None
        self.http = http or httpx.AsyncClient()
        self.routing = RoutingTable(
            sessionmaker,
            poll_seconds=settings.routing_poll_seconds,
            silence_seconds=settings.voicemail_silence_seconds,
        )
        self.ari = AriClient.from_settings(
            settings, on_event=self._on_ari_event, on_connected=self._on_ari_connected
        )
        self.ami = AmiClient.from_settings(
            settings, on_connected=self._on_ami_connected, login_events="off"
        )
        self.astdb = AstdbMirror(self.ami)
        self.recordings = RecordingStore(
            sessionmaker,
            spool_dir=settings.asterisk_spool_dir,
            storage_root=settings.resolved_storage_root,
            policy=recording_policy,
        )
        self.voice_app = VoiceApp(self.http, timeout=settings.voice_url_timeout_seconds)
        self.executor = FlowExecutor(
            ari=self.ari,
            ami=self.ami,
            app=settings.ari_app,
            registry=self.registry,
            writer=self.writer,
            recordings=self.recordings,
            clock=clock,
            media=_media_cache(settings, self.http),
            voice_app=self.voice_app,
            recording_url=lambda sid: f"{settings.base_url}/api/v1/recordings/{sid}",
        )
        self.inbound = InboundCallHandler(
            executor=self.executor,
            writer=self.writer,
            lookup=self.routing.lookup,
            clock=clock,
            voice_app=self.voice_app,
        )
        self.outbound = OutboundCallHandler(
            ari=self.ari,
            registry=self.registry,
            executor=self.executor,
            writer=self.writer,
            voice_app=self.voice_app,
            clock=clock,
        )
        self.control = CallControl(
            registry=self.registry,
            outbound=self.outbound,
            lookup=self.routing.lookup,
            hangup=self.executor.hangup,
            spawn=self._spawn,
            ari=self.ari,
        )
        self.reconciler = CdrReconciler(
            sessionmaker,
            cdr_csv=settings.asterisk_cdr_csv,
            spool_dir=settings.asterisk_spool_dir,
            recordings=self.recordings,
            lookup=self.routing.lookup,
        )
        self.pjsip = PjsipSync(sessionmaker, self.ami, settings.asterisk_etc_dir)
        self.routing.on_change(self._routes_changed)
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- life cycle ------------------------------------------------------------

    async def start(self) -> None:
        """Load routes, start the writer, connect ARI and AMI (in the background)."""
        self.writer.start()
        await self.routing.reload(force=True)
        self.ari.start()
        self.ami.start()
        self._spawn(self.routing.watch(self._stop), "routing-watch")
        self._spawn(self._reconcile_loop(), "cdr-reconcile")

    async def wait_ready(self, timeout: float = 20.0) -> None:
        """Wait until ARI and AMI are connected and AstDB mirrors the routes."""
        await self.ari.wait_connected(timeout)
        await self.ami.wait_connected(timeout)
        await asyncio.wait_for(self.astdb.synced.wait(), timeout)

    async def stop(self) -> None:
        """Stop accepting calls; calls in Stasis stay in Asterisk for the next engine."""
        self._stop.set()
        await self.ari.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.ami.close()
        await self.writer.close()
        if self._own_http:
            await self.http.aclose()

    def status(self) -> dict[str, Any]:
        """Health of every part, for ``/health/ready``."""
        return {
            "ari": self.ari.status,
            "ami": self.ami.status,
            "astdb_synced": self.astdb.synced.is_set(),
            "calls": len(self.registry),
        }

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "engine task failed", exc_info=task.exception(), extra={"task": task.get_name()}
            )

    # -- events ----------------------------------------------------------------

    def _on_ari_event(self, event: Event) -> None:
        if event.get("type") == "StasisStart":
            args = event.get("args") or []
            if args and args[0] == "inbound":
                self._start_inbound(event, args)
                return
        call = self.registry.find(event)
        if call is not None:
            call.queue.put_nowait(event)

    def _start_inbound(self, event: Event, args: list[str]) -> None:
        channel = event.get("channel", {})
        call = Call(
            call_sid=ids.call_sid(),
            channel_id=channel.get("id", ""),
            channel_name=channel.get("name", ""),
            linkedid=args[2] if len(args) > 2 and args[2] else channel.get("id", ""),
            from_number=channel.get("caller", {}).get("number", "") or "anonymous",
            to_number=args[1] if len(args) > 1 else channel.get("dialplan", {}).get("exten", ""),
            direction=CallDirection.INBOUND,
            started_at=utcnow(),
            simulate=args[3] if len(args) > 3 else "",
            bench_id=args[4] if len(args) > 4 else "",
        )
        self.registry.add(call)
        task = self._spawn(self.inbound.handle(call), f"call-{call.call_sid}")
        task.add_done_callback(lambda _t: self.registry.remove(call))

    async def _on_ari_connected(self) -> None:
        """After a (re)connect: ask only for the events used; orphaned channels go on."""
        try:
            app = await self.ari.request(
                "PUT",
                f"applications/{self.settings.ari_app}/eventFilter",
                body={"allowed": [{"type": kind} for kind in EVENTS_USED]},
            )
        except Exception:
            log.exception("could not read the ARI application after connecting")
            return
        for channel_id in app.get("channel_ids", []):
            if self.registry.by_channel(channel_id) is not None:
                continue
            await self._adopt_orphan(channel_id)

    async def _adopt_orphan(self, channel_id: str) -> None:
        """A channel in Stasis that no call owns (the engine restarted under it)."""
        try:
            channel = await self.ari.get_channel(channel_id)
        except Exception:  # noqa: BLE001 - it may have just gone
            return
        dialplan = channel.get("dialplan", {})
        if dialplan.get("context") == DID_CONTEXT:
            log.warning("orphaned caller handed to the fallback", extra={"channel": channel_id})
            await self.ari.continue_in_dialplan(
                channel_id, context=FALLBACK_CONTEXT, extension=dialplan.get("exten"), priority=1
            )
        else:
            log.warning("orphaned leg hung up", extra={"channel": channel_id})
            await self.ari.hangup(channel_id)

    async def _on_ami_connected(self) -> None:
        self.astdb.invalidate()
        await self.astdb.sync(self.routing.routes)
        await self.pjsip.sync()

    async def _routes_changed(self, routes: dict[str, NumberRoute]) -> None:
        if not self.ami.status.connected:
            self.astdb.invalidate()  # written in full once AMI is back
            return
        try:
            await self.astdb.sync(routes)
            await self.pjsip.sync()
        except Exception:
            log.exception("astdb/pjsip sync failed; retrying in full on next change")
            self.astdb.invalidate()

    async def _reconcile_loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.reconciler.run_once()
            except Exception:
                log.exception("cdr reconciliation failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.settings.reconcile_seconds)
