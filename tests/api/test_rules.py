"""Forwarding rules: strict validation, CRUD, YAML round trip, and /api/v1 routes."""

from __future__ import annotations

import pytest
import sb_resource_helpers as h
from sb_resource_helpers import assert_v1_error

from switchboard.services import numbers, rules
from switchboard.services.exceptions import BadRequest, NotFound

GOOD = {"name": "Office", "priority": 1, "strategy": "simultaneous",
        "targets": ["+15551234567", "endpoint:desk-1"], "ring_timeout": 25,
        "condition": "always", "enabled": True,
        "schedule": [{"days": ["fri", "mon"], "start": "09:00", "end": "17:30"}]}


async def _number(s, t, e164="+15125550123"):
    await h.trunk_with(s, t, e164, name=f"t{e164[-4:]}{t.id[:4]}")
    n = await numbers.provision_number(s, t.id, e164)
    await s.commit()
    return n


# ---------------------------------------------------------------- service


async def test_rule_round_trips_normalised_and_bumps_revision(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        await h.endpoint(s, t, "desk-1")
        n = await _number(s, t)
        before = await h.revision(s)
        rule = await rules.create_rule(s, t.id, n.id, GOOD)
        await s.commit()
        assert await h.revision(s) == before + 1
        assert rule.schedule == [{"days": ["mon", "fri"], "start": "09:00", "end": "17:30"}]
        assert rule.targets == ["+15551234567", "endpoint:desk-1"]
        listed = await rules.list_rules(s, t.id, n.id)
        assert [r.id for r in listed] == [rule.id]


@pytest.mark.parametrize("change,field", [
    ({"strategy": "random"}, "strategy"),
    ({"targets": []}, "targets"),
    ({"targets": ["5551234567"]}, "targets"),
    ({"targets": ["endpoint:nobody"]}, "targets"),
    ({"targets": [f"+1555123456{i % 10}{i // 10}" for i in range(11)]}, "targets"),
    ({"targets": ["+15551234567", "+15551234567"]}, "targets"),
    ({"ring_timeout": 4}, "ring_timeout"),
    ({"ring_timeout": 121}, "ring_timeout"),
    ({"ring_timeout": True}, "ring_timeout"),
    ({"condition": "sometimes"}, "condition"),
    ({"priority": "1"}, "priority"),
    ({"enabled": 1}, "enabled"),
    ({"schedule": []}, "schedule"),
    ({"schedule": [{"days": ["monday"], "start": "09:00", "end": "17:00"}]}, "schedule"),
    ({"schedule": [{"days": ["mon"], "start": "17:00", "end": "09:00"}]}, "schedule"),
    ({"schedule": [{"days": ["mon"], "start": "9:00", "end": "17:00"}]}, "schedule"),
    ({"schedule": [{"days": ["mon"], "start": "09:00"}]}, "schedule"),
    ({"colour": "red"}, "colour"),
])
async def test_invalid_rules_are_refused_naming_the_field(sessionmaker, change, field):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        await h.endpoint(s, t, "desk-1")
        n = await _number(s, t)
        with pytest.raises(BadRequest) as err:
            await rules.create_rule(s, t.id, n.id, {**GOOD, **change})
        assert err.value.field == field


async def test_endpoint_target_must_belong_to_the_same_tenant(sessionmaker):
    async with sessionmaker() as s:
        t, other = await h.tenant(s), await h.tenant(s, "Other")
        await h.endpoint(s, other, "desk-1")
        n = await _number(s, t)
        with pytest.raises(BadRequest):
            await rules.create_rule(s, t.id, n.id, GOOD)


async def test_update_validates_the_whole_rule_and_foreign_ids_are_not_found(sessionmaker):
    async with sessionmaker() as s:
        t, other = await h.tenant(s), await h.tenant(s, "Other")
        await h.endpoint(s, t, "desk-1")
        n = await _number(s, t)
        rule = await rules.create_rule(s, t.id, n.id, GOOD)
        await s.commit()
        before = await h.revision(s)
        await rules.update_rule(s, t.id, rule.id, {"ring_timeout": 40, "enabled": False})
        await s.commit()
        assert (rule.ring_timeout, rule.enabled) == (40, False)
        assert await h.revision(s) == before + 1
        with pytest.raises(BadRequest):
            await rules.update_rule(s, t.id, rule.id, {"strategy": "both"})
        with pytest.raises(NotFound):
            await rules.update_rule(s, other.id, rule.id, {"ring_timeout": 30})
        with pytest.raises(NotFound):
            await rules.delete_rule(s, other.id, rule.id)
        await rules.delete_rule(s, t.id, rule.id)
        await s.commit()
        assert await rules.list_rules(s, t.id) == []


async def test_yaml_export_then_import_reproduces_the_rules(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        await h.endpoint(s, t, "desk-1")
        n = await _number(s, t)
        await rules.create_rule(s, t.id, n.id, GOOD)
        await rules.create_rule(s, t.id, n.id, {"targets": ["+15550009999"], "priority": 2,
                                               "condition": "no_answer"})
        await s.commit()
        text = await rules.export_yaml(s, t.id, n.id)
        assert "number: '+15125550123'" in text
        before = await h.revision(s)
        imported = await rules.import_yaml(s, t.id, n.id, text)
        await s.commit()
        assert await h.revision(s) == before + 1
        again = await rules.export_yaml(s, t.id, n.id)
        assert again == text
        assert len(imported) == 2 and len(await rules.list_rules(s, t.id, n.id)) == 2


async def test_yaml_import_is_all_or_nothing(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        n = await _number(s, t)
        await rules.create_rule(s, t.id, n.id, {"targets": ["+15550009999"]})
        await s.commit()
        bad = "rules:\n  - targets: ['+15550001111']\n  - targets: ['nope']\n"
        with pytest.raises(BadRequest) as err:
            await rules.import_yaml(s, t.id, n.id, bad)
        assert err.value.field == "rules[1].targets"
        with pytest.raises(BadRequest):
            await rules.import_yaml(s, t.id, n.id, "rules: [unclosed")
        with pytest.raises(BadRequest):
            await rules.import_yaml(s, t.id, n.id, "rules: 5")
        await s.rollback()
        assert [r.targets for r in await rules.list_rules(s, t.id, n.id)] == [["+15550009999"]]


# ---------------------------------------------------------------- /api/v1 rules


async def test_rules_crud_and_yaml_over_http(client, world, sessionmaker):
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550101")
    async with sessionmaker() as s:
        await h.endpoint(s, world.tenant, "desk-1")
    agent = world.headers("agent")
    r = await client.post(f"/api/v1/numbers/{number_id}/rules", headers=agent, json=GOOD)
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["number_id"] == number_id and rule["strategy"] == "simultaneous"
    assert rule["schedule"] == [{"days": ["mon", "fri"], "start": "09:00", "end": "17:30"}]

    r = await client.patch(f"/api/v1/rules/{rule['id']}", headers=agent,
                           json={"ring_timeout": 45, "schedule": None})
    assert r.status_code == 200, r.text
    assert r.json()["ring_timeout"] == 45 and r.json()["schedule"] is None

    reader = world.headers("read-only")
    r = await client.get(f"/api/v1/numbers/{number_id}/rules", headers=reader)
    assert [x["id"] for x in r.json()["items"]] == [rule["id"]]
    r = await client.get(f"/api/v1/rules?number_id={number_id}", headers=reader)
    assert len(r.json()["items"]) == 1
    assert (await client.get(f"/api/v1/rules/{rule['id']}", headers=reader)).status_code == 200

    r = await client.get(f"/api/v1/numbers/{number_id}/rules.yaml", headers=reader)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
    text = r.text.replace("ring_timeout: 45", "ring_timeout: 30")
    r = await client.put(f"/api/v1/numbers/{number_id}/rules.yaml", headers={
        **agent, "Content-Type": "application/yaml"}, content=text)
    assert r.status_code == 200, r.text
    assert [x["ring_timeout"] for x in r.json()["items"]] == [30]
    new_id = r.json()["items"][0]["id"]

    r = await client.delete(f"/api/v1/rules/{new_id}", headers=agent)
    assert r.status_code == 204
    assert (await client.get("/api/v1/rules", headers=reader)).json()["items"] == []


async def test_rule_validation_errors(client, world, sessionmaker):
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550101")
    agent = world.headers("agent")
    path = f"/api/v1/numbers/{number_id}/rules"
    r = await client.post(path, headers=agent, json={"targets": ["+15551234567"] * 11})
    assert assert_v1_error(r, 422, "validation_error")["field"] == "targets"
    r = await client.post(path, headers=agent, json={"targets": ["+1555"], "ring_timeout": 3})
    assert_v1_error(r, 422)
    r = await client.post(path, headers=agent, json={"targets": ["endpoint:ghost"]})
    assert assert_v1_error(r, 400, "bad_request")["field"] == "targets"
    r = await client.post(path, headers=agent, json={
        "targets": ["+15551234567"],
        "schedule": [{"days": ["mon"], "start": "18:00", "end": "08:00"}]})
    assert assert_v1_error(r, 400, "bad_request")["field"] == "schedule"
    r = await client.put(f"{path}.yaml", headers={**agent, "Content-Type": "application/yaml"},
                         content="rules:\n  - targets: [nope]\n")
    assert assert_v1_error(r, 400, "bad_request")["field"] == "rules[0].targets"


async def test_rule_auth_roles_and_foreign_ids(client, world, sessionmaker):
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550101")
    async with sessionmaker() as s:
        rule = await rules.create_rule(s, world.tenant.id, number_id,
                                       {"targets": ["+15550001234"]})
        await s.commit()
    path = f"/api/v1/numbers/{number_id}/rules"
    assert_v1_error(await client.get(path), 401)
    assert_v1_error(await client.delete(f"/api/v1/rules/{rule.id}"), 401)
    reader = world.headers("read-only")
    r = await client.post(path, headers=reader, json={"targets": ["+15551234567"]})
    assert_v1_error(r, 403, "forbidden")
    assert_v1_error(await client.delete(f"/api/v1/rules/{rule.id}", headers=reader), 403)
    other = world.other_headers()
    assert_v1_error(await client.get(f"/api/v1/rules/{rule.id}", headers=other), 404)
    r = await client.patch(f"/api/v1/rules/{rule.id}", headers=other, json={"enabled": False})
    assert_v1_error(r, 404)
    assert_v1_error(await client.delete(f"/api/v1/rules/{rule.id}", headers=other), 404)
    r = await client.post(path, headers=other, json={"targets": ["+15551234567"]})
    assert_v1_error(r, 404)
    assert_v1_error(await client.get(f"{path}.yaml", headers=other), 404)
    assert (await client.get("/api/v1/rules", headers=other)).json()["items"] == []
