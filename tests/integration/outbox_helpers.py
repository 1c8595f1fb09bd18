"""Shared pieces of the outbox tests: a tenant, fast settings, waiting on rows."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.config import Settings
from switchboard.models import Tenant, WebhookDelivery
from switchboard.outbox import enqueue
from tests.eventually import eventually

TOKEN = "fedcba9876543210fedcba9876543210"


def fast_settings(**overrides: float) -> Settings:
    values: dict[str, float] = {
        "outbox_backoff_base_seconds": 0.05,
        "outbox_backoff_max_seconds": 0.2,
        "outbox_poll_seconds": 0.1,
        "outbox_lease_seconds": 30.0,
        "outbox_request_timeout_seconds": 5.0,
        "outbox_concurrency": 8,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def make_tenant(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    async with sessionmaker() as session, session.begin():
        tenant = Tenant(name="Acme", auth_token=TOKEN)
        session.add(tenant)
        await session.flush()
        return tenant.id


async def enqueue_status(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    call_sid: str,
    url: str,
    statuses: list[str],
    notify: Callable[[], None] | None = None,
) -> None:
    """One transaction per status change, as the engine writes them."""
    for status in statuses:
        async with sessionmaker() as session, session.begin():
            await enqueue(
                session,
                tenant_id=tenant_id,
                call_sid=call_sid,
                url=url,
                params={"CallSid": call_sid, "CallStatus": status},
                kind="status",
                notify=notify,
            )


async def rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[WebhookDelivery]:
    async with sessionmaker() as session:
        result = await session.scalars(
            select(WebhookDelivery).order_by(WebhookDelivery.call_sid, WebhookDelivery.sequence)
        )
        return list(result.all())


async def wait_for(
    sessionmaker: async_sessionmaker[AsyncSession],
    predicate: Callable[[list[WebhookDelivery]], bool],
    timeout: float = 15.0,
) -> list[WebhookDelivery]:
    """The outbox's rows once ``predicate`` holds; fails with the rows when it never does."""
    last: list[WebhookDelivery] = []

    async def settled() -> tuple[list[WebhookDelivery]] | None:
        nonlocal last
        last = await rows(sessionmaker)
        return (last,) if predicate(last) else None

    try:
        (current,) = await eventually(settled, timeout=timeout, what="the outbox's state")
    except AssertionError as exc:
        states = [(r.call_sid, r.sequence, r.status, r.attempts) for r in last]
        raise AssertionError(f"{exc}: {states}") from None
    return current


def all_finished(current: list[WebhookDelivery]) -> bool:
    return bool(current) and all(r.status in ("delivered", "failed") for r in current)
