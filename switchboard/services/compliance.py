"""The do-not-call list, and the check every outbound call and text passes.

:func:`ensure_reachable` is the one gate: a number on the tenant's list
raises :class:`~switchboard.services.exceptions.ComplianceBlocked` (451) with
the reason, before anything is dialled or sent. Texts also pass the
recipient's SMS consent (:mod:`switchboard.services.messaging.consent`).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import DncEntry
from switchboard.models.system import SystemState
from switchboard.services import csv_stream
from switchboard.services.csv_stream import RowError
from switchboard.services.exceptions import BadRequest, ComplianceBlocked, NotFound, ServiceError
from switchboard.services.paging import Page, paginate
from switchboard.services.phone import normalize_e164

REASON_MAX = 200
DNC_REVISION = "dnc_revision"
CONTACTS_REVISION = "contacts_revision"


async def bump_revision(session: AsyncSession, key: str) -> None:
    """Mark the do-not-call lists (``DNC_REVISION``) or contacts as changed.

    In the caller's transaction. Engines keep both in memory
    (:mod:`.call_directory`) and reload them when the revision moves.
    """
    row = (await session.execute(
        select(SystemState).where(SystemState.key == key).with_for_update()
    )).scalar_one_or_none()
    if row is None:
        session.add(SystemState(key=key, value="1"))
    else:
        row.value = str(int(row.value or "0") + 1)


async def bump_dnc_revision(session: AsyncSession) -> None:
    """Mark the do-not-call lists as changed, in the caller's transaction."""
    await bump_revision(session, DNC_REVISION)


def suppression_key(tenant_id: str, phone: str) -> str:
    """A number's salted hash, as kept after a GDPR erase (``h:`` + 18 hex digits).

    An erased subject's do-not-call entry and opt-out stay in force under this
    key, so the number is still refused without any row holding it.
    """
    digest = hashlib.sha256(f"{tenant_id}:{phone}".encode()).hexdigest()
    return "h:" + digest[:18]


async def dnc_entry(session: AsyncSession, tenant_id: str, phone: str) -> DncEntry | None:
    """The tenant's do-not-call entry for ``phone`` (canonical E.164), if any."""
    keys = (phone, suppression_key(tenant_id, phone))
    stmt = select(DncEntry).where(DncEntry.tenant_id == tenant_id, DncEntry.phone.in_(keys))
    return (await session.execute(stmt)).scalars().first()


async def ensure_reachable(
    session: AsyncSession, tenant_id: str, phone: str, *, channel: str, field: str = "to_number"
) -> None:
    """Refuse a call or text to a number on the tenant's do-not-call list.

    Args:
        session: The database session.
        tenant_id: Whose list.
        phone: The destination, canonical E.164 (other targets pass).
        channel: ``call`` or ``sms``, named in the error.
        field: The request field named in the error.

    Raises:
        ComplianceBlocked: 451, ``details.reason`` says why.
    """
    entry = await dnc_entry(session, tenant_id, phone)
    if entry is None:
        return
    reason = "on the do-not-call list" + (f": {entry.reason}" if entry.reason else "")
    raise ComplianceBlocked(
        f"{phone} is {reason}; no {'call' if channel == 'call' else 'message'} was placed",
        field=field,
        details={"reason": "do_not_call", "list_reason": entry.reason, "channel": channel},
    )


async def add_dnc(
    session: AsyncSession, tenant_id: str, phone: str, *, reason: str = "", source: str = "api"
) -> tuple[DncEntry, bool]:
    """Put a number on the list; ``(entry, created)`` (an existing entry is kept).

    Raises:
        BadRequest: the number is not E.164 or the reason is too long.
    """
    e164 = normalize_e164(phone, field="phone")
    if len(reason) > REASON_MAX:
        raise BadRequest(f"reason must have at most {REASON_MAX} characters", field="reason")
    existing = await dnc_entry(session, tenant_id, e164)
    if existing is not None:
        return existing, False
    entry = DncEntry(tenant_id=tenant_id, phone=e164, reason=reason.strip(), source=source)
    session.add(entry)
    await bump_dnc_revision(session)
    await session.flush()
    return entry, True


async def remove_dnc(session: AsyncSession, tenant_id: str, phone: str) -> None:
    """Take a number off the list.

    Raises:
        NotFound: it is not on the list.
    """
    e164 = normalize_e164(phone, field="phone")
    keys = (e164, suppression_key(tenant_id, e164))
    result = await session.execute(
        delete(DncEntry).where(DncEntry.tenant_id == tenant_id, DncEntry.phone.in_(keys))
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("Number is not on the do-not-call list", field="phone")
    await bump_dnc_revision(session)


async def list_dnc(
    session: AsyncSession, tenant_id: str, *, page: int = 1, limit: int = 25
) -> Page[DncEntry]:
    """The tenant's list, newest first."""
    stmt = (
        select(DncEntry)
        .where(DncEntry.tenant_id == tenant_id)
        .order_by(DncEntry.created_at.desc(), DncEntry.id)
    )
    return await paginate(session, stmt, page, limit)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did."""

    added: int
    existing: int
    errors: list[RowError]


async def import_dnc(
    session: AsyncSession, tenant_id: str, lines: AsyncIterator[str] | Iterable[str]
) -> ImportReport:
    """Bulk import from CSV text with a ``phone`` column (``reason`` optional).

    A bare list of numbers, one a line without a header, is read too.
    Bad rows are reported by number; the good ones are added.
    """
    added = existing = 0
    errors: list[RowError] = []
    header: list[str] | None = None
    async for number, row in csv_stream.rows(lines):
        if header is None:
            cells = [c.strip().lower() for c in row]
            if "phone" in cells:
                header = cells
                continue
            header = ["phone", "reason"][: max(1, len(row))]
        values = dict(zip(header, row, strict=False))
        try:
            _, created = await add_dnc(
                session, tenant_id, values.get("phone", ""),
                reason=values.get("reason", "") or "", source="import",
            )
        except ServiceError as exc:
            errors.append(RowError(number, exc.field, exc.message))
            continue
        added, existing = (added + 1, existing) if created else (added, existing + 1)
    return ImportReport(added=added, existing=existing, errors=errors)
