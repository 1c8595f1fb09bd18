"""Texts over SIP MESSAGE through a real Asterisk, between real SIP user agents (baresip).

Two desk phones text each other through Asterisk (MESSAGE → ARI
``TextMessageReceived`` → the engine → ARI ``sendMessage`` → the other
phone); a carrier's user agent behind a SIP trunk texts one of the tenant's
numbers, which reaches the desk phone of that number, and the phone texts
back out through the trunk. A STOP from the carrier side opts the sender out:
the next text to it is refused (451) and nothing reaches its user agent.
"""

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
from switchboard.models import Endpoint, Message, PhoneNumber, Tenant, Trunk
from switchboard.models.state import bump_routing_revision
from switchboard.services import api_keys
from switchboard.services.roles import Role
from tests.integration.messaging_stack import running_stack
from tests.integration.sip_phones import Phone, baresip_available

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.skipif(not baresip_available(), reason="baresip is installed by scripts/bootstrap"),
]

DID = "+15125550123"
OUTSIDE = "+15557654321"
CARRIER_HOST = "127.0.0.2"  # a second loopback address: the trunk is identified by it


@pytest.fixture
async def stack(clean_asterisk: AsteriskInstance, db_url, db_engine, sessionmaker,
                tmp_path: Path) -> AsyncIterator[tuple[Engine, httpx.AsyncClient]]:
    async with running_stack(clean_asterisk, db_url, sessionmaker, tmp_path) as running:
        yield running


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[list[Phone]]:
    started: list[Phone] = []
    yield started
    for phone in started:
        phone.stop()


async def _seed(sessionmaker, carrier_port: int,
                sms_url: str | None = None) -> tuple[str, dict[str, str]]:
    """A tenant: a SIP trunk to the carrier's agent, its number, two desk phones on it."""
    async with sessionmaker() as s, s.begin():
        tenant = Tenant(name="Aster Grove", quiet_hours_start=None, quiet_hours_end=None)
        s.add(tenant)
        await s.flush()
        trunk = Trunk(tenant_id=tenant.id, name=f"carrier{tenant.id[:8]}", kind="pjsip",
                      integration="sip", host=CARRIER_HOST, port=carrier_port,
                      inbound_match=CARRIER_HOST)
        s.add(trunk)
        await s.flush()
        s.add(PhoneNumber(tenant_id=tenant.id, e164=DID, trunk_id=trunk.id, sms_enabled=True,
                          sms_url=sms_url))
        for name in ("alice", "bob"):
            s.add(Endpoint(tenant_id=tenant.id, name=f"{name}{tenant.id[:4]}",
                           password=f"pw-{name}-secret", caller_id=DID))
        await bump_routing_revision(s)
    async with sessionmaker() as s, s.begin():
        created = await api_keys.create_key(s, tenant.id, name="ops", role=Role.AGENT)
    return tenant.id, {"X-API-Key": created.key}


async def _endpoints_loaded(asterisk: AsteriskInstance, *names: str) -> None:
    for _ in range(100):
        shown = await asyncio.to_thread(asterisk.cli, "pjsip show endpoints")
        if all(name in shown for name in names):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"endpoints {names} never reached Asterisk")


async def _messages(sessionmaker) -> list[Message]:
    async with sessionmaker() as s:
        return list((await s.scalars(select(Message).order_by(Message.created_at))).all())


async def _settled(sessionmaker, timeout: float = 10.0) -> list[Message]:
    """The messages once the sender has recorded every outcome (none queued or sending)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = await _messages(sessionmaker)
        if all(m.status not in ("queued", "sending") for m in rows):
            return rows
        assert asyncio.get_running_loop().time() < deadline, [(m.message_sid, m.status) for m in rows]
        await asyncio.sleep(0.05)


async def test_desk_phones_text_each_other_and_a_carrier_through_a_trunk_both_ways(
    stack, clean_asterisk: AsteriskInstance, sessionmaker, phones: list[Phone], tmp_path: Path,
) -> None:
    engine, client = stack
    asterisk = f"{clean_asterisk.host}:{clean_asterisk.sip_port}"
    carrier = Phone(tmp_path, user=OUTSIDE, domain=asterisk, host=CARRIER_HOST,
                    peer=f"sip:{DID}@{asterisk}")
    tenant_id, headers = await _seed(sessionmaker, carrier.sip_port)
    alice_name, bob_name = f"alice{tenant_id[:4]}", f"bob{tenant_id[:4]}"
    await _endpoints_loaded(clean_asterisk, alice_name, bob_name, f"carrier{tenant_id[:8]}")
    alice = Phone(tmp_path, user=alice_name, domain=asterisk, password="pw-alice-secret",
                  peer=f"sip:{bob_name}@{asterisk}")
    bob = Phone(tmp_path, user=bob_name, domain=asterisk, password="pw-bob-secret",
                peer=f"sip:{alice_name}@{asterisk}")
    phones.extend([alice, bob, carrier])
    for phone in (alice, bob):
        await asyncio.to_thread(phone.start, registered=True)
    await asyncio.to_thread(carrier.start, registered=False)

    # Phone to phone, both ways.
    await asyncio.to_thread(alice.send_message, "Lunch at noon?")
    got = await asyncio.to_thread(bob.wait_for_message, "Lunch at noon?")
    assert got.from_user == DID  # sent from the phones' number
    await asyncio.to_thread(bob.send_message, "Yes, see you")
    await asyncio.to_thread(alice.wait_for_message, "Yes, see you")

    # A carrier's agent texts the number through the trunk: both desk phones of it get it.
    await asyncio.to_thread(carrier.send_message, "Is the gym open today?")
    for phone in (alice, bob):
        got = await asyncio.to_thread(phone.wait_for_message, "Is the gym open today?")
        assert got.from_user == OUTSIDE
    # The API sends out through the trunk to the carrier's agent.
    r = await client.post("/api/v1/sms/send", headers=headers, json={
        "from_number": DID, "to_number": OUTSIDE, "body": "Open until 10pm"})
    assert r.status_code == 201, r.text
    got = await asyncio.to_thread(carrier.wait_for_message, "Open until 10pm")
    assert got.from_user == DID

    rows = await _settled(sessionmaker)
    inbound = [m for m in rows if m.direction == "inbound"]
    assert [(m.from_number, m.to_number, m.transport) for m in inbound] == [
        (OUTSIDE, DID, "sip")]
    api_sent = [m for m in rows if m.direction == "outbound-api"][0]
    assert (api_sent.status, api_sent.transport) == ("sent", "sip")
    phone_to_phone = [m for m in rows if m.direction == "outbound-phone"]
    assert sorted(m.to_number for m in phone_to_phone) == [f"endpoint:{alice_name}",
                                                           f"endpoint:{bob_name}"]
    assert engine.texts.received == 3

    # STOP from the carrier side: confirmed, then nothing more reaches it.
    await asyncio.to_thread(carrier.send_message, "STOP")
    await asyncio.to_thread(carrier.wait_for_message, "Aster Grove: You are unsubscribed and "
                            "will receive no more messages. Reply START to resubscribe.")
    r = await client.post("/api/v1/sms/send", headers=headers, json={
        "from_number": DID, "to_number": OUTSIDE, "body": "Flash sale!"})
    assert r.status_code == 451 and r.json()["details"]["reason"] == "opted_out"
    await asyncio.sleep(1.0)  # time for anything wrongly sent to arrive
    assert [m.body for m in carrier.received_messages()][-1].startswith("Aster Grove: You are")
    assert "Flash sale!" not in {m.body for m in carrier.received_messages()}


async def test_a_text_is_posted_signed_to_the_messaging_url_and_its_message_answer_is_sent(
    stack, clean_asterisk: AsteriskInstance, sessionmaker, phones: list[Phone], tmp_path: Path,
) -> None:
    """The provider contract for texts, through a real trunk: the customer's app answers."""
    asterisk = f"{clean_asterisk.host}:{clean_asterisk.sip_port}"
    carrier = Phone(tmp_path, user=OUTSIDE, domain=asterisk, host=CARRIER_HOST,
                    peer=f"sip:{DID}@{asterisk}")
    phones.append(carrier)
    app = Receiver(token="")
    app.routes["/sms"] = Reply(body="<Response><Message>We open at 6am.</Message>"
                                    "<Redirect>/ignored</Redirect></Response>")
    app.start()
    try:
        tenant_id, _ = await _seed(sessionmaker, carrier.sip_port, sms_url=app.url("/sms"))
        async with sessionmaker() as s, s.begin():
            token = await s.scalar(select(Tenant.auth_token).where(Tenant.id == tenant_id))
        app.token = token or ""
        await _endpoints_loaded(clean_asterisk, f"carrier{tenant_id[:8]}")
        await asyncio.to_thread(carrier.start, registered=False)
        await asyncio.to_thread(carrier.send_message, "When do you open?")
        got = await asyncio.to_thread(carrier.wait_for_message, "We open at 6am.")
        assert got.from_user == DID
        [posted] = app.requests_to("/sms")
        assert posted.signature_ok
        form = posted.form
        assert form["MessageSid"].startswith("SM") and len(form["MessageSid"]) == 34
        assert (form["From"], form["To"], form["Body"], form["NumMedia"],
                form["NumSegments"]) == (OUTSIDE, DID, "When do you open?", "0", "1")
        rows = await _settled(sessionmaker)
        reply = [m for m in rows if m.direction == "outbound-reply"][0]
        assert (reply.reply_to_sid, reply.status) == (form["MessageSid"], "sent")
    finally:
        app.stop()


async def test_a_desk_phone_rung_for_a_contact_shows_the_contact_name(
    stack, clean_asterisk: AsteriskInstance, sessionmaker, phones: list[Phone], tmp_path: Path,
) -> None:
    from switchboard.models import Contact, ForwardingRule
    from switchboard.models.state import bump_routing_revision
    from switchboard.services.compliance import CONTACTS_REVISION, bump_revision

    engine, client = stack
    asterisk = f"{clean_asterisk.host}:{clean_asterisk.sip_port}"
    tenant_id, headers = await _seed(sessionmaker, carrier_port=5999)
    alice_name = f"alice{tenant_id[:4]}"
    async with sessionmaker() as s, s.begin():
        number = (await s.scalars(select(PhoneNumber).where(PhoneNumber.e164 == DID))).one()
        s.add(ForwardingRule(tenant_id=tenant_id, number_id=number.id, priority=0,
                             targets=[f"endpoint:{alice_name}"], ring_timeout=4))
        s.add(Contact(tenant_id=tenant_id, name="Jane Roe", phone=OUTSIDE, tags=[]))
        await bump_revision(s, CONTACTS_REVISION)
        await bump_routing_revision(s)
    await _endpoints_loaded(clean_asterisk, alice_name)
    alice = Phone(tmp_path, user=alice_name, domain=asterisk, password="pw-alice-secret",
                  peer=f"sip:nobody@{asterisk}")
    phones.append(alice)
    await asyncio.to_thread(alice.start, registered=True)
    await engine.routing.reload()
    for _ in range(100):
        if engine.calls.executor.dialer.caller_name(tenant_id, OUTSIDE):  # type: ignore[misc]
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the contact never reached the engine's directory")
    # A real caller (not the simulator, whose targets are simulated too): a Local
    # channel into the DID context with the contact's number as caller ID.
    settings = engine.settings
    async with httpx.AsyncClient(auth=(settings.ari_user, settings.ari_password)) as ari:
        r = await ari.post(
            f"http://{settings.asterisk_host}:{settings.ari_port}/ari/channels",
            params={"endpoint": f"Local/{DID}@switchboard-did", "context": "sb-sim-caller",
                    "extension": "s", "priority": "1", "callerId": f'"{OUTSIDE}" <{OUTSIDE}>',
                    "timeout": "30"},
            json={"variables": {"SB_HOLD": "6"}}, timeout=10)
        assert r.status_code < 300, r.text
    for _ in range(150):
        if alice.invites_from():
            break
        await asyncio.sleep(0.1)
    assert alice.invites_from()[0].startswith('"Jane Roe" <sip:+15557654321@')
    live = (await client.get("/api/v1/calls/live", headers=headers)).json()["items"]
    assert [(c["from_number"], c["contact_name"]) for c in live] == [(OUTSIDE, "Jane Roe")]
