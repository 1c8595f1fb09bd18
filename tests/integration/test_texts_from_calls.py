"""``<Sms>`` and ``<Message>`` in a voice document send a text during a real call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from webhook_receiver import Receiver, Reply

from switchboard.asterisk import AsteriskInstance
from switchboard.engine.service import Engine
from switchboard.models import Message, PhoneNumber, Tenant, Trunk
from switchboard.models.state import bump_routing_revision
from switchboard.simulate import place_call, wait_for_call_log
from tests.api.sb_fake_messaging import TWILIO_SID, TWILIO_TOKEN, fake_messaging
from tests.integration.engine_helpers import CALLER, DID
from tests.integration.messaging_stack import running_stack

pytestmark = pytest.mark.asterisk


@pytest.fixture
def carrier() -> Iterator[object]:
    with fake_messaging() as server:
        yield server


@pytest.fixture
async def stack(clean_asterisk: AsteriskInstance, db_url, db_engine, sessionmaker,
                tmp_path: Path, carrier) -> AsyncIterator[tuple[Engine, httpx.AsyncClient]]:
    urls = {"twilio": carrier.base_url}
    async with running_stack(clean_asterisk, db_url, sessionmaker, tmp_path,
                             carrier_api_urls=urls) as running:
        yield running


@pytest.fixture
def app() -> Iterator[Receiver]:
    receiver = Receiver(token="")
    receiver.start()
    yield receiver
    receiver.stop()


async def test_a_voice_document_texts_the_caller_and_another_number_during_the_call(
    stack, sessionmaker, carrier, app: Receiver
) -> None:
    engine, _ = stack
    app.routes["/voice"] = Reply(body=(
        "<Response><Say>Sending your code</Say>"
        "<Sms>Your code is 4321</Sms>"
        '<Message to="+15550009999"><Body>Caller wants a call back</Body>'
        "<Media>https://media.example/card.png</Media></Message>"
        "<Hangup/></Response>"))
    async with sessionmaker() as s, s.begin():
        tenant = Tenant(name="Aster Grove", quiet_hours_start=None, quiet_hours_end=None)
        s.add(tenant)
        await s.flush()
        trunk = Trunk(tenant_id=tenant.id, name=f"tw{tenant.id[:8]}", kind="local",
                      context="sb-test", integration="twilio", account_sid=TWILIO_SID,
                      auth_token=TWILIO_TOKEN)
        s.add(trunk)
        await s.flush()
        s.add(PhoneNumber(tenant_id=tenant.id, e164=DID, trunk_id=trunk.id, sms_enabled=True,
                          voice_url=app.url("/voice")))
        await bump_routing_revision(s)
    await engine.routing.reload()
    call = await place_call(engine.settings, did=DID, caller=CALLER)
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None
    for _ in range(150):
        if len(carrier.sent) == 2:
            break
        await asyncio.sleep(0.1)
    sent = sorted(carrier.sent, key=lambda s: s.fields["To"])
    assert [(s.fields["From"], s.fields["To"], s.fields["Body"]) for s in sent] == [
        (DID, "+15550009999", "Caller wants a call back"),
        (DID, CALLER, "Your code is 4321"),
    ]
    assert ("MediaUrl", "https://media.example/card.png") in sent[0].form
    async with sessionmaker() as s:
        rows = (await s.scalars(select(Message))).all()
    assert {(m.direction, m.call_sid) for m in rows} == {("outbound-call", row.call_sid)}


async def test_a_voice_document_dial_to_a_listed_number_rings_nothing(
    stack, sessionmaker, app: Receiver
) -> None:
    """Do-not-call on voice documents: the listed number is left out of the Dial."""
    from switchboard.models import CallLeg, DncEntry
    from switchboard.services.compliance import bump_dnc_revision

    engine, _ = stack
    app.routes["/voice"] = Reply(body=(
        '<Response><Dial timeout="5" action="/after"><Number>+15550004444</Number></Dial>'
        "</Response>"))
    app.routes["/after"] = Reply(body="<Response><Hangup/></Response>")
    async with sessionmaker() as s, s.begin():
        tenant = Tenant(name="Aster Grove")
        s.add(tenant)
        await s.flush()
        trunk = Trunk(tenant_id=tenant.id, name=f"lab{tenant.id[:8]}", kind="local",
                      context="sb-test")
        s.add(trunk)
        await s.flush()
        s.add(PhoneNumber(tenant_id=tenant.id, e164=DID, trunk_id=trunk.id,
                          voice_url=app.url("/voice")))
        s.add(DncEntry(tenant_id=tenant.id, phone="+15550004444", reason="litigator"))
        await bump_dnc_revision(s)
        await bump_routing_revision(s)
    await engine.routing.reload()
    for _ in range(100):
        if engine.calls.executor.call_screen(tenant.id, "+15550004444"):  # type: ignore[misc]
            break
        await asyncio.sleep(0.1)
    call = await place_call(engine.settings, did=DID, caller=CALLER)
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None
    await engine.writer.flush()
    async with sessionmaker() as s:
        legs = (await s.scalars(select(CallLeg).where(CallLeg.call_sid == row.call_sid,
                                                      CallLeg.role == "target"))).all()
    assert legs == []
    [after] = app.requests_to("/after")
    assert after.form["DialCallStatus"] == "failed"
