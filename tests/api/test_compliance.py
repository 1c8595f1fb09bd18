"""``/api/v1/compliance``: do-not-call list, GDPR export and erase, retention, audit log."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard import ids
from switchboard.config import Settings
from switchboard.models import (
    CallLog,
    Contact,
    DncEntry,
    Message,
    Recording,
    SmsConsent,
    Tenant,
    Transcript,
    Voicemail,
    utcnow,
)
from switchboard.services.retention import apply_retention
from tests.api.conftest import World
from tests.api.sb_resource_helpers import assert_v1_error

SUBJECT = "+15557654321"
BYSTANDER = "+15550009999"


async def test_dnc_add_check_list_remove(client: httpx.AsyncClient, world: World) -> None:
    h = world.headers("agent")
    r = await client.post("/api/v1/compliance/dnc", headers=h,
                          json={"phone": "1 555 765 4321", "reason": "asked"})
    assert r.status_code == 201 and r.json()["phone"] == SUBJECT
    check = (await client.get(f"/api/v1/compliance/dnc?phone=%2B{SUBJECT[1:]}",
                              headers=h)).json()
    assert (check["on_list"], check["reason"]) == (True, "asked")
    other = (await client.get(f"/api/v1/compliance/dnc?phone={BYSTANDER}",
                              headers=world.other_headers())).json()
    assert other["on_list"] is False  # another tenant's list
    listed = (await client.get("/api/v1/compliance/dnc?page=1&limit=25", headers=h)).json()
    assert [e["phone"] for e in listed["items"]] == [SUBJECT] and listed["total"] == 1
    assert_v1_error(await client.delete(f"/api/v1/compliance/dnc?phone={SUBJECT}", headers=h),
                    403)  # removing needs an admin
    assert (await client.delete(f"/api/v1/compliance/dnc?phone=%2B{SUBJECT[1:]}",
                                headers=world.headers())).status_code == 204
    assert_v1_error(await client.delete(f"/api/v1/compliance/dnc?phone=%2B{SUBJECT[1:]}",
                                        headers=world.headers()), 404)


async def test_dnc_bulk_import_reports_bad_rows(client: httpx.AsyncClient, world: World) -> None:
    body = b"phone,reason\n+15550000001,litigator\n15550000002,\nnot-a-number,x\n+15550000001,\n"
    r = await client.post("/api/v1/compliance/dnc/import",
                          headers={**world.headers(), "Content-Type": "text/csv"}, content=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"added": 2, "existing": 1, "errors": [
        {"row": 4, "field": "phone", "message": "Invalid E.164 format"}]}
    bare = await client.post("/api/v1/compliance/dnc/import",
                             headers={**world.headers(), "Content-Type": "text/csv"},
                             content=b"+15550000003\n+15550000004\n")
    assert bare.json()["added"] == 2


async def _subject_data(
    sessionmaker: async_sessionmaker[AsyncSession], tenant: Tenant, storage: Path
) -> dict[str, str]:
    """A call with a recording file and a transcript, a voicemail, texts, consent, contact."""
    storage.mkdir(parents=True, exist_ok=True)
    (storage / "calls").mkdir(exist_ok=True)
    audio = storage / "calls" / "subject.wav"
    audio.write_bytes(b"RIFF" + b"\0" * 100)
    vm_audio = storage / "calls" / "subject-vm.wav"
    vm_audio.write_bytes(b"RIFF" + b"\1" * 100)
    async with sessionmaker() as s:
        call = CallLog(call_sid=ids.call_sid(), tenant_id=tenant.id, direction="INBOUND",
                       status="ANSWERED_BY_STAFF", from_number=SUBJECT, to_number="+15125550123",
                       started_at=utcnow(), has_recording=True)
        bystander = CallLog(call_sid=ids.call_sid(), tenant_id=tenant.id, direction="INBOUND",
                            status="MISSED", from_number=BYSTANDER, to_number="+15125550123",
                            started_at=utcnow())
        s.add_all([call, bystander])
        rec = Recording(recording_sid=ids.recording_sid(), tenant_id=tenant.id,
                        call_sid=call.call_sid, path="calls/subject.wav", source="call")
        vm_rec = Recording(recording_sid=ids.recording_sid(), tenant_id=tenant.id,
                           call_sid=None, path="calls/subject-vm.wav", source="voicemail")
        s.add_all([rec, vm_rec])
        await s.flush()
        s.add(Transcript(tenant_id=tenant.id, recording_id=rec.id, call_sid=call.call_sid,
                         model="tiny.en", text="my kumquat order number is twelve"))
        s.add(Voicemail(tenant_id=tenant.id, from_number=SUBJECT, to_number="+15125550123",
                        recording_id=vm_rec.id))
        s.add(Message(message_sid=ids.new_sid("SM"), tenant_id=tenant.id, direction="inbound",
                      from_number=SUBJECT, to_number="+15125550123", body="kumquat?",
                      status="received", media_urls=[]))
        s.add(SmsConsent(tenant_id=tenant.id, phone=SUBJECT, source="keyword", opted_out=True,
                         opt_out_keyword="STOP"))
        s.add(DncEntry(tenant_id=tenant.id, phone=SUBJECT, reason="asked"))
        s.add(Contact(tenant_id=tenant.id, name="Jane Roe", phone=SUBJECT, tags=[]))
        await s.commit()
        return {"call_sid": call.call_sid, "recording_sid": rec.recording_sid,
                "bystander": bystander.call_sid}


async def test_gdpr_export_is_one_archive_with_rows_recordings_and_transcripts(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
    api_settings: Settings,
) -> None:
    made = await _subject_data(sessionmaker, world.tenant, api_settings.resolved_storage_root)
    assert_v1_error(await client.post("/api/v1/compliance/gdpr/export",
                                      headers=world.headers("agent"),
                                      json={"phone_number": SUBJECT}), 403)
    assert_v1_error(await client.post("/api/v1/compliance/gdpr/export", headers=world.headers(),
                                      json={}), 400)
    r = await client.post("/api/v1/compliance/gdpr/export", headers=world.headers(),
                          json={"phone_number": SUBJECT})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(archive.namelist())
    assert f"recordings/{made['recording_sid']}.wav" in names
    assert archive.read(f"transcripts/{made['recording_sid']}.txt") == (
        b"my kumquat order number is twelve")
    document = json.loads(archive.read("subject.json"))
    assert [c["call_sid"] for c in document["calls"]] == [made["call_sid"]]
    assert len(document["voicemails"]) == 1 and len(document["messages"]) == 1
    assert document["consents"][0]["opt_out_keyword"] == "STOP"
    assert len([n for n in names if n.startswith("recordings/")]) == 2
    # by contact, too
    contact_id = document["contacts"][0]["id"]
    again = await client.post("/api/v1/compliance/gdpr/export", headers=world.headers(),
                              json={"contact_id": contact_id})
    assert again.status_code == 200
    audit = (await client.get("/api/v1/audit?action=gdpr.export",
                              headers=world.headers())).json()["items"]
    assert len(audit) == 2 and SUBJECT not in json.dumps(audit)


async def test_gdpr_erase_leaves_no_file_row_or_search_hit_and_keeps_the_suppression(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
    api_settings: Settings,
) -> None:
    made = await _subject_data(sessionmaker, world.tenant, api_settings.resolved_storage_root)
    h = world.headers()
    hits = (await client.get("/api/v1/transcripts/search?q=kumquat", headers=h)).json()
    assert hits["total"] == 1
    r = await client.post("/api/v1/compliance/gdpr/delete", headers=h,
                          json={"phone_number": SUBJECT})
    assert r.status_code == 200, r.text
    erased = r.json()["erased"]
    assert erased["calls"] == 1 and erased["recordings"] == 2 and erased["transcripts"] == 1
    storage = api_settings.resolved_storage_root
    assert sorted(p.name for p in storage.rglob("*") if p.is_file()) == []
    assert (await client.get("/api/v1/transcripts/search?q=kumquat",
                             headers=h)).json()["total"] == 0
    # no row anywhere holds the number (every text column of every table)
    async with sessionmaker() as s:
        dialect = s.bind.dialect.name
        tables = ("call_logs", "call_legs", "recordings", "voicemails", "transcripts", "messages",
                  "sms_consents", "dnc_entries", "contacts", "review_requests",
                  "webhook_deliveries", "audit_log")
        for table in tables:
            if dialect == "postgresql":  # the whole row as text
                where = "CAST(t AS TEXT) LIKE :n"
            else:
                columns = [r[1] for r in (await s.execute(text(f"PRAGMA table_info({table})")))]
                where = " OR ".join(f"CAST({c} AS TEXT) LIKE :n" for c in columns)
            found = await s.scalar(text(f"SELECT count(*) FROM {table} AS t WHERE {where}"),
                                   {"n": f"%{SUBJECT[1:]}%"})
            assert found == 0, table
        # the bystander's call is untouched
        assert await s.scalar(select(func.count()).select_from(CallLog)) == 1
    # still suppressed: no call, no text, without any row holding the number
    check = (await client.get(f"/api/v1/compliance/dnc?phone=%2B{SUBJECT[1:]}",
                              headers=h)).json()
    assert check["on_list"] is True
    audit = (await client.get("/api/v1/audit?action=gdpr.*", headers=h)).json()["items"]
    assert [a["action"] for a in audit] == ["gdpr.erase"]
    assert audit[0]["details"]["counts"]["calls"] == 1
    assert made["bystander"]


async def test_audit_log_is_for_admins_only(client: httpx.AsyncClient, world: World) -> None:
    assert_v1_error(await client.get("/api/v1/audit", headers=world.headers("agent")), 403)
    await client.put("/api/v1/compliance/retention", headers=world.headers(),
                     json={"messages_days": 30})
    entries = (await client.get("/api/v1/audit", headers=world.headers())).json()["items"]
    assert entries[0]["action"] == "retention.update"
    assert entries[0]["actor_user_id"] == world.actor("admin").user.id
    assert (await client.get("/api/v1/audit", headers=world.other_headers())).json()["total"] == 0


async def test_retention_deletes_what_is_older_than_each_kind_keeps(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
    api_settings: Settings,
) -> None:
    r = await client.put("/api/v1/compliance/retention", headers=world.headers(), json={
        "recordings_days": 30, "voicemails_days": 60, "messages_days": 7})
    assert r.status_code == 200
    assert (await client.get("/api/v1/compliance/retention", headers=world.headers())).json() == {
        "recordings_days": 30, "voicemails_days": 60, "transcripts_days": None,
        "messages_days": 7}
    await _subject_data(sessionmaker, world.tenant, api_settings.resolved_storage_root)
    storage = api_settings.resolved_storage_root
    async with sessionmaker() as s:
        counts = await apply_retention(s, storage_root=storage,
                                       now=utcnow() + timedelta(days=10))
        await s.commit()
    assert counts == {"recordings": 0, "voicemails": 0, "transcripts": 0, "messages": 1}
    async with sessionmaker() as s:
        counts = await apply_retention(s, storage_root=storage,
                                       now=utcnow() + timedelta(days=45))
        await s.commit()
    assert counts["recordings"] == 1 and counts["voicemails"] == 0
    assert sorted(p.name for p in storage.rglob("*.wav")) == ["subject-vm.wav"]
    async with sessionmaker() as s:
        counts = await apply_retention(s, storage_root=storage,
                                       now=utcnow() + timedelta(days=61))
        await s.commit()
        assert await s.scalar(select(func.count()).select_from(Transcript)) == 0
    assert counts["voicemails"] == 1 and list(storage.rglob("*.wav")) == []


async def test_changes_to_keys_users_numbers_and_rules_are_audited_without_bodies(
    client: httpx.AsyncClient, world: World
) -> None:
    h = world.headers()
    created = await client.post("/api/v1/api-keys", headers=h,
                                json={"name": "ci", "role": "agent"})
    assert created.status_code == 201, created.text
    key_id = created.json()["id"]
    assert (await client.delete(f"/api/v1/api-keys/{key_id}", headers=h)).status_code in (200,
                                                                                          204)
    assert (await client.post("/api/v1/numbers/search", headers=h, json={
        "country": "US", "number_type": "local"})).status_code == 200
    failed = await client.delete("/api/v1/numbers/no-such-number", headers=h)
    assert failed.status_code == 404
    entries = (await client.get("/api/v1/audit", headers=h)).json()["items"]
    actions = [(e["action"], e["target_id"]) for e in entries]
    assert actions[:2] == [("api_key.revoke_key", key_id), ("api_key.create_key", None)]
    assert not any(a.startswith("number.") for a, _ in actions)  # a search and a 404 change nothing
    assert entries[0]["actor_key_id"] == world.actor("admin").key_id
    assert "ci" not in str(entries)
