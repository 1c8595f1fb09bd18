"""The audit log: record an administrative action, read the tenant's log (admins).

Callers pass ids and kinds only; :func:`record` never receives a phone
number, a name or a message text, so the log itself holds no personal data
and survives a GDPR erase.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import AuditEntry, utcnow
from switchboard.services.paging import Page, paginate


async def record(
    session: AsyncSession,
    tenant_id: str,
    action: str,
    *,
    user_id: str | None = None,
    key_id: str | None = None,
    target_type: str = "",
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit row in the caller's transaction.

    Args:
        session: The session holding the change.
        tenant_id: Whose log.
        action: ``<resource>.<verb>``, e.g. ``number.release``, ``gdpr.erase``.
        user_id: The acting user, when known.
        key_id: The API key used, when one was.
        target_type: The kind of thing acted on (``number``, ``rule``...).
        target_id: Its id (never a phone number or a name).
        details: Counts and settings; no personal data.
    """
    entry = AuditEntry(
        tenant_id=tenant_id, at=utcnow(), actor_user_id=user_id, actor_key_id=key_id,
        action=action, target_type=target_type, target_id=target_id, details=details or {},
    )
    session.add(entry)
    return entry


async def list_entries(
    session: AsyncSession,
    tenant_id: str,
    *,
    action: str | None = None,
    since: datetime | None = None,
    page: int = 1,
    limit: int = 50,
) -> Page[AuditEntry]:
    """The tenant's log, newest first; ``action`` may end in ``.*`` for a family."""
    stmt = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
    if action:
        if action.endswith(".*"):
            stmt = stmt.where(AuditEntry.action.startswith(action[:-1], autoescape=True))
        else:
            stmt = stmt.where(AuditEntry.action == action)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    stmt = stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    return await paginate(session, stmt, page, limit)
