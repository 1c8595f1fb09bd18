"""Numbers: the service (search, provision, configure, release) and /api/v1/numbers."""

from __future__ import annotations

import pytest
import sb_resource_helpers as h
from sb_resource_helpers import assert_v1_error

from switchboard.services import numbers
from switchboard.services.exceptions import BadRequest, Conflict, NotFound, PlanLimitExceeded

# ---------------------------------------------------------------- service


async def test_search_filters_inventory_by_country_type_area_and_digits(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        await h.trunk_with(s, t, "+15125550123", "+15125550199", "+12125550100",
                           "+18005550100", "+447700900123")
        found = await numbers.search_available(s, t.id, country="US", number_type="local",
                                               area_code="512")
        assert [d.e164 for d in found] == ["+15125550123", "+15125550199"]
        found = await numbers.search_available(s, t.id, contains="0199")
        assert [d.e164 for d in found] == ["+15125550199"]
        found = await numbers.search_available(s, t.id, number_type="toll_free")
        assert [d.e164 for d in found] == ["+18005550100"]
        found = await numbers.search_available(s, t.id, country="gb", number_type="mobile")
        assert [d.e164 for d in found] == ["+447700900123"]
        assert len(await numbers.search_available(s, t.id, limit=2)) == 2


@pytest.mark.parametrize("kwargs,field", [
    ({"limit": 0}, "limit"), ({"limit": 51}, "limit"), ({"country": "USA"}, "country"),
    ({"number_type": "premium"}, "number_type"), ({"area_code": "5a2"}, "area_code"),
    ({"contains": "55%"}, "contains"),
])
async def test_search_refuses_malformed_filters(sessionmaker, kwargs, field):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        with pytest.raises(BadRequest) as err:
            await numbers.search_available(s, t.id, **kwargs)
        assert err.value.field == field


async def test_search_never_shows_another_tenants_inventory(sessionmaker):
    async with sessionmaker() as s:
        a, b = await h.tenant(s, "A"), await h.tenant(s, "B")
        await h.trunk_with(s, a, "+15125550123")
        assert await numbers.search_available(s, b.id) == []


async def test_provision_takes_number_out_of_search_and_bumps_revision(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        await h.trunk_with(s, t, "+15125550123")
        before = await h.revision(s)
        number = await numbers.provision_number(s, t.id, "1 (512) 555-0123",
                                                friendly_name="Support")
        await s.commit()
        assert number.e164 == "+15125550123" and number.enabled
        assert number.friendly_name == "Support"
        assert number.sid and number.sid.startswith("PN")
        assert await h.revision(s) == before + 1
        assert await numbers.search_available(s, t.id) == []
        page = await numbers.list_numbers(s, t.id)
        assert page.total == 1 and page.items[0].id == number.id


async def test_provision_refuses_unknown_taken_and_over_limit(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s, max_numbers=1)
        await h.trunk_with(s, t, "+15125550123", "+15125550124")
        with pytest.raises(NotFound):
            await numbers.provision_number(s, t.id, "+15125559999")
        with pytest.raises(BadRequest):
            await numbers.provision_number(s, t.id, "not-a-number")
        await numbers.provision_number(s, t.id, "+15125550123")
        await s.commit()
        with pytest.raises(PlanLimitExceeded):
            await numbers.provision_number(s, t.id, "+15125550124")
        t.max_numbers = 5
        await s.commit()
        with pytest.raises(Conflict):
            await numbers.provision_number(s, t.id, "+15125550123")


async def test_configure_validates_and_stores_settings(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        await h.trunk_with(s, t, "+15125550123")
        n = await numbers.provision_number(s, t.id, "+15125550123")
        await s.commit()
        before = await h.revision(s)
        await numbers.configure_number(s, t.id, n.id, {
            "voice_url": "https://example.com/voice", "voice_method": "get",
            "status_callback": "https://example.com/status",
            "status_callback_events": ["initiated", "completed"], "record_calls": True,
            "voicemail_max_seconds": 60,
        })
        await s.commit()
        assert (n.voice_url, n.voice_method) == ("https://example.com/voice", "GET")
        assert n.status_callback_events == "initiated completed"
        assert n.record_calls and n.voicemail_max_seconds == 60
        assert await h.revision(s) == before + 1
        for bad, field in [({"voice_url": "ftp://x"}, "voice_url"),
                           ({"voice_method": "PUT"}, "voice_method"),
                           ({"status_callback_events": ["hung"]}, "status_callback_events"),
                           ({"voicemail_max_seconds": 2}, "voicemail_max_seconds"),
                           ({"record_calls": "yes"}, "record_calls"),
                           ({"tenant_id": "x"}, "tenant_id")]:
            with pytest.raises(BadRequest) as err:
                await numbers.configure_number(s, t.id, n.id, bad)
            assert err.value.field == field


async def test_release_soft_disables_and_returns_did_to_inventory(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        other = await h.tenant(s, "Other")
        await h.trunk_with(s, t, "+15125550123")
        n = await numbers.provision_number(s, t.id, "+15125550123")
        await s.commit()
        with pytest.raises(NotFound):
            await numbers.release_number(s, other.id, n.id)
        before = await h.revision(s)
        await numbers.release_number(s, t.id, n.id)
        await s.commit()
        assert n.enabled is False and n.released_at is not None
        assert await h.revision(s) == before + 1
        assert (await numbers.list_numbers(s, t.id)).total == 0
        assert [d.e164 for d in await numbers.search_available(s, t.id)] == ["+15125550123"]
        with pytest.raises(NotFound):
            await numbers.get_number(s, t.id, n.id)
        again = await numbers.provision_number(s, t.id, "+15125550123")
        assert again.id != n.id


# ---------------------------------------------------------------- /api/v1/numbers

DIDS = ("+15125550101", "+15125550102", "+15125550103", "+15125550104", "+18005550100")


async def test_purchase_list_get_configure_release(client, world, sessionmaker):
    await h.stock(sessionmaker, world.tenant, *DIDS)
    admin = world.headers("admin")
    r = await client.post("/api/v1/numbers/search", headers=admin,
                          json={"country": "US", "number_type": "local", "area_code": "512",
                                "limit": 2})
    assert r.status_code == 200, r.text
    assert [n["phone_number"] for n in r.json()["items"]] == ["+15125550101", "+15125550102"]
    assert r.json()["items"][0]["friendly_name"] == "(512) 555-0101"

    r = await client.post("/api/v1/numbers/purchase", headers=admin,
                          json={"phone_number": "+15125550101", "friendly_name": "Support Line"})
    assert r.status_code == 201, r.text
    number = r.json()
    assert number["phone_number"] == "+15125550101" and number["friendly_name"] == "Support Line"
    assert number["enabled"] is True and number["voice_url"] is None

    r = await client.get("/api/v1/numbers?page=1&limit=25", headers=world.headers("read-only"))
    assert r.status_code == 200
    assert r.json()["total"] == 1 and r.json()["page"] == 1 and r.json()["limit"] == 25
    assert r.json()["items"][0]["id"] == number["id"]

    r = await client.put(f"/api/v1/numbers/{number['id']}/config", headers=admin, json={
        "friendly_name": "Main", "voice_url": "https://crm.example.com/voice",
        "voice_method": "GET", "status_callback": "https://crm.example.com/status",
        "status_callback_events": ["answered", "completed"], "record_calls": True,
        "voicemail_max_seconds": 90})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["friendly_name"], body["voice_url"], body["voice_method"]) == (
        "Main", "https://crm.example.com/voice", "GET")
    assert body["status_callback_events"] == ["answered", "completed"]
    assert body["record_calls"] is True and body["voicemail_max_seconds"] == 90

    r = await client.put(f"/api/v1/numbers/{number['id']}/config", headers=admin,
                         json={"routing": {"type": "forwarding"}})
    assert r.json()["voice_url"] is None

    r = await client.delete(f"/api/v1/numbers/{number['id']}", headers=admin)
    assert r.status_code == 200
    assert r.json()["enabled"] is False and r.json()["released_at"] is not None
    assert (await client.get("/api/v1/numbers", headers=admin)).json()["total"] == 0
    r = await client.get(f"/api/v1/numbers/{number['id']}", headers=admin)
    assert_v1_error(r, 404, "not_found")


@pytest.mark.parametrize("path,body,field", [
    ("/api/v1/numbers/search", {"country": "US", "number_type": "local", "limit": 51}, "limit"),
    ("/api/v1/numbers/search", {"country": "US", "number_type": "premium"}, "number_type"),
    ("/api/v1/numbers/search", {"number_type": "local"}, "country"),
    ("/api/v1/numbers/purchase", {"friendly_name": "x"}, "phone_number"),
])
async def test_malformed_bodies_are_422_with_the_field(client, world, path, body, field):
    r = await client.post(path, headers=world.headers("admin"), json=body)
    assert assert_v1_error(r, 422, "validation_error")["field"] == field


async def test_invalid_number_and_config_values_are_400(client, world, sessionmaker):
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550101")
    admin = world.headers("admin")
    r = await client.post("/api/v1/numbers/purchase", headers=admin,
                          json={"phone_number": "555-CALL-NOW"})
    assert assert_v1_error(r, 400, "bad_request")["message"] == "Invalid E.164 format"
    r = await client.put(f"/api/v1/numbers/{number_id}/config", headers=admin,
                         json={"voice_url": "javascript:alert(1)"})
    assert assert_v1_error(r, 400, "bad_request")["field"] == "voice_url"
    r = await client.put(f"/api/v1/numbers/{number_id}/config", headers=admin,
                         json={"voicemail_max_seconds": 1})
    assert_v1_error(r, 422, "validation_error")


async def test_purchasing_past_the_plan_limit_is_403(client, world, sessionmaker):
    await h.stock(sessionmaker, world.tenant, *DIDS)  # acme's plan allows 3 numbers
    for e164 in DIDS[:3]:
        r = await client.post("/api/v1/numbers/purchase", headers=world.headers("admin"),
                              json={"phone_number": e164})
        assert r.status_code == 201, r.text
    r = await client.post("/api/v1/numbers/purchase", headers=world.headers("admin"),
                          json={"phone_number": DIDS[3]})
    details = assert_v1_error(r, 403, "plan_limit_exceeded")
    assert details["limit"] == 3 and "3 phone numbers" in details["message"]


async def test_taken_and_unknown_numbers(client, world, sessionmaker):
    await h.provisioned(sessionmaker, world.tenant, "+15125550101")
    r = await client.post("/api/v1/numbers/purchase", headers=world.headers("admin"),
                          json={"phone_number": "+15125550101"})
    assert_v1_error(r, 409, "conflict")
    r = await client.post("/api/v1/numbers/purchase", headers=world.headers("admin"),
                          json={"phone_number": "+15125559999"})
    assert_v1_error(r, 404, "not_found")


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/numbers"), ("POST", "/api/v1/numbers/search"),
    ("POST", "/api/v1/numbers/purchase"), ("GET", "/api/v1/numbers/x"),
    ("PUT", "/api/v1/numbers/x/config"), ("DELETE", "/api/v1/numbers/x"),
])
async def test_every_numbers_route_needs_credentials(client, world, method, path):
    r = await client.request(method, path, json={})
    assert_v1_error(r, 401, "unauthorized")
    r = await client.request(method, path, json={}, headers={"X-API-Key": "sb_wrong"})
    assert_v1_error(r, 401, "unauthorized")


@pytest.mark.parametrize("role", ["agent", "read-only"])
async def test_only_admins_change_numbers(client, world, sessionmaker, role):
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550101")
    headers = world.headers(role)
    for method, path, body in [
        ("POST", "/api/v1/numbers/purchase", {"phone_number": "+15125550102"}),
        ("PUT", f"/api/v1/numbers/{number_id}/config", {"record_calls": True}),
        ("DELETE", f"/api/v1/numbers/{number_id}", None),
    ]:
        r = await client.request(method, path, json=body, headers=headers)
        assert_v1_error(r, 403, "forbidden")


async def test_another_tenants_number_is_404(client, world, sessionmaker):
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550101")
    other = world.other_headers()
    assert_v1_error(await client.get(f"/api/v1/numbers/{number_id}", headers=other), 404)
    r = await client.put(f"/api/v1/numbers/{number_id}/config", headers=other,
                         json={"record_calls": True})
    assert_v1_error(r, 404)
    assert_v1_error(await client.delete(f"/api/v1/numbers/{number_id}", headers=other), 404)
    r = await client.post("/api/v1/numbers/search", headers=other,
                          json={"country": "US", "number_type": "local"})
    assert r.json()["items"] == []
