"""A provider's recording is fetched once, through the fetch policy, and served from storage.

Issue 14.5: the playback proxy fetched whatever ``RecordingUrl`` a signed
callback had stored (a tenant read ``http://127.0.0.1:.../secret`` through
``GET /api/voice/recording``). Now the callback fetches the audio once,
through the policy, and playback serves only stored files. The attacker's
view: a tenant with valid credentials and a valid signature aims the
callback, or a row already holding a URL, at a loopback service.
"""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
import sb_resource_helpers as h
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard import ids
from switchboard.config import Settings
from switchboard.models import CallLog, Recording, TranscriptionJob, Trunk, Voicemail, utcnow
from tests.api.conftest import World, make_settings
from tests.api.test_voice_webhooks import (
    AUDIO,
    Provider,
    call_params,
    count,
    number_with_rules,
    post,
    the_log,
)

SECRET = b"root:the-secret-of-the-host"


@pytest.fixture
def secret() -> Provider:
    server = Provider()
    server.serve("/secret", SECRET)
    yield server  # type: ignore[misc]
    server.close()


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """Production's policy: nothing on loopback or private networks is reachable."""
    return make_settings(tmp_path, webhook_validation=True, fetch_allow=[])


async def _a_call(client: httpx.AsyncClient, world: World,
                  sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    await number_with_rules(sessionmaker, world.tenant)
    sid = ids.call_sid()
    r = await post(client, world.tenant, "/api/voice/incoming", call_params(world.tenant, sid))
    assert r.status_code == 200, r.text
    return sid


@pytest.mark.parametrize("spelling", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]",
                                      "2130706433"])
async def test_a_recording_url_aimed_at_the_host_is_never_fetched(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
    secret: Provider, spelling: str,
) -> None:
    sid = await _a_call(client, world, sessionmaker)
    port = secret.base.rsplit(":", 1)[1]
    rec_sid = ids.recording_sid()
    params = {"AccountSid": world.tenant.account_sid, "CallSid": sid, "RecordingSid": rec_sid,
              "RecordingUrl": f"http://{spelling}:{port}/secret",
              "RecordingStatus": "completed", "RecordingDuration": "3"}
    r = await post(client, world.tenant, "/api/voice/recording?type=voicemail", params)
    assert r.status_code == 200, r.text  # told once; repeating cannot change the answer
    assert secret.hits == []
    log = await the_log(sessionmaker, sid)
    assert log.recording_error is not None and "fetch policy" in log.recording_error
    async with sessionmaker() as s:
        row = (await s.execute(select(Recording).where(Recording.recording_sid == rec_sid))
               ).scalar_one()
        message = (await s.execute(select(Voicemail).where(Voicemail.call_sid == sid))
                   ).scalar_one()
    assert row.status == "failed" and row.path == ""
    assert await count(sessionmaker, TranscriptionJob) == 0
    for query in (f"voicemailId={message.id}", f"callLogId={log.id}"):
        r = await client.get(f"/api/voice/recording?{query}", headers=world.headers())
        h.assert_dashboard_error(r, 404)
        assert SECRET not in r.content
    r = await client.get(f"/api/v1/recordings/{rec_sid}", headers=world.headers())
    assert r.status_code == 404 and SECRET not in r.content
    assert secret.hits == []


async def test_playback_never_fetches_a_url_a_row_already_holds(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
    secret: Provider,
) -> None:
    """Rows written before recordings were fetched hold the URL: it stays unread."""
    call_sid, rec_sid = ids.call_sid(), ids.recording_sid()
    async with sessionmaker() as s:
        row = CallLog(call_sid=call_sid, tenant_id=world.tenant.id, direction="INBOUND",
                      status="ANSWERED_BY_STAFF", started_at=utcnow(), has_recording=True)
        s.add(row)
        s.add(Recording(recording_sid=rec_sid, tenant_id=world.tenant.id, call_sid=call_sid,
                        path=f"{secret.base}/secret", source="DialVerb"))
        await s.commit()
    r = await client.get("/api/voice/recording", params={"callLogId": row.id},
                         headers=world.headers() | {"Range": "bytes=0-9"})
    h.assert_dashboard_error(r, 404)
    r = await client.get(f"/api/v1/recordings/{rec_sid}", headers=world.headers())
    assert r.status_code == 404
    assert secret.hits == [] and SECRET not in r.content


async def test_a_providers_recording_is_fetched_once_with_the_trunks_credentials(
    tmp_path: Path, world: World, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The provider's API is on loopback here, so the operator allow-lists it."""
    from switchboard.api.app import create_app

    account, token = "AC" + "3" * 32, "provider-token-3"
    provider = Provider(credentials="Basic " + base64.b64encode(
        f"{account}:{token}".encode()).decode())
    settings = make_settings(tmp_path, webhook_validation=True,
                             fetch_allow=["127.0.0.1/32"])
    app = create_app(settings, sessionmaker=sessionmaker)
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            async with sessionmaker() as s:
                s.add(Trunk(tenant_id=world.tenant.id, name="carrier-3", integration="twilio",
                            account_sid=account, auth_token=token))
                await s.commit()
            sid = await _a_call(client, world, sessionmaker)
            rec_sid = ids.recording_sid()
            url = provider.serve(f"/2010-04-01/Accounts/{account}/Recordings/{rec_sid}")
            params = {"AccountSid": world.tenant.account_sid, "CallSid": sid,
                      "RecordingSid": rec_sid, "RecordingUrl": url,
                      "RecordingStatus": "completed", "RecordingDuration": "1",
                      "RecordingSource": "DialVerb"}
            for _ in range(3):
                r = await post(client, world.tenant, "/api/voice/recording", params)
                assert r.status_code == 200, r.text
            assert len(provider.hits) == 1
            provider.close()  # the provider forgets it: playback does not need it
            log = await the_log(sessionmaker, sid)
            assert log.has_recording and log.recording_error is None
            r = await client.get("/api/voice/recording", params={"callLogId": log.id},
                                 headers=world.headers() | {"Range": "bytes=0-9"})
            assert r.status_code == 206 and r.content == AUDIO[:10]
            r = await client.get("/api/voice/recording", params={"callLogId": log.id},
                                 headers=world.headers())
            assert r.content == AUDIO and r.headers["content-type"] == "audio/wav"
            assert str(provider.base) not in r.text
            r = await client.get("/api/voice/recording", params={"callLogId": log.id},
                                 headers=world.other_headers())
            h.assert_dashboard_error(r, 404)
            assert await count(sessionmaker, TranscriptionJob) == 1
    finally:
        provider.close()


async def test_a_provider_that_is_down_gets_the_callback_again_and_nothing_is_half_stored(
    tmp_path: Path, world: World, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    from switchboard.api.app import create_app

    provider = Provider()
    settings = make_settings(tmp_path, webhook_validation=True, fetch_allow=["127.0.0.1/32"])
    app = create_app(settings, sessionmaker=sessionmaker)
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            sid = await _a_call(client, world, sessionmaker)
            rec_sid = ids.recording_sid()
            params = {"AccountSid": world.tenant.account_sid, "CallSid": sid,
                      "RecordingSid": rec_sid, "RecordingUrl": provider.serve("/r"),
                      "RecordingStatus": "completed"}
            provider.status = 503
            r = await post(client, world.tenant, "/api/voice/recording?type=voicemail", params)
            h.assert_dashboard_error(r, 502)
            assert await count(sessionmaker, Recording) == 0
            assert await count(sessionmaker, Voicemail) == 0
            provider.status = None
            r = await post(client, world.tenant, "/api/voice/recording?type=voicemail", params)
            assert r.status_code == 200, r.text
            assert await count(sessionmaker, Voicemail) == 1
            assert (await the_log(sessionmaker, sid)).status == "VOICEMAIL_RECEIVED"
    finally:
        provider.close()


async def test_what_is_not_audio_is_not_kept(
    tmp_path: Path, world: World, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    from switchboard.api.app import create_app

    provider = Provider()
    settings = make_settings(tmp_path, webhook_validation=True, fetch_allow=["127.0.0.1/32"],
                             recording_fetch_max_bytes=4096)
    app = create_app(settings, sessionmaker=sessionmaker)
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            sid = await _a_call(client, world, sessionmaker)
            huge = provider.serve("/huge", AUDIO * 10)
            r = await post(client, world.tenant, "/api/voice/recording", {
                "AccountSid": world.tenant.account_sid, "CallSid": sid,
                "RecordingSid": ids.recording_sid(), "RecordingUrl": huge})
            assert r.status_code == 200
            log = await the_log(sessionmaker, sid)
            assert "larger than 4096 bytes" in (log.recording_error or "")
            assert not any((settings.resolved_storage_root / "recordings").rglob("*.wav"))
    finally:
        provider.close()
