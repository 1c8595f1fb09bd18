"""Voicemails: status changes, unread count, delete removes the file; /api/v1 routes."""

from __future__ import annotations

import pytest
import sb_resource_helpers as h
from sb_resource_helpers import assert_v1_error

from switchboard.services import voicemails
from switchboard.services.exceptions import BadRequest, NotFound

# ---------------------------------------------------------------- service


async def test_status_changes_and_unread_count(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        a = await h.voicemail(s, t)
        await h.voicemail(s, t)
        await h.voicemail(s, t, status="archived")
        listed = await voicemails.list_voicemails(s, t.id)
        assert listed.page.total == 3 and listed.unread_count == 2
        await voicemails.set_status(s, t.id, a.id, "read")
        assert await voicemails.unread_count(s, t.id) == 1
        only = await voicemails.list_voicemails(s, t.id, status="read")
        assert [v.id for v in only.page.items] == [a.id]
        with pytest.raises(BadRequest):
            await voicemails.set_status(s, t.id, a.id, "deleted")
        with pytest.raises(BadRequest):
            await voicemails.list_voicemails(s, t.id, status="old")


async def test_delete_removes_row_recording_and_file(sessionmaker, tmp_path):
    async with sessionmaker() as s:
        t, other = await h.tenant(s), await h.tenant(s, "Other")
        audio = tmp_path / "vm" / "msg.wav"
        audio.parent.mkdir()
        audio.write_bytes(b"RIFF....WAVE")
        vm = await h.voicemail(s, t, path="vm/msg.wav")
        with pytest.raises(NotFound):
            await voicemails.delete_voicemail(s, other.id, vm.id, storage_root=tmp_path)
        assert audio.exists()
        await voicemails.delete_voicemail(s, t.id, vm.id, storage_root=tmp_path)
        await s.commit()
        assert not audio.exists()
        with pytest.raises(NotFound):
            await voicemails.get_voicemail(s, t.id, vm.id)


async def test_delete_never_touches_files_outside_the_storage_root(sessionmaker, tmp_path):
    outside = tmp_path / "precious.wav"
    outside.write_bytes(b"x")
    root = tmp_path / "root"
    root.mkdir()
    async with sessionmaker() as s:
        t = await h.tenant(s)
        vm = await h.voicemail(s, t, path="../precious.wav")
        await voicemails.delete_voicemail(s, t.id, vm.id, storage_root=root)
        await s.commit()
    assert outside.exists()


# ---------------------------------------------------------------- /api/v1/voicemails


async def test_voicemail_routes(client, world, sessionmaker, api_settings):
    root = api_settings.resolved_storage_root
    (root / "vm").mkdir(parents=True)
    (root / "vm" / "a.wav").write_bytes(b"RIFF")
    async with sessionmaker() as s:
        a = await h.voicemail(s, world.tenant, path="vm/a.wav", transcription="call me back")
        b = await h.voicemail(s, world.tenant)
    reader, agent = world.headers("read-only"), world.headers("agent")
    r = await client.get("/api/v1/voicemails", headers=reader)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2 and body["unread_count"] == 2
    one = next(x for x in body["items"] if x["id"] == a.id)
    assert one["transcription"] == "call me back"
    assert one["recording_playback_url"] == f"/api/voice/recording?voicemailId={a.id}"

    r = await client.patch(f"/api/v1/voicemails/{a.id}", headers=agent, json={"read": True})
    assert r.status_code == 200 and r.json()["status"] == "read"
    r = await client.get("/api/v1/voicemails?status=new", headers=reader)
    assert [x["id"] for x in r.json()["items"]] == [b.id] and r.json()["unread_count"] == 1
    r = await client.patch(f"/api/v1/voicemails/{a.id}", headers=agent, json={"read": False})
    assert r.json()["status"] == "new"
    r = await client.post(f"/api/v1/voicemails/{b.id}/archive", headers=agent)
    assert r.json()["status"] == "archived"
    r = await client.get(f"/api/v1/voicemails/{b.id}", headers=reader)
    assert r.json()["status"] == "archived"

    r = await client.delete(f"/api/v1/voicemails/{a.id}", headers=agent)
    assert r.status_code == 204
    assert not (root / "vm" / "a.wav").exists()
    assert_v1_error(await client.get(f"/api/v1/voicemails/{a.id}", headers=reader), 404)


async def test_voicemail_route_errors(client, world, sessionmaker):
    async with sessionmaker() as s:
        vm = await h.voicemail(s, world.tenant)
    agent, reader = world.headers("agent"), world.headers("read-only")
    path = f"/api/v1/voicemails/{vm.id}"
    assert_v1_error(await client.get("/api/v1/voicemails?status=old", headers=reader), 422)
    assert_v1_error(await client.patch(path, headers=agent, json={}), 422)
    assert_v1_error(await client.patch(path, headers=agent, json={"status": "gone"}), 422)
    assert_v1_error(await client.get(path), 401)
    assert_v1_error(await client.patch(path, headers=reader, json={"read": True}), 403)
    assert_v1_error(await client.delete(path, headers=reader), 403)
    other = world.other_headers()
    assert_v1_error(await client.get(path, headers=other), 404)
    assert_v1_error(await client.patch(path, headers=other, json={"read": True}), 404)
    assert_v1_error(await client.delete(path, headers=other), 404)
    assert_v1_error(await client.post(f"{path}/archive", headers=other), 404)
