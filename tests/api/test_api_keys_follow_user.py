"""API keys act for their user: they die with the user and never outrank them (issue 14.6).

A key bound to a user is checked against that user on every request: a
deleted or deactivated user's keys stop authenticating at once, and a
demoted user's keys act with the user's new role (the lower of the key's role
and the user's). A key made through the API acts for a user: the one named,
else the caller.
"""

from __future__ import annotations

from switchboard.services import api_keys, users
from switchboard.services.roles import Role
from tests.api.conftest import assert_v1_error

NEW_ADMIN = {"email": "mallory@acme.test", "role": "admin", "password": "mallory-pass-1"}


async def _second_admin(client, world) -> dict:
    """A second admin (so the first one may be demoted), with an admin key of its own."""
    r = await client.post(
        "/api/v1/users",
        json={"email": "ex-admin@acme.test", "role": "admin", "password": "ex-admin-pass"},
        headers=world.headers(),
    )
    assert r.status_code == 201, r.text
    user = r.json()
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "ex-admin", "role": "admin", "user_id": user["id"]},
        headers=world.headers(),
    )
    assert r.status_code == 201, r.text
    return {"user": user, "key": r.json()["key"], "key_id": r.json()["id"]}


async def test_deleted_users_admin_key_stops_working(client, world):
    ex = await _second_admin(client, world)
    headers = {"X-API-Key": ex["key"]}
    assert (await client.get("/api/v1/users", headers=headers)).status_code == 200
    r = await client.delete(f"/api/v1/users/{ex['user']['id']}", headers=world.headers())
    assert r.status_code == 204
    assert_v1_error(await client.get("/api/v1/auth/me", headers=headers), 401)
    assert_v1_error(await client.post("/api/v1/users", json=NEW_ADMIN, headers=headers), 401)
    # The key stays listed, revoked, for the record.
    got = (await client.get(f"/api/v1/api-keys/{ex['key_id']}", headers=world.headers())).json()
    assert got["revoked_at"] is not None


async def test_deactivated_users_key_stops_working_and_reactivation_does_not_revive_it(
    client, world
):
    ex = await _second_admin(client, world)
    headers = {"X-API-Key": ex["key"]}
    r = await client.patch(
        f"/api/v1/users/{ex['user']['id']}", json={"is_active": False}, headers=world.headers()
    )
    assert r.status_code == 200, r.text
    assert_v1_error(await client.get("/api/v1/auth/me", headers=headers), 401)
    assert_v1_error(await client.post("/api/v1/users", json=NEW_ADMIN, headers=headers), 401)
    r = await client.patch(
        f"/api/v1/users/{ex['user']['id']}", json={"is_active": True}, headers=world.headers()
    )
    # Reactivation gives the person their account back; a key lost while they were
    # out works again only because nothing revoked it: deactivation checks, not revokes.
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200


async def test_demoted_users_admin_key_acts_with_the_new_role(client, world):
    ex = await _second_admin(client, world)
    headers = {"X-API-Key": ex["key"]}
    r = await client.patch(
        f"/api/v1/users/{ex['user']['id']}", json={"role": "agent"}, headers=world.headers()
    )
    assert r.status_code == 200, r.text
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["role"] == "agent"
    assert_v1_error(await client.post("/api/v1/users", json=NEW_ADMIN, headers=headers), 403)
    assert_v1_error(await client.get("/api/v1/api-keys", headers=headers), 403)
    listed = (await client.get("/api/v1/users", headers=world.headers())).json()
    assert NEW_ADMIN["email"] not in {u["email"] for u in listed["items"]}
    # Demoted again to read-only: the key follows.
    await client.patch(
        f"/api/v1/users/{ex['user']['id']}", json={"role": "read-only"}, headers=world.headers()
    )
    assert (await client.get("/api/v1/auth/me", headers=headers)).json()["role"] == "read-only"


async def test_key_never_outranks_its_own_role_when_the_user_is_promoted(client, world):
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "ro", "role": "read-only", "user_id": world.actor("agent").user.id},
        headers=world.headers(),
    )
    key = r.json()["key"]
    await client.patch(
        f"/api/v1/users/{world.actor('agent').user.id}", json={"role": "admin"},
        headers=world.headers(),
    )
    assert (await client.get("/api/v1/auth/me", headers={"X-API-Key": key})).json()[
        "role"
    ] == "read-only"


async def test_key_made_through_the_api_dies_with_the_user_who_made_it(client, world):
    ex = await _second_admin(client, world)
    # The soon-to-leave admin mints a key without naming a user...
    r = await client.post(
        "/api/v1/api-keys", json={"name": "parting gift"}, headers={"X-API-Key": ex["key"]}
    )
    assert r.status_code == 201, r.text
    gift = r.json()
    assert gift["user_id"] == ex["user"]["id"]  # ...which acts for them
    await client.delete(f"/api/v1/users/{ex['user']['id']}", headers=world.headers())
    assert_v1_error(await client.get("/api/v1/auth/me", headers={"X-API-Key": gift["key"]}), 401)


async def test_key_cannot_be_made_above_its_users_role(client, world):
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "x", "role": "admin", "user_id": world.actor("agent").user.id},
        headers=world.headers(),
    )
    assert assert_v1_error(r, 422, "validation_error")["field"] == "role"


async def test_user_deleted_outside_the_api_takes_its_keys_along(client, world, sessionmaker):
    async with sessionmaker() as s:
        user = await users.create_user(s, world.tenant.id, email="ops@acme.test", role=Role.ADMIN)
        created = await api_keys.create_key(s, world.tenant.id, name="ops", user_id=user.id)
        await s.commit()
    headers = {"X-API-Key": created.key}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    async with sessionmaker() as s:
        await users.delete_user(s, world.tenant.id, user.id)
        await s.commit()
    assert_v1_error(await client.get("/api/v1/auth/me", headers=headers), 401)


async def test_userless_operator_key_keeps_working(client, world, sessionmaker):
    async with sessionmaker() as s:
        created = await api_keys.create_key(s, world.tenant.id, name="ci", role=Role.AGENT)
        await s.commit()
    me = await client.get("/api/v1/auth/me", headers={"X-API-Key": created.key})
    assert me.status_code == 200
    assert me.json()["user_id"] is None and me.json()["role"] == "agent"
