"""GDPR: everything about a phone number in one archive, or erased everywhere.

The *subject* is a phone number (or a contact, standing for its number).
What is about it: the contact; call logs from or to it (with legs, notes,
recordings and their files, transcripts); voicemails it left; messages both
ways; its SMS consent, do-not-call entry and review requests; webhook
deliveries of those calls and messages.

:func:`export_archive` writes a zip: ``subject.json`` (every row),
``recordings/<sid>.<format>`` (the audio files) and
``transcripts/<recording sid>.txt``. :func:`erase` deletes all of it —
files, rows and, through the transcript triggers, the search index — and
leaves an audit entry that counts what went, without the number. A number
that asked not to be called or texted stays suppressed: its do-not-call
entry and its opt-out are kept under a salted hash of the number, which the
checks compare (:func:`switchboard.services.compliance.suppression_key`).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import (
    CallLeg,
    CallLog,
    Contact,
    DncEntry,
    Message,
    Recording,
    ReviewRequest,
    SmsConsent,
    Transcript,
    Voicemail,
    WebhookDelivery,
    utcnow,
)
from switchboard.models.base import Base
from switchboard.services import audit
from switchboard.services.compliance import (
    CONTACTS_REVISION,
    bump_dnc_revision,
    bump_revision,
    suppression_key,
)
from switchboard.services.contacts import get_contact
from switchboard.services.exceptions import BadRequest
from switchboard.services.phone import normalize_e164
from switchboard.services.voicemails import recording_file


@dataclass
class SubjectData:
    """Every row about one number, and the files of its recordings."""

    phone: str
    contacts: list[Contact] = field(default_factory=list)
    calls: list[CallLog] = field(default_factory=list)
    legs: list[CallLeg] = field(default_factory=list)
    voicemails: list[Voicemail] = field(default_factory=list)
    recordings: list[Recording] = field(default_factory=list)
    transcripts: list[Transcript] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    consents: list[SmsConsent] = field(default_factory=list)
    dnc: list[DncEntry] = field(default_factory=list)
    reviews: list[ReviewRequest] = field(default_factory=list)
    deliveries: list[WebhookDelivery] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many of each kind (what the audit log records)."""
        return {name: len(value) for name, value in vars(self).items() if isinstance(value, list)}


async def subject_phone(
    session: AsyncSession, tenant_id: str, *, phone_number: str | None, contact_id: str | None
) -> str:
    """The number a request is about: given, or the contact's.

    Raises:
        BadRequest: neither or both given. NotFound: no such contact.
    """
    if bool(phone_number) == bool(contact_id):
        raise BadRequest("Give phone_number or contact_id", field="phone_number")
    if contact_id:
        return (await get_contact(session, tenant_id, contact_id)).phone
    return normalize_e164(phone_number or "", field="phone_number")


async def collect(session: AsyncSession, tenant_id: str, phone: str) -> SubjectData:
    """Every row of the tenant about ``phone``."""
    data = SubjectData(phone=phone)

    async def rows(stmt: Any) -> list[Any]:
        return list((await session.scalars(stmt)).all())

    data.contacts = await rows(select(Contact).where(Contact.tenant_id == tenant_id,
                                                     Contact.phone == phone))
    contact_ids = [c.id for c in data.contacts]
    data.calls = await rows(select(CallLog).where(
        CallLog.tenant_id == tenant_id,
        or_(CallLog.from_number == phone, CallLog.to_number == phone,
            CallLog.client_id.in_(contact_ids) if contact_ids else false()),
    ).order_by(CallLog.started_at))
    sids = [c.call_sid for c in data.calls]
    if sids:
        data.legs = await rows(select(CallLeg).where(CallLeg.call_sid.in_(sids)))
    data.voicemails = await rows(select(Voicemail).where(
        Voicemail.tenant_id == tenant_id,
        or_(Voicemail.from_number == phone, Voicemail.call_sid.in_(sids) if sids else false()),
    ))
    recording_ids = {v.recording_id for v in data.voicemails if v.recording_id}
    data.recordings = await rows(select(Recording).where(
        Recording.tenant_id == tenant_id,
        or_(Recording.call_sid.in_(sids) if sids else false(),
            Recording.id.in_(recording_ids) if recording_ids else false()),
    ))
    rec_ids = [r.id for r in data.recordings]
    if rec_ids:
        data.transcripts = await rows(select(Transcript).where(
            Transcript.recording_id.in_(rec_ids)))
    data.messages = await rows(select(Message).where(
        Message.tenant_id == tenant_id,
        or_(Message.from_number == phone, Message.to_number == phone),
    ).order_by(Message.created_at))
    data.consents = await rows(select(SmsConsent).where(SmsConsent.tenant_id == tenant_id,
                                                        SmsConsent.phone == phone))
    data.dnc = await rows(select(DncEntry).where(DncEntry.tenant_id == tenant_id,
                                                 DncEntry.phone == phone))
    data.reviews = await rows(select(ReviewRequest).where(ReviewRequest.tenant_id == tenant_id,
                                                          ReviewRequest.phone == phone))
    keys = sids + [m.message_sid for m in data.messages]
    if keys:
        data.deliveries = await rows(select(WebhookDelivery).where(
            WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.call_sid.in_(keys)))
    return data


def _row(obj: Base) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in obj.__table__.columns:
        value = getattr(obj, column.key)
        out[column.key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _write_zip(target: Path, data: SubjectData, files: list[tuple[str, Path]],
               document: dict[str, Any]) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("subject.json", json.dumps(document, indent=2, default=str))
        for name, path in files:
            if path.is_file():
                archive.write(path, name)
        for transcript in data.transcripts:
            recording = next((r for r in data.recordings if r.id == transcript.recording_id), None)
            label = recording.recording_sid if recording else transcript.id
            archive.writestr(f"transcripts/{label}.txt", transcript.text)


async def export_archive(
    session: AsyncSession, tenant_id: str, phone: str, *, storage_root: Path,
    user_id: str | None = None, key_id: str | None = None,
) -> Path:
    """Write the subject's archive to a temporary file and return its path.

    The caller streams it and deletes it. The export is recorded in the audit log.
    """
    data = await collect(session, tenant_id, phone)
    document = {
        "subject": {"phone_number": phone},
        "exported_at": utcnow().isoformat(),
        **{name: [_row(r) for r in rows] for name, rows in vars(data).items()
           if isinstance(rows, list)},
    }
    files = []
    for recording in data.recordings:
        path = recording_file(storage_root, recording)
        if path is not None:
            files.append((f"recordings/{recording.recording_sid}.{recording.format}", path))
    descriptor, name = tempfile.mkstemp(prefix="gdpr-", suffix=".zip")
    os.close(descriptor)
    target = Path(name)
    await asyncio.to_thread(_write_zip, target, data, files, document)
    await audit.record(session, tenant_id, "gdpr.export", user_id=user_id, key_id=key_id,
                       target_type="subject", details={"counts": data.counts(),
                                                       "files": len(files)})
    return target


async def erase(
    session: AsyncSession, tenant_id: str, phone: str, *, storage_root: Path,
    user_id: str | None = None, key_id: str | None = None,
) -> dict[str, int]:
    """Delete everything about ``phone``; what was deleted, counted.

    Files go after the rows are flushed; suppressions (do-not-call, opt-out)
    are kept under the number's hash.
    """
    data = await collect(session, tenant_id, phone)
    files = [p for r in data.recordings if (p := recording_file(storage_root, r)) is not None]
    hashed = suppression_key(tenant_id, phone)
    if data.dnc:
        session.add(DncEntry(tenant_id=tenant_id, phone=hashed, reason="erased subject",
                             source="gdpr-erase"))
        await bump_dnc_revision(session)
    if any(c.opted_out for c in data.consents):
        session.add(SmsConsent(tenant_id=tenant_id, phone=hashed, source="gdpr-erase",
                               opted_out=True, opted_out_at=utcnow(), opt_out_keyword="STOP"))
    ids = {
        Transcript: [t.id for t in data.transcripts],
        Voicemail: [v.id for v in data.voicemails],
        Recording: [r.id for r in data.recordings],
        CallLeg: [leg.id for leg in data.legs],
        CallLog: [c.id for c in data.calls],
        Message: [m.id for m in data.messages],
        WebhookDelivery: [d.id for d in data.deliveries],
        SmsConsent: [c.id for c in data.consents],
        DncEntry: [d.id for d in data.dnc],
        ReviewRequest: [r.id for r in data.reviews],
        Contact: [c.id for c in data.contacts],
    }
    for model, row_ids in ids.items():
        if row_ids:
            await session.execute(
                delete(model).where(model.id.in_(row_ids))  # type: ignore[attr-defined]
                .execution_options(synchronize_session=False)
            )
    if data.contacts:
        await bump_revision(session, CONTACTS_REVISION)
    counts = data.counts()
    await audit.record(session, tenant_id, "gdpr.erase", user_id=user_id, key_id=key_id,
                       target_type="subject", details={"counts": counts, "files": len(files)})
    await session.flush()
    for path in files:
        await asyncio.to_thread(path.unlink, missing_ok=True)
    return counts
