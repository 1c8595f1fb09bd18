"""Trunks, the DID inventory, carrier credential checks and /api/v1/trunks."""

from __future__ import annotations

import pytest
import sb_fake_carrier as fc
import sb_resource_helpers as h
from sb_resource_helpers import assert_v1_error

from switchboard.services import numbers, trunks
from switchboard.services.carriers import (
    CarrierClient,
    CarrierCredentials,
    CarrierUnavailable,
    Webhooks,
    WebhookSetupFailed,
    check_shape,
)
from switchboard.services.exceptions import BadRequest, Conflict, NotFound


@pytest.fixture
def carrier_url():
    with fc.fake_carrier() as url:
        yield url


def _verifier(url: str) -> CarrierClient:
    return CarrierClient(base_urls={"twilio": url, "plivo": url, "telnyx": url})


HOOKS = Webhooks(voice_url="http://sb.test/api/voice/incoming",
                 status_url="http://sb.test/api/voice/status")


TWILIO = CarrierCredentials("twilio", fc.TWILIO_SID, fc.TWILIO_TOKEN)
PLIVO = CarrierCredentials("plivo", fc.PLIVO_ID, fc.PLIVO_TOKEN)
TELNYX = CarrierCredentials("telnyx", None, fc.TELNYX_KEY)


# ---------------------------------------------------------------- credential shapes


@pytest.mark.parametrize("creds,field", [
    (CarrierCredentials("twilio", "AC123", fc.TWILIO_TOKEN), "account_id"),
    (CarrierCredentials("twilio", "XX" + "0" * 32, fc.TWILIO_TOKEN), "account_id"),
    (CarrierCredentials("twilio", fc.TWILIO_SID, "short"), "auth_token"),
    (CarrierCredentials("twilio", fc.TWILIO_SID, "g" * 32), "auth_token"),
    (CarrierCredentials("plivo", "XA" + "A" * 18, fc.PLIVO_TOKEN), "account_id"),
    (CarrierCredentials("plivo", fc.PLIVO_ID, "tiny"), "auth_token"),
    (CarrierCredentials("telnyx", None, "secret"), "auth_token"),
    (CarrierCredentials("vonage", None, None), "integration"),
])
def test_credentials_of_the_wrong_shape_are_refused(creds, field):
    with pytest.raises(BadRequest) as err:
        check_shape(creds)
    assert err.value.field == field


@pytest.mark.parametrize("creds", [TWILIO, PLIVO, TELNYX, CarrierCredentials("sip", None, None)])
def test_credentials_of_the_right_shape_pass(creds):
    check_shape(creds)


# ---------------------------------------------------------------- live checks


@pytest.mark.parametrize("creds", [TWILIO, PLIVO, TELNYX])
async def test_valid_credentials_owning_the_number_pass(carrier_url, creds):
    await _verifier(carrier_url).verify(creds, "+12125551234")


@pytest.mark.parametrize("creds", [TWILIO, PLIVO, TELNYX])
async def test_number_not_owned_by_the_account_is_refused(carrier_url, creds):
    with pytest.raises(BadRequest) as err:
        await _verifier(carrier_url).verify(creds, "+12125550000")
    assert "not owned" in err.value.message


@pytest.mark.parametrize("creds", [
    CarrierCredentials("twilio", fc.TWILIO_SID, "0" * 32),
    CarrierCredentials("plivo", fc.PLIVO_ID, "X" * 40),
    CarrierCredentials("telnyx", None, "KEY" + "X" * 20),
])
async def test_credentials_the_carrier_refuses_are_invalid(carrier_url, creds):
    with pytest.raises(BadRequest) as err:
        await _verifier(carrier_url).verify(creds, "+12125551234")
    assert err.value.message.startswith("Invalid")


async def test_unreachable_carrier_is_a_502_not_a_success():
    with pytest.raises(CarrierUnavailable) as err:
        await _verifier(fc.dead_url()).verify(TWILIO, "+12125551234")
    assert err.value.status == 502
    assert "unreachable" in err.value.message


# ---------------------------------------------------------------- trunks service


async def test_create_trunk_fills_inventory_and_bumps_revision(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        before = await h.revision(s)
        trunk = await trunks.create_trunk(s, t.id, trunks.TrunkSpec(
            name="carrier-a", host="sip.example.net", port=5060, username="u", password="p",
            register=True, dids=[trunks.DidSpec("+15125550123", locality="Austin", region="TX"),
                                 trunks.DidSpec("+18885550100")]))
        await s.commit()
        assert await h.revision(s) == before + 1
        dids = await trunks.list_dids(s, t.id, trunk.id)
        assert [(d.e164, d.country, d.number_type, d.area_code) for d in dids] == [
            ("+15125550123", "US", "local", "512"), ("+18885550100", "US", "toll_free", "888")]
        added = await trunks.add_dids(s, t.id, trunk.id, [trunks.DidSpec("+15125550123"),
                                                          trunks.DidSpec("+15125550124")])
        assert [d.e164 for d in added] == ["+15125550124"]


@pytest.mark.parametrize("spec,field", [
    (trunks.TrunkSpec(name="bad name"), "name"),
    (trunks.TrunkSpec(name="x", kind="iax"), "kind"),
    (trunks.TrunkSpec(name="x"), "host"),
    (trunks.TrunkSpec(name="x", host="h", port=70000), "port"),
    (trunks.TrunkSpec(name="x", host="h", register=True), "username"),
    (trunks.TrunkSpec(name="x", kind="local"), "context"),
    (trunks.TrunkSpec(name="x", integration="twilio", account_id="AC1"), "account_id"),
    (trunks.TrunkSpec(name="x", host="h", dids=[trunks.DidSpec("12")]), "dids"),
])
async def test_invalid_trunks_are_refused(sessionmaker, spec, field):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        with pytest.raises(BadRequest) as err:
            await trunks.create_trunk(s, t.id, spec)
        assert err.value.field == field


async def test_trunk_in_use_cannot_be_deleted_and_foreign_is_not_found(sessionmaker):
    async with sessionmaker() as s:
        t, other = await h.tenant(s), await h.tenant(s, "Other")
        trunk = await h.trunk_with(s, t, "+15125550123")
        n = await numbers.provision_number(s, t.id, "+15125550123")
        await s.commit()
        with pytest.raises(NotFound):
            await trunks.delete_trunk(s, other.id, trunk.id)
        with pytest.raises(Conflict):
            await trunks.delete_trunk(s, t.id, trunk.id)
        await numbers.release_number(s, t.id, n.id)
        await trunks.delete_trunk(s, t.id, trunk.id)
        await s.commit()
        assert (await trunks.list_trunks(s, t.id)).total == 0


# ---------------------------------------------------------------- add-phone service


async def test_add_phone_provisions_for_the_user_once(sessionmaker, carrier_url):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        u = await h.user(s, t)
        before = await h.revision(s)
        added = await trunks.add_phone(s, t.id, user_id=u.id, phone_number="12125551234",
                                       creds=TWILIO, carrier=_verifier(carrier_url),
                                       webhooks=HOOKS)
        await s.commit()
        assert added.number.e164 == "+12125551234" and added.number.enabled
        assert added.trunk.integration == "twilio" and added.did.owner_user_id == u.id
        assert await h.revision(s) > before
        with pytest.raises(BadRequest) as err:
            await trunks.add_phone(s, t.id, user_id=u.id, phone_number="+12125551234",
                                   creds=TWILIO, carrier=_verifier(carrier_url),
                                       webhooks=HOOKS)
        assert "already exists" in err.value.message
        second = await trunks.add_phone(s, t.id, user_id=u.id, phone_number="12125551235",
                                        creds=TWILIO, carrier=_verifier(carrier_url),
                                       webhooks=HOOKS)
        assert second.trunk.id == added.trunk.id


async def test_add_phone_unknown_or_foreign_user_is_not_found(sessionmaker, carrier_url):
    async with sessionmaker() as s:
        t, other = await h.tenant(s), await h.tenant(s, "Other")
        stranger = await h.user(s, other)
        for user_id in ("64e5f12345abcdef12345678", stranger.id):
            with pytest.raises(NotFound):
                await trunks.add_phone(s, t.id, user_id=user_id, phone_number="12125551234",
                                       creds=TWILIO, carrier=_verifier(carrier_url),
                                       webhooks=HOOKS)
        with pytest.raises(BadRequest) as err:
            await trunks.add_phone(s, t.id, user_id="not an id", phone_number="12125551234",
                                   creds=TWILIO, carrier=_verifier(carrier_url),
                                       webhooks=HOOKS)
        assert err.value.message == "Invalid User ID format"


async def test_add_phone_with_unreachable_carrier_saves_nothing(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        u = await h.user(s, t)
        with pytest.raises(CarrierUnavailable):
            await trunks.add_phone(s, t.id, user_id=u.id, phone_number="12125551234",
                                   creds=TWILIO, carrier=_verifier(fc.dead_url()),
                                   webhooks=HOOKS)
        tenant_id = t.id
        await s.rollback()
        assert (await numbers.list_numbers(s, tenant_id)).total == 0
        assert (await trunks.list_trunks(s, tenant_id)).total == 0


# ---------------------------------------------------------------- /api/v1/trunks


@pytest.fixture
def api_settings(api_settings, carrier_url):
    """The suite's settings, with every carrier API at the local fake."""
    api_settings.carrier_api_urls.update(
        {"twilio": carrier_url, "plivo": carrier_url, "telnyx": carrier_url})
    return api_settings


async def test_trunk_routes(client, world):
    admin = world.headers("admin")
    r = await client.post("/api/v1/trunks", headers=admin, json={
        "name": "twilio-main", "integration": "twilio", "host": "example.pstn.twilio.com",
        "account_id": fc.TWILIO_SID, "auth_token": fc.TWILIO_TOKEN,
        "dids": [{"phone_number": "+12125551234", "locality": "New York", "region": "NY"}]})
    assert r.status_code == 201, r.text
    trunk = r.json()
    assert trunk["integration"] == "twilio" and "auth_token" not in trunk
    r = await client.post(f"/api/v1/trunks/{trunk['id']}/dids", headers=admin,
                          json={"dids": [{"phone_number": "+12125551235"}]})
    assert r.status_code == 201 and [d["phone_number"] for d in r.json()["items"]] == [
        "+12125551235"]
    r = await client.get(f"/api/v1/trunks/{trunk['id']}/dids", headers=admin)
    assert [d["locality"] for d in r.json()["items"]] == ["New York", None]
    r = await client.get("/api/v1/trunks", headers=admin)
    assert r.json()["total"] == 1
    r = await client.post("/api/v1/numbers/search", headers=admin,
                          json={"country": "US", "number_type": "local", "area_code": "212"})
    assert [n["phone_number"] for n in r.json()["items"]] == ["+12125551234", "+12125551235"]
    assert (await client.get(f"/api/v1/trunks/{trunk['id']}", headers=admin)).status_code == 200
    assert (await client.delete(f"/api/v1/trunks/{trunk['id']}", headers=admin)).status_code == 204


async def test_trunk_route_errors(client, world, sessionmaker):
    admin = world.headers("admin")
    r = await client.post("/api/v1/trunks", headers=admin, json={
        "name": "t", "integration": "twilio", "account_id": fc.TWILIO_SID,
        "auth_token": "0" * 32, "dids": [{"phone_number": "+12125551234"}]})
    assert assert_v1_error(r, 400, "bad_request")["field"] == "auth_token"
    r = await client.post("/api/v1/trunks", headers=admin, json={"name": "bad name"})
    assert_v1_error(r, 422, "validation_error")
    r = await client.post("/api/v1/trunks", headers=admin, json={"name": "sip1"})
    assert assert_v1_error(r, 400)["field"] == "host"
    assert_v1_error(await client.get("/api/v1/trunks"), 401)
    assert_v1_error(await client.get("/api/v1/trunks", headers=world.headers("agent")), 403)
    trunk_id = await h.stock(sessionmaker, world.tenant, "+15125550101")
    other = world.other_headers()
    for method, path in (("GET", f"/api/v1/trunks/{trunk_id}"),
                         ("DELETE", f"/api/v1/trunks/{trunk_id}"),
                         ("GET", f"/api/v1/trunks/{trunk_id}/dids")):
        assert_v1_error(await client.request(method, path, headers=other), 404)
    r = await client.post(f"/api/v1/trunks/{trunk_id}/dids", headers=other,
                          json={"dids": [{"phone_number": "+15125550102"}]})
    assert_v1_error(r, 404)


async def test_trunk_create_with_unreachable_carrier_is_502(client, world, app):
    app.state.settings.carrier_api_urls["plivo"] = fc.dead_url()
    r = await client.post("/api/v1/trunks", headers=world.headers("admin"), json={
        "name": "plivo-1", "integration": "plivo", "account_id": fc.PLIVO_ID,
        "auth_token": fc.PLIVO_TOKEN, "dids": [{"phone_number": "+12125551234"}]})
    assert assert_v1_error(r, 502, "carrier_unavailable")["message"].startswith("Plivo API")


@pytest.mark.parametrize("creds", [TWILIO, PLIVO, TELNYX])
async def test_connect_points_the_number_at_our_webhooks(carrier_url, creds):
    await _verifier(carrier_url).connect(creds, "+12125551234", webhooks=HOOKS)
    assert fc.HOOKS["+12125551234"] == {"voice_url": HOOKS.voice_url,
                                        "status_url": HOOKS.status_url}


async def test_connect_with_a_telnyx_app_id_assigns_that_app(carrier_url):
    creds = CarrierCredentials("telnyx", "texml-existing", fc.TELNYX_KEY)
    await _verifier(carrier_url).connect(creds, "+12125551234", webhooks=HOOKS)
    assert fc.HOOKS["+12125551234"] == {"app": "texml-existing"}


@pytest.mark.parametrize("creds", [TWILIO, PLIVO, TELNYX])
async def test_refused_webhook_setup_is_a_500(carrier_url, creds):
    with pytest.raises(WebhookSetupFailed) as err:
        await _verifier(carrier_url).connect(creds, fc.REFUSES_WEBHOOKS, webhooks=HOOKS)
    assert err.value.status == 500 and "webhooks" in err.value.message
