"""The FastAPI application and its composition root (when the API runs alone).

:func:`create_app` wires what it is given; the lifespan builds what was not
given (the database engine from the settings) and closes what it built. When
the API runs in the same process as the call engine, ``switchboard serve``
passes the engine, the shared session factory and the health registry in.

State available to routes (through ``switchboard.api.deps``):
``app.state.settings``, ``.sessionmaker``, ``.health``, ``.engine`` (``None``
when the API runs alone), ``.rate_limiter``, ``.fetch_client`` (the
policy-bound HTTP client that fetches providers' recordings), ``.messaging``
(the message sender), ``.notify_outbox``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard import __version__
from switchboard.api.errors import install_error_handlers
from switchboard.api.hardening import install_hardening
from switchboard.api.health import HealthRegistry, database_check
from switchboard.api.openapi import document_error_responses
from switchboard.api.ratelimit import RateLimiter, build_rate_limiter
from switchboard.api.routes import include_all
from switchboard.api.sanitize import reject_nul_characters
from switchboard.config import Settings
from switchboard.fetch_policy import FetchPolicy, GuardedClient
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.services.messaging.sender import MessageSender, carrier_sender

_DESCRIPTION = (
    "Self-hosted call control on Asterisk. `/api/v1` is the canonical API; the "
    "`/api/phone-numbers`, `/api/call-forwarding`, `/api/call-logs`, `/api/voicemails` "
    "and `/api/call/add-phone` routes keep the shapes of the products they replace. "
    "Authenticate with `X-API-Key` or `Authorization: Bearer <JWT>` (from `/api/v1/auth/login`)."
)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    db_engine = None
    if app.state.sessionmaker is None:
        if not settings.database_url:
            settings.state_dir.mkdir(parents=True, exist_ok=True)
        db_engine = make_engine(settings.resolved_database_url)
        app.state.sessionmaker = make_sessionmaker(db_engine)
        app.state.health.register("database", database_check(app.state.sessionmaker))
    own_fetch_client = app.state.fetch_client is None
    if own_fetch_client:
        app.state.fetch_client = GuardedClient(FetchPolicy.from_settings(settings))
    own_sender = None
    if app.state.messaging is None:
        # Alone, the API sends texts through the carriers' HTTP APIs itself;
        # ``switchboard serve`` passes its sender, which also has SIP MESSAGE.
        own_sender = app.state.messaging = carrier_sender(settings, app.state.sessionmaker)
        own_sender.start()
    try:
        yield
    finally:
        if own_sender is not None:
            await own_sender.stop()
            await own_sender.aclose()
            app.state.messaging = None
        if own_fetch_client:
            await app.state.fetch_client.aclose()
            app.state.fetch_client = None
        if app.state.owns_rate_limiter:
            await app.state.rate_limiter.aclose()
        if db_engine is not None:
            await db_engine.dispose()


def create_app(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    health: HealthRegistry | None = None,
    engine: object | None = None,
    rate_limiter: RateLimiter | None = None,
    fetch_client: GuardedClient | None = None,
    messaging: MessageSender | None = None,
    notify_outbox: Callable[[], None] | None = None,
) -> FastAPI:
    """Build the API application.

    Args:
        settings: The settings.
        sessionmaker: Session factory to use; built from the settings at start-up if ``None``.
        health: Health registry shared with the engine and worker; a new one if ``None``.
            The database check is registered here.
        engine: The call engine when it runs in this process; routes that need it
            answer 503 while it is ``None``.
        rate_limiter: Limiter to use (tests); else built from the settings and
            closed at shutdown.
        fetch_client: The policy-bound client for outbound fetches (``serve``
            shares the engine's); else built from the settings at start-up.
        messaging: The message sender of this process; else one with the
            carriers' HTTP transports is run by the lifespan.
        notify_outbox: Wakes the webhook outbox after a request queued a webhook.

    Returns:
        The application; run its lifespan (uvicorn does) before serving.
    """
    app = FastAPI(
        title="Switchboard",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=_lifespan,
        dependencies=[Depends(reject_nul_characters)],
    )
    app.state.settings = settings
    app.state.health = health if health is not None else HealthRegistry()
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.messaging = messaging
    app.state.notify_outbox = notify_outbox
    app.state.owns_rate_limiter = rate_limiter is None
    app.state.rate_limiter = rate_limiter or build_rate_limiter(settings)
    app.state.fetch_client = fetch_client
    if sessionmaker is not None:
        app.state.health.register("database", database_check(sessionmaker))
    install_error_handlers(app)
    install_hardening(app, max_body_bytes=settings.max_body_bytes)
    include_all(app)

    def _openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            document_error_responses(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = _openapi  # type: ignore[method-assign]
    return app
