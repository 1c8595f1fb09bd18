"""Voicemails: list with unread count, get, mark read/unread, archive, delete.

Status is ``new`` (unread), ``read`` or ``archived``. Deleting a voicemail
removes its recording row and the audio file under the storage root too; the
file is unlinked in a worker thread so the event loop never waits on disk.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import Recording, Voicemail
from switchboard.services.exceptions import BadRequest, NotFound
from switchboard.services.paging import Page, paginate

STATUSES = ("new", "read", "archived")


@dataclass(frozen=True)
class VoicemailPage:
    """A page of voicemails and the tenant's unread (``new``) count."""

    page: Page[Voicemail]
    unread_count: int


async def list_voicemails(
    session: AsyncSession, tenant_id: str, *, status: str | None = None, page: int = 1,
    limit: int = 25, unread_first: bool = False,
) -> VoicemailPage:
    """The tenant's voicemails, newest first, optionally of one status.

    With ``unread_first`` the unread (``new``) ones come before the others,
    each group newest first (the console's inbox).

    Raises:
        BadRequest: an unknown status.
    """
    stmt = select(Voicemail).where(Voicemail.tenant_id == tenant_id)
    if status is not None:
        if status not in STATUSES:
            raise BadRequest("status must be new, read or archived", field="status")
        stmt = stmt.where(Voicemail.status == status)
    if unread_first:
        stmt = stmt.order_by(case((Voicemail.status == "new", 0), else_=1))
    stmt = stmt.order_by(Voicemail.created_at.desc(), Voicemail.id.desc())
    result = await paginate(session, stmt, page, limit)
    return VoicemailPage(page=result, unread_count=await unread_count(session, tenant_id))


async def unread_count(session: AsyncSession, tenant_id: str) -> int:
    """How many of the tenant's voicemails are ``new``."""
    stmt = select(func.count()).where(Voicemail.tenant_id == tenant_id, Voicemail.status == "new")
    return int((await session.execute(stmt)).scalar_one())


async def get_voicemail(session: AsyncSession, tenant_id: str, voicemail_id: str) -> Voicemail:
    """One voicemail of the tenant.

    Raises:
        NotFound: no such voicemail in this tenant.
    """
    row = await session.get(Voicemail, voicemail_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("Voicemail not found", field="id")
    return row


async def set_status(
    session: AsyncSession, tenant_id: str, voicemail_id: str, status: str
) -> Voicemail:
    """Mark a voicemail ``new`` (unread), ``read`` or ``archived``.

    Raises:
        NotFound: no such voicemail in this tenant.
        BadRequest: an unknown status.
    """
    if status not in STATUSES:
        raise BadRequest("status must be new, read or archived", field="status")
    row = await get_voicemail(session, tenant_id, voicemail_id)
    row.status = status
    await session.flush()
    return row


async def delete_voicemail(
    session: AsyncSession, tenant_id: str, voicemail_id: str, *, storage_root: Path
) -> None:
    """Delete a voicemail, its recording row and its audio file.

    Args:
        session: The database session.
        tenant_id: The owning tenant.
        voicemail_id: The voicemail's id.
        storage_root: Where recording paths are relative to
            (``Settings.resolved_storage_root``).

    Raises:
        NotFound: no such voicemail in this tenant.
    """
    row = await get_voicemail(session, tenant_id, voicemail_id)
    path: Path | None = None
    if row.recording_id is not None:
        recording = await session.get(Recording, row.recording_id)
        if recording is not None:
            path = recording_file(storage_root, recording)
            await session.delete(recording)
    await session.delete(row)
    await session.flush()
    if path is not None:
        await asyncio.to_thread(path.unlink, missing_ok=True)


def recording_file(storage_root: Path, recording: Recording) -> Path | None:
    """The file of a recording, or None when its path leaves the storage root."""
    root = storage_root.resolve()
    path = (root / recording.path).resolve()
    return path if path.is_relative_to(root) else None
