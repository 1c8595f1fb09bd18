"""Endpoints (desk phones): service rules and /api/v1/endpoints."""

from __future__ import annotations

import pytest
import sb_resource_helpers as h
from sb_resource_helpers import assert_v1_error

from switchboard.services import endpoints, rules
from switchboard.services.exceptions import BadRequest, Conflict, NotFound


async def test_endpoint_lifecycle_bumps_revision_and_guards_rules(sessionmaker):
    async with sessionmaker() as s:
        t, other = await h.tenant(s), await h.tenant(s, "Other")
        u = await h.user(s, t)
        before = await h.revision(s)
        desk = await endpoints.create_endpoint(s, t.id, "desk-1",
                                               {"caller_id": "1 555 123 4567", "user_id": u.id})
        await s.commit()
        assert await h.revision(s) == before + 1
        assert desk.caller_id == "+15551234567" and len(desk.password) >= 20
        with pytest.raises(Conflict):
            await endpoints.create_endpoint(s, other.id, "desk-1", {})
        with pytest.raises(BadRequest):
            await endpoints.create_endpoint(s, t.id, "desk 2", {})
        with pytest.raises(BadRequest):
            await endpoints.create_endpoint(s, t.id, "desk-2", {"password": "short"})
        with pytest.raises(NotFound):
            await endpoints.create_endpoint(s, other.id, "desk-3", {"user_id": u.id})
        number_id = await h.provisioned(sessionmaker, t, "+15125550101")
        rule = await rules.create_rule(s, t.id, number_id, {"targets": ["endpoint:desk-1"]})
        await s.commit()
        with pytest.raises(Conflict):
            await endpoints.delete_endpoint(s, t.id, desk.id)
        with pytest.raises(NotFound):
            await endpoints.delete_endpoint(s, other.id, desk.id)
        await rules.delete_rule(s, t.id, rule.id)
        await endpoints.delete_endpoint(s, t.id, desk.id)
        await s.commit()
        assert (await endpoints.list_endpoints(s, t.id)).total == 0


async def test_endpoint_routes(client, world):
    admin = world.headers("admin")
    r = await client.post("/api/v1/endpoints", headers=admin,
                          json={"name": "desk-1", "user_id": world.actor("agent").user.id})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["target"] == "endpoint:desk-1" and created["password"]
    r = await client.get(f"/api/v1/endpoints/{created['id']}", headers=admin)
    assert r.json()["password"] is None
    r = await client.patch(f"/api/v1/endpoints/{created['id']}", headers=admin,
                           json={"caller_id": "+15551234567"})
    assert r.json()["caller_id"] == "+15551234567" and r.json()["password"] is None
    r = await client.patch(f"/api/v1/endpoints/{created['id']}", headers=admin,
                           json={"password": "a-new-long-secret"})
    assert r.json()["password"] == "a-new-long-secret"
    assert (await client.get("/api/v1/endpoints", headers=admin)).json()["total"] == 1

    assert_v1_error(await client.post("/api/v1/endpoints", headers=admin, json={}), 422)
    r = await client.post("/api/v1/endpoints", headers=admin, json={"name": "desk-1"})
    assert_v1_error(r, 409, "conflict")
    r = await client.patch(f"/api/v1/endpoints/{created['id']}", headers=admin,
                           json={"caller_id": "not a number"})
    assert assert_v1_error(r, 400)["field"] == "caller_id"
    assert_v1_error(await client.get("/api/v1/endpoints"), 401)
    assert_v1_error(await client.get("/api/v1/endpoints", headers=world.headers("agent")), 403)
    other = world.other_headers()
    for method in ("GET", "PATCH", "DELETE"):
        r = await client.request(method, f"/api/v1/endpoints/{created['id']}", headers=other,
                                 json={} if method == "PATCH" else None)
        assert_v1_error(r, 404)
    r = await client.delete(f"/api/v1/endpoints/{created['id']}", headers=admin)
    assert r.status_code == 204
