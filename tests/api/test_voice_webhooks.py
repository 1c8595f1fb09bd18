"""Seed 000 ``/api/voice/*``: the built-in voice app driven as a provider drives it.

Every request is form-encoded and signed as the provider signs it, with a
signer written here from the provider's published algorithm (not ours). The
app runs without a call engine, over SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import threading
import wave
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sb_resource_helpers as h
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard import ids
from switchboard.config import Settings
from switchboard.models import (
    CallLog,
    Endpoint,
    ForwardingRule,
    PhoneNumber,
    Recording,
    Tenant,
    TranscriptionJob,
    Voicemail,
    utcnow,
)
from tests.api.conftest import World, make_settings
from tests.eventually import eventually_blocking

DID = "+15557770100"
FIRST, SECOND, ON_BUSY = "+15550001001", "+15550001002", "+15550001003"
BASE = "http://testserver"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _alive(thread: threading.Thread) -> bool:
    assert thread.is_alive(), "uvicorn died"
    return True


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, webhook_validation=True)


def provider_signature(token: str, url: str, params: dict[str, str]) -> str:
    """The provider's published algorithm: URL, then each name+value sorted by name."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def test_the_signer_here_matches_the_published_vector() -> None:
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert provider_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


async def post(client: httpx.AsyncClient, tenant: Tenant, path: str, params: dict[str, str],
               *, signature: str | None = "sign") -> httpx.Response:
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = provider_signature(tenant.auth_token, BASE + path, params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return await client.post(path, data=params, headers=headers)


def call_params(tenant: Tenant, call_sid: str, **extra: str) -> dict[str, str]:
    return {"CallSid": call_sid, "AccountSid": tenant.account_sid, "From": "+15559990000",
            "To": DID, "CallStatus": "ringing", "Direction": "inbound",
            "ApiVersion": "2010-04-01", **extra}


def twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return root


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def dialled(root: ET.Element) -> tuple[list[str], str | None]:
    dial = root.find("Dial")
    assert dial is not None, ET.tostring(root)
    return [noun.text or "" for noun in dial], dial.get("action")


async def number_with_rules(
    sessionmaker: async_sessionmaker[AsyncSession], tenant: Tenant, *rules: dict[str, Any],
    **number: Any,
) -> PhoneNumber:
    async with sessionmaker() as s:
        row = PhoneNumber(tenant_id=tenant.id, e164=DID, **number)
        s.add(row)
        await s.flush()
        for priority, rule in enumerate(rules):
            s.add(ForwardingRule(tenant_id=tenant.id, number_id=row.id, priority=priority,
                                 ring_timeout=15, **rule))
        await s.commit()
        return row


async def the_log(sessionmaker: async_sessionmaker[AsyncSession], call_sid: str) -> CallLog:
    async with sessionmaker() as s:
        rows = (await s.execute(select(CallLog).where(CallLog.call_sid == call_sid))).scalars()
        found = list(rows)
    assert len(found) == 1
    return found[0]


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with sessionmaker() as s:
        return int((await s.execute(select(func.count()).select_from(model).where(*where)))
                   .scalar_one())


# -- signatures -----------------------------------------------------------------------


async def test_missing_or_wrong_signature_is_403_and_a_valid_one_is_200(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await number_with_rules(sessionmaker, world.tenant,
                            {"strategy": "sequential", "targets": [FIRST]})
    params = call_params(world.tenant, ids.call_sid())
    for path in ("/api/voice/incoming", "/api/voice/status"):
        h.assert_dashboard_error(await post(client, world.tenant, path, params, signature=None),
                                 403)
        wrong = provider_signature("not-the-token", BASE + path, params)
        h.assert_dashboard_error(await post(client, world.tenant, path, params, signature=wrong),
                                 403)
        # Signed for another URL (the query string is part of what is signed).
        other = provider_signature(world.tenant.auth_token, BASE + path + "?step=0", params)
        h.assert_dashboard_error(await post(client, world.tenant, path, params, signature=other),
                                 403)
    assert (await post(client, world.tenant, "/api/voice/incoming", params)).status_code == 200
    # Another tenant's token does not sign for this tenant's number.
    assert (await post(client, world.other, "/api/voice/incoming", params)).status_code == 403
    recording = {"AccountSid": world.tenant.account_sid, "CallSid": params["CallSid"],
                 "RecordingSid": ids.recording_sid(), "RecordingUrl": "https://p.example/r"}
    h.assert_dashboard_error(
        await post(client, world.tenant, "/api/voice/recording", recording, signature=None), 403)


async def test_the_public_base_url_is_what_the_provider_signs(
    tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    from switchboard.api.app import create_app

    settings = make_settings(tmp_path, webhook_validation=True,
                             public_base_url="https://sb.example.com")
    app = create_app(settings, sessionmaker=sessionmaker)
    await number_with_rules(sessionmaker, world.tenant,
                            {"strategy": "sequential", "targets": [FIRST]})
    params = call_params(world.tenant, ids.call_sid())
    public = "https://sb.example.com/api/voice/incoming"
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE
    ) as client:
        signed = provider_signature(world.tenant.auth_token, public, params)
        r = await client.post("/api/voice/incoming", data=params,
                              headers={"X-Twilio-Signature": signed})
        assert r.status_code == 200, r.text


# -- /api/voice/incoming ----------------------------------------------------------------


async def test_sequential_rule_dials_each_target_then_records_a_voicemail(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await number_with_rules(sessionmaker, world.tenant,
                            {"strategy": "sequential", "targets": [FIRST, SECOND]},
                            voicemail_max_seconds=90)
    sid = ids.call_sid()
    first = twiml(await post(client, world.tenant, "/api/voice/incoming",
                             call_params(world.tenant, sid)))
    assert verbs(first) == ["Dial"]
    targets, action = dialled(first)
    assert targets == [FIRST]
    assert first.find("Dial").get("timeout") == "15"  # type: ignore[union-attr]

    log = await the_log(sessionmaker, sid)
    assert (log.status, log.direction, log.from_number, log.to_number) == (
        "INCOMING_CALL", "INBOUND", "+15559990000", DID)
    assert log.tenant_id == world.tenant.id and log.number_id is not None

    assert action is not None
    second = twiml(await post(client, world.tenant, action,
                              call_params(world.tenant, sid, DialCallStatus="no-answer")))
    targets, action = dialled(second)
    assert targets == [SECOND]

    assert action is not None
    last = twiml(await post(client, world.tenant, action,
                            call_params(world.tenant, sid, DialCallStatus="no-answer")))
    assert verbs(last) == ["Say", "Record", "Hangup"]
    record = last.find("Record")
    assert record is not None
    assert record.get("maxLength") == "90"
    assert record.get("playBeep") == "true"
    assert record.get("finishOnKey") == "#"
    assert record.get("recordingStatusCallback") == "/api/voice/recording?type=voicemail"
    # The Record's action ends the call instead of replaying the plan.
    after = twiml(await post(client, world.tenant, record.get("action") or "",
                             call_params(world.tenant, sid, RecordingDuration="4")))
    assert verbs(after) == ["Hangup"]
    assert await count(sessionmaker, CallLog, CallLog.call_sid == sid) == 1


async def test_busy_only_rule_runs_after_busy_and_is_skipped_after_no_answer(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await number_with_rules(sessionmaker, world.tenant,
                            {"strategy": "sequential", "targets": [FIRST]},
                            {"strategy": "sequential", "targets": [ON_BUSY],
                             "condition": "busy"})
    busy_sid, quiet_sid = ids.call_sid(), ids.call_sid()
    for sid in (busy_sid, quiet_sid):
        root = twiml(await post(client, world.tenant, "/api/voice/incoming",
                                call_params(world.tenant, sid)))
        assert dialled(root)[0] == [FIRST]
        action = dialled(root)[1] or ""
        status = "busy" if sid == busy_sid else "no-answer"
        root = twiml(await post(client, world.tenant, action,
                                call_params(world.tenant, sid, DialCallStatus=status)))
        if sid == busy_sid:
            assert dialled(root)[0] == [ON_BUSY]
        else:
            assert verbs(root) == ["Say", "Record", "Hangup"]


async def test_answered_dial_hangs_up_and_marks_the_call_answered_by_staff(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as s:
        s.add(Endpoint(tenant_id=world.tenant.id, name="desk7", password="pw-desk7",
                       user_id=world.actor("agent").user.id))
        await s.commit()
    await number_with_rules(sessionmaker, world.tenant,
                            {"strategy": "sequential", "targets": ["endpoint:desk7", SECOND]})
    sid = ids.call_sid()
    root = twiml(await post(client, world.tenant, "/api/voice/incoming",
                            call_params(world.tenant, sid)))
    dial = root.find("Dial")
    assert dial is not None and [n.tag for n in dial] == ["Client"]
    assert dial.find("Client").text == "desk7"  # type: ignore[union-attr]
    for status in ("completed", "answered"):
        root = twiml(await post(client, world.tenant, dial.get("action") or "",
                                call_params(world.tenant, sid, DialCallStatus=status)))
        assert verbs(root) == ["Hangup"]
    log = await the_log(sessionmaker, sid)
    assert log.status == "ANSWERED_BY_STAFF"
    assert log.answered_at is not None
    assert log.staff_id == world.actor("agent").user.id


async def test_simultaneous_rule_rings_every_number_in_one_dial(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await number_with_rules(sessionmaker, world.tenant,
                            {"strategy": "simultaneous", "targets": [FIRST, SECOND, ON_BUSY]})
    root = twiml(await post(client, world.tenant, "/api/voice/incoming",
                            call_params(world.tenant, ids.call_sid())))
    assert verbs(root) == ["Dial"]
    assert dialled(root)[0] == [FIRST, SECOND, ON_BUSY]
    assert [n.tag for n in root.find("Dial")] == ["Number"] * 3  # type: ignore[union-attr]


async def test_rules_outside_their_schedule_are_not_dialled(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    local = utcnow().astimezone(ZoneInfo(world.tenant.timezone))
    tomorrow = DAYS[(local.weekday() + 1) % 7]
    await number_with_rules(sessionmaker, world.tenant,
                            {"strategy": "sequential", "targets": [FIRST],
                             "schedule": [{"days": [tomorrow]}]},
                            {"strategy": "sequential", "targets": [SECOND]})
    root = twiml(await post(client, world.tenant, "/api/voice/incoming",
                            call_params(world.tenant, ids.call_sid())))
    assert dialled(root)[0] == [SECOND]


async def test_no_rules_goes_straight_to_voicemail(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await number_with_rules(sessionmaker, world.tenant,
                            voicemail_greeting="https://media.example/greeting.mp3")
    root = twiml(await post(client, world.tenant, "/api/voice/incoming",
                            call_params(world.tenant, ids.call_sid())))
    assert verbs(root) == ["Play", "Record", "Hangup"]
    assert root.find("Play").text == "https://media.example/greeting.mp3"  # type: ignore[union-attr]


async def test_a_row_the_engine_wrote_is_enriched_not_duplicated(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    number = await number_with_rules(sessionmaker, world.tenant,
                                     {"strategy": "sequential", "targets": [FIRST]})
    sid = ids.call_sid()
    started = utcnow() - timedelta(seconds=3)
    async with sessionmaker() as s:
        s.add(CallLog(call_sid=sid, tenant_id=world.tenant.id, direction="INBOUND",
                      status="INCOMING_CALL", call_status="ringing", started_at=started))
        await s.commit()
    twiml(await post(client, world.tenant, "/api/voice/incoming", call_params(world.tenant, sid)))
    log = await the_log(sessionmaker, sid)
    assert log.handled_by == "engine"
    assert log.number_id == number.id
    assert (log.from_number, log.to_number) == ("+15559990000", DID)
    assert abs((log.started_at - started).total_seconds()) < 0.01


async def test_unknown_or_released_number_is_rejected_and_logged(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await number_with_rules(sessionmaker, world.tenant, enabled=False)  # released
    for to in (DID, "+15550009999"):
        sid = ids.call_sid()
        root = twiml(await post(client, world.tenant, "/api/voice/incoming",
                                call_params(world.tenant, sid, To=to)))
        assert verbs(root) == ["Reject"]
        assert root.find("Reject").get("reason") == "rejected"  # type: ignore[union-attr]
        log = await the_log(sessionmaker, sid)
        assert log.tenant_id == world.tenant.id
        assert (log.status, log.call_status) == ("MISSED", "failed")
        assert log.error and to in log.error


async def test_callback_without_a_valid_dial_status_is_400(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await number_with_rules(sessionmaker, world.tenant,
                            {"strategy": "sequential", "targets": [FIRST]})
    sid = ids.call_sid()
    await post(client, world.tenant, "/api/voice/incoming", call_params(world.tenant, sid))
    for extra in ({}, {"DialCallStatus": "sideways"}):
        r = await post(client, world.tenant, "/api/voice/incoming?step=0",
                       call_params(world.tenant, sid, **extra))
        h.assert_dashboard_error(r, 400)
    r = await post(client, world.tenant, "/api/voice/incoming", {"To": DID})
    h.assert_dashboard_error(r, 400)


# -- /api/voice/status ----------------------------------------------------------------------


async def test_completed_status_updates_the_row_and_counts_voice_minutes_once(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await number_with_rules(sessionmaker, world.tenant,
                            {"strategy": "sequential", "targets": [FIRST]})
    async with sessionmaker() as s:
        before = (await s.get(Tenant, world.tenant.id)).voice_seconds_used  # type: ignore[union-attr]
    sid = ids.call_sid()
    await post(client, world.tenant, "/api/voice/incoming", call_params(world.tenant, sid))
    ringing = call_params(world.tenant, sid, CallStatus="in-progress")
    r = await post(client, world.tenant, "/api/voice/status", ringing)
    assert r.status_code == 200 and verbs(twiml(r)) == []
    assert (await the_log(sessionmaker, sid)).call_status == "in-progress"
    done = call_params(world.tenant, sid, CallStatus="completed", CallDuration="42")
    for _ in range(3):  # the provider repeats a callback it could not confirm
        assert (await post(client, world.tenant, "/api/voice/status", done)).status_code == 200
    log = await the_log(sessionmaker, sid)
    assert (log.call_status, log.duration) == ("completed", 42)
    assert log.ended_at is not None
    assert log.status == "MISSED"  # ended with neither staff nor a voicemail
    async with sessionmaker() as s:
        after = (await s.get(Tenant, world.tenant.id)).voice_seconds_used  # type: ignore[union-attr]
    assert after - before == 42


async def test_status_of_an_answered_call_keeps_its_status(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await number_with_rules(sessionmaker, world.tenant,
                            {"strategy": "sequential", "targets": [FIRST]})
    sid = ids.call_sid()
    await post(client, world.tenant, "/api/voice/incoming", call_params(world.tenant, sid))
    await post(client, world.tenant, "/api/voice/incoming?step=0",
               call_params(world.tenant, sid, DialCallStatus="completed"))
    await post(client, world.tenant, "/api/voice/status",
               call_params(world.tenant, sid, CallStatus="completed", CallDuration="7"))
    assert (await the_log(sessionmaker, sid)).status == "ANSWERED_BY_STAFF"


async def test_unknown_call_status_is_400(client: httpx.AsyncClient, world: World) -> None:
    r = await post(client, world.tenant, "/api/voice/status",
                   call_params(world.tenant, ids.call_sid(), CallStatus="exploded"))
    h.assert_dashboard_error(r, 400)


# -- /api/voice/recording ----------------------------------------------------------------------


async def test_voicemail_recording_callback_stores_it_once(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
    provider: Provider, api_settings: Settings,
) -> None:
    await number_with_rules(sessionmaker, world.tenant)
    sid, rec_sid = ids.call_sid(), ids.recording_sid()
    await post(client, world.tenant, "/api/voice/incoming", call_params(world.tenant, sid))
    url = provider.serve(f"/2010-04-01/Accounts/{world.tenant.account_sid}/Recordings/{rec_sid}",
                         wav_bytes(6.0))
    params = {"AccountSid": world.tenant.account_sid, "CallSid": sid, "RecordingSid": rec_sid,
              "RecordingUrl": url, "RecordingStatus": "completed", "RecordingDuration": "6",
              "RecordingChannels": "1", "RecordingSource": "RecordVerb"}
    for _ in range(2):
        r = await post(client, world.tenant, "/api/voice/recording?type=voicemail", params)
        assert r.status_code == 200, r.text
    async with sessionmaker() as s:
        recordings = list((await s.execute(
            select(Recording).where(Recording.recording_sid == rec_sid))).scalars())
        messages = list((await s.execute(
            select(Voicemail).where(Voicemail.call_sid == sid))).scalars())
        jobs = await s.execute(select(func.count()).select_from(TranscriptionJob))
        assert jobs.scalar_one() == 1  # fetched into storage: the worker reads the file
    assert len(recordings) == 1 and len(messages) == 1
    assert len(provider.hits) == 1  # fetched once, not on the repeat
    stored = api_settings.resolved_storage_root / recordings[0].path
    assert recordings[0].path.startswith(f"recordings/{world.tenant.id}/")
    assert stored.read_bytes() == wav_bytes(6.0) and recordings[0].duration == 6.0
    assert recordings[0].tenant_id == world.tenant.id
    assert messages[0].recording_id == recordings[0].id
    assert (messages[0].from_number, messages[0].to_number) == ("+15559990000", DID)
    assert messages[0].duration == 6.0
    log = await the_log(sessionmaker, sid)
    assert log.status == "VOICEMAIL_RECEIVED" and log.has_voicemail


def write_wav(path: Path, seconds: float = 1.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = bytes(int(seconds * 8000) * 2)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(frames)


async def test_a_recording_the_engine_stored_is_updated_and_plays_with_ranges(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
    api_settings: Settings,
) -> None:
    await number_with_rules(sessionmaker, world.tenant)
    sid, rec_sid = ids.call_sid(), ids.recording_sid()
    await post(client, world.tenant, "/api/voice/incoming", call_params(world.tenant, sid))
    relative = f"recordings/{world.tenant.id}/2026/11/{rec_sid}.wav"
    write_wav(api_settings.resolved_storage_root / relative)
    async with sessionmaker() as s:  # what the engine's Record verb leaves behind
        s.add(Recording(recording_sid=rec_sid, tenant_id=world.tenant.id, call_sid=sid,
                        path=relative, source="RecordVerb", duration=1.0,
                        size_bytes=16044))
        await s.commit()
    params = {"AccountSid": world.tenant.account_sid, "CallSid": sid, "RecordingSid": rec_sid,
              "RecordingUrl": f"http://127.0.0.1:8000/api/v1/recordings/{rec_sid}",
              "RecordingStatus": "completed", "RecordingDuration": "1"}
    for _ in range(2):
        r = await post(client, world.tenant, "/api/voice/recording?type=voicemail", params)
        assert r.status_code == 200, r.text
    assert await count(sessionmaker, Recording, Recording.recording_sid == rec_sid) == 1
    assert await count(sessionmaker, Voicemail, Voicemail.call_sid == sid) == 1
    assert await count(sessionmaker, TranscriptionJob) == 1  # the local file is transcribed
    async with sessionmaker() as s:
        rec = (await s.execute(select(Recording).where(Recording.recording_sid == rec_sid))
               ).scalar_one()
        assert rec.path == relative  # the local file stays where it is
        message = (await s.execute(select(Voicemail).where(Voicemail.call_sid == sid))
                   ).scalar_one()

    r = await client.get(f"/api/voice/recording?voicemailId={message.id}",
                         headers={**world.headers("read-only"), "Range": "bytes=0-99"})
    assert r.status_code == 206, r.text
    assert r.headers["content-range"] == "bytes 0-99/16044"
    assert r.content[:4] == b"RIFF" and len(r.content) == 100
    log = await the_log(sessionmaker, sid)
    r = await client.get(f"/api/voice/recording?callLogId={log.id}", headers=world.headers())
    assert r.status_code == 200 and len(r.content) == 16044
    for query in (f"voicemailId={message.id}", f"callLogId={log.id}"):
        r = await client.get(f"/api/voice/recording?{query}", headers=world.other_headers())
        h.assert_dashboard_error(r, 404)


async def test_recording_of_another_tenant_is_not_touched(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    rec_sid = ids.recording_sid()
    async with sessionmaker() as s:
        s.add(Recording(recording_sid=rec_sid, tenant_id=world.tenant.id, call_sid="CAx",
                        path="recordings/x.wav", source="RecordVerb"))
        await s.commit()
    params = {"AccountSid": world.other.account_sid, "CallSid": "CAx", "RecordingSid": rec_sid,
              "RecordingUrl": "https://p.example/r"}
    r = await post(client, world.other, "/api/voice/recording?type=voicemail", params)
    h.assert_dashboard_error(r, 404)
    assert await count(sessionmaker, Voicemail) == 0


async def test_webhooks_work_without_the_engine(client: httpx.AsyncClient, world: World) -> None:
    assert client._transport.app.state.engine is None  # type: ignore[attr-defined]
    r = await post(client, world.tenant, "/api/voice/incoming",
                   call_params(world.tenant, ids.call_sid(), To="+15550000000"))
    assert r.status_code == 200


async def test_bad_numbers_in_callbacks_are_400(client: httpx.AsyncClient, world: World) -> None:
    for duration in ("²", "-1", "99999999999", "1.5"):
        r = await post(client, world.tenant, "/api/voice/status",
                       call_params(world.tenant, ids.call_sid(), CallStatus="completed",
                                   CallDuration=duration))
        h.assert_dashboard_error(r, 400)


async def test_the_served_document_runs_on_a_switchboard_engine(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Another engine parses what we serve: a desk phone is a Client it dials as PJSIP/NAME."""
    from switchboard.callflow.routes import dial_string
    from switchboard.callflow.verbs import Dial
    from switchboard.callflow.voicedoc import parse_voice_document

    await number_with_rules(sessionmaker, world.tenant,
                            {"strategy": "simultaneous", "targets": ["endpoint:desk1", FIRST]})
    url = f"{BASE}/api/voice/incoming"
    r = await post(client, world.tenant, "/api/voice/incoming",
                   call_params(world.tenant, ids.call_sid()))
    [dial, *_] = parse_voice_document(r.content, base_url=url)
    assert isinstance(dial, Dial)
    assert dial.action == f"{url}?step=0"
    assert dial_string(dial.targets[0], None) == "PJSIP/desk1"
    assert [t.value for t in dial.targets] == ["desk1", FIRST]


# -- a provider's recordings API ---------------------------------------------------------------


def wav_bytes(seconds: float = 1.0) -> bytes:
    import io

    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(bytes(range(256)) * int(seconds * 8000 * 2 / 256))
    return out.getvalue()


AUDIO = wav_bytes()


class Provider:
    """A provider's recordings API on loopback: optional basic auth, one body per path.

    ``hits`` lists every path requested; ``status`` overrides the answer (e.g. 503).
    """

    def __init__(self, credentials: str = "") -> None:
        owner = self
        self.credentials = credentials
        self.files: dict[str, bytes] = {}
        self.hits: list[str] = []
        self.status: int | None = None

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                owner.hits.append(self.path)
                status = owner.status
                body = owner.files.get(self.path)
                if owner.credentials and self.headers.get("Authorization") != owner.credentials:
                    status = 401
                if status is None and body is None:
                    status = 404
                self.send_response(status or 200)
                self.send_header("Content-Type", "audio/x-wav")
                self.send_header("Content-Length", str(len(body or b"") if not status else 0))
                self.end_headers()
                if not status and body is not None:
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, body: bytes = AUDIO) -> str:
        self.files[path] = body
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def provider() -> Iterator[Provider]:
    server = Provider()
    yield server
    server.close()


# -- an engine reaching the app over real HTTP ------------------------------------------------


@pytest.fixture
def live_app(tmp_path: Path, db_url: str) -> Iterator[str]:
    """The API alone (no engine) under uvicorn, validating signatures; yields its URL."""
    from switchboard.api.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(tmp_path, webhook_validation=True, database_url=db_url,
                             public_base_url=base)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", ws="none", http="h11"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually_blocking(lambda: _alive(thread) and server.started, timeout=20,
                        what="uvicorn started")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=20)


async def test_an_engine_drives_the_app_over_http_signed_as_a_voice_url(
    live_app: str, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The engine's own voice-URL client and callback signer, against the live API."""
    from switchboard.callflow.signature import compute_signature
    from switchboard.callflow.verbs import Dial, Hangup, Record, Say
    from switchboard.engine.voice_url import call_params as engine_params
    from switchboard.engine.voice_url import fetch_voice_document

    await number_with_rules(sessionmaker, world.tenant,
                            {"strategy": "sequential", "targets": [FIRST, SECOND]})
    sid = ids.call_sid()
    params = engine_params(call_sid=sid, account_sid=world.tenant.account_sid,
                           from_number="+15559990000", to_number=DID, call_status="ringing",
                           direction="inbound")
    token = world.tenant.auth_token
    async with httpx.AsyncClient() as http:
        document = await fetch_voice_document(http, url=f"{live_app}/api/voice/incoming",
                                              params=params, auth_token=token, timeout=10)
        assert isinstance(document[0], Dial) and document[0].targets[0].value == FIRST
        assert document[0].action == f"{live_app}/api/voice/incoming?step=0"
        document = await fetch_voice_document(
            http, url=document[0].action, auth_token=token, timeout=10,
            params={**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"})
        assert isinstance(document[0], Dial) and document[0].targets[0].value == SECOND
        assert document[0].action is not None
        document = await fetch_voice_document(
            http, url=document[0].action, auth_token=token, timeout=10,
            params={**params, "CallStatus": "in-progress", "DialCallStatus": "busy"})
        assert [type(v) for v in document] == [Say, Record, Hangup]
        record = document[1]
        assert isinstance(record, Record)
        callback = record.recording_status_callback
        assert callback == f"{live_app}/api/voice/recording?type=voicemail"
        form = {"AccountSid": world.tenant.account_sid, "CallSid": sid,
                "RecordingSid": ids.recording_sid(), "RecordingStatus": "completed",
                "RecordingUrl": f"{live_app}/api/v1/recordings/REx", "RecordingDuration": "3"}
        r = await http.post(callback, data=form,
                            headers={"X-Twilio-Signature": compute_signature(token, callback,
                                                                             form)})
        assert r.status_code == 200, r.text
        r = await http.post(callback, data=form, headers={"X-Twilio-Signature": "forged"})
        assert r.status_code == 403
    log = await the_log(sessionmaker, sid)
    assert log.status == "VOICEMAIL_RECEIVED" and log.number_id is not None


async def test_concurrent_repeats_of_a_callback_count_once_and_store_once(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
    provider: Provider,
) -> None:
    import asyncio

    await number_with_rules(sessionmaker, world.tenant)
    sid, rec_sid = ids.call_sid(), ids.recording_sid()
    done = call_params(world.tenant, sid, CallStatus="completed", CallDuration="30")
    recording = {"AccountSid": world.tenant.account_sid, "CallSid": sid, "RecordingSid": rec_sid,
                 "RecordingUrl": provider.serve("/r.wav"), "RecordingDuration": "5"}
    answers = await asyncio.gather(
        *[post(client, world.tenant, "/api/voice/status", done) for _ in range(4)],
        *[post(client, world.tenant, "/api/voice/recording?type=voicemail", recording)
          for _ in range(4)],
    )
    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    assert await count(sessionmaker, CallLog, CallLog.call_sid == sid) == 1
    assert await count(sessionmaker, Recording, Recording.recording_sid == rec_sid) == 1
    assert await count(sessionmaker, Voicemail, Voicemail.call_sid == sid) == 1
    async with sessionmaker() as s:
        used = (await s.get(Tenant, world.tenant.id)).voice_seconds_used  # type: ignore[union-attr]
    assert used == 30


async def test_concurrent_repeats_about_an_engine_recording_make_one_voicemail(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    import asyncio

    await number_with_rules(sessionmaker, world.tenant)
    sid, rec_sid = ids.call_sid(), ids.recording_sid()
    await post(client, world.tenant, "/api/voice/incoming", call_params(world.tenant, sid))
    async with sessionmaker() as s:
        s.add(Recording(recording_sid=rec_sid, tenant_id=world.tenant.id, call_sid=sid,
                        path="recordings/r.wav", source="RecordVerb", duration=2.0))
        await s.commit()
    recording = {"AccountSid": world.tenant.account_sid, "CallSid": sid, "RecordingSid": rec_sid,
                 "RecordingUrl": "http://sb.example/api/v1/recordings/x"}
    answers = await asyncio.gather(
        *[post(client, world.tenant, "/api/voice/recording?type=voicemail", recording)
          for _ in range(6)])
    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    assert await count(sessionmaker, Voicemail, Voicemail.call_sid == sid) == 1
    assert await count(sessionmaker, TranscriptionJob) == 1
