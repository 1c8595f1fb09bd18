"""Seed 004 ``POST /api/call/add-phone``, asserted field by field against the seed.

The carrier's cloud API is the local fake of ``sb_fake_carrier`` (real HTTP).
"""

from __future__ import annotations

import re

import pytest
import sb_fake_carrier as fc
from sqlalchemy import select

from switchboard.engine.pjsip_sync import render_pjsip
from switchboard.models.telephony import Trunk
from switchboard.services import numbers
from switchboard.services.carrier_sip import TELNYX_SIGNALLING, TWILIO_SIGNALLING

PATH = "/api/call/add-phone"


@pytest.fixture
def carrier_url():
    with fc.fake_carrier() as url:
        yield url


@pytest.fixture
def api_settings(api_settings, carrier_url):
    """The suite's settings, with every carrier API at the local fake."""
    api_settings.carrier_api_urls.update(
        {"twilio": carrier_url, "plivo": carrier_url, "telnyx": carrier_url})
    return api_settings


def _body(world, **overrides):
    body = {"userId": world.actor("agent").user.id, "phoneNumber": "12125551234",
            "integration": "twilio", "authToken": fc.TWILIO_TOKEN, "accSId": fc.TWILIO_SID}
    body.update(overrides)
    return body


def assert_envelope_error(response, code: int) -> str:
    assert response.status_code == code, response.text
    body = response.json()
    assert set(body) == {"message", "status", "code", "errorMessage", "data"}, body
    assert body["status"] is False and body["code"] == code and body["data"] is None
    assert body["errorMessage"] and body["message"] == body["errorMessage"]
    return str(body["errorMessage"])


async def test_add_phone_answers_the_seed_envelope(client, world, sessionmaker):
    r = await client.post(PATH, headers=world.headers("admin", via="jwt"), json=_body(world))
    assert r.status_code == 201, r.text
    body = r.json()
    assert list(body) == ["message", "status", "code", "errorMessage", "data"]
    assert body["message"] == "Phone number added successfully"
    assert body["status"] is True
    assert body["code"] == 201
    assert body["errorMessage"] == ""
    data = body["data"]
    assert list(data) == ["_id", "userId", "phoneNumber", "integration", "createdAt"]
    assert data["userId"] == world.actor("agent").user.id
    assert data["phoneNumber"] == "12125551234"
    assert data["integration"] == "twilio"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["createdAt"])
    async with sessionmaker() as s:
        number = await numbers.get_number(s, world.tenant.id, data["_id"])
        assert number.e164 == "+12125551234" and number.enabled


@pytest.mark.parametrize("overrides", [
    {"integration": "plivo", "authToken": fc.PLIVO_TOKEN, "accSId": fc.PLIVO_ID},
    {"integration": "telnyx", "authToken": fc.TELNYX_KEY, "accSId": None},
    {"phoneNumber": "+12125551235"},
])
async def test_every_integration_connects(client, world, overrides):
    r = await client.post(PATH, headers=world.headers("admin"), json=_body(world, **overrides))
    assert r.status_code == 201, r.text
    assert r.json()["data"]["integration"] == _body(world, **overrides)["integration"]


async def test_same_number_for_the_same_user_is_400(client, world):
    admin = world.headers("admin")
    assert (await client.post(PATH, headers=admin, json=_body(world))).status_code == 201
    r = await client.post(PATH, headers=admin, json=_body(world))
    assert "already exists" in assert_envelope_error(r, 400)


@pytest.mark.parametrize("overrides,needle", [
    ({"userId": "bad id!"}, "Invalid User ID format"),
    ({"accSId": "AC123"}, "Account SID"),
    ({"authToken": "0" * 32}, "Invalid twilio credentials"),
    ({"phoneNumber": "12125550000"}, "not owned"),
    ({"phoneNumber": "12"}, "E.164"),
    ({"integration": "vonage"}, "integration"),
    ({"userId": None}, "userId"),
])
async def test_bad_requests_are_400_in_the_envelope(client, world, overrides, needle):
    r = await client.post(PATH, headers=world.headers("admin"), json=_body(world, **overrides))
    assert needle in assert_envelope_error(r, 400)


async def test_unknown_or_foreign_user_is_404(client, world):
    admin = world.headers("admin")
    r = await client.post(PATH, headers=admin, json=_body(world, userId="64e5f12345abcdef12345678"))
    assert assert_envelope_error(r, 404) == "User not found"
    foreign = world.other_admin.user.id
    r = await client.post(PATH, headers=admin, json=_body(world, userId=foreign))
    assert_envelope_error(r, 404)


async def test_unreachable_carrier_is_502_and_saves_nothing(client, world, app, sessionmaker):
    app.state.settings.carrier_api_urls["twilio"] = fc.dead_url()
    r = await client.post(PATH, headers=world.headers("admin"), json=_body(world))
    assert "unreachable" in assert_envelope_error(r, 502)
    async with sessionmaker() as s:
        assert (await numbers.list_numbers(s, world.tenant.id)).total == 0


async def test_auth_role_and_plan_limit(client, world):
    assert_envelope_error(await client.post(PATH, json=_body(world)), 401)
    r = await client.post(PATH, headers=world.headers("agent"), json=_body(world))
    assert_envelope_error(r, 403)
    admin = world.headers("admin")
    for n in ("12125551234", "12125551235", "12125551236"):  # the plan allows 3
        assert (await client.post(PATH, headers=admin,
                                  json=_body(world, phoneNumber=n))).status_code == 201
    # a fourth number, owned at the carrier too, is refused by the plan
    fc.OWNED.add("+12125551237")
    try:
        r = await client.post(PATH, headers=admin, json=_body(world, phoneNumber="12125551237"))
    finally:
        fc.OWNED.discard("+12125551237")
    assert "Plan allows 3" in assert_envelope_error(r, 403)


async def test_the_number_is_pointed_at_our_voice_webhooks(client, world, api_settings):
    r = await client.post(PATH, headers=world.headers("admin"), json=_body(world))
    assert r.status_code == 201, r.text
    base = api_settings.base_url
    assert fc.HOOKS["+12125551234"] == {"voice_url": f"{base}/api/voice/incoming",
                                       "status_url": f"{base}/api/voice/status"}


async def test_failed_webhook_setup_is_500_and_saves_nothing(client, world, sessionmaker):
    r = await client.post(PATH, headers=world.headers("admin"),
                          json=_body(world, phoneNumber=fc.REFUSES_WEBHOOKS))
    assert "Failed to set up twilio webhooks" in assert_envelope_error(r, 500)
    async with sessionmaker() as s:
        assert (await numbers.list_numbers(s, world.tenant.id)).total == 0


async def _trunk_of(client, world, integration: str) -> dict:
    r = await client.get("/api/v1/trunks", headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    found = [t for t in r.json()["items"] if t["integration"] == integration]
    assert len(found) == 1, r.json()
    return found[0]


async def test_twilio_number_gets_a_trunk_matching_twilios_signalling(client, world):
    admin = world.headers("admin")
    r = await client.post(PATH, headers=admin, json=_body(world))
    assert r.status_code == 201, r.text
    trunk = await _trunk_of(client, world, "twilio")
    assert trunk["kind"] == "pjsip" and trunk["host"] is None
    assert trunk["inbound_match"].split(",") == list(TWILIO_SIGNALLING)
    assert "pstn.twilio.com" in trunk["setup_note"] and "sipHost" in trunk["setup_note"]
    # The admin adds the termination host later: the same account's trunk is completed.
    r = await client.post(PATH, headers=admin, json=_body(
        world, phoneNumber="12125551235", sipHost="Acme-Main.pstn.twilio.com",
        sipUsername="acme", sipPassword="s3cret"))
    assert r.status_code == 201, r.text
    trunk = await _trunk_of(client, world, "twilio")
    assert trunk["host"] == "acme-main.pstn.twilio.com" and trunk["username"] == "acme"
    assert trunk["setup_note"] is None
    assert "s3cret" not in str(trunk)


async def test_telnyx_number_gets_sip_telnyx_com(client, world):
    body = _body(world, integration="telnyx", authToken=fc.TELNYX_KEY, accSId=None)
    r = await client.post(PATH, headers=world.headers("admin"), json=body)
    assert r.status_code == 201, r.text
    trunk = await _trunk_of(client, world, "telnyx")
    assert trunk["host"] == "sip.telnyx.com" and trunk["setup_note"] is None
    assert trunk["inbound_match"].split(",") == list(TELNYX_SIGNALLING)


async def test_plivo_trunk_notes_what_is_missing_until_the_admin_gives_it(client, world):
    admin = world.headers("admin")
    plivo = {"integration": "plivo", "authToken": fc.PLIVO_TOKEN, "accSId": fc.PLIVO_ID}
    r = await client.post(PATH, headers=admin, json=_body(
        world, **plivo, sipInboundMatch=["203.0.113.0/24", "198.51.100.7"]))
    assert r.status_code == 201, r.text
    trunk = await _trunk_of(client, world, "plivo")
    assert trunk["host"] is None
    assert trunk["inbound_match"] == "203.0.113.0/24,198.51.100.7"
    assert "zt.plivo.com" in trunk["setup_note"] and "sipInboundMatch" not in trunk["setup_note"]
    # A later number of the same account gives the host; the sources given before stay.
    r = await client.post(PATH, headers=admin, json=_body(
        world, **plivo, phoneNumber="12125551235", sipHost="21784177241578.zt.plivo.com"))
    assert r.status_code == 201, r.text
    trunk = await _trunk_of(client, world, "plivo")
    assert trunk["host"] == "21784177241578.zt.plivo.com"
    assert trunk["inbound_match"] == "203.0.113.0/24,198.51.100.7"
    assert trunk["setup_note"] is None


async def test_plivo_host_alone_still_asks_for_the_signalling_sources(client, world):
    r = await client.post(PATH, headers=world.headers("admin"), json=_body(
        world, integration="plivo", authToken=fc.PLIVO_TOKEN, accSId=fc.PLIVO_ID,
        sipHost="21784177241578.zt.plivo.com"))
    assert r.status_code == 201, r.text
    trunk = await _trunk_of(client, world, "plivo")
    assert trunk["inbound_match"] is None  # PJSIP then matches the host itself
    assert "sipInboundMatch" in trunk["setup_note"] and "sipHost" not in trunk["setup_note"]


@pytest.mark.parametrize("overrides,needle", [
    ({"sipHost": "sip.example.com"}, "pstn.twilio.com"),
    ({"integration": "plivo", "authToken": fc.PLIVO_TOKEN, "accSId": fc.PLIVO_ID,
      "sipHost": "evil.example.com"}, "zt.plivo.com"),
    ({"sipInboundMatch": ["not an address!"]}, "not an IP address"),
    ({"sipPassword": "x"}, "sipUsername"),
])
async def test_sip_settings_that_cannot_be_right_are_400(client, world, overrides, needle,
                                                          sessionmaker):
    r = await client.post(PATH, headers=world.headers("admin"), json=_body(world, **overrides))
    assert needle in assert_envelope_error(r, 400)
    async with sessionmaker() as s:
        assert (await s.scalars(select(Trunk))).all() == []


def test_a_trunk_without_its_termination_host_still_identifies_the_carrier():
    trunk = Trunk(name="twilio-abc", kind="pjsip", integration="twilio",
                  inbound_match=",".join(TWILIO_SIGNALLING))
    text = render_pjsip([], [trunk])
    assert "[twilio-abc]\ntype=endpoint" in text
    assert f"[twilio-abc-identify]\ntype=identify\nendpoint=twilio-abc\nmatch={TWILIO_SIGNALLING[0]}" \
        in text
    assert "contact=" not in text and "registration" not in text
