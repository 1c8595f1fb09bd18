"""Through the API to a real call: trunk, purchase, rule, call; then release and reject.

The API writes rows and bumps the routing revision; the engine (watching the
revision) picks the change up by itself, with no reload asked for. A carrier
number connected with add-phone gets its PJSIP trunk in the real Asterisk
the same way (the carrier's cloud API is the local fake of tests/api).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import select

from switchboard.api.app import create_app
from switchboard.engine.service import Engine
from switchboard.models import CallLeg
from switchboard.runtime import build_engine
from switchboard.services import api_keys, tenants, users
from switchboard.services.carrier_sip import TELNYX_SIGNALLING
from switchboard.services.roles import Role
from switchboard.simulate import place_call, wait_for_call_log
from tests.api import sb_fake_carrier as fc
from tests.eventually import eventually
from tests.integration.engine_helpers import CALLER, DID, engine_settings

pytestmark = pytest.mark.asterisk

TARGET = "+15550001111"


@pytest.fixture
async def engine(clean_asterisk, db_url, db_engine, sessionmaker, tmp_path) -> AsyncIterator[Engine]:
    settings = engine_settings(clean_asterisk, db_url, tmp_path)
    engine = build_engine(settings, sessionmaker)
    await engine.start()
    await engine.wait_ready()
    yield engine
    await engine.stop()


@pytest.fixture
def carrier_url() -> Iterator[str]:
    with fc.fake_carrier() as url:
        yield url


@pytest.fixture
async def api(engine, sessionmaker, carrier_url) -> AsyncIterator[httpx.AsyncClient]:
    carriers = {"twilio": carrier_url, "plivo": carrier_url, "telnyx": carrier_url}
    settings = engine.settings.model_copy(update={"environment": "test",
                                                  "secret_key": "x" * 40,
                                                  "carrier_api_urls": carriers})
    app = create_app(settings, sessionmaker=sessionmaker)
    async with sessionmaker() as s:
        tenant = await tenants.create_tenant(s, name="Acme Plumbing")
        key = await api_keys.create_key(s, tenant.id, name="ops", role=Role.ADMIN)
        await users.create_user(s, tenant.id, email="owner@acme.test")
        await s.commit()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sb.test",
                                     headers={"X-API-Key": key.key}) as client:
            yield client


async def _route_settles(engine: Engine, predicate, timeout: float = 20.0) -> None:
    """Wait (bounded) until the engine's own revision watcher loaded a matching route."""

    def loaded() -> bool:
        route = engine.routing.lookup(DID)
        return route is not None and predicate(route)

    await eventually(loaded, timeout=timeout, what="the engine loading the change")


async def test_number_and_rule_made_through_the_api_route_a_real_call(api, engine, sessionmaker):
    r = await api.post("/api/v1/trunks", json={
        "name": "lab", "kind": "local", "context": "sb-test", "dids": [{"phone_number": DID}]})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/numbers/purchase", json={"phone_number": DID})
    assert r.status_code == 201, r.text
    number_id = r.json()["id"]
    r = await api.post(f"/api/v1/numbers/{number_id}/rules",
                       json={"targets": [TARGET], "ring_timeout": 10})
    assert r.status_code == 201, r.text

    await _route_settles(engine, lambda route: route.enabled and route.steps)
    call = await place_call(engine.settings, did=DID, caller=CALLER, behaviour="answer")
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None, "the call never finished in the call log"
    await engine.writer.flush()
    async with sessionmaker() as s:
        legs = (await s.scalars(select(CallLeg).where(CallLeg.call_sid == row.call_sid))).all()
    assert [(leg.target, leg.dial_status) for leg in legs] == [(TARGET, "answered")]

    r = await api.get(f"/api/v1/calls/logs/{row.call_sid}")
    assert r.status_code == 200
    assert r.json()["status"] == "ANSWERED_BY_STAFF" and r.json()["answered_by"] == TARGET

    r = await api.delete(f"/api/v1/numbers/{number_id}")
    assert r.status_code == 200 and r.json()["enabled"] is False
    await _route_settles(engine, lambda route: not route.enabled)
    call = await place_call(engine.settings, did=DID, caller=CALLER, behaviour="answer")
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None
    assert (row.call_status, row.error) == ("failed", "number released")
    async with sessionmaker() as s:
        dialled = (await s.scalars(select(CallLeg).where(CallLeg.call_sid == row.call_sid,
                                                         CallLeg.role != "caller"))).all()
    assert [leg for leg in dialled if leg.target == TARGET] == []


async def test_add_phone_makes_a_pjsip_trunk_in_the_real_asterisk(api, clean_asterisk, sessionmaker):
    from switchboard.models import User

    async with sessionmaker() as s:
        owner = await s.scalar(select(User.id).where(User.email == "owner@acme.test"))
    r = await api.post("/api/call/add-phone", json={
        "userId": owner, "phoneNumber": "12125551234", "integration": "telnyx",
        "authToken": fc.TELNYX_KEY, "sipUsername": "acme", "sipPassword": "s3cret"})
    assert r.status_code == 201, r.text
    trunks = (await api.get("/api/v1/trunks")).json()["items"]
    assert [t["integration"] for t in trunks] == ["telnyx"]
    name = trunks[0]["name"]

    async def endpoint_shown() -> str:
        shown = await asyncio.to_thread(clean_asterisk.cli, f"pjsip show endpoint {name}")
        return shown if "Unable to find" not in shown and f"{name}-identify" in shown else ""

    shown = await eventually(endpoint_shown, timeout=20, interval=0.2, what=f"endpoint {name}")
    assert f"Endpoint:  {name}" in shown, shown
    assert "sip:sip.telnyx.com" in shown  # where its calls go out
    for address in TELNYX_SIGNALLING:  # where the carrier's calls are recognised from
        assert f"{address}/32" in shown, shown
    assert f"{name}-auth" in shown  # outbound credentials
