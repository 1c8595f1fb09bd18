"""Live call control through the REST API against real calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from switchboard.api.app import create_app
from switchboard.engine.service import Engine
from switchboard.models import CallLeg, CallLog, CallLogStatus
from switchboard.services import api_keys
from switchboard.services.roles import Role
from switchboard.simulate import place_call, wait_for_call_log
from tests.integration.engine_helpers import CALLER, DID, engine_settings, seed_number

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def stack(clean_asterisk, db_url, db_engine, sessionmaker, tmp_path) -> AsyncIterator[tuple]:
    settings = engine_settings(clean_asterisk, db_url, tmp_path).model_copy(
        update={"environment": "test", "redis_url": ""})
    engine = Engine(settings, sessionmaker)
    await engine.start()
    await engine.wait_ready()
    app = create_app(settings, sessionmaker=sessionmaker, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield engine, client
    await engine.stop()


async def _key(sessionmaker, tenant_id: str) -> dict[str, str]:
    async with sessionmaker() as session, session.begin():
        created = await api_keys.create_key(session, tenant_id, name="ops", role=Role.AGENT)
    return {"X-API-Key": created.key}


async def _final_log(sessionmaker, call_sid: str, timeout: float = 40) -> CallLog:
    for _ in range(int(timeout / 0.2)):
        async with sessionmaker() as session:
            row = await session.scalar(select(CallLog).where(CallLog.call_sid == call_sid))
        if row is not None and row.ended_at is not None:
            return row
        await asyncio.sleep(0.2)
    raise AssertionError(f"call {call_sid} did not finish")


async def test_outbound_call_is_placed_once_per_idempotency_key(stack, sessionmaker):
    engine, client = stack
    tenant_id, _ = await seed_number(sessionmaker, [], trunk_context="sb-sim")
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
    row = await _final_log(sessionmaker, call_sid)
    # The target rings 0.3 s and talks 2 s: the call was live when listed.
    assert [c["call_sid"] for c in live["items"]] == [call_sid], (row.call_status, row.error)
    assert row.direction == "OUTBOUND" and row.to_number == "+15550003333"
    assert row.answered_at is not None and row.call_status == "completed"
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
    live: list = []
    for _ in range(100):
        live = (await client.get("/api/v1/calls/live", headers=headers)).json()["items"]
        if live and live[0]["connected"]:
            break
        await asyncio.sleep(0.1)
    assert live and live[0]["connected"], live
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
