"""/api/v1/tenants, /api/v1/users, /api/v1/api-keys and the plan-limit helper."""

from __future__ import annotations

import pytest
from fastapi import APIRouter

from switchboard.api.deps import AgentPrincipal, DbSession
from switchboard.models import PhoneNumber, Tenant
from switchboard.services import api_keys
from switchboard.services.exceptions import PlanLimitExceeded
from switchboard.services.limits import ensure_within_limit
from tests.api.conftest import assert_v1_error

# ---------------------------------------------------------------- tenants


async def test_tenant_list_and_get_show_only_the_callers_tenant(client, world):
    r = await client.get("/api/v1/tenants", headers=world.headers())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1 and body["page"] == 1 and body["limit"] == 25
    [tenant] = body["items"]
    assert tenant["id"] == world.tenant.id and tenant["name"] == "Acme"
    assert tenant["account_sid"].startswith("AC")
    assert "auth_token" not in tenant
    assert tenant["limits"]["max_numbers"] == 3
    assert tenant["limits"]["numbers_used"] == 0

    r = await client.get(f"/api/v1/tenants/{world.tenant.id}", headers=world.headers())
    assert r.json() == tenant


async def test_tenant_current_is_open_to_every_role(client, world):
    for role in ("admin", "agent", "read-only"):
        r = await client.get("/api/v1/tenants/current", headers=world.headers(role))
        assert r.status_code == 200 and r.json()["id"] == world.tenant.id


async def test_foreign_tenant_is_404_for_get_and_patch(client, world):
    r = await client.get(f"/api/v1/tenants/{world.other.id}", headers=world.headers())
    assert_v1_error(r, 404, "not_found")
    r = await client.patch(
        f"/api/v1/tenants/{world.other.id}", json={"name": "Hijacked"}, headers=world.headers()
    )
    assert_v1_error(r, 404, "not_found")
    r = await client.get("/api/v1/tenants/current", headers=world.other_headers())
    assert r.json()["name"] == "Other"


async def test_tenant_patch_changes_name_and_timezone(client, world):
    r = await client.patch(
        f"/api/v1/tenants/{world.tenant.id}",
        json={"name": "Acme Ltd", "timezone": "Europe/Paris"},
        headers=world.headers(),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["timezone"]) == ("Acme Ltd", "Europe/Paris")


@pytest.mark.parametrize(
    "body,field",
    [({"timezone": "Mars/Olympus"}, "timezone"), ({"name": ""}, "name"), ({"name": "   "}, "name")],
)
async def test_tenant_patch_validation(client, world, body, field):
    r = await client.patch(f"/api/v1/tenants/{world.tenant.id}", json=body, headers=world.headers())
    assert assert_v1_error(r, 422, "validation_error")["field"] == field


@pytest.mark.parametrize("role", ["agent", "read-only"])
async def test_tenant_management_is_admin_only(client, world, role):
    r = await client.get("/api/v1/tenants", headers=world.headers(role))
    assert_v1_error(r, 403, "forbidden")
    r = await client.patch(
        f"/api/v1/tenants/{world.tenant.id}", json={"name": "X"}, headers=world.headers(role)
    )
    assert_v1_error(r, 403, "forbidden")


async def test_tenant_routes_need_auth(client, world):
    for path in (
        "/api/v1/tenants",
        "/api/v1/tenants/current",
        f"/api/v1/tenants/{world.tenant.id}",
    ):
        assert_v1_error(await client.get(path), 401, "unauthorized")


# ---------------------------------------------------------------- users


async def test_user_crud(client, world):
    h = world.headers()
    r = await client.post(
        "/api/v1/users",
        json={"email": "New@Acme.test", "name": "New", "role": "agent", "password": "longenough"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["email"] == "new@acme.test" and user["role"] == "agent"
    assert user["tenant_id"] == world.tenant.id and user["is_active"] is True
    assert "password" not in user and "password_hash" not in user

    r = await client.get("/api/v1/users", headers=h, params={"limit": 2})
    body = r.json()
    assert body["total"] == 4 and len(body["items"]) == 2
    r = await client.get("/api/v1/users", headers=h, params={"limit": 2, "page": 2})
    assert len(r.json()["items"]) == 2
    emails = {u["email"] for u in body["items"] + r.json()["items"]}
    assert emails == {"admin@acme.test", "agent@acme.test", "new@acme.test", "reader@acme.test"}

    r = await client.patch(
        f"/api/v1/users/{user['id']}", json={"role": "read-only", "name": "Renamed"}, headers=h
    )
    assert r.status_code == 200 and r.json()["role"] == "read-only"
    assert (await client.get(f"/api/v1/users/{user['id']}", headers=h)).json()["name"] == "Renamed"

    r = await client.post(
        "/api/v1/auth/login", json={"email": "new@acme.test", "password": "longenough"}
    )
    assert r.status_code == 200 and r.json()["role"] == "read-only"

    assert (await client.delete(f"/api/v1/users/{user['id']}", headers=h)).status_code == 204
    assert_v1_error(await client.get(f"/api/v1/users/{user['id']}", headers=h), 404)


async def test_users_me_for_every_role_and_404_for_a_userless_key(client, world, sessionmaker):
    r = await client.get("/api/v1/users/me", headers=world.headers("read-only"))
    assert r.status_code == 200 and r.json()["email"] == "reader@acme.test"
    # A userless key is the tenant's own, made by an operator (the CLI), not through the API.
    async with sessionmaker() as s:
        created = await api_keys.create_key(s, world.tenant.id, name="ci")
        await s.commit()
    r = await client.get("/api/v1/users/me", headers={"X-API-Key": created.key})
    assert assert_v1_error(r, 404, "not_found")["field"] == "user_id"


async def test_duplicate_email_is_409(client, world):
    r = await client.post(
        "/api/v1/users", json={"email": "agent@acme.test"}, headers=world.headers()
    )
    assert assert_v1_error(r, 409, "conflict")["field"] == "email"
    # the same email in another tenant is fine
    r = await client.post(
        "/api/v1/users", json={"email": "agent@acme.test"}, headers=world.other_headers()
    )
    assert r.status_code == 201


@pytest.mark.parametrize(
    "body,field,status",
    [
        ({"email": "nope"}, "email", 422),
        ({"email": "x@y.z", "role": "owner"}, "role", 422),
        ({"email": "x@y.z", "password": "short"}, "password", 422),
        ({}, "email", 422),
    ],
)
async def test_user_create_validation(client, world, body, field, status):
    r = await client.post("/api/v1/users", json=body, headers=world.headers())
    assert assert_v1_error(r, status, "validation_error")["field"] == field


async def test_foreign_user_ids_are_404(client, world):
    foreign = world.other_admin.user.id
    h = world.headers()
    assert_v1_error(await client.get(f"/api/v1/users/{foreign}", headers=h), 404, "not_found")
    assert_v1_error(
        await client.patch(f"/api/v1/users/{foreign}", json={"name": "x"}, headers=h), 404
    )
    assert_v1_error(await client.delete(f"/api/v1/users/{foreign}", headers=h), 404)
    r = await client.get("/api/v1/users/me", headers=world.other_headers())
    assert r.json()["email"] == "admin@other.test"


async def test_last_admin_cannot_be_demoted_deactivated_or_deleted(client, world):
    admin_id = world.actor("admin").user.id
    h = world.headers()
    for method, kwargs in (
        ("PATCH", {"json": {"role": "agent"}}),
        ("PATCH", {"json": {"is_active": False}}),
        ("DELETE", {}),
    ):
        r = await client.request(method, f"/api/v1/users/{admin_id}", headers=h, **kwargs)
        assert_v1_error(r, 409, "conflict")
    # with a second admin, the first may step down
    agent_id = world.actor("agent").user.id
    r = await client.patch(f"/api/v1/users/{agent_id}", json={"role": "admin"}, headers=h)
    assert r.status_code == 200
    r = await client.patch(f"/api/v1/users/{admin_id}", json={"role": "agent"}, headers=h)
    assert r.status_code == 200 and r.json()["role"] == "agent"


@pytest.mark.parametrize("role", ["agent", "read-only"])
async def test_user_management_is_admin_only(client, world, role):
    h = world.headers(role)
    assert_v1_error(await client.get("/api/v1/users", headers=h), 403)
    assert_v1_error(await client.post("/api/v1/users", json={"email": "a@b.cd"}, headers=h), 403)
    uid = world.actor("admin").user.id
    assert_v1_error(await client.delete(f"/api/v1/users/{uid}", headers=h), 403)


async def test_user_routes_need_auth(client, world):
    assert_v1_error(await client.get("/api/v1/users"), 401)
    assert_v1_error(await client.post("/api/v1/users", json={"email": "a@b.cd"}), 401)


# ---------------------------------------------------------------- API keys


async def test_key_is_shown_once_stored_hashed_and_works(client, world, sessionmaker):
    h = world.headers()
    r = await client.post("/api/v1/api-keys", json={"name": "ci", "role": "read-only"}, headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["key"]
    assert key.startswith("sb_") and created["prefix"] == key[:10]
    assert created["role"] == "read-only" and created["revoked_at"] is None

    listed = (await client.get("/api/v1/api-keys", headers=h)).json()
    assert listed["total"] == 4  # three seeded for acme + this one
    assert all("key" not in item for item in listed["items"])
    got = (await client.get(f"/api/v1/api-keys/{created['id']}", headers=h)).json()
    assert "key" not in got and got["name"] == "ci"

    from sqlalchemy import select

    from switchboard.models import ApiKey

    async with sessionmaker() as s:
        row = await s.scalar(select(ApiKey).where(ApiKey.id == created["id"]))
        assert row is not None and key not in (row.key_hash, row.prefix)

    me = await client.get("/api/v1/auth/me", headers={"X-API-Key": key})
    # made without a user_id, it acts for the admin who made it (and dies with them)
    assert me.json()["role"] == "read-only"
    assert me.json()["user_id"] == world.actor("admin").user.id
    # its role is its scope
    assert_v1_error(await client.get("/api/v1/api-keys", headers={"X-API-Key": key}), 403)


async def test_key_revocation_is_immediate_idempotent_and_listed(client, world):
    h = world.headers()
    created = (await client.post("/api/v1/api-keys", json={"name": "tmp"}, headers=h)).json()
    assert (await client.get("/api/v1/auth/me", headers={"X-API-Key": created["key"]})).is_success
    assert (await client.delete(f"/api/v1/api-keys/{created['id']}", headers=h)).status_code == 204
    assert (await client.delete(f"/api/v1/api-keys/{created['id']}", headers=h)).status_code == 204
    assert_v1_error(await client.get("/api/v1/auth/me", headers={"X-API-Key": created["key"]}), 401)
    got = (await client.get(f"/api/v1/api-keys/{created['id']}", headers=h)).json()
    assert got["revoked_at"] is not None


async def test_key_for_a_user_of_another_tenant_is_404(client, world):
    r = await client.post(
        "/api/v1/api-keys", json={"user_id": world.other_admin.user.id}, headers=world.headers()
    )
    assert assert_v1_error(r, 404, "not_found")["field"] == "user_id"


async def test_foreign_key_ids_are_404(client, world):
    foreign = world.other_admin.key_id
    h = world.headers()
    assert_v1_error(await client.get(f"/api/v1/api-keys/{foreign}", headers=h), 404)
    assert_v1_error(await client.delete(f"/api/v1/api-keys/{foreign}", headers=h), 404)
    # and the foreign key still works
    assert (await client.get("/api/v1/auth/me", headers=world.other_headers())).is_success


@pytest.mark.parametrize("body,field", [({"role": "root"}, "role"), ({"name": "x" * 201}, "name")])
async def test_key_create_validation(client, world, body, field):
    r = await client.post("/api/v1/api-keys", json=body, headers=world.headers())
    assert assert_v1_error(r, 422, "validation_error")["field"] == field


@pytest.mark.parametrize("role", ["agent", "read-only"])
async def test_key_management_is_admin_only(client, world, role):
    h = world.headers(role)
    assert_v1_error(await client.get("/api/v1/api-keys", headers=h), 403)
    assert_v1_error(await client.post("/api/v1/api-keys", json={}, headers=h), 403)
    kid = world.actor("admin").key_id
    assert_v1_error(await client.delete(f"/api/v1/api-keys/{kid}", headers=h), 403)


async def test_key_routes_need_auth(client, world):
    assert_v1_error(await client.get("/api/v1/api-keys"), 401)
    assert_v1_error(await client.delete(f"/api/v1/api-keys/{world.actor('admin').key_id}"), 401)


async def test_pagination_parameters_are_validated(client, world):
    for params in ({"page": 0}, {"limit": 0}, {"limit": 201}, {"page": "x"}):
        r = await client.get("/api/v1/users", params=params, headers=world.headers())
        field = next(iter(params))
        assert assert_v1_error(r, 422, "validation_error")["field"] == field


# ---------------------------------------------------------------- plan limits


async def test_number_limit_refuses_past_the_plan(sessionmaker, world):
    async with sessionmaker() as s:
        for i in range(3):
            await ensure_within_limit(s, world.tenant.id, "numbers")
            s.add(PhoneNumber(tenant_id=world.tenant.id, e164=f"+1512555010{i}"))
            await s.flush()
        with pytest.raises(PlanLimitExceeded) as err:
            await ensure_within_limit(s, world.tenant.id, "numbers")
        assert err.value.status == 403 and err.value.code == "plan_limit_exceeded"
        assert "3 phone numbers" in err.value.message
        assert err.value.details == {"limit": 3, "used": 3, "kind": "numbers"}
        # another tenant is not affected
        await ensure_within_limit(s, world.other.id, "numbers")


async def test_voice_minutes_and_storage_limits(sessionmaker, world):
    from switchboard import ids
    from switchboard.models import Recording

    async with sessionmaker() as s:
        tenant = await s.get(Tenant, world.tenant.id)
        assert tenant is not None
        tenant.voice_minutes_limit = 1
        tenant.voice_seconds_used = 59
        tenant.recording_storage_mb = 1
        await s.flush()
        await ensure_within_limit(s, tenant.id, "voice_minutes")
        tenant.voice_seconds_used = 60
        await s.flush()
        with pytest.raises(PlanLimitExceeded, match="voice minutes"):
            await ensure_within_limit(s, tenant.id, "voice_minutes")

        s.add(
            Recording(
                recording_sid=ids.recording_sid(),
                tenant_id=tenant.id,
                path="a.wav",
                source="call",
                size_bytes=1024 * 1024 - 10,
            )
        )
        await s.flush()
        await ensure_within_limit(s, tenant.id, "recording_storage", adding=10)
        with pytest.raises(PlanLimitExceeded, match="MB of recordings"):
            await ensure_within_limit(s, tenant.id, "recording_storage", adding=11)


async def test_plan_limit_reaches_the_client_as_403_with_the_reason(app, client, world):
    router = APIRouter()

    @router.post("/api/v1/test-only/use-minutes")
    async def _use(session: DbSession, principal: AgentPrincipal) -> dict[str, bool]:
        await ensure_within_limit(session, principal.tenant_id, "voice_minutes")
        return {"ok": True}

    app.include_router(router)
    async with app.state.sessionmaker() as s:
        tenant = await s.get(Tenant, world.tenant.id)
        tenant.voice_seconds_used = tenant.voice_minutes_limit * 60
        await s.commit()
    r = await client.post("/api/v1/test-only/use-minutes", headers=world.headers("agent"))
    details = assert_v1_error(r, 403, "plan_limit_exceeded")
    assert details["field"] == "voice_minutes"
    assert "voice minutes" in details["message"] and details["kind"] == "voice_minutes"
    r = await client.post("/api/v1/test-only/use-minutes", headers=world.other_headers())
    assert r.json() == {"ok": True}
