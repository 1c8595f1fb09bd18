"""Demo data for ``switchboard demo``: a business you can call right away.

A tenant with an admin, an API key, a desk-phone endpoint (register any
softphone with the printed credentials), a number that rings the phone for
20 seconds and then takes a voicemail. Created once; later runs reuse it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import DidInventory, Endpoint, PhoneNumber, Tenant, Trunk
from switchboard.models.state import bump_routing_revision
from switchboard.services import api_keys, numbers, rules, tenants, users
from switchboard.services.roles import Role

DEMO_TENANT = "Switchboard Demo"
DEMO_DID = "+15550100100"
DEMO_ENDPOINT = "demo-phone"
DEMO_ADMIN = "admin@demo.switchboard.local"


@dataclass(frozen=True, slots=True)
class DemoFacts:
    """What a person needs to try the demo (secrets only when just created)."""

    tenant_id: str
    account_sid: str
    did: str
    endpoint: str
    endpoint_password: str
    admin_email: str
    admin_password: str | None
    api_key: str | None


async def ensure_demo(session: AsyncSession) -> DemoFacts:
    """Create the demo tenant and its number, phone and rule unless they exist."""
    tenant = await session.scalar(select(Tenant).where(Tenant.name == DEMO_TENANT))
    if tenant is not None:
        endpoint = await session.scalar(select(Endpoint).where(Endpoint.name == DEMO_ENDPOINT))
        return DemoFacts(
            tenant.id,
            tenant.account_sid,
            DEMO_DID,
            DEMO_ENDPOINT,
            endpoint.password if endpoint else "",
            DEMO_ADMIN,
            None,
            None,
        )
    tenant = await tenants.create_tenant(session, name=DEMO_TENANT)
    password = secrets.token_urlsafe(12)
    admin = await users.create_user(
        session, tenant.id, email=DEMO_ADMIN, name="Demo Admin", role=Role.ADMIN, password=password
    )
    key = await api_keys.create_key(session, tenant.id, name="demo", user_id=admin.id)
    phone_password = secrets.token_urlsafe(12)
    session.add(
        Endpoint(
            tenant_id=tenant.id,
            user_id=admin.id,
            name=DEMO_ENDPOINT,
            password=phone_password,
            caller_id=DEMO_ENDPOINT,
        )
    )
    trunk = Trunk(
        tenant_id=tenant.id, name="demo-lab", kind="local", integration="sip", context="sb-sim"
    )
    session.add(trunk)
    await session.flush()
    session.add(
        DidInventory(
            tenant_id=tenant.id,
            trunk_id=trunk.id,
            e164=DEMO_DID,
            country="US",
            area_code="555",
            locality="Demo",
        )
    )
    await bump_routing_revision(session)
    await session.flush()
    number: PhoneNumber = await numbers.provision_number(
        session, tenant.id, DEMO_DID, friendly_name="Demo main line"
    )
    await rules.create_rule(
        session,
        tenant.id,
        number.id,
        {
            "name": "Ring the desk phone",
            "targets": [f"endpoint:{DEMO_ENDPOINT}"],
            "strategy": "sequential",
            "ring_timeout": 20,
            "condition": "always",
        },
    )
    return DemoFacts(
        tenant.id,
        tenant.account_sid,
        DEMO_DID,
        DEMO_ENDPOINT,
        phone_password,
        DEMO_ADMIN,
        password,
        key.key,
    )
