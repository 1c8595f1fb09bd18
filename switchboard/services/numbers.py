"""Phone numbers of a tenant: list, search, provision, configure, release.

Search reads the DID inventory of the tenant's trunks.
Every write bumps the routing revision in the same transaction, so the call
engine reloads its routing table (and the AstDB mirror) before the next call.
A released number is soft-disabled (``enabled=False``, ``released_at``): the
engine then rejects calls to it, and its DID returns to the inventory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard import ids
from switchboard.models import DidInventory, PhoneNumber, utcnow
from switchboard.models.state import bump_routing_revision
from switchboard.services.exceptions import BadRequest, Conflict, NotFound
from switchboard.services.limits import ensure_within_limit
from switchboard.services.paging import Page, paginate
from switchboard.services.phone import friendly_format, normalize_e164

NUMBER_TYPES = ("local", "toll_free", "mobile")
METHODS = ("GET", "POST")
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
SEARCH_MAX = 50

_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_STRING_FIELDS = {"friendly_name": 200, "voicemail_greeting": 200}
_URL_FIELDS = ("voice_url", "voice_fallback_url", "status_callback", "sms_url")
_METHOD_FIELDS = ("voice_method", "voice_fallback_method", "status_callback_method", "sms_method")
_BOOL_FIELDS = ("record_calls", "voicemail_enabled", "sms_enabled")
CONFIG_FIELDS = frozenset(
    {*_STRING_FIELDS, *_URL_FIELDS, *_METHOD_FIELDS, *_BOOL_FIELDS,
     "status_callback_events", "voicemail_max_seconds"}
)


async def list_numbers(
    session: AsyncSession, tenant_id: str, *, page: int = 1, limit: int = 25
) -> Page[PhoneNumber]:
    """The tenant's active numbers, oldest first, one page with the total."""
    stmt = (
        select(PhoneNumber)
        .where(PhoneNumber.tenant_id == tenant_id, PhoneNumber.enabled.is_(True))
        .order_by(PhoneNumber.created_at, PhoneNumber.id)
    )
    return await paginate(session, stmt, page, limit)


async def get_number(session: AsyncSession, tenant_id: str, number_id: str) -> PhoneNumber:
    """One active number of the tenant.

    Raises:
        NotFound: no such number in this tenant, or it was released.
    """
    number = await session.get(PhoneNumber, number_id)
    if number is None or number.tenant_id != tenant_id or not number.enabled:
        raise NotFound("Phone number not found", field="id")
    return number


async def search_available(
    session: AsyncSession,
    tenant_id: str,
    *,
    country: str | None = None,
    number_type: str | None = None,
    area_code: str | None = None,
    contains: str | None = None,
    limit: int = 20,
) -> Sequence[DidInventory]:
    """DIDs of the tenant's trunks that no active number holds.

    Args:
        session: The database session.
        tenant_id: Whose trunks to search.
        country: ISO 3166 alpha-2 code, e.g. ``US``.
        number_type: ``local``, ``toll_free`` or ``mobile``.
        area_code: Digits the national number starts with (North America).
        contains: Digits the number contains anywhere.
        limit: 1 to 50 results.

    Raises:
        BadRequest: a filter is malformed.
    """
    if not 1 <= limit <= SEARCH_MAX:
        raise BadRequest(f"limit must be between 1 and {SEARCH_MAX}", field="limit")
    stmt = select(DidInventory).where(
        DidInventory.tenant_id == tenant_id, DidInventory.number_id.is_(None)
    )
    if country:
        if not re.fullmatch(r"[A-Za-z]{2}", country):
            raise BadRequest("country must be an ISO 3166 alpha-2 code", field="country")
        stmt = stmt.where(DidInventory.country == country.upper())
    if number_type:
        if number_type not in NUMBER_TYPES:
            raise BadRequest(
                "number_type must be one of " + ", ".join(NUMBER_TYPES), field="number_type"
            )
        stmt = stmt.where(DidInventory.number_type == number_type)
    if area_code:
        if not area_code.isdigit():
            raise BadRequest("area_code must be digits", field="area_code")
        stmt = stmt.where(DidInventory.area_code == area_code)
    if contains:
        digits = re.sub(r"[^0-9]", "", contains)
        if not digits or len(digits) != len(contains.lstrip("+")):
            raise BadRequest("contains must be digits", field="contains")
        stmt = stmt.where(DidInventory.e164.contains(digits, autoescape=True))
    stmt = stmt.order_by(DidInventory.e164).limit(limit)
    return (await session.execute(stmt)).scalars().all()


async def find_active_by_e164(session: AsyncSession, e164: str) -> PhoneNumber | None:
    """The active number with this E.164 form, in any tenant."""
    stmt = select(PhoneNumber).where(PhoneNumber.e164 == e164, PhoneNumber.enabled.is_(True))
    return (await session.execute(stmt)).scalars().first()


async def provision_number(
    session: AsyncSession,
    tenant_id: str,
    phone_number: str,
    *,
    friendly_name: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> PhoneNumber:
    """Provision (purchase) a DID from the tenant's inventory.

    Args:
        session: The database session.
        tenant_id: The buying tenant.
        phone_number: The DID, any accepted spelling (see :mod:`.phone`).
        friendly_name: A label; defaults to the formatted number.
        config: Initial configuration, as for :func:`configure_number`.

    Raises:
        PlanLimitExceeded: the tenant already has its plan's number count.
        Conflict: the number is already active.
        NotFound: the number is in none of the tenant's trunks' inventory.
        BadRequest: the number or the configuration is invalid.
    """
    e164 = normalize_e164(phone_number, field="phone_number")
    await ensure_within_limit(session, tenant_id, "numbers")
    if await find_active_by_e164(session, e164) is not None:
        raise Conflict("Phone number is already provisioned", field="phone_number")
    stmt = select(DidInventory).where(
        DidInventory.tenant_id == tenant_id,
        DidInventory.e164 == e164,
        DidInventory.number_id.is_(None),
    ).with_for_update()  # two concurrent purchases of one DID: the second waits, then misses
    did = (await session.execute(stmt)).scalars().first()
    if did is None:
        raise NotFound("Phone number is not available", field="phone_number")
    number = PhoneNumber(
        tenant_id=tenant_id,
        e164=e164,
        friendly_name=friendly_name or friendly_format(e164),
        trunk_id=did.trunk_id,
        sid=ids.new_sid("PN"),
    )
    _apply_config(number, config or {})
    session.add(number)
    await session.flush()
    did.number_id = number.id
    await bump_routing_revision(session)
    await session.flush()
    return number


async def configure_number(
    session: AsyncSession, tenant_id: str, number_id: str, changes: Mapping[str, Any]
) -> PhoneNumber:
    """Change a number's voice URL, callbacks, recording or voicemail settings.

    Args:
        session: The database session.
        tenant_id: The owning tenant.
        number_id: The number's id.
        changes: Any of :data:`CONFIG_FIELDS`; ``None`` clears a URL
            (``voice_url=None`` means the built-in forwarding app).

    Raises:
        NotFound: no such active number in the tenant.
        BadRequest: a value is invalid.
    """
    number = await get_number(session, tenant_id, number_id)
    _apply_config(number, changes)
    await bump_routing_revision(session)
    await session.flush()
    return number


async def release_number(session: AsyncSession, tenant_id: str, number_id: str) -> PhoneNumber:
    """Soft-disable a number; calls to it are rejected from now on.

    Raises:
        NotFound: no such active number in the tenant.
    """
    number = await get_number(session, tenant_id, number_id)
    number.enabled = False
    number.released_at = utcnow()
    held = await session.execute(select(DidInventory).where(DidInventory.number_id == number.id))
    for did in held.scalars():
        did.number_id = None
    await bump_routing_revision(session)
    await session.flush()
    return number


def _apply_config(number: PhoneNumber, changes: Mapping[str, Any]) -> None:
    unknown = set(changes) - CONFIG_FIELDS
    if unknown:
        raise BadRequest(f"Unknown setting {sorted(unknown)[0]}", field=sorted(unknown)[0])
    for key, value in changes.items():
        setattr(number, key, _checked(key, value))


def _checked(key: str, value: Any) -> Any:
    if key in _URL_FIELDS:
        if value is not None and not (isinstance(value, str) and _URL.match(value)):
            raise BadRequest("must be an absolute http(s) URL", field=key)
        return value
    if key in _METHOD_FIELDS:
        method = str(value or "").upper()
        if method not in METHODS:
            raise BadRequest("method must be GET or POST", field=key)
        return method
    if key in _BOOL_FIELDS:
        if not isinstance(value, bool):
            raise BadRequest("must be true or false", field=key)
        return value
    if key in _STRING_FIELDS:
        if value is not None and (not isinstance(value, str) or len(value) > _STRING_FIELDS[key]):
            raise BadRequest(f"must be text of at most {_STRING_FIELDS[key]} characters",
                             field=key)
        return value if key != "friendly_name" else (value or "")
    if key == "voicemail_max_seconds":
        if not isinstance(value, int) or isinstance(value, bool) or not 5 <= value <= 600:
            raise BadRequest("must be between 5 and 600 seconds", field=key)
        return value
    # status_callback_events
    events = value.split() if isinstance(value, str) else value
    if not isinstance(events, list) or not events or any(e not in STATUS_EVENTS for e in events):
        raise BadRequest("events must be among " + ", ".join(STATUS_EVENTS), field=key)
    return " ".join(dict.fromkeys(events))
