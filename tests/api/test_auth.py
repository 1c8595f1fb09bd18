"""Authentication: API keys, JWT login/refresh, session cookie, roles; 401/403 bodies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from switchboard.security import credential_stamp, issue_token
from switchboard.services import users
from switchboard.services.roles import Role
from tests.api.conftest import ADMIN_PASSWORD, AGENT_PASSWORD, access_token, assert_v1_error


async def test_login_returns_tokens_that_authenticate(client, world):
    r = await client.post(
        "/api/v1/auth/login", json={"email": "Admin@Acme.test", "password": ADMIN_PASSWORD}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["user_id"] == world.actor("admin").user.id
    assert body["tenant_id"] == world.tenant.id
    assert body["role"] == "admin"
    assert body["expires_in"] == 30 * 60

    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json() == {
        "tenant_id": world.tenant.id,
        "user_id": world.actor("admin").user.id,
        "role": "admin",
        "via": "jwt",
    }


async def test_refresh_gives_a_new_pair_and_refuses_access_tokens(client, world):
    r = await client.post(
        "/api/v1/auth/login", json={"email": "agent@acme.test", "password": AGENT_PASSWORD}
    )
    tokens = r.json()
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "agent"
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert me.json()["user_id"] == world.actor("agent").user.id

    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert assert_v1_error(r, 401, "unauthorized")["field"] == "refresh_token"
    # and a refresh token is not an access token
    r = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert_v1_error(r, 401, "unauthorized")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "admin@acme.test", "password": "wrong-password"},
        {"email": "nobody@acme.test", "password": ADMIN_PASSWORD},
        {"email": "reader@acme.test", "password": "anything-at-all"},  # user without password
        {"email": "not-an-email", "password": ADMIN_PASSWORD},
    ],
)
async def test_login_with_bad_credentials_is_401(client, world, body):
    r = await client.post("/api/v1/auth/login", json=body)
    details = assert_v1_error(r, 401, "unauthorized")
    assert details["message"] == "Invalid email or password"
    assert r.headers["WWW-Authenticate"] == "Bearer"


async def test_login_validation_error_names_the_field(client, world):
    r = await client.post("/api/v1/auth/login", json={"email": "admin@acme.test"})
    details = assert_v1_error(r, 422, "validation_error")
    assert details["field"] == "password"
    assert details["errors"][0]["field"] == "password"
    r = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_v1_error(r, 422, "validation_error")


async def test_deactivated_user_loses_login_tokens_and_refresh(client, world, sessionmaker):
    r = await client.post(
        "/api/v1/auth/login", json={"email": "agent@acme.test", "password": AGENT_PASSWORD}
    )
    tokens = r.json()
    async with sessionmaker() as s:
        await users.update_user(s, world.tenant.id, world.actor("agent").user.id, is_active=False)
        await s.commit()
    r = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert_v1_error(r, 401)
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_v1_error(r, 401)
    r = await client.post(
        "/api/v1/auth/login", json={"email": "agent@acme.test", "password": AGENT_PASSWORD}
    )
    assert_v1_error(r, 401)


async def test_role_change_applies_to_existing_tokens(client, world, sessionmaker):
    headers = world.headers("agent", via="jwt")
    r = await client.get("/api/v1/users", headers=headers)
    assert_v1_error(r, 403, "forbidden")
    async with sessionmaker() as s:
        await users.update_user(s, world.tenant.id, world.actor("agent").user.id, role=Role.ADMIN)
        await s.commit()
    r = await client.get("/api/v1/users", headers=headers)
    assert r.status_code == 200


async def test_missing_credentials_are_401_with_v1_envelope(client, world):
    r = await client.get("/api/v1/auth/me")
    details = assert_v1_error(r, 401, "unauthorized")
    assert "X-API-Key" in details["message"]
    assert r.json()["error"] == "Unauthorized"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "sb_not-a-real-key"},
        {"X-API-Key": "something-else"},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
    ],
)
async def test_wrong_credentials_are_401(client, world, headers):
    r = await client.get("/api/v1/auth/me", headers=headers)
    assert_v1_error(r, 401, "unauthorized")


async def test_expired_or_foreign_signed_token_is_401(client, world, api_settings):
    admin = world.actor("admin").user
    expired = access_token(api_settings, admin, lifetime=timedelta(minutes=-5))
    r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert_v1_error(r, 401)
    forged = issue_token(
        "another-secret",
        user_id=admin.id,
        tenant_id=admin.tenant_id,
        role="admin",
        token_type="access",
        lifetime=timedelta(minutes=5),
        stamp=credential_stamp(admin.password_hash),
    )
    r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert_v1_error(r, 401)
    # a valid signature but a tenant that is not the user's
    crossed = issue_token(
        api_settings.secret_key,
        user_id=admin.id,
        tenant_id=world.other.id,
        role="admin",
        token_type="access",
        lifetime=timedelta(minutes=5),
        stamp=credential_stamp(admin.password_hash),
    )
    r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {crossed}"})
    assert_v1_error(r, 401)


async def test_api_key_and_session_cookie_authenticate(client, world):
    r = await client.get("/api/v1/auth/me", headers=world.headers("read-only"))
    assert r.json()["via"] == "api_key" and r.json()["role"] == "read-only"
    client.cookies.set("switchboard_session", world.actor("agent").token)
    try:
        r = await client.get("/api/v1/auth/me")
    finally:
        client.cookies.clear()
    assert r.status_code == 200
    assert r.json()["via"] == "session" and r.json()["role"] == "agent"


async def test_revoked_key_stops_authenticating(client, world):
    agent = world.actor("agent")
    r = await client.delete(f"/api/v1/api-keys/{agent.key_id}", headers=world.headers("admin"))
    assert r.status_code == 204
    r = await client.get("/api/v1/auth/me", headers={"X-API-Key": agent.key})
    assert_v1_error(r, 401)


@pytest.mark.parametrize("role", ["agent", "read-only"])
async def test_admin_routes_refuse_lower_roles_with_403(client, world, role):
    for via in ("api_key", "jwt"):
        r = await client.get("/api/v1/api-keys", headers=world.headers(role, via=via))
        details = assert_v1_error(r, 403, "forbidden")
        assert "admin" in details["message"]


async def test_email_in_two_tenants_needs_tenant_id_when_passwords_match(
    client, world, sessionmaker
):
    async with sessionmaker() as s:
        twin = await users.create_user(
            s, world.other.id, email="admin@acme.test", password=ADMIN_PASSWORD
        )
        await s.commit()
    body = {"email": "admin@acme.test", "password": ADMIN_PASSWORD}
    r = await client.post("/api/v1/auth/login", json=body)
    assert assert_v1_error(r, 409, "conflict")["field"] == "tenant_id"
    r = await client.post("/api/v1/auth/login", json={**body, "tenant_id": world.other.id})
    assert r.status_code == 200 and r.json()["user_id"] == twin.id


async def test_password_change_revokes_earlier_tokens(client, world):
    login = await client.post(
        "/api/v1/auth/login", json={"email": "agent@acme.test", "password": AGENT_PASSWORD}
    )
    tokens = login.json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 200
    r = await client.patch(
        f"/api/v1/users/{world.actor('agent').user.id}",
        json={"password": "a-brand-new-password"},
        headers=world.headers("admin"),
    )
    assert r.status_code == 200
    assert_v1_error(await client.get("/api/v1/auth/me", headers=bearer), 401)
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_v1_error(r, 401)
    login = await client.post(
        "/api/v1/auth/login", json={"email": "agent@acme.test", "password": "a-brand-new-password"}
    )
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 200
