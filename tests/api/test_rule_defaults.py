"""The ``default_ring_timeout`` setting is the ring timeout of a rule that gives none."""

from __future__ import annotations

from pathlib import Path

import pytest
import sb_resource_helpers as h
from conftest import make_settings

from switchboard.config import Settings

DEFAULT = 35


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, default_ring_timeout=DEFAULT)


async def test_a_rule_without_ring_timeout_rings_for_the_setting_on_every_route(
    client, world, sessionmaker
):
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550177")
    agent = world.headers("agent")

    r = await client.post(f"/api/v1/numbers/{number_id}/rules", headers=agent,
                          json={"targets": ["+15551234567"]})
    assert r.status_code == 201, r.text
    assert r.json()["ring_timeout"] == DEFAULT

    r = await client.post("/api/call-forwarding", headers=agent,
                          json={"phoneNumberId": number_id, "targets": ["+15551234568"]})
    assert r.status_code == 201, r.text
    assert r.json()["rule"]["ringTimeout"] == DEFAULT

    r = await client.put(f"/api/v1/numbers/{number_id}/rules.yaml",
                         headers={**agent, "Content-Type": "application/yaml"},
                         content="rules:\n  - targets: ['+15551234569']\n  - targets: ['+15551234560']\n    ring_timeout: 45\n")
    assert r.status_code == 200, r.text
    assert [x["ring_timeout"] for x in r.json()["items"]] == [DEFAULT, 45]


async def test_a_rule_that_gives_its_ring_timeout_keeps_it(client, world, sessionmaker):
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550178")
    r = await client.post(f"/api/v1/numbers/{number_id}/rules", headers=world.headers("agent"),
                          json={"targets": ["+15551234567"], "ring_timeout": 60})
    assert r.status_code == 201, r.text
    assert r.json()["ring_timeout"] == 60
