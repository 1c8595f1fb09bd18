"""Voicemails: status changes, unread count, delete removes the file; /api/v1 routes."""

from __future__ import annotations

import pytest
import sb_resource_helpers as h

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
