"""Contacts: CRUD, search, dedupe by E.164, names for callers, history, CSV.

A contact's ``phone`` is unique per tenant in canonical E.164, so creating a
contact for a number that has one answers 409 with the existing id, and an
import merges into it (dedupe). :func:`names_for` gives the contact names of
a set of numbers in one query: call logs, live calls and the desk phone's
caller ID show the name of a caller who is a contact.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.models import CallLog, Contact, Message, Voicemail
from switchboard.services import csv_stream
from switchboard.services.compliance import CONTACTS_REVISION, bump_revision
from switchboard.services.csv_stream import RowError
from switchboard.services.exceptions import BadRequest, Conflict, NotFound, ServiceError
from switchboard.services.paging import Page, paginate
from switchboard.services.phone import normalize_e164

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$")
_TAG = re.compile(r"^[\w\- ]{1,40}$")
MAX_TAGS = 20
CSV_COLUMNS = ("name", "phone", "email", "company", "tags")


@dataclass(frozen=True, slots=True)
class ContactFields:
    """What a client may set on a contact (``None``: leave as is / not given)."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    company: str | None = None
    tags: Sequence[str] | None = None


def _clean(fields: ContactFields, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if fields.name is not None or creating:
        name = (fields.name or "").strip()
        if not name or len(name) > 200:
            raise BadRequest("name must have 1 to 200 characters", field="name")
        values["name"] = name
    if fields.phone is not None or creating:
        values["phone"] = normalize_e164(fields.phone or "", field="phone")
    if fields.email is not None:
        email = fields.email.strip()
        if email and not _EMAIL.match(email):
            raise BadRequest("email is not an email address", field="email")
        values["email"] = email or None
    if fields.company is not None:
        company = fields.company.strip()
        if len(company) > 200:
            raise BadRequest("company must have at most 200 characters", field="company")
        values["company"] = company or None
    if fields.tags is not None:
        tags = list(dict.fromkeys(t.strip() for t in fields.tags if t.strip()))
        if len(tags) > MAX_TAGS or any(not _TAG.match(t) for t in tags):
            raise BadRequest(
                f"tags: at most {MAX_TAGS}, each 1-40 letters, digits, spaces or -", field="tags"
            )
        values["tags"] = tags
    return values


async def by_phone(session: AsyncSession, tenant_id: str, phone: str) -> Contact | None:
    """The tenant's contact with this canonical number, if any."""
    stmt = select(Contact).where(Contact.tenant_id == tenant_id, Contact.phone == phone)
    return (await session.execute(stmt)).scalars().first()


async def create_contact(session: AsyncSession, tenant_id: str, fields: ContactFields) -> Contact:
    """Create a contact.

    Raises:
        BadRequest: a field is invalid.
        Conflict: the tenant has a contact with this number (``details.contact_id``).
    """
    values = _clean(fields, creating=True)
    existing = await by_phone(session, tenant_id, values["phone"])
    if existing is not None:
        raise Conflict("A contact with this phone number exists", field="phone",
                       details={"contact_id": existing.id})
    contact = Contact(tenant_id=tenant_id, **{"tags": [], **values})
    session.add(contact)
    await bump_revision(session, CONTACTS_REVISION)
    await session.flush()
    return contact


async def get_contact(session: AsyncSession, tenant_id: str, contact_id: str) -> Contact:
    """One contact of the tenant.

    Raises:
        NotFound: no such contact in this tenant.
    """
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.tenant_id != tenant_id:
        raise NotFound("Contact not found", field="contact_id")
    return contact


async def update_contact(
    session: AsyncSession, tenant_id: str, contact_id: str, fields: ContactFields
) -> Contact:
    """Change a contact's fields.

    Raises:
        NotFound: no such contact. Conflict: the new number belongs to another contact.
    """
    contact = await get_contact(session, tenant_id, contact_id)
    values = _clean(fields, creating=False)
    phone = values.get("phone")
    if phone and phone != contact.phone:
        other = await by_phone(session, tenant_id, phone)
        if other is not None:
            raise Conflict("A contact with this phone number exists", field="phone",
                           details={"contact_id": other.id})
    for key, value in values.items():
        setattr(contact, key, value)
    await bump_revision(session, CONTACTS_REVISION)
    await session.flush()
    return contact


async def delete_contact(session: AsyncSession, tenant_id: str, contact_id: str) -> None:
    """Delete a contact (its calls and messages stay, without the link)."""
    contact = await get_contact(session, tenant_id, contact_id)
    await session.delete(contact)
    await bump_revision(session, CONTACTS_REVISION)
    await session.flush()


def _search(stmt: Select[Any], term: str) -> Select[Any]:
    """Match name, company or email (any case), number digits, or a whole tag."""
    like = f"%{term.lower()}%"
    digits = re.sub(r"\D", "", term)
    clauses: list[ColumnElement[bool]] = [
        Contact.name.ilike(like),
        Contact.company.ilike(like),
        Contact.email.ilike(like),
    ]
    if digits:
        clauses.append(Contact.phone.contains(digits, autoescape=True))
    # Tags are a JSON list: match the quoted tag inside its text form.
    clauses.append(Contact.tags.cast(Contact.name.type).ilike(f'%"{term}"%'))
    return stmt.where(or_(*clauses))


async def list_contacts(
    session: AsyncSession,
    tenant_id: str,
    *,
    search: str | None = None,
    tag: str | None = None,
    page: int = 1,
    limit: int = 25,
) -> Page[Contact]:
    """The tenant's contacts by name; ``search`` matches name, number, company, email or tag."""
    stmt = select(Contact).where(Contact.tenant_id == tenant_id)
    if search and search.strip():
        stmt = _search(stmt, search.strip())
    if tag:
        stmt = stmt.where(Contact.tags.cast(Contact.name.type).ilike(f'%"{tag}"%'))
    stmt = stmt.order_by(Contact.name, Contact.id)
    return await paginate(session, stmt, page, limit)


async def names_for(session: AsyncSession, tenant_id: str, phones: Iterable[str]) -> dict[str, str]:
    """Contact names of the given numbers (those that are contacts), in one query."""
    wanted = {p for p in phones if p}
    if not wanted:
        return {}
    stmt = select(Contact.phone, Contact.name).where(
        Contact.tenant_id == tenant_id, Contact.phone.in_(wanted)
    )
    return {phone: name for phone, name in (await session.execute(stmt)).all()}


def outside_party(direction: str, from_number: str, to_number: str) -> str:
    """The number of the person on the other side of a call (the caller of an inbound one)."""
    return from_number if direction.upper() == "INBOUND" else to_number


async def caller_names(
    session: AsyncSession, tenant_id: str, calls: Iterable[tuple[str, str, str]]
) -> dict[str, str]:
    """Contact names of the outside parties of ``(direction, from, to)`` calls, by number."""
    return await names_for(session, tenant_id, (outside_party(*c) for c in calls))


async def ensure_client(session: AsyncSession, tenant_id: str, client_id: str) -> Contact:
    """A VoiceCall's ``clientId`` must be one of the tenant's contacts.

    Raises:
        NotFound: no such contact in this tenant (``field`` is ``clientId``).
    """
    contact = await session.get(Contact, client_id)
    if contact is None or contact.tenant_id != tenant_id:
        raise NotFound("Client not found", field="clientId")
    return contact


async def call_history(
    session: AsyncSession, tenant_id: str, contact_id: str, *, page: int = 1, limit: int = 25
) -> Page[CallLog]:
    """The contact's calls (from or to its number, or linked by ``client_id``), newest first."""
    contact = await get_contact(session, tenant_id, contact_id)
    stmt = (
        select(CallLog)
        .where(
            CallLog.tenant_id == tenant_id,
            or_(CallLog.from_number == contact.phone, CallLog.to_number == contact.phone,
                CallLog.client_id == contact.id),
        )
        .order_by(CallLog.started_at.desc(), CallLog.id)
    )
    return await paginate(session, stmt, page, limit)


async def message_history(
    session: AsyncSession, tenant_id: str, contact_id: str, *, page: int = 1, limit: int = 25
) -> Page[Message]:
    """The contact's messages both ways, newest first."""
    contact = await get_contact(session, tenant_id, contact_id)
    stmt = (
        select(Message)
        .where(
            Message.tenant_id == tenant_id,
            or_(Message.from_number == contact.phone, Message.to_number == contact.phone),
        )
        .order_by(Message.created_at.desc(), Message.id)
    )
    return await paginate(session, stmt, page, limit)


async def voicemail_history(
    session: AsyncSession, tenant_id: str, contact_id: str, *, page: int = 1, limit: int = 25
) -> Page[Voicemail]:
    """Voicemails the contact left, newest first."""
    contact = await get_contact(session, tenant_id, contact_id)
    stmt = (
        select(Voicemail)
        .where(Voicemail.tenant_id == tenant_id, Voicemail.from_number == contact.phone)
        .order_by(Voicemail.created_at.desc(), Voicemail.id)
    )
    return await paginate(session, stmt, page, limit)


@dataclass(frozen=True, slots=True)
class ContactImport:
    """What a CSV import did: rows created, rows merged into an existing contact, errors."""

    created: int
    merged: int
    errors: list[RowError]


async def import_csv(
    session: AsyncSession, tenant_id: str, lines: AsyncIterator[str] | Iterable[str]
) -> ContactImport:
    """Import contacts from CSV, deduplicating by E.164.

    The header needs ``name`` and ``phone``; ``email``, ``company`` and
    ``tags`` (separated by ``;``) are optional.

    A row whose number is a contact already (in the tenant or earlier in the
    file) updates that contact with the row's non-empty fields. Each bad row
    is reported by line; the others are imported.

    Raises:
        BadRequest: the header lacks ``name`` or ``phone``.
    """
    created = merged = 0
    errors: list[RowError] = []
    header: list[str] | None = None
    async for number, cells in csv_stream.rows(lines):
        if header is None:
            header = [c.lower() for c in cells]
            if "name" not in header or "phone" not in header:
                raise BadRequest("The CSV header needs name and phone columns", field="file")
            continue
        row: Mapping[str, str] = dict(zip(header, cells, strict=False))
        tags = [t for t in row.get("tags", "").split(";") if t.strip()]
        fields = ContactFields(
            name=row.get("name") or None, phone=row.get("phone", ""),
            email=row.get("email") or None, company=row.get("company") or None,
            tags=tags or None,
        )
        try:
            phone = normalize_e164(fields.phone or "", field="phone")
            existing = await by_phone(session, tenant_id, phone)
            if existing is None:
                await create_contact(session, tenant_id, fields)
                created += 1
            else:
                await update_contact(session, tenant_id, existing.id, fields)
                merged += 1
        except ServiceError as exc:
            errors.append(RowError(number, exc.field, exc.message))
    if header is None:
        raise BadRequest("The CSV file is empty", field="file")
    return ContactImport(created=created, merged=merged, errors=errors)


async def export_csv(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str
) -> AsyncIterator[str]:
    """The tenant's contacts as CSV lines, header first, streamed from the database.

    It opens its own session: a streamed response outlives the request's.
    """
    yield csv_stream.line(CSV_COLUMNS)
    stmt = (
        select(Contact)
        .where(Contact.tenant_id == tenant_id)
        .order_by(Contact.name, Contact.id)
        .execution_options(yield_per=500)
    )
    async with sessionmaker() as session:
        result = await session.stream_scalars(stmt)
        async for c in result:
            yield csv_stream.line([c.name, c.phone, c.email or "", c.company or "",
                                   ";".join(c.tags)])
