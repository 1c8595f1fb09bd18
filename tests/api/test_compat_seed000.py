"""Seed 000 dashboard routes, asserted field by field against the seed.

``/api/phone-numbers`` (list, ``search=1`` with country/type/areaCode/contains,
provision, ``DELETE ?id=`` soft-disables), ``/api/call-forwarding`` (CRUD with
``?id=``), ``/api/call-logs`` (direction/status/from/to/limit, rows with
``recordingPlaybackUrl``), ``/api/voicemails`` (transcription,
``recordingPlaybackUrl``, PATCH read/unread, ``DELETE ?id=``). Errors are
``{"error": message}`` with the seed's statuses (400 for invalid input).
"""

from __future__ import annotations

import sb_resource_helpers as h

from switchboard import ids
from switchboard.models import PhoneNumber, Recording

NUMBER_FIELDS = ["id", "phoneNumber", "friendlyName", "sid", "voiceUrl", "statusCallback",
                 "recordCalls", "voicemailEnabled", "smsEnabled", "enabled", "releasedAt",
                 "createdAt"]
RULE_FIELDS = ["id", "phoneNumberId", "name", "priority", "enabled", "strategy", "targets",
               "ringTimeout", "condition", "schedule", "createdAt", "updatedAt"]
VOICEMAIL_FIELDS = ["id", "callSid", "phoneNumberId", "from", "to", "duration", "status", "read",
                    "transcription", "recordingPlaybackUrl", "createdAt"]


async def test_phone_numbers_search_provision_list_release(client, world, sessionmaker):
    await h.stock(sessionmaker, world.tenant, "+15125550101", "+15125550102", "+12125550100")
    admin = world.headers("admin")
    r = await client.get("/api/phone-numbers", headers=admin, params={
        "search": "1", "country": "US", "type": "local", "areaCode": "512", "contains": "0102"})
    assert r.status_code == 200, r.text
    assert r.json() == {"numbers": [{
        "number": "+15125550102", "friendlyName": "(512) 555-0102", "locality": None,
        "region": None, "country": "US", "type": "local"}]}

    r = await client.post("/api/phone-numbers", headers=admin,
                          json={"phoneNumber": "+15125550102", "friendlyName": "Front desk",
                                "voiceUrl": "https://crm.example.com/voice"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["ok"] is True
    row = created["phoneNumber"]
    assert list(row) == NUMBER_FIELDS
    assert row["phoneNumber"] == "+15125550102" and row["friendlyName"] == "Front desk"
    assert row["voiceUrl"] == "https://crm.example.com/voice" and row["enabled"] is True

    r = await client.get("/api/phone-numbers", headers=world.headers("read-only"))
    assert [n["id"] for n in r.json()["phoneNumbers"]] == [row["id"]]

    r = await client.delete(f"/api/phone-numbers?id={row['id']}", headers=admin)
    assert r.status_code == 200
    released = r.json()["phoneNumber"]
    assert released["enabled"] is False and released["releasedAt"] is not None
    assert (await client.get("/api/phone-numbers", headers=admin)).json() == {"phoneNumbers": []}
    async with sessionmaker() as s:  # soft-disabled: the row is kept
        kept = await s.get(PhoneNumber, row["id"])
        assert kept is not None and kept.enabled is False and kept.released_at is not None


async def test_phone_number_errors_follow_the_seed(client, world, sessionmaker):
    admin = world.headers("admin")
    r = await client.post("/api/phone-numbers", headers=admin, json={"phoneNumber": "abc"})
    assert h.assert_dashboard_error(r, 400) == "Invalid E.164 format"
    r = await client.post("/api/phone-numbers", headers=admin, json={"number": "+15125550101"})
    h.assert_dashboard_error(r, 400)
    r = await client.get("/api/phone-numbers?search=1&limit=99", headers=admin)
    h.assert_dashboard_error(r, 400)
    h.assert_dashboard_error(await client.get("/api/phone-numbers"), 401)
    r = await client.post("/api/phone-numbers", headers=world.headers("agent"),
                          json={"phoneNumber": "+15125550101"})
    h.assert_dashboard_error(r, 403)
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550101")
    r = await client.delete(f"/api/phone-numbers?id={number_id}", headers=world.other_headers())
    assert h.assert_dashboard_error(r, 404) == "Phone number not found"
    await h.stock(sessionmaker, world.tenant, "+15125550102", "+15125550103", "+15125550104",
                  name="more")
    for e164 in ("+15125550102", "+15125550103"):
        r = await client.post("/api/phone-numbers", headers=admin, json={"phoneNumber": e164})
        assert r.status_code == 201
    r = await client.post("/api/phone-numbers", headers=admin, json={"phoneNumber": "+15125550104"})
    assert "Plan allows 3" in h.assert_dashboard_error(r, 403)


async def test_call_forwarding_crud_with_id_parameters(client, world, sessionmaker):
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550101")
    agent = world.headers("agent")
    r = await client.post("/api/call-forwarding", headers=agent, json={
        "targets": ["+15551234567"], "ringTimeout": 25, "strategy": "sequential",
        "condition": "always", "name": "Owner"})
    assert r.status_code == 201, r.text
    rule = r.json()["rule"]
    assert list(rule) == RULE_FIELDS
    assert rule["phoneNumberId"] == number_id and rule["ringTimeout"] == 25

    r = await client.put(f"/api/call-forwarding?id={rule['id']}", headers=agent,
                         json={"enabled": False, "schedule": [
                             {"days": ["sat", "sun"], "start": "10:00", "end": "14:00"}]})
    assert r.status_code == 200, r.text
    assert r.json()["rule"]["enabled"] is False
    assert r.json()["rule"]["schedule"][0]["days"] == ["sat", "sun"]
    r = await client.put("/api/call-forwarding", headers=agent,
                         json={"id": rule["id"], "ringTimeout": 60})
    assert r.json()["rule"]["ringTimeout"] == 60

    r = await client.get("/api/call-forwarding", headers=world.headers("read-only"))
    assert [x["id"] for x in r.json()["rules"]] == [rule["id"]]
    r = await client.delete(f"/api/call-forwarding?id={rule['id']}", headers=agent)
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert (await client.get("/api/call-forwarding", headers=agent)).json() == {"rules": []}


async def test_call_forwarding_errors(client, world, sessionmaker):
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550101")
    agent = world.headers("agent")
    r = await client.post("/api/call-forwarding", headers=agent,
                          json={"phoneNumberId": number_id, "targets": ["12"]})
    assert "neither an E.164" in h.assert_dashboard_error(r, 400)
    r = await client.post("/api/call-forwarding", headers=agent,
                          json={"phoneNumberId": number_id, "targets": ["+15551234567"],
                                "ringTimeout": 500})
    h.assert_dashboard_error(r, 400)
    r = await client.put("/api/call-forwarding", headers=agent, json={"enabled": True})
    assert h.assert_dashboard_error(r, 400) == "id is required"
    h.assert_dashboard_error(await client.get("/api/call-forwarding"), 401)
    r = await client.post("/api/call-forwarding", headers=world.headers("read-only"),
                          json={"phoneNumberId": number_id, "targets": ["+15551234567"]})
    h.assert_dashboard_error(r, 403)
    r = await client.post("/api/call-forwarding", headers=world.other_headers(),
                          json={"phoneNumberId": number_id, "targets": ["+15551234567"]})
    h.assert_dashboard_error(r, 404)
    r = await client.post("/api/call-forwarding", headers=agent,
                          json={"phoneNumberId": number_id, "targets": ["+15551234567"]})
    rule_id = r.json()["rule"]["id"]
    r = await client.delete(f"/api/call-forwarding?id={rule_id}", headers=world.other_headers())
    assert h.assert_dashboard_error(r, 404) == "Rule not found"


async def test_call_logs_rows_and_filters(client, world, sessionmaker):
    async with sessionmaker() as s:
        staff = world.actor("agent").user
        older = await h.call_log(s, world.tenant, minutes_ago=5, status="MISSED")
        newer = await h.call_log(s, world.tenant, minutes_ago=1, direction="OUTBOUND",
                                 status="ANSWERED_BY_STAFF", has_recording=True,
                                 staff_id=staff.id, to_number="+15550009999")
    reader = world.headers("read-only")
    r = await client.get("/api/call-logs", headers=reader)
    assert r.status_code == 200
    rows = r.json()["callLogs"]
    assert [x["id"] for x in rows] == [newer.id, older.id]
    row = rows[0]
    assert list(row) == ["id", "staffId", "clientId", "from", "to", "direction", "status",
                         "price", "provider", "sourceId", "externalId", "businessId",
                         "createdAt", "updatedAt", "callSid", "callStatus", "duration",
                         "startedAt", "answeredAt", "endedAt", "hasRecording", "hasVoicemail",
                         "recordingPlaybackUrl"]
    assert row["recordingPlaybackUrl"] == f"/api/voice/recording?callLogId={newer.id}"
    assert rows[1]["recordingPlaybackUrl"] is None
    assert row["staffId"] == staff.id and row["businessId"] == world.tenant.id
    assert row["direction"] == "OUTBOUND" and row["status"] == "ANSWERED_BY_STAFF"

    async def ids(**params):
        r = await client.get("/api/call-logs", headers=reader, params=params)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["callLogs"]]

    assert await ids(direction="inbound") == [older.id]
    assert await ids(status="MISSED") == [older.id]
    assert await ids(to="+15550009999") == [newer.id]
    assert await ids(**{"from": "+15550001111"}) == [newer.id, older.id]
    assert await ids(limit=1) == [newer.id]
    h.assert_dashboard_error(await client.get("/api/call-logs?status=weird", headers=reader), 400)
    h.assert_dashboard_error(await client.get("/api/call-logs?limit=0", headers=reader), 400)
    h.assert_dashboard_error(await client.get("/api/call-logs"), 401)
    r = await client.get("/api/call-logs", headers=world.other_headers())
    assert r.json() == {"callLogs": []}


async def test_voicemails_list_mark_and_delete(client, world, sessionmaker, api_settings):
    root = api_settings.resolved_storage_root
    (root / "vm").mkdir(parents=True)
    (root / "vm" / "m.wav").write_bytes(b"RIFF")
    async with sessionmaker() as s:
        vm = await h.voicemail(s, world.tenant, path="vm/m.wav", transcription="hello there")
    r = await client.get("/api/voicemails", headers=world.headers("read-only"))
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["voicemails", "unreadCount"] and body["unreadCount"] == 1
    row = body["voicemails"][0]
    assert list(row) == VOICEMAIL_FIELDS
    assert row["transcription"] == "hello there" and row["read"] is False
    assert row["recordingPlaybackUrl"] == f"/api/voice/recording?voicemailId={vm.id}"

    agent = world.headers("agent")
    r = await client.patch("/api/voicemails", headers=agent, json={"id": vm.id, "read": True})
    assert r.status_code == 200 and r.json()["voicemail"]["read"] is True
    assert (await client.get("/api/voicemails", headers=agent)).json()["unreadCount"] == 0
    r = await client.patch(f"/api/voicemails?id={vm.id}", headers=agent, json={"read": False})
    assert r.json()["voicemail"]["status"] == "new"

    h.assert_dashboard_error(await client.patch("/api/voicemails", headers=agent,
                                                json={"read": True}), 400)
    h.assert_dashboard_error(await client.patch("/api/voicemails", headers=agent,
                                                json={"id": vm.id}), 400)
    h.assert_dashboard_error(await client.get("/api/voicemails"), 401)
    r = await client.delete(f"/api/voicemails?id={vm.id}", headers=world.headers("read-only"))
    h.assert_dashboard_error(r, 403)
    r = await client.delete(f"/api/voicemails?id={vm.id}", headers=world.other_headers())
    assert h.assert_dashboard_error(r, 404) == "Voicemail not found"
    r = await client.delete(f"/api/voicemails?id={vm.id}", headers=agent)
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert not (root / "vm" / "m.wav").exists()


async def test_recording_playback_urls_play_with_auth_only(client, world, sessionmaker,
                                                           api_settings):
    root = api_settings.resolved_storage_root
    (root / "rec").mkdir(parents=True)
    (root / "rec" / "call.wav").write_bytes(b"RIFF-call-audio")
    (root / "rec" / "vm.wav").write_bytes(b"RIFF-voicemail-audio")
    async with sessionmaker() as s:
        log = await h.call_log(s, world.tenant, has_recording=True)
        s.add(Recording(recording_sid=ids.recording_sid(), tenant_id=world.tenant.id,
                        call_sid=log.call_sid, path="rec/call.wav", source="DialVerb"))
        await s.commit()
        vm = await h.voicemail(s, world.tenant, path="rec/vm.wav")
        bare = await h.call_log(s, world.tenant)
    reader = world.headers("read-only")
    logs = (await client.get("/api/call-logs", headers=reader)).json()["callLogs"]
    url = next(x["recordingPlaybackUrl"] for x in logs if x["id"] == log.id)
    r = await client.get(url, headers=reader)
    assert r.status_code == 200 and r.content == b"RIFF-call-audio"
    assert r.headers["content-type"] == "audio/wav"
    r = await client.get(url, headers={**reader, "Range": "bytes=0-3"})
    assert r.status_code == 206 and r.content == b"RIFF"
    vms = (await client.get("/api/voicemails", headers=reader)).json()["voicemails"]
    r = await client.get(vms[0]["recordingPlaybackUrl"], headers=reader)
    assert r.status_code == 200 and r.content == b"RIFF-voicemail-audio"

    h.assert_dashboard_error(await client.get(url), 401)
    h.assert_dashboard_error(await client.get(url, headers=world.other_headers()), 404)
    r = await client.get(f"/api/voice/recording?callLogId={bare.id}", headers=reader)
    assert h.assert_dashboard_error(r, 404) == "This call has no recording"
    r = await client.get("/api/voice/recording", headers=reader)
    h.assert_dashboard_error(r, 400)
    r = await client.get(f"/api/voice/recording?callLogId={log.id}&voicemailId={vm.id}",
                         headers=reader)
    h.assert_dashboard_error(r, 400)
    (root / "rec" / "vm.wav").unlink()
    r = await client.get(f"/api/voice/recording?voicemailId={vm.id}", headers=reader)
    assert h.assert_dashboard_error(r, 404) == "Recording file is missing"
