"""Trunks, their DID inventory, and connecting a carrier number (add-phone).

A trunk is the way calls reach Switchboard from a carrier (a PJSIP trunk by
registration or IP auth) or, in labs, a ``Local/`` context. The DIDs it brings
go to the inventory that number search reads. ``add_phone`` (seed 004) does
it all for one number: checks the credentials, finds or makes the trunk of
that carrier account, records the DID for its user and provisions it.
Every write bumps the routing revision in the same transaction.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import DidInventory, PhoneNumber, User
from switchboard.models.state import bump_routing_revision
from switchboard.models.telephony import Trunk
from switchboard.services.carrier_sip import CarrierTrunk, SipRequest, carrier_trunk
from switchboard.services.carriers import (
    CarrierClient,
    CarrierCredentials,
    Webhooks,
    check_shape,
)
from switchboard.services.exceptions import BadRequest, Conflict, NotFound
from switchboard.services.limits import ensure_within_limit
from switchboard.services.numbers import find_active_by_e164, provision_number
from switchboard.services.paging import Page, paginate
from switchboard.services.phone import (
    area_code_of,
    country_of,
    normalize_e164,
    number_type_of,
)

KINDS = ("pjsip", "local")
_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_HOST = re.compile(r"^[A-Za-z0-9.\-]{1,255}$")
_USER_ID = re.compile(r"^([0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}|[0-9a-fA-F]{24})$")


@dataclass(frozen=True)
class DidSpec:
    """A DID a trunk brings; country and type are derived when not given."""

    e164: str
    country: str | None = None
    number_type: str | None = None
    locality: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class TrunkSpec:
    """A trunk to create. ``integration`` is twilio, telnyx, plivo or sip."""

    name: str
    integration: str = "sip"
    kind: str = "pjsip"
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    register: bool = False
    context: str | None = None
    account_id: str | None = None
    auth_token: str | None = None
    dids: Sequence[DidSpec] = field(default_factory=tuple)


@dataclass(frozen=True)
class AddedPhone:
    """The result of :func:`add_phone`."""

    number: PhoneNumber
    did: DidInventory
    trunk: Trunk
    user_id: str


async def list_trunks(
    session: AsyncSession, tenant_id: str, *, page: int = 1, limit: int = 25
) -> Page[Trunk]:
    """The tenant's trunks, oldest first."""
    stmt = select(Trunk).where(Trunk.tenant_id == tenant_id).order_by(Trunk.created_at, Trunk.id)
    return await paginate(session, stmt, page, limit)


async def get_trunk(session: AsyncSession, tenant_id: str, trunk_id: str) -> Trunk:
    """One trunk of the tenant.

    Raises:
        NotFound: no such trunk in this tenant.
    """
    trunk = await session.get(Trunk, trunk_id)
    if trunk is None or trunk.tenant_id != tenant_id:
        raise NotFound("Trunk not found", field="id")
    return trunk


async def list_dids(session: AsyncSession, tenant_id: str, trunk_id: str) -> Sequence[DidInventory]:
    """The inventory of one trunk, by number."""
    await get_trunk(session, tenant_id, trunk_id)
    stmt = select(DidInventory).where(DidInventory.trunk_id == trunk_id).order_by(DidInventory.e164)
    return (await session.execute(stmt)).scalars().all()


async def create_trunk(
    session: AsyncSession,
    tenant_id: str,
    spec: TrunkSpec,
    *,
    carrier: CarrierClient | None = None,
) -> Trunk:
    """Create a trunk and put its DIDs in the inventory.

    Args:
        session: The database session.
        tenant_id: The owning tenant.
        spec: The trunk and its DIDs.
        carrier: When given, carrier credentials are checked live against
            the first DID.

    Raises:
        BadRequest: invalid fields or credentials.
        Conflict: the trunk name is taken.
        CarrierUnavailable: the carrier's API could not be reached.
    """
    _check_trunk(spec)
    dids = [_did_values(d) for d in spec.dids]
    if carrier is not None and dids:
        await carrier.verify(_creds(spec), dids[0]["e164"])
    if await session.scalar(select(Trunk.id).where(Trunk.name == spec.name)) is not None:
        raise Conflict("A trunk with this name exists", field="name")
    trunk = Trunk(
        tenant_id=tenant_id, name=spec.name, kind=spec.kind, integration=spec.integration,
        host=spec.host, port=spec.port, username=spec.username, password=spec.password,
        register=spec.register, context=spec.context, account_sid=spec.account_id,
        auth_token=spec.auth_token,
    )
    session.add(trunk)
    await session.flush()
    for values in dids:
        session.add(DidInventory(tenant_id=tenant_id, trunk_id=trunk.id, **values))
    await bump_routing_revision(session)
    await session.flush()
    return trunk


async def add_dids(
    session: AsyncSession, tenant_id: str, trunk_id: str, dids: Sequence[DidSpec]
) -> list[DidInventory]:
    """Add DIDs to a trunk's inventory (ones it already has are kept).

    Raises:
        NotFound: no such trunk in this tenant.
        BadRequest: a number is invalid.
    """
    await get_trunk(session, tenant_id, trunk_id)
    existing = set(
        (await session.execute(
            select(DidInventory.e164).where(DidInventory.trunk_id == trunk_id)
        )).scalars()
    )
    added = []
    for spec in dids:
        values = _did_values(spec)
        if values["e164"] in existing:
            continue
        existing.add(values["e164"])
        row = DidInventory(tenant_id=tenant_id, trunk_id=trunk_id, **values)
        session.add(row)
        added.append(row)
    await bump_routing_revision(session)
    await session.flush()
    return added


async def delete_trunk(session: AsyncSession, tenant_id: str, trunk_id: str) -> None:
    """Delete a trunk and its inventory.

    Raises:
        NotFound: no such trunk in this tenant.
        Conflict: an active number still uses it (release it first).
    """
    trunk = await get_trunk(session, tenant_id, trunk_id)
    in_use = await session.scalar(
        select(PhoneNumber.id).where(
            PhoneNumber.trunk_id == trunk.id, PhoneNumber.enabled.is_(True)
        )
    )
    if in_use is not None:
        raise Conflict("An active number uses this trunk; release it first", field="id")
    await session.delete(trunk)
    await bump_routing_revision(session)
    await session.flush()


async def add_phone(
    session: AsyncSession,
    tenant_id: str,
    *,
    user_id: str,
    phone_number: str,
    creds: CarrierCredentials,
    carrier: CarrierClient,
    webhooks: Webhooks,
    sip: SipRequest | None = None,
) -> AddedPhone:
    """Connect a carrier number for a user (seed 004 ``POST /api/call/add-phone``).

    Checks the credentials' shape, then their validity and the number's
    ownership at the carrier, and points the number at ``webhooks`` there;
    reuses the tenant's trunk for that carrier account or creates one, with
    the carrier's documented SIP signalling (:mod:`.carrier_sip`; ``sip``
    adds what only the admin knows), which the engine writes to PJSIP like
    any trunk; records the DID for the user and provisions it (the number
    answers with the built-in voice app until configured).

    Raises:
        BadRequest: malformed user id, invalid credentials, the user already
            has this number, or the carrier says the account does not own it.
        NotFound: no such user in the tenant.
        Conflict: the number is active elsewhere.
        PlanLimitExceeded: the tenant's plan allows no more numbers.
        CarrierUnavailable: the carrier's API could not be reached.
        WebhookSetupFailed: the carrier refused the webhook configuration.
    """
    if not _USER_ID.match(user_id or ""):
        raise BadRequest("Invalid User ID format", field="user_id")
    user = await session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id:
        raise NotFound("User not found", field="user_id")
    e164 = normalize_e164(phone_number, field="phone_number")
    check_shape(creds)
    settings = carrier_trunk(creds.integration, sip or SipRequest())
    active = await find_active_by_e164(session, e164)
    if active is not None:
        owned_by_user = await session.scalar(
            select(DidInventory.id).where(
                DidInventory.number_id == active.id, DidInventory.owner_user_id == user_id
            )
        )
        if owned_by_user is not None:
            raise BadRequest("Phone number already exists for this user", field="phone_number")
        raise Conflict("Phone number is already in use", field="phone_number")
    await ensure_within_limit(session, tenant_id, "numbers")  # before asking the carrier
    await carrier.connect(creds, e164, webhooks=webhooks)
    trunk = await _carrier_trunk(session, tenant_id, creds, settings)
    did = (await session.execute(
        select(DidInventory).where(DidInventory.trunk_id == trunk.id, DidInventory.e164 == e164)
    )).scalars().first()
    if did is None:
        did = DidInventory(tenant_id=tenant_id, trunk_id=trunk.id, **_did_values(DidSpec(e164)))
        session.add(did)
    did.owner_user_id = user_id
    await session.flush()
    number = await provision_number(session, tenant_id, e164)
    await bump_routing_revision(session)  # the engine rewrites PJSIP for the trunk
    await session.flush()
    return AddedPhone(number=number, did=did, trunk=trunk, user_id=user_id)


async def _carrier_trunk(
    session: AsyncSession, tenant_id: str, creds: CarrierCredentials, sip: CarrierTrunk
) -> Trunk:
    """The tenant's PJSIP trunk of this carrier account, made or brought up to date."""
    stmt = select(Trunk).where(
        Trunk.tenant_id == tenant_id,
        Trunk.integration == creds.integration,
        Trunk.account_sid == creds.account_id,
    )
    trunk = (await session.execute(stmt)).scalars().first()
    if trunk is None:
        trunk = Trunk(
            tenant_id=tenant_id, name=f"{creds.integration}-{uuid.uuid4().hex[:12]}",
            kind="pjsip", integration=creds.integration, account_sid=creds.account_id,
        )
        session.add(trunk)
    trunk.auth_token = creds.auth_token
    # What the request gives wins; what it leaves out keeps an earlier value.
    trunk.host = sip.host or trunk.host
    trunk.port = sip.port or trunk.port
    if sip.username:
        trunk.username, trunk.password = sip.username, sip.password
    trunk.inbound_match = sip.inbound_match or trunk.inbound_match
    notes = (sip.host_note if not trunk.host else None,
             sip.match_note if not trunk.inbound_match else None)
    trunk.setup_note = "; ".join(n for n in notes if n) or None
    await session.flush()
    return trunk


def _creds(spec: TrunkSpec) -> CarrierCredentials:
    return CarrierCredentials(spec.integration, spec.account_id, spec.auth_token)


def _check_trunk(spec: TrunkSpec) -> None:
    if not _NAME.match(spec.name or ""):
        raise BadRequest("name must be 1-64 letters, digits, - or _", field="name")
    if spec.kind not in KINDS:
        raise BadRequest("kind must be pjsip or local", field="kind")
    check_shape(_creds(spec))
    if spec.kind == "local":
        if not spec.context or not _NAME.match(spec.context):
            raise BadRequest("a local trunk needs a dialplan context", field="context")
        return
    if spec.integration == "sip" and not spec.host:
        raise BadRequest("a SIP trunk needs a host", field="host")
    if spec.host is not None and not _HOST.match(spec.host):
        raise BadRequest("host must be a host name or IP address", field="host")
    if spec.port is not None and not 1 <= spec.port <= 65535:
        raise BadRequest("port must be 1-65535", field="port")
    if spec.register and not (spec.username and spec.password):
        raise BadRequest("registration needs a username and a password", field="username")


def _did_values(spec: DidSpec) -> dict[str, Any]:
    e164 = normalize_e164(spec.e164, field="dids")
    number_type = spec.number_type or number_type_of(e164)
    if number_type not in ("local", "toll_free", "mobile"):
        raise BadRequest("number_type must be local, toll_free or mobile", field="dids")
    return {
        "e164": e164,
        "country": (spec.country or country_of(e164)).upper()[:2],
        "number_type": number_type,
        "area_code": area_code_of(e164),
        "locality": spec.locality,
        "region": spec.region,
    }
