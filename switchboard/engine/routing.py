"""The engine's routing table: every number's route, held in memory.

Calls read it without touching the database. It reloads when the routing
revision (bumped by every write to numbers, rules, trunks and endpoints)
moves, and tells listeners (the AstDB mirror) what changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.callflow.routes import NumberRoute, TrunkRoute
from switchboard.callflow.rules import compile_steps
from switchboard.callflow.voicemail import voicemail_settings
from switchboard.models import ForwardingRule, PhoneNumber, Tenant, Trunk
from switchboard.models.state import ROUTING_REVISION, get_value

log = logging.getLogger(__name__)

RoutesListener = Callable[[dict[str, NumberRoute]], Awaitable[None]]


async def load_routes(session: AsyncSession, *, silence_seconds: int = 5) -> dict[str, NumberRoute]:
    """Read every number (released ones too: they must be rejected) into routes."""
    tenants = {t.id: t for t in (await session.execute(select(Tenant))).scalars()}
    trunks = {t.id: t for t in (await session.execute(select(Trunk))).scalars()}
    default_trunk: dict[str, Trunk] = {}
    for candidate in sorted(trunks.values(), key=lambda t: t.created_at):
        default_trunk.setdefault(candidate.tenant_id, candidate)
    rules: dict[str, list[ForwardingRule]] = {}
    for rule in (await session.execute(select(ForwardingRule))).scalars():
        rules.setdefault(rule.number_id, []).append(rule)

    routes: dict[str, NumberRoute] = {}
    numbers = (
        await session.execute(select(PhoneNumber).order_by(PhoneNumber.created_at))
    ).scalars()
    for number in numbers:
        tenant = tenants.get(number.tenant_id)
        if tenant is None:
            continue
        if number.e164 in routes and not number.enabled:
            continue  # an active number wins over a released one with the same DID
        trunk: Trunk | None = trunks.get(number.trunk_id or "") or default_trunk.get(
            number.tenant_id
        )
        routes[number.e164] = NumberRoute(
            number_id=number.id,
            tenant_id=tenant.id,
            did=number.e164,
            enabled=number.enabled,
            timezone=tenant.timezone,
            account_sid=tenant.account_sid,
            auth_token=tenant.auth_token,
            steps=tuple(compile_steps(rules.get(number.id, []))),
            voicemail=voicemail_settings(number, silence_seconds),
            record=number.record_calls,
            trunk=TrunkRoute(name=trunk.name, kind=trunk.kind, context=trunk.context)
            if trunk
            else None,
            voice_url=number.voice_url,
            voice_method=number.voice_method,
            voice_fallback_url=number.voice_fallback_url,
            status_callback=number.status_callback,
            status_callback_events=frozenset(number.status_callback_events.split()),
        )
    return routes


class RoutingTable:
    """Routes by DID, kept fresh by watching the routing revision."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        poll_seconds: float,
        silence_seconds: int = 5,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._poll_seconds = poll_seconds
        self._silence_seconds = silence_seconds
        self._routes: dict[str, NumberRoute] = {}
        self._revision: str | None = None
        self._listeners: list[RoutesListener] = []
        self._lock = asyncio.Lock()

    def lookup(self, did: str) -> NumberRoute | None:
        """The route of ``did``, or ``None`` for a number we do not have."""
        return self._routes.get(did)

    @property
    def routes(self) -> dict[str, NumberRoute]:
        """All routes by DID (do not mutate)."""
        return self._routes

    def on_change(self, listener: RoutesListener) -> None:
        """Call ``listener`` with the full table after every reload."""
        self._listeners.append(listener)

    async def reload(self, *, force: bool = False) -> bool:
        """Reload when the revision moved (or always, with ``force``).

        Returns:
            Whether the table was reloaded.
        """
        async with self._lock:
            async with self._sessionmaker() as session:
                revision = await get_value(session, ROUTING_REVISION, "0")
                if not force and revision == self._revision:
                    return False
                routes = await load_routes(session, silence_seconds=self._silence_seconds)
            self._routes = routes
            self._revision = revision
            log.info("routing table loaded", extra={"numbers": len(routes), "revision": revision})
        for listener in self._listeners:
            await listener(routes)
        return True

    async def watch(self, stop: asyncio.Event) -> None:
        """Poll the revision until ``stop`` is set; log and survive errors."""
        while not stop.is_set():
            try:
                await self.reload()
            except Exception:
                log.exception("routing reload failed; keeping the previous table")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._poll_seconds)
