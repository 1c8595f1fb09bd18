"""The call engine: ARI + AMI connections, the routing table, running calls.

Built once by the composition root (``switchboard serve``, tests) and handed
what it needs; nothing here reaches for a global. ARI frames are decoded into
typed events by the client and handed to the :class:`CallRouter`, which routes
them to the call they concern (a StasisStart of an inbound call starts that
call's task). The engine speaks ARI only through the facade (``engine.asterisk``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.callflow.routes import NumberRoute
from switchboard.config import Settings
from switchboard.engine.ami.client import AmiClient
from switchboard.engine.ari.client import AriClient
from switchboard.engine.ari.events import EVENT_TYPES, AriEvent
from switchboard.engine.ari.facade import Ari
from switchboard.engine.astdb_sync import AstdbMirror
from switchboard.engine.calllog import CallLogWriter
from switchboard.engine.calls.edge import CallEdge
from switchboard.engine.calls.router import CallRouter
from switchboard.engine.calls.voice_app import VoiceApp
from switchboard.engine.media import MediaCache
from switchboard.engine.pjsip_sync import PjsipSync
from switchboard.engine.reconcile import CdrReconciler
from switchboard.engine.recordings import ASTERISK_SPOOL, RecordingPolicy, RecordingStore
from switchboard.engine.routing import RoutingTable
from switchboard.engine.text_messages import TextMessages
from switchboard.fetch_policy import FetchPolicy, GuardedClient
from switchboard.models import utcnow
from switchboard.tasks import TaskKeeper

log = logging.getLogger(__name__)


def _media_cache(settings: Settings, http: GuardedClient) -> MediaCache:
    """Spoken and fetched audio, in a directory Asterisk reads too."""
    if settings.asterisk_spool_dir is not None:
        return MediaCache(
            directory=settings.asterisk_spool_dir / "switchboard" / "media",
            asterisk_directory=f"{ASTERISK_SPOOL}/switchboard/media",
            client=http,
        )
    directory = settings.state_dir / "media"
    return MediaCache(directory=directory, asterisk_directory=str(directory), client=http)


class Engine:
    """Owns the Asterisk connections and every call in progress."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utcnow,
        recording_policy: RecordingPolicy,
        http: GuardedClient | None = None,
        on_callbacks: Callable[[], None] | None = None,
        edge: Callable[[Ari], CallEdge] | None = None,
    ) -> None:
        """Build the engine (nothing connects before :meth:`start`).

        Args:
            settings: where Asterisk and the database are, and how calls behave.
            sessionmaker: the database.
            clock: the time calls are logged with.
            recording_policy: the plan's storage limit and the transcription
                queue, handed down by the composition root.
            http: the client for voice URLs and media (one is made otherwise).
            on_callbacks: called when webhooks were queued (wakes the outbox).
            edge: builds how call targets are dialled (the call simulator's
                ``SimulatedPhones``); real targets over trunks by default.
        """
        self.settings = settings
        self.writer = CallLogWriter(sessionmaker, on_callbacks=on_callbacks)
        self._own_http = http is None
        # Every fetch a tenant steers (voice URLs, Play) passes the fetch policy.
        self.http = http or GuardedClient(FetchPolicy.from_settings(settings))
        self.routing = RoutingTable(
            sessionmaker,
            poll_seconds=settings.routing_poll_seconds,
            silence_seconds=settings.voicemail_silence_seconds,
        )
        self.ari = AriClient.from_settings(
            settings, on_event=self._on_ari_event, on_connected=self._on_ari_connected
        )
        self.asterisk = Ari(self.ari)
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
        self.calls = CallRouter(
            ari=self.asterisk,
            ami=self.ami,
            writer=self.writer,
            recordings=self.recordings,
            lookup=self.routing.lookup,
            clock=clock,
            voice_app=self.voice_app,
            spawn=self._spawn,
            media=_media_cache(settings, self.http),
            recording_url=lambda sid: f"{settings.base_url}/api/v1/recordings/{sid}",
            edge=edge(self.asterisk) if edge is not None else None,
        )
        self.registry = self.calls.registry
        self.control = self.calls.control
        self.reconciler = CdrReconciler(
            sessionmaker,
            cdr_csv=settings.asterisk_cdr_csv,
            spool_dir=settings.asterisk_spool_dir,
            recordings=self.recordings,
            lookup=self.routing.lookup,
        )
        self.pjsip = PjsipSync(sessionmaker, self.ami, settings.asterisk_etc_dir)
        # SIP MESSAGE; the composition root sets ``texts.handler`` (engine/text_messages.py).
        self.texts = TextMessages(self.asterisk, spawn=self._spawn)
        self.routing.on_change(self._routes_changed)
        self._stop = asyncio.Event()
        self._tasks = TaskKeeper("engine", log)

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
        await self._tasks.cancel_all()
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
        return self._tasks.spawn(coro, name)

    # -- events ----------------------------------------------------------------

    def _on_ari_event(self, event: AriEvent) -> None:
        if self.texts.handle(event):
            return
        self.calls.on_event(event)

    async def _on_ari_connected(self) -> None:
        """After a (re)connect: ask only for the events used; orphaned channels go on."""
        try:
            channel_ids = await self.asterisk.subscribe_only(EVENT_TYPES)
        except Exception:
            log.exception("could not read the ARI application after connecting")
            return
        self.texts.forget_subscriptions()
        await self._follow_texts()
        await self.calls.adopt_orphans(channel_ids)

    async def _on_ami_connected(self) -> None:
        self.astdb.invalidate()
        await self.astdb.sync(self.routing.routes)
        await self.pjsip.sync()
        await self._follow_texts()

    async def _follow_texts(self) -> None:
        """Receive SIP MESSAGEs of every endpoint and trunk written to PJSIP."""
        if not self.ari.status.connected:
            return  # subscribed again on connect
        try:
            await self.texts.follow(self.pjsip.endpoint_names)
        except Exception:
            log.exception("could not subscribe to SIP messages")

    async def _routes_changed(self, routes: dict[str, NumberRoute]) -> None:
        if not self.ami.status.connected:
            self.astdb.invalidate()  # written in full once AMI is back
            return
        try:
            await self.astdb.sync(routes)
            await self.pjsip.sync()
            await self._follow_texts()
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
