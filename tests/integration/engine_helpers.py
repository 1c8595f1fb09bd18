"""Helpers for engine tests: seed a tenant with a number and rules, run an engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.asterisk import AsteriskInstance
from switchboard.config import Settings
from switchboard.fetch_policy import LOOPBACK
from switchboard.models import ForwardingRule, PhoneNumber, Tenant, Trunk
from switchboard.models.state import bump_routing_revision

DID = "+15550100200"
CALLER = "+15557654321"
PROMPTS = "/usr/share/asterisk/sounds/en_US_f_Allison"


def engine_settings(asterisk: AsteriskInstance, db_url: str, state_dir: Path) -> Settings:
    base = Settings(
        database_url=db_url,
        state_dir=state_dir,
        storage_root=state_dir / "storage",
        routing_poll_seconds=0.2,
        reconcile_seconds=1.0,
        voicemail_silence_seconds=3,
        fetch_allow=list(LOOPBACK),  # voice URLs, Play and callbacks on local test servers
    )
    return asterisk.apply_to(base)


async def seed_number(
    sessionmaker: async_sessionmaker[AsyncSession],
    rules: list[dict[str, Any]],
    *,
    did: str = DID,
    record: bool = False,
    timezone: str = "UTC",
    voicemail_max: int = 30,
    trunk_context: str = "sb-test",
) -> tuple[str, str]:
    """A tenant, a local trunk, a number and its rules; returns (tenant id, number id)."""
    async with sessionmaker() as session, session.begin():
        tenant = Tenant(name="Acme Plumbing", timezone=timezone)
        session.add(tenant)
        await session.flush()
        session.add(Trunk(tenant_id=tenant.id, name=f"t{tenant.id[:8]}", kind="local",
                          context=trunk_context))
        number = PhoneNumber(tenant_id=tenant.id, e164=did, record_calls=record,
                             voicemail_max_seconds=voicemail_max)
        session.add(number)
        await session.flush()
        for priority, rule in enumerate(rules):
            session.add(ForwardingRule(tenant_id=tenant.id, number_id=number.id,
                                       priority=priority, **rule))
        await bump_routing_revision(session)
    return tenant.id, number.id
