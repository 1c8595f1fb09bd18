"""Desk phones and softphones: PJSIP endpoints of a tenant.

Forwarding rules ring them as ``endpoint:<name>``. A browser phone is an
endpoint with ``webrtc`` set (see :mod:`switchboard.engine.pjsip_sync`). Names are global (they are
PJSIP identities on the one Asterisk), so a taken name is a conflict. The SIP
password is generated when not given and shown only when set. Every write
bumps the routing revision; an endpoint a rule still targets cannot be
deleted.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import Endpoint, ForwardingRule, User
from switchboard.models.state import bump_routing_revision
from switchboard.services.exceptions import BadRequest, Conflict, NotFound
from switchboard.services.paging import Page, paginate
from switchboard.services.phone import normalize_e164

_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_PASSWORD = re.compile(r"^[\x21-\x7e]{12,128}$")
FIELDS = frozenset({"password", "caller_id", "user_id", "webrtc"})


async def list_endpoints(
    session: AsyncSession, tenant_id: str, *, page: int = 1, limit: int = 25
) -> Page[Endpoint]:
    """The tenant's endpoints by name."""
    stmt = select(Endpoint).where(Endpoint.tenant_id == tenant_id).order_by(Endpoint.name)
    return await paginate(session, stmt, page, limit)


async def get_endpoint(session: AsyncSession, tenant_id: str, endpoint_id: str) -> Endpoint:
    """One endpoint of the tenant.

    Raises:
        NotFound: no such endpoint in this tenant.
    """
    row = await session.get(Endpoint, endpoint_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("Endpoint not found", field="id")
    return row


async def create_endpoint(
    session: AsyncSession, tenant_id: str, name: str, values: Mapping[str, Any]
) -> Endpoint:
    """Create an endpoint; a strong password is generated when none is given.

    Raises:
        BadRequest: invalid name, password, caller id or user.
        Conflict: the name is taken.
    """
    if not _NAME.match(name or ""):
        raise BadRequest("name must be 1-64 letters, digits, - or _", field="name")
    checked = await _checked(session, tenant_id, values)
    if await session.scalar(select(Endpoint.id).where(Endpoint.name == name)) is not None:
        raise Conflict("An endpoint with this name exists", field="name")
    row = Endpoint(tenant_id=tenant_id, name=name,
                   password=checked.pop("password", None) or secrets.token_urlsafe(18),
                   **checked)
    session.add(row)
    await bump_routing_revision(session)
    await session.flush()
    return row


async def update_endpoint(
    session: AsyncSession, tenant_id: str, endpoint_id: str, changes: Mapping[str, Any]
) -> Endpoint:
    """Change the password, caller id or user of an endpoint.

    Raises:
        NotFound: no such endpoint in this tenant.
        BadRequest: an invalid value.
    """
    row = await get_endpoint(session, tenant_id, endpoint_id)
    for key, value in (await _checked(session, tenant_id, changes)).items():
        setattr(row, key, value)
    await bump_routing_revision(session)
    await session.flush()
    return row


async def delete_endpoint(session: AsyncSession, tenant_id: str, endpoint_id: str) -> None:
    """Delete an endpoint no rule targets.

    Raises:
        NotFound: no such endpoint in this tenant.
        Conflict: a forwarding rule still rings it.
    """
    row = await get_endpoint(session, tenant_id, endpoint_id)
    target = f"endpoint:{row.name}"
    rules = (await session.execute(
        select(ForwardingRule).where(ForwardingRule.tenant_id == tenant_id)
    )).scalars()
    if any(target in rule.targets for rule in rules):
        raise Conflict("A forwarding rule rings this endpoint; change the rule first",
                       field="id")
    await session.delete(row)
    await bump_routing_revision(session)
    await session.flush()


async def _checked(
    session: AsyncSession, tenant_id: str, values: Mapping[str, Any]
) -> dict[str, Any]:
    unknown = set(values) - FIELDS
    if unknown:
        raise BadRequest(f"Unknown endpoint field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    out: dict[str, Any] = {}
    if values.get("password") is not None:
        if not isinstance(values["password"], str) or not _PASSWORD.match(values["password"]):
            raise BadRequest("password must be 12-128 printable characters", field="password")
        out["password"] = values["password"]
    if "caller_id" in values:
        caller = values["caller_id"]
        out["caller_id"] = None if caller is None else normalize_e164(caller, field="caller_id")
    if "webrtc" in values:
        if not isinstance(values["webrtc"], bool):
            raise BadRequest("webrtc must be true or false", field="webrtc")
        out["webrtc"] = values["webrtc"]
    if "user_id" in values:
        user_id = values["user_id"]
        if user_id is not None:
            user = await session.get(User, user_id)
            if user is None or user.tenant_id != tenant_id:
                raise NotFound("User not found", field="user_id")
        out["user_id"] = user_id
    return out


BROWSER_PHONE_PREFIX = "web-"


def browser_phone_name(user_id: str) -> str:
    """The endpoint name of a user's browser phone, derived from the user's id.

    Derived rather than chosen, so two users (of any tenants) never collide
    and nothing a person types reaches Asterisk.
    """
    return BROWSER_PHONE_PREFIX + user_id.replace("-", "")[:32]


async def browser_phone(session: AsyncSession, tenant_id: str, user_id: str) -> Endpoint | None:
    """The user's browser phone, if it was set up."""
    return await session.scalar(select(Endpoint).where(
        Endpoint.tenant_id == tenant_id, Endpoint.name == browser_phone_name(user_id)))


async def ensure_browser_phone(session: AsyncSession, tenant_id: str, user: User) -> Endpoint:
    """The user's browser phone (a WebRTC endpoint owned by the user), created if missing.

    Raises:
        NotFound: the user is not one of the tenant's.
    """
    if user.tenant_id != tenant_id:
        raise NotFound("User not found", field="user_id")
    existing = await browser_phone(session, tenant_id, user.id)
    if existing is not None:
        return existing
    values: dict[str, Any] = {"user_id": user.id, "webrtc": True}
    if user.phone:
        values["caller_id"] = user.phone
    return await create_endpoint(session, tenant_id, browser_phone_name(user.id), values)


class AriRequests(Protocol):
    """The ARI client, as far as reading endpoint states needs it."""

    async def request(self, method: str, uri: str) -> Any:
        """Send one REST request; the decoded JSON answer."""


async def registration_states(ari: AriRequests, names: list[str]) -> dict[str, str]:
    """Asterisk's view of each named PJSIP endpoint: ``online``, ``offline`` or ``unknown``.

    Names Asterisk does not know (not loaded yet) read ``unknown``.
    """
    known = {name: "unknown" for name in names}
    listed = await ari.request("GET", "endpoints/PJSIP")
    for item in listed if isinstance(listed, list) else []:
        resource = item.get("resource") if isinstance(item, dict) else None
        if resource in known:
            known[resource] = str(item.get("state") or "unknown")
    return known


async def endpoint_labels(session: AsyncSession, tenant_id: str) -> dict[str, str]:
    """A readable name for each of the tenant's endpoints: its owner's, when it has one.

    ``{"web-3f2a…": "Olivia Owner (browser)", "desk-1": "desk-1 (Sam)"}``.
    """
    rows = (await session.execute(
        select(Endpoint.name, Endpoint.webrtc, User.name, User.email)
        .outerjoin(User, User.id == Endpoint.user_id)
        .where(Endpoint.tenant_id == tenant_id)
    )).all()
    labels = {}
    for name, webrtc, user_name, email in rows:
        owner = user_name or email
        if webrtc:
            labels[name] = f"{owner} (browser)" if owner else name
        else:
            labels[name] = f"{name} ({owner})" if owner else name
    return labels
