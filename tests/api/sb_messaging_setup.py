"""Set-up shared by the messaging tests: a tenant whose carrier trunk carries texts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.api.app import create_app
from switchboard.config import Settings
from switchboard.models import PhoneNumber, Tenant
from switchboard.services import numbers, trunks
from switchboard.services.messaging.sender import carrier_sender
from tests.api.sb_fake_messaging import PLIVO_ID, PLIVO_TOKEN, TELNYX_KEY, TWILIO_SID, TWILIO_TOKEN

CREDENTIALS = {
    "twilio": (TWILIO_SID, TWILIO_TOKEN),
    "telnyx": (None, TELNYX_KEY),
    "plivo": (PLIVO_ID, PLIVO_TOKEN),
}


async def carrier_trunk(
    sessionmaker: async_sessionmaker[AsyncSession], tenant: Tenant, integration: str,
    *dids: str, name: str | None = None,
) -> str:
    """A carrier trunk of ``tenant`` bringing ``dids``; returns its id."""
    account, token = CREDENTIALS[integration]
    async with sessionmaker() as s:
        row = await trunks.create_trunk(s, tenant.id, trunks.TrunkSpec(
            name=name or f"{integration}-{tenant.id[:8]}", integration=integration,
            kind="pjsip", account_id=account, auth_token=token,
            dids=[trunks.DidSpec(d) for d in dids]))
        await s.commit()
        return row.id


async def sms_number(
    sessionmaker: async_sessionmaker[AsyncSession], tenant: Tenant, e164: str,
    integration: str = "twilio", **config: object,
) -> PhoneNumber:
    """A provisioned, SMS-enabled number on a carrier trunk."""
    await carrier_trunk(sessionmaker, tenant, integration, e164, name=f"{integration}-{e164[-6:]}")
    async with sessionmaker() as s:
        number = await numbers.provision_number(s, tenant.id, e164,
                                                config={"sms_enabled": True, **config})
        await s.commit()
        return number


@asynccontextmanager
async def app_with_manual_sender(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[FastAPI]:
    """The app with a message sender that sends only when the test runs ``run_once()``."""
    sender = carrier_sender(settings, sessionmaker)
    application = create_app(settings, sessionmaker=sessionmaker, messaging=sender)
    try:
        async with application.router.lifespan_context(application):
            yield application
    finally:
        await sender.aclose()
