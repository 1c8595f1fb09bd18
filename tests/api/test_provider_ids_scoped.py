"""Provider ids (CallSid, RecordingSid) are looked up in the caller's tenant only (issue 14.7).

Tenant B signs its callbacks with its own auth token, correctly, but names a
call of tenant A. Nothing of A may change and nothing of B may attach to A's
call: every such callback answers 404, and A's call, recordings, voicemails and
usage stay as they were.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import sb_resource_helpers as h
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard import ids
from switchboard.config import Settings
from switchboard.models import CallLog, Recording, Tenant, Voicemail
from tests.api.conftest import World, make_settings
from tests.api.test_voice_webhooks import call_params, count, number_with_rules, post


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, webhook_validation=True)


async def _a_call_of_a(client: httpx.AsyncClient, world: World,
                       sessionmaker: async_sessionmaker[AsyncSession]) -> CallLog:
    await number_with_rules(sessionmaker, world.tenant)
    sid = ids.call_sid()
    r = await post(client, world.tenant, "/api/voice/incoming", call_params(world.tenant, sid))
    assert r.status_code == 200, r.text
    async with sessionmaker() as s:
        return (await s.execute(select(CallLog).where(CallLog.call_sid == sid))).scalar_one()


def _as_b(b: Tenant, call_sid: str, **extra: str) -> dict[str, str]:
    """B's own signed parameters (its AccountSid, no number of A) naming A's call."""
    return {"AccountSid": b.account_sid, "CallSid": call_sid, **extra}


async def _unchanged(sessionmaker: async_sessionmaker[AsyncSession], before: CallLog) -> None:
    async with sessionmaker() as s:
        after = await s.get(CallLog, before.id)
    assert after is not None
    assert (after.tenant_id, after.status, after.call_status, after.has_recording,
            after.has_voicemail, after.duration, after.ended_at) == (
        before.tenant_id, before.status, before.call_status, before.has_recording,
        before.has_voicemail, before.duration, before.ended_at)


@pytest.mark.parametrize("query", ["", "?type=voicemail"])
async def test_recording_callback_naming_another_tenants_call_is_404_and_attaches_nothing(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
    query: str,
) -> None:
    call = await _a_call_of_a(client, world, sessionmaker)
    params = _as_b(world.other, call.call_sid, RecordingSid=ids.recording_sid(),
                   RecordingUrl="https://p.example/r.wav", RecordingStatus="completed",
                   RecordingDuration="7")
    r = await post(client, world.other, f"/api/voice/recording{query}", params)
    h.assert_dashboard_error(r, 404)
    await _unchanged(sessionmaker, call)
    assert await count(sessionmaker, Recording, Recording.call_sid == call.call_sid) == 0
    assert await count(sessionmaker, Voicemail) == 0
    r = await client.get(f"/api/v1/calls/{call.call_sid}/recordings", headers=world.headers())
    assert r.status_code == 200 and r.json() == []


async def test_status_and_dial_callbacks_naming_another_tenants_call_are_404(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    call = await _a_call_of_a(client, world, sessionmaker)
    done = _as_b(world.other, call.call_sid, CallStatus="completed", CallDuration="3600")
    h.assert_dashboard_error(await post(client, world.other, "/api/voice/status", done), 404)
    dial = _as_b(world.other, call.call_sid, DialCallStatus="completed")
    h.assert_dashboard_error(
        await post(client, world.other, "/api/voice/incoming?step=0", dial), 404)
    await _unchanged(sessionmaker, call)
    async with sessionmaker() as s:
        other = await s.get(Tenant, world.other.id)
    assert other is not None and other.voice_seconds_used == 0


async def test_recording_sid_of_another_tenant_is_404_and_left_alone(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    call = await _a_call_of_a(client, world, sessionmaker)
    rec_sid = ids.recording_sid()
    async with sessionmaker() as s:
        s.add(Recording(recording_sid=rec_sid, tenant_id=world.tenant.id, call_sid=call.call_sid,
                        path="recordings/a.wav", source="RecordVerb", status="completed",
                        duration=4.0))
        await s.commit()
    params = _as_b(world.other, ids.call_sid(), RecordingSid=rec_sid, RecordingStatus="failed",
                   RecordingDuration="1", RecordingUrl="https://p.example/x.wav")
    h.assert_dashboard_error(
        await post(client, world.other, "/api/voice/recording?type=voicemail", params), 404)
    async with sessionmaker() as s:
        row = (await s.execute(select(Recording).where(Recording.recording_sid == rec_sid))
               ).scalar_one()
    assert (row.tenant_id, row.status, row.duration, row.call_sid) == (
        world.tenant.id, "completed", 4.0, call.call_sid)
    assert await count(sessionmaker, Voicemail) == 0


async def test_a_call_lists_only_its_own_tenants_recordings(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A row of B that names A's CallSid (however it got there) never shows in A's call."""
    call = await _a_call_of_a(client, world, sessionmaker)
    async with sessionmaker() as s:
        s.add(Recording(recording_sid=ids.recording_sid(), tenant_id=world.other.id,
                        call_sid=call.call_sid, path="recordings/b.wav", source="RecordVerb"))
        await s.commit()
    r = await client.get(f"/api/v1/calls/{call.call_sid}/recordings", headers=world.headers())
    assert r.status_code == 200 and r.json() == []


async def test_unsigned_callbacks_without_a_known_account_touch_no_tenants_call(
    tmp_path: Path, world: World, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """With signature checks off (a development setting) an unknown sender still reaches nothing."""
    from switchboard.api.app import create_app

    app = create_app(make_settings(tmp_path, webhook_validation=False), sessionmaker=sessionmaker)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        call = await _a_call_of_a(client, world, sessionmaker)
        stranger = {"AccountSid": "AC" + "0" * 32, "CallSid": call.call_sid}
        r = await client.post("/api/voice/status",
                              data={**stranger, "CallStatus": "completed", "CallDuration": "9"})
        h.assert_dashboard_error(r, 404)
        r = await client.post("/api/voice/recording?type=voicemail",
                              data={**stranger, "RecordingSid": ids.recording_sid(),
                                    "RecordingUrl": "https://p.example/r.wav"})
        h.assert_dashboard_error(r, 404)
        await _unchanged(sessionmaker, call)
        assert await count(sessionmaker, Recording) == 0
