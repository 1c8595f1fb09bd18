"""Live call control through the REST API against real calls.

Also the recording-storage limit at record time: a tenant whose plan's
storage is full gets no recording (``Record`` verb, recorded conversations),
the call goes on, and the call log says why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import select, update
from webhook_receiver import Receiver, Reply

from switchboard.api.app import create_app
from switchboard.asterisk import AsteriskInstance
from switchboard.fetch_policy import LOOPBACK, FetchPolicy, GuardedClient
from switchboard.models import (
    CallLeg,
    CallLog,
    CallLogStatus,
    PhoneNumber,
    Recording,
    Tenant,
    Voicemail,
)
from switchboard.models.state import bump_routing_revision
from switchboard.outbox.delivery import OutboxDispatcher
from switchboard.runtime import build_engine
from switchboard.services import api_keys
from switchboard.services.roles import Role
from switchboard.simulate import place_call, wait_for_call_log
from tests.eventually import eventually
from tests.integration.engine_helpers import CALLER, DID, PROMPTS, engine_settings, seed_number

pytestmark = pytest.mark.asterisk

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
async def stack(clean_asterisk, db_url, db_engine, sessionmaker, tmp_path) -> AsyncIterator[tuple]:
    settings = engine_settings(clean_asterisk, db_url, tmp_path).model_copy(
        update={"environment": "test", "redis_url": ""})
    async with GuardedClient(FetchPolicy.from_entries(LOOPBACK)) as http:
        outbox = OutboxDispatcher(sessionmaker=sessionmaker, client=http, settings=settings)
        engine = build_engine(settings, sessionmaker, http=http, on_callbacks=outbox.notify)
        await engine.start()
        outbox.start()
        await engine.wait_ready()
        app = create_app(settings, sessionmaker=sessionmaker, engine=engine)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield engine, client
        await engine.stop()
        await outbox.stop()


@pytest.fixture
def customer_app() -> Iterator[Receiver]:
    receiver = Receiver(token=TOKEN)
    receiver.routes["/rec"] = Reply(body="")
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def long_talk(clean_asterisk: AsteriskInstance) -> Iterator[None]:
    """Simulated targets that answer stay on the line 60 s unless hung up (a global default)."""
    clean_asterisk.cli("dialplan set global SB_SIM_TALK 60")
    yield
    clean_asterisk.cli("dialplan set global SB_SIM_TALK ")


async def _storage_full(sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Tenant).values(recording_storage_mb=0))


async def _key(sessionmaker, tenant_id: str) -> dict[str, str]:
    async with sessionmaker() as session, session.begin():
        created = await api_keys.create_key(session, tenant_id, name="ops", role=Role.AGENT)
    return {"X-API-Key": created.key}


async def _connected_calls(client, headers) -> list:
    """The live calls, when the first is connected (else nothing)."""
    live = (await client.get("/api/v1/calls/live", headers=headers)).json()["items"]
    return live if live and live[0]["connected"] else []


async def _final_log(sessionmaker, call_sid: str, timeout: float = 40) -> CallLog:
    async def ended() -> CallLog | None:
        async with sessionmaker() as session:
            row = await session.scalar(select(CallLog).where(CallLog.call_sid == call_sid))
        return row if row is not None and row.ended_at is not None else None

    return await eventually(ended, timeout=timeout, interval=0.2, what=f"call {call_sid} ended")


async def test_outbound_call_is_placed_once_per_idempotency_key(stack, sessionmaker, long_talk):
    # The call must still be up when listed: the callee's answer connects it to
    # the number's staff (a rule), who stays on the line until the API hangs up.
    # (With no rule the engine hangs up as soon as the callee answers, 0.3 s
    # after ringing: a list taken after the replayed request could miss it.)
    engine, client = stack
    tenant_id, _ = await seed_number(sessionmaker, [{"targets": ["+15550004444"],
                                                     "ring_timeout": 10}],
                                     trunk_context="sb-sim")
    await engine.routing.reload()
    headers = await _key(sessionmaker, tenant_id) | {"Idempotency-Key": "order-1234"}
    body = {"from_number": DID, "to_number": "+15550003333"}

    first = await client.post("/api/v1/calls/outbound", json=body, headers=headers)
    again = await client.post("/api/v1/calls/outbound", json=body, headers=headers)

    assert first.status_code == 201, first.text
    assert again.status_code == 200 and again.json()["replayed"] is True
    call_sid = first.json()["call_sid"]
    assert again.json()["call_sid"] == call_sid
    live = (await client.get("/api/v1/calls/live", headers=headers)).json()
    assert [c["call_sid"] for c in live["items"]] == [call_sid]
    await eventually(lambda: _connected_calls(client, headers), timeout=10, interval=0.1,
                     what="the call connected")
    hang = await client.post(f"/api/v1/calls/{call_sid}/hangup", headers=headers)
    assert hang.status_code == 204, hang.text
    row = await _final_log(sessionmaker, call_sid)
    assert row.direction == "OUTBOUND" and row.to_number == "+15550003333"
    assert row.answered_at is not None and row.call_status == "completed"
    assert row.answered_by == "+15550004444"
    async with sessionmaker() as session:
        count = len((await session.scalars(select(CallLog))).all())
    assert count == 1  # one request, one call


async def test_outbound_from_a_number_not_ours_is_refused(stack, sessionmaker):
    engine, client = stack
    tenant_id, _ = await seed_number(sessionmaker, [], trunk_context="sb-sim")
    await engine.routing.reload()
    headers = await _key(sessionmaker, tenant_id)
    response = await client.post("/api/v1/calls/outbound", headers=headers,
                                 json={"from_number": "+15559990000", "to_number": "+15550003333"})
    assert response.status_code == 400
    assert response.json()["details"]["field"] == "from_number"
    bad = await client.post("/api/v1/calls/outbound", headers=headers,
                            json={"from_number": DID, "to_number": "12"})
    assert bad.status_code == 400 and bad.json()["details"]["field"] == "to_number"


@pytest.mark.parametrize("transfer_type", ["blind", "warm"])
async def test_connected_call_is_transferred(stack, sessionmaker, transfer_type):
    engine, client = stack
    tenant_id, _ = await seed_number(sessionmaker, [{"targets": ["+15550001111"],
                                                     "ring_timeout": 10}])
    await engine.routing.reload()
    headers = await _key(sessionmaker, tenant_id)
    call = await place_call(engine.settings, did=DID, caller=CALLER, behaviour="answer",
                            talk_seconds=20, hold_seconds=20)
    live = await eventually(lambda: _connected_calls(client, headers), timeout=10, interval=0.1,
                            what="the call connected")
    call_sid = live[0]["call_sid"]

    held = await client.post(f"/api/v1/calls/{call_sid}/hold", headers=headers)
    assert held.status_code == 204, held.text
    live = (await client.get("/api/v1/calls/live", headers=headers)).json()["items"]
    assert live[0]["on_hold"] is True
    assert (await client.post(f"/api/v1/calls/{call_sid}/unhold", headers=headers)).status_code == 204
    response = await client.post(f"/api/v1/calls/{call_sid}/transfer", headers=headers,
                                 json={"target_number": "+15550002222",
                                       "transfer_type": transfer_type})
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "transferred"
    hang = await client.post(f"/api/v1/calls/{call_sid}/hangup", headers=headers)
    assert hang.status_code == 204
    row = await wait_for_call_log(sessionmaker, call, timeout=30)
    assert row is not None and row.answered_by == "+15550002222"
    assert row.status == CallLogStatus.ANSWERED_BY_STAFF
    async with sessionmaker() as session:
        legs = (await session.scalars(select(CallLeg).where(CallLeg.call_sid == call_sid)
                                      .order_by(CallLeg.started_at))).all()
    assert [leg.target for leg in legs] == ["+15550001111", "+15550002222"]


async def test_control_of_unknown_or_foreign_calls_is_404(stack, sessionmaker):
    engine, client = stack
    tenant_id, _ = await seed_number(sessionmaker, [])
    headers = await _key(sessionmaker, tenant_id)
    missing = "CA" + "0" * 32
    assert (await client.post(f"/api/v1/calls/{missing}/hangup", headers=headers)).status_code == 404
    transfer = await client.post(f"/api/v1/calls/{missing}/transfer", headers=headers,
                                 json={"target_number": "+15550002222"})
    assert transfer.status_code == 404
    assert (await client.get(f"/api/v1/calls/{missing}", headers=headers)).status_code == 404


async def test_outbound_refused_when_the_plan_has_no_voice_minutes_left(stack, sessionmaker):
    from sqlalchemy import update

    from switchboard.models import Tenant

    engine, client = stack
    tenant_id, _ = await seed_number(sessionmaker, [], trunk_context="sb-sim")
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Tenant).values(voice_minutes_limit=1,
                                                    voice_seconds_used=120))
    await engine.routing.reload()
    headers = await _key(sessionmaker, tenant_id)
    response = await client.post("/api/v1/calls/outbound", headers=headers,
                                 json={"from_number": DID, "to_number": "+15550003333"})
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "plan_limit_exceeded"
    assert (await client.get("/api/v1/calls/live", headers=headers)).json()["total"] == 0


async def test_recording_an_outbound_call_is_refused_when_storage_is_full(stack, sessionmaker):
    engine, client = stack
    tenant_id, _ = await seed_number(sessionmaker, [], trunk_context="sb-sim")
    await _storage_full(sessionmaker)
    await engine.routing.reload()
    headers = await _key(sessionmaker, tenant_id)
    response = await client.post("/api/v1/calls/outbound", headers=headers, json={
        "from_number": DID, "to_number": "+15550003333", "record": True})
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["code"] == "plan_limit_exceeded"
    assert body["details"]["field"] == "recording_storage"
    assert (await client.get("/api/v1/calls/live", headers=headers)).json()["total"] == 0
    async with sessionmaker() as session:
        assert (await session.scalars(select(CallLog))).all() == []


async def test_recorded_number_over_storage_quota_connects_unrecorded(stack, sessionmaker):
    engine, client = stack
    tenant_id, _ = await seed_number(
        sessionmaker, [{"targets": ["+15550001111"], "ring_timeout": 10}], record=True)
    await _storage_full(sessionmaker)
    await engine.routing.reload()

    call = await place_call(engine.settings, did=DID, caller=CALLER, behaviour="answer",
                            talk_seconds=2)
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None
    await engine.writer.flush()

    async with sessionmaker() as session:
        fresh = await session.scalar(select(CallLog).where(CallLog.call_sid == row.call_sid))
        recordings = (await session.scalars(select(Recording))).all()
    assert fresh is not None
    assert (fresh.status, fresh.call_status) == (CallLogStatus.ANSWERED_BY_STAFF, "completed")
    assert fresh.answered_by == "+15550001111" and (fresh.duration or 0) >= 1
    assert recordings == [] and fresh.has_recording is False
    assert (fresh.recording_error or "").startswith("plan_limit_exceeded: Plan allows 0 MB")
    view = await client.get(f"/api/v1/calls/logs/{row.call_sid}",
                            headers=await _key(sessionmaker, tenant_id))
    assert view.status_code == 200
    assert view.json()["recording_error"] == fresh.recording_error


async def test_record_verb_over_storage_quota_records_nothing_and_the_flow_goes_on(
    stack, sessionmaker, customer_app
):
    engine, _ = stack
    customer_app.routes["/voice"] = Reply(body=(
        '<Response><Record maxLength="15" timeout="2" action="/recorded" '
        'recordingStatusCallback="/rec"/></Response>'))
    customer_app.routes["/recorded"] = Reply(
        body="<Response><Say>Thank you.</Say><Hangup/></Response>")
    await seed_number(sessionmaker, [])
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Tenant).values(auth_token=TOKEN, recording_storage_mb=0))
        await session.execute(update(PhoneNumber).values(voice_url=customer_app.url("/voice")))
        await bump_routing_revision(session)
    await engine.routing.reload()

    call = await place_call(engine.settings, did=DID, caller=CALLER,
                            say=f"{PROMPTS}/tt-weasels")
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None
    await engine.writer.flush()

    recorded = customer_app.requests_to("/recorded")
    assert len(recorded) == 1  # the action URL is asked what comes next, as after a recording
    assert "RecordingSid" not in recorded[0].form
    assert recorded[0].form["RecordingDuration"] == "0"
    [callback] = await eventually(lambda: customer_app.requests_to("/rec"), timeout=15,
                                  interval=0.1, what="the recording callback")
    assert callback.signature_ok
    assert callback.form["RecordingStatus"] == "failed"
    assert callback.form["RecordingErrorReason"].startswith("plan_limit_exceeded")
    assert "RecordingSid" not in callback.form and "RecordingUrl" not in callback.form
    async with sessionmaker() as session:
        fresh = await session.scalar(select(CallLog).where(CallLog.call_sid == row.call_sid))
        assert (await session.scalars(select(Recording))).all() == []
        assert (await session.scalars(select(Voicemail))).all() == []
    assert fresh is not None and fresh.call_status == "completed" and fresh.error is None
    assert (fresh.recording_error or "").startswith("plan_limit_exceeded")
