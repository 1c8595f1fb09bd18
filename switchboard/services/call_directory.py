"""What the engine needs about numbers on its call path, in memory: no database read per call.

* the do-not-call lists: the engine asks :meth:`CallDirectory.refusal`
  before it dials a number (voice documents, rules), and a listed number is
  not dialled;
* contact names: a desk phone rung for a caller who is a contact shows the
  contact's name (:meth:`CallDirectory.name` gives ``CALLERID(name)``).

Every write to a list or to contacts bumps ``dnc_revision`` or
``contacts_revision`` in its transaction
(:func:`~switchboard.services.compliance.bump_revision`); the directory polls
both revisions and reloads what moved, as the routing table does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.models import Contact, DncEntry
from switchboard.models.state import get_value
from switchboard.services.compliance import CONTACTS_REVISION, DNC_REVISION, suppression_key

log = logging.getLogger(__name__)

_NOT_SHOWN = re.compile(r'["<>\\;\x00-\x1f\x7f]')
NAME_MAX = 40


def shown_name(name: str) -> str:
    """A contact's name as a phone's caller ID shows it.

    No quote, bracket, backslash, semicolon or control character (it goes into
    ``"name" <number>`` and a SIP header), at most 40 characters.
    """
    return _NOT_SHOWN.sub("", name).strip()[:NAME_MAX]


class CallDirectory:
    """Every tenant's do-not-call list and contact names, reloaded when they change."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *,
                 poll_seconds: float) -> None:
        self._sessionmaker = sessionmaker
        self._poll = poll_seconds
        self._revisions: dict[str, str] = {}
        self._listed: dict[tuple[str, str], str] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._task: asyncio.Task[None] | None = None

    async def reload(self, *, force: bool = False) -> None:
        """Load what changed since the last load (everything with ``force``)."""
        async with self._sessionmaker() as session:
            dnc = await get_value(session, DNC_REVISION, "0")
            contacts = await get_value(session, CONTACTS_REVISION, "0")
            if force or dnc != self._revisions.get(DNC_REVISION):
                rows = (await session.execute(
                    select(DncEntry.tenant_id, DncEntry.phone, DncEntry.reason))).all()
                self._listed = {(tenant, phone): reason for tenant, phone, reason in rows}
                self._revisions[DNC_REVISION] = dnc
            if force or contacts != self._revisions.get(CONTACTS_REVISION):
                names = (await session.execute(
                    select(Contact.tenant_id, Contact.phone, Contact.name))).all()
                self._names = {(tenant, phone): shown_name(name) for tenant, phone, name in names}
                self._revisions[CONTACTS_REVISION] = contacts

    def refusal(self, tenant_id: str, number: str) -> str | None:
        """Why ``number`` may not be called by the tenant, or ``None``."""
        for key in (number, suppression_key(tenant_id, number)):
            reason = self._listed.get((tenant_id, key))
            if reason is not None:
                return "on the do-not-call list" + (f": {reason}" if reason else "")
        return None

    def name(self, tenant_id: str, number: str) -> str | None:
        """The name of the tenant's contact with this number, if it is one."""
        return self._names.get((tenant_id, number))

    def start(self) -> None:
        """Watch the revisions in the background."""
        self._task = asyncio.create_task(self._watch(), name="call-directory")

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        while True:
            try:
                await self.reload()
            except Exception:
                log.warning("call directory reload failed", exc_info=True)
            await asyncio.sleep(self._poll)
