"""Seed 001 ``POST /api/v1/sms/send``, message reads, carrier webhooks, consent keywords.

Texts leave through a fake carrier API over real HTTP (each carrier's
documented request checked there); "nothing leaves" is asserted at it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.config import Settings
from switchboard.models import Message, SmsConsent, Tenant, WebhookDelivery
from tests.api.conftest import World, make_settings
from tests.api.sb_fake_messaging import (
    PLIVO_TOKEN,
    TWILIO_TOKEN,
    fake_messaging,
    plivo_signature,
    twilio_signature,
)
from tests.api.sb_messaging_setup import app_with_manual_sender, sms_number
from tests.api.sb_resource_helpers import assert_v1_error

DID = "+15125550123"
CUSTOMER = "+15557654321"
BASE = "http://testserver"


@pytest.fixture
def carrier() -> Iterator[object]:
    with fake_messaging() as server:
        yield server


@pytest.fixture
def api_settings(tmp_path: Path, carrier: object) -> Settings:
    base = carrier.base_url  # type: ignore[attr-defined]
    return make_settings(tmp_path, webhook_validation=True, public_base_url=BASE,
                         carrier_api_urls={"twilio": base, "telnyx": base, "plivo": base})


@pytest.fixture
async def app(api_settings: Settings,
              sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[FastAPI]:
    async with app_with_manual_sender(api_settings, sessionmaker) as application:
        yield application


@pytest.fixture
async def twilio_number(sessionmaker: async_sessionmaker[AsyncSession], world: World) -> str:
    async with sessionmaker() as s:
        tenant = await s.get(Tenant, world.tenant.id)
        assert tenant is not None
        tenant.quiet_hours_start = tenant.quiet_hours_end = None
        await s.commit()
    number = await sms_number(sessionmaker, world.tenant, DID)
    return number.id


def _send(**fields: object) -> dict[str, object]:
    return {"from_number": DID, "to_number": CUSTOMER, "body": "Your table is ready", **fields}


async def test_send_queues_then_the_carrier_receives_its_documented_request(
    client: httpx.AsyncClient, app: FastAPI, world: World, twilio_number: str, carrier: object,
) -> None:
    r = await client.post("/api/v1/sms/send", headers=world.headers("agent"), json=_send(
        media_urls=["https://cdn.example/menu.png"],
        status_callback_url="https://hooks.example/sms"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["sid"].startswith("SM") and len(body["sid"]) == 34
    assert (body["status"], body["direction"], body["num_segments"], body["encoding"],
            body["num_media"]) == ("queued", "outbound-api", 1, "GSM-7", 1)
    await app.state.messaging.run_once()
    [sent] = carrier.sent  # type: ignore[attr-defined]
    assert sent.carrier == "twilio"
    assert sent.form == [("From", DID), ("To", CUSTOMER), ("Body", "Your table is ready"),
                         ("MediaUrl", "https://cdn.example/menu.png"),
                         ("StatusCallback", f"{BASE}/api/messaging/twilio/status")]
    got = (await client.get(f"/api/v1/sms/messages/{body['sid']}",
                            headers=world.headers("read-only"))).json()
    assert (got["status"], got["transport"]) == ("sending", "twilio")


async def test_long_unicode_text_is_counted_and_billed_per_ucs2_segment(
    client: httpx.AsyncClient, world: World, twilio_number: str
) -> None:
    text = "Привет! " * 20  # 160 characters, Cyrillic: UCS-2, 67 per part
    r = await client.post("/api/v1/sms/send", headers=world.headers(), json=_send(body=text))
    body = r.json()
    assert (body["encoding"], body["num_segments"], body["price"]) == ("UCS-2", 3, "0.0237")


async def test_body_over_1600_characters_is_422_and_nothing_is_queued(
    client: httpx.AsyncClient, world: World, twilio_number: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    assert_v1_error(await client.post("/api/v1/sms/send", headers=world.headers(),
                                      json=_send(body="a" * 1601)), 422)
    assert_v1_error(await client.post("/api/v1/sms/send", headers=world.headers(),
                                      json=_send(to_number="12")), 400, "bad_request")
    assert_v1_error(await client.post("/api/v1/sms/send", headers=world.headers(),
                                      json=_send(media_urls=["file:///etc/passwd"])), 400)
    async with sessionmaker() as s:
        assert (await s.scalars(select(Message))).all() == []


async def test_a_number_without_sms_or_of_another_tenant_cannot_send(
    client: httpx.AsyncClient, world: World, twilio_number: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    other = await sms_number(sessionmaker, world.other, "+15125550777")
    details = assert_v1_error(await client.post(
        "/api/v1/sms/send", headers=world.headers(), json=_send(from_number=other.e164)), 400)
    assert details["field"] == "from_number"
    async with sessionmaker() as s:
        from switchboard.models import PhoneNumber
        row = await s.get(PhoneNumber, twilio_number)
        assert row is not None
        row.sms_enabled = False
        await s.commit()
    details = assert_v1_error(await client.post("/api/v1/sms/send", headers=world.headers(),
                                                json=_send()), 400)
    assert "not enabled for SMS" in details["message"]


async def test_do_not_call_number_is_451_with_the_reason_and_nothing_leaves(
    client: httpx.AsyncClient, app: FastAPI, world: World, twilio_number: str, carrier: object,
) -> None:
    r = await client.post("/api/v1/compliance/dnc", headers=world.headers(),
                          json={"phone": CUSTOMER, "reason": "asked on the phone"})
    assert r.status_code == 201
    r = await client.post("/api/v1/sms/send", headers=world.headers(), json=_send())
    details = assert_v1_error(r, 451, "compliance_blocked")
    assert r.json()["error"] == "Unavailable For Legal Reasons"
    assert details["reason"] == "do_not_call" and details["list_reason"] == "asked on the phone"
    await app.state.messaging.run_once()
    assert carrier.sent == []  # type: ignore[attr-defined]


def _twilio_inbound(body: str, sid: str = "SMa1", sender: str = CUSTOMER) -> list[tuple[str, str]]:
    return [("MessageSid", sid), ("AccountSid", "AC" + "0" * 32), ("From", sender),
            ("To", DID), ("Body", body), ("NumMedia", "0")]


async def _post_twilio(client: httpx.AsyncClient, path: str, form: list[tuple[str, str]],
                       token: str = TWILIO_TOKEN) -> httpx.Response:
    url = f"{BASE}{path}"
    return await client.post(path, data=dict(form), headers={
        "X-Twilio-Signature": twilio_signature(token, url, form)})


async def test_stop_opts_out_with_a_confirmation_then_sends_are_451_until_start(
    client: httpx.AsyncClient, app: FastAPI, world: World, twilio_number: str, carrier: object,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    r = await _post_twilio(client, "/api/messaging/twilio/inbound", _twilio_inbound("Stop"))
    assert r.status_code == 200, r.text
    await app.state.messaging.run_once()
    [confirmation] = carrier.sent  # type: ignore[attr-defined]
    assert confirmation.fields["To"] == CUSTOMER
    assert "unsubscribed" in confirmation.fields["Body"]
    async with sessionmaker() as s:
        consent = (await s.scalars(select(SmsConsent))).one()
        assert (consent.phone, consent.opted_out, consent.opt_out_keyword) == (CUSTOMER, True,
                                                                              "STOP")
        assert consent.opted_out_at is not None
    r = await client.post("/api/v1/sms/send", headers=world.headers(), json=_send())
    assert assert_v1_error(r, 451)["reason"] == "opted_out"
    await app.state.messaging.run_once()
    assert len(carrier.sent) == 1  # type: ignore[attr-defined]
    # START opts back in (confirmed), then texts go again.
    await _post_twilio(client, "/api/messaging/twilio/inbound", _twilio_inbound("START", "SMa2"))
    assert (await client.post("/api/v1/sms/send", headers=world.headers(),
                              json=_send())).status_code == 201
    await app.state.messaging.run_once()
    later = sorted(s.fields["Body"] for s in carrier.sent[1:])  # type: ignore[attr-defined]
    assert later[1] == "Your table is ready" and "subscribed again" in later[0]
    consents = (await client.get("/api/v1/compliance/consents",
                                 headers=world.headers("agent"))).json()["items"]
    assert [(c["phone"], c["opted_out"], c["source"]) for c in consents] == [
        (CUSTOMER, False, "keyword")]


async def test_help_is_answered_and_unsigned_webhooks_are_refused(
    client: httpx.AsyncClient, app: FastAPI, world: World, twilio_number: str, carrier: object,
) -> None:
    forged = await _post_twilio(client, "/api/messaging/twilio/inbound", _twilio_inbound("HELP"),
                                token="0" * 32)
    assert forged.status_code == 403
    r = await _post_twilio(client, "/api/messaging/twilio/inbound", _twilio_inbound("HELP"))
    assert r.status_code == 200
    await app.state.messaging.run_once()
    [reply] = carrier.sent  # type: ignore[attr-defined]
    assert "Reply STOP to unsubscribe" in reply.fields["Body"]
    unknown = await _post_twilio(client, "/api/messaging/twilio/inbound",
                                 [*_twilio_inbound("hi")[:3], ("To", "+15550000000")])
    assert unknown.status_code == 404


async def test_inbound_text_is_posted_to_the_number_messaging_url_signed_through_the_outbox(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    number = await sms_number(sessionmaker, world.tenant, DID,
                              sms_url="https://app.example/sms")
    form = [*_twilio_inbound("Table for 4?"), ("NumMedia", "1"),
            ("MediaUrl0", "https://media.example/a.jpg")]
    form = [f for f in form if f != ("NumMedia", "0")]
    r = await _post_twilio(client, "/api/messaging/twilio/inbound", form)
    assert r.status_code == 200
    async with sessionmaker() as s:
        inbound = (await s.scalars(select(Message))).one()
        delivery = (await s.scalars(select(WebhookDelivery))).one()
    assert (inbound.direction, inbound.status, inbound.number_id) == ("inbound", "received",
                                                                      number.id)
    assert delivery.url == "https://app.example/sms" and delivery.kind == "message-inbound"
    params = delivery.params
    assert params["MessageSid"] == inbound.message_sid and len(params["MessageSid"]) == 34
    assert params["MessageSid"].startswith("SM")
    assert params["AccountSid"] == world.tenant.account_sid
    assert (params["From"], params["To"], params["Body"], params["NumMedia"],
            params["MediaUrl0"], params["NumSegments"]) == (
        CUSTOMER, DID, "Table for 4?", "1", "https://media.example/a.jpg", "1")
    listed = (await client.get(f"/api/v1/sms/messages?number_id={number.id}",
                               headers=world.headers())).json()
    assert [m["sid"] for m in listed["items"]] == [inbound.message_sid]


async def test_carrier_status_callbacks_move_the_message_and_reach_its_callback(
    client: httpx.AsyncClient, app: FastAPI, world: World, twilio_number: str, carrier: object,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    r = await client.post("/api/v1/sms/send", headers=world.headers(),
                          json=_send(status_callback_url="https://hooks.example/status"))
    sid = r.json()["sid"]
    await app.state.messaging.run_once()
    [sent] = carrier.sent  # type: ignore[attr-defined]
    for status in ("sent", "delivered", "sent"):  # a late "sent" does not go backwards
        form = [("MessageSid", sent.id), ("MessageStatus", status),
                ("AccountSid", "AC" + "0" * 32), ("From", DID), ("To", CUSTOMER)]
        assert (await _post_twilio(client, "/api/messaging/twilio/status",
                                   form)).status_code == 204
    got = (await client.get(f"/api/v1/sms/messages/{sid}", headers=world.headers())).json()
    assert got["status"] == "delivered" and got["delivered_at"] is not None
    async with sessionmaker() as s:
        rows = (await s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.sequence))).all()
    assert [(d.params["MessageStatus"], d.params["MessageSid"]) for d in rows] == [
        ("queued", sid), ("sent", sid), ("delivered", sid)]
    assert {d.url for d in rows} == {"https://hooks.example/status"}


async def test_plivo_inbound_and_status_with_v2_signatures(
    client: httpx.AsyncClient, app: FastAPI, world: World, carrier: object,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as s:
        tenant = await s.get(Tenant, world.tenant.id)
        assert tenant is not None
        tenant.quiet_hours_start = tenant.quiet_hours_end = None
        await s.commit()
    await sms_number(sessionmaker, world.tenant, DID, integration="plivo")

    async def post(path: str, form: list[tuple[str, str]], token: str = PLIVO_TOKEN) -> int:
        nonce = "12345678901234567890"
        url = f"{BASE}{path}"
        r = await client.post(path, data=dict(form), headers={
            "X-Plivo-Signature-V2": plivo_signature(token, url, nonce),
            "X-Plivo-Signature-V2-Nonce": nonce})
        return r.status_code

    inbound = [("From", CUSTOMER.lstrip("+")), ("To", DID.lstrip("+")), ("Text", "UNSUBSCRIBE"),
               ("Type", "sms"), ("MessageUUID", "a1b2")]
    assert await post("/api/messaging/plivo/inbound", inbound, token="x" * 40) == 403
    assert await post("/api/messaging/plivo/inbound", inbound) == 204
    await app.state.messaging.run_once()
    [reply] = carrier.sent  # type: ignore[attr-defined]
    assert (reply.carrier, reply.fields["dst"], reply.fields["src"], reply.fields["type"]) == (
        "plivo", CUSTOMER.lstrip("+"), DID.lstrip("+"), "sms")
    assert reply.fields["url"] == f"{BASE}/api/messaging/plivo/status"
    assert await post("/api/messaging/plivo/status", [
        ("MessageUUID", reply.id), ("Status", "delivered"), ("From", DID), ("To", CUSTOMER)]) == 204
    async with sessionmaker() as s:
        message = (await s.scalars(select(Message).where(Message.provider_id == reply.id))).one()
    assert (message.status, message.kind) == ("delivered", "consent")


async def test_messages_are_listed_per_contact_and_foreign_ids_are_404(
    client: httpx.AsyncClient, world: World, twilio_number: str,
) -> None:
    contact = (await client.post("/api/v1/contacts", headers=world.headers(), json={
        "name": "Jane Roe", "phone": CUSTOMER})).json()
    sid = (await client.post("/api/v1/sms/send", headers=world.headers(),
                             json=_send())).json()["sid"]
    got = (await client.get(f"/api/v1/contacts/{contact['id']}/messages",
                            headers=world.headers())).json()
    assert [m["sid"] for m in got["items"]] == [sid]
    assert got["items"][0]["contact_id"] == contact["id"]
    assert_v1_error(await client.get(f"/api/v1/sms/messages/{sid}",
                                     headers=world.other_headers()), 404)
    outbound = (await client.get("/api/v1/sms/messages?direction=outbound",
                                 headers=world.headers())).json()
    assert outbound["total"] == 1


async def test_telnyx_send_status_and_inbound_events_signed_with_ed25519(
    client: httpx.AsyncClient, app: FastAPI, world: World, carrier: object,
    sessionmaker: async_sessionmaker[AsyncSession], api_settings: Settings,
) -> None:
    import base64
    import json
    import time

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    api_settings.telnyx_public_key = base64.b64encode(public).decode()
    async with sessionmaker() as s:
        tenant = await s.get(Tenant, world.tenant.id)
        assert tenant is not None
        tenant.quiet_hours_start = tenant.quiet_hours_end = None
        await s.commit()
    await sms_number(sessionmaker, world.tenant, DID, integration="telnyx")

    async def event(kind: str, payload: dict[str, object], *, signer=key) -> int:
        raw = json.dumps({"data": {"event_type": kind, "id": "ev1",
                                   "payload": payload}}).encode()
        stamp = str(int(time.time()))
        signature = base64.b64encode(signer.sign(stamp.encode() + b"|" + raw)).decode()
        r = await client.post("/api/messaging/telnyx/status", content=raw, headers={
            "Content-Type": "application/json", "telnyx-timestamp": stamp,
            "telnyx-signature-ed25519": signature})
        return r.status_code

    sid = (await client.post("/api/v1/sms/send", headers=world.headers(), json=_send(
        media_urls=["https://cdn.example/a.png"]))).json()["sid"]
    await app.state.messaging.run_once()
    [sent] = carrier.sent  # type: ignore[attr-defined]
    assert (sent.carrier, sent.fields["from"], sent.fields["to"], sent.fields["text"],
            sent.fields["media_urls"], sent.fields["webhook_url"]) == (
        "telnyx", DID, CUSTOMER, "Your table is ready", ["https://cdn.example/a.png"],
        f"{BASE}/api/messaging/telnyx/status")
    finalized = {"id": sent.id, "to": [{"phone_number": CUSTOMER, "status": "delivered"}]}
    assert await event("message.finalized", finalized,
                       signer=Ed25519PrivateKey.generate()) == 403
    assert await event("message.finalized", finalized) == 204
    got = (await client.get(f"/api/v1/sms/messages/{sid}", headers=world.headers())).json()
    assert got["status"] == "delivered"
    assert await event("message.received", {
        "id": "in-1", "from": {"phone_number": CUSTOMER}, "to": [{"phone_number": DID}],
        "text": "Thanks!", "media": [{"url": "https://telnyx.example/m.jpg"}]}) == 204
    inbound = (await client.get("/api/v1/sms/messages?direction=inbound",
                                headers=world.headers())).json()["items"]
    assert [(m["from_number"], m["body"], m["media_urls"], m["transport"]) for m in inbound] == [
        (CUSTOMER, "Thanks!", ["https://telnyx.example/m.jpg"], "telnyx")]


@pytest.mark.parametrize("raw", [b"", b"[]", b'{"data": "x"}', b'{"data": {"payload": [1]}}',
                                 b'{"data": {"event_type": "message.received", '
                                 b'"payload": {"to": "x", "media": 3}}}'])
async def test_malformed_telnyx_events_are_4xx_never_500(
    client: httpx.AsyncClient, world: World, raw: bytes, api_settings: Settings
) -> None:
    api_settings.webhook_validation = False
    r = await client.post("/api/messaging/telnyx/status", content=raw,
                          headers={"Content-Type": "application/json"})
    assert r.status_code in (204, 400, 404), r.text
