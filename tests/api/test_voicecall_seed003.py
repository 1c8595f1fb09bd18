"""Seed 003 VoiceCall: ``POST /api/v1/voice-calls``, asserted field by field.

Every body field of the seed is required; enums are upper-case and
case-sensitive; ``price`` is a string; ``provider`` is ``VONAGE``. The record
joins the one call log, so ``/api/call-logs`` shows it in the same shape.
"""

from __future__ import annotations

import pytest
from sb_resource_helpers import assert_v1_error

from switchboard.models import Contact

PATH = "/api/v1/voice-calls"
CLIENT = "d290f1ee-6c54-4b01-90e6-d701748f0851"  # a contact of the tenant (the seed's example id)


@pytest.fixture(autouse=True)
async def client_contact(world, sessionmaker):
    """``clientId`` names one of the business's contacts."""
    async with sessionmaker() as s:
        s.add(Contact(id=CLIENT, tenant_id=world.tenant.id, name="Jane Client",
                      phone="+14155550148", tags=[]))
        await s.commit()
FIELDS = ["id", "staffId", "clientId", "from", "to", "direction", "status", "price",
          "provider", "sourceId", "externalId", "businessId", "createdAt", "updatedAt"]


def _body(world, **overrides):
    body = {
        "staffId": world.actor("agent").user.id,
        "clientId": "d290f1ee-6c54-4b01-90e6-d701748f0851",
        "from": "+14155550148",
        "to": "+14155550901",
        "direction": "INBOUND",
        "status": "MISSED",
        "price": "0.05",
        "provider": "VONAGE",
        "sourceId": "call-src-001",
        "externalId": "ext-call-001",
        "businessId": world.tenant.id,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


async def test_create_voice_call_returns_the_record(client, world):
    r = await client.post(PATH, headers=world.headers("agent", via="jwt"), json=_body(world))
    assert r.status_code == 201, r.text
    call = r.json()
    assert list(call) == FIELDS
    assert call["staffId"] == world.actor("agent").user.id
    assert call["clientId"] == "d290f1ee-6c54-4b01-90e6-d701748f0851"
    assert (call["from"], call["to"]) == ("+14155550148", "+14155550901")
    assert (call["direction"], call["status"]) == ("INBOUND", "MISSED")
    assert call["price"] == "0.05" and isinstance(call["price"], str)
    assert call["provider"] == "VONAGE"
    assert (call["sourceId"], call["externalId"]) == ("call-src-001", "ext-call-001")
    assert call["businessId"] == world.tenant.id

    reader = world.headers("read-only")
    r = await client.get(f"{PATH}/{call['id']}", headers=reader)
    assert r.json() == call
    r = await client.get(PATH, headers=reader)
    assert r.json()["total"] == 1 and r.json()["items"] == [call]
    r = await client.get("/api/call-logs", headers=reader)
    row = r.json()["callLogs"][0]
    assert {k: row[k] for k in FIELDS} == call
    r = await client.get("/api/v1/calls/logs", headers=reader, params={"disposition": "MISSED"})
    assert r.json()["items"][0]["call_sid"] == "call-src-001"


@pytest.mark.parametrize("overrides,field", [
    ({"direction": "inbound"}, "direction"),
    ({"status": "missed"}, "status"),
    ({"status": "VOICEMAIL"}, "status"),
    ({"provider": "TWILIO"}, "provider"),
    ({"price": 0.05}, "price"),
    ({"sourceId": None}, "sourceId"),
    ({"businessId": None}, "businessId"),
    ({"staffId": None}, "staffId"),
    ({"extra": 1}, "extra"),
])
async def test_seed_constraints_are_422(client, world, overrides, field):
    r = await client.post(PATH, headers=world.headers("agent"), json=_body(world, **overrides))
    assert assert_v1_error(r, 422, "validation_error")["field"] == field


@pytest.mark.parametrize("overrides,status,field", [
    ({"from": "4155550148"}, 400, "from"),
    ({"price": "five"}, 400, "price"),
    ({"businessId": "d290f1ee-6c54-4b01-90e6-d701748f0851"}, 404, "businessId"),
    ({"staffId": "d290f1ee-6c54-4b01-90e6-d701748f0851"}, 404, "staffId"),
    ({"clientId": "0b2c7d3e-0000-4000-8000-000000000001"}, 404, "clientId"),
])
async def test_semantic_errors(client, world, overrides, status, field):
    r = await client.post(PATH, headers=world.headers("agent"), json=_body(world, **overrides))
    assert assert_v1_error(r, status)["field"] == field


async def test_duplicate_source_auth_roles_and_foreign_ids(client, world):
    agent = world.headers("agent")
    r = await client.post(PATH, headers=agent, json=_body(world))
    call_id = r.json()["id"]
    r = await client.post(PATH, headers=agent, json=_body(world))
    assert assert_v1_error(r, 409, "conflict")["field"] == "sourceId"
    assert_v1_error(await client.post(PATH, json=_body(world)), 401)
    r = await client.post(PATH, headers=world.headers("read-only"),
                          json=_body(world, sourceId="call-src-002"))
    assert_v1_error(r, 403, "forbidden")
    other = world.other_headers()
    assert_v1_error(await client.get(f"{PATH}/{call_id}", headers=other), 404)
    r = await client.post(PATH, headers=other, json=_body(world, sourceId="call-src-003"))
    assert_v1_error(r, 404)
