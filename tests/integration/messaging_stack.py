"""A running engine, outbox, message sender and API over one real Asterisk, for a test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.api.app import create_app
from switchboard.asterisk import AsteriskInstance
from switchboard.engine.service import Engine
from switchboard.fetch_policy import LOOPBACK, FetchPolicy, GuardedClient
from switchboard.outbox.delivery import OutboxDispatcher
from switchboard.runtime import build_engine, call_directory, messaging_sender
from tests.integration.engine_helpers import engine_settings


@asynccontextmanager
async def running_stack(
    asterisk: AsteriskInstance, db_url: str, sessionmaker: async_sessionmaker[AsyncSession],
    state_dir: Path,
    **overrides: object,
) -> AsyncIterator[tuple[Engine, httpx.AsyncClient]]:
    """Everything ``switchboard serve`` wires for texts and calls; yields the engine and an
    API client."""
    settings = engine_settings(asterisk, db_url, state_dir).model_copy(
        update={"environment": "test", "redis_url": "", "messaging_poll_seconds": 0.5,
                **overrides})
    async with GuardedClient(FetchPolicy.from_entries(LOOPBACK)) as http:
        outbox = OutboxDispatcher(sessionmaker=sessionmaker, client=http, settings=settings)
        engine = build_engine(settings, sessionmaker, http=http, on_callbacks=outbox.notify)
        sender = messaging_sender(settings, sessionmaker, engine, outbox)
        directory = call_directory(settings, sessionmaker, engine)
        await engine.start()
        outbox.start()
        sender.start()
        await directory.reload(force=True)
        directory.start()
        try:
            await engine.wait_ready()
            app = create_app(settings, sessionmaker=sessionmaker, engine=engine,
                             messaging=sender, notify_outbox=outbox.notify)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport,
                                             base_url="http://test") as client:
                    yield engine, client
        finally:
            await directory.stop()
            await sender.stop()
            await sender.aclose()
            await engine.stop()
            await outbox.stop()
