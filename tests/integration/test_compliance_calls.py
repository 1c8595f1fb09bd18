"""Do-not-call on real outbound calls: a listed number is refused (451) and nothing rings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from switchboard.asterisk import AsteriskInstance
from switchboard.engine.service import Engine
from switchboard.models import CallLog, DncEntry
from switchboard.services import api_keys
from switchboard.services.roles import Role
from tests.integration.engine_helpers import DID, seed_number
from tests.integration.messaging_stack import running_stack

pytestmark = pytest.mark.asterisk

LISTED = "+15550003333"


@pytest.fixture
async def stack(clean_asterisk: AsteriskInstance, db_url, db_engine, sessionmaker,
                tmp_path: Path) -> AsyncIterator[tuple[Engine, httpx.AsyncClient]]:
    async with running_stack(clean_asterisk, db_url, sessionmaker, tmp_path) as running:
        yield running


async def _channels(asterisk: AsteriskInstance) -> int:
    shown = await asyncio.to_thread(asterisk.cli, "core show channels count")
    return int(shown.split("active channel")[0].split()[-1])


async def test_a_listed_number_is_451_with_the_reason_and_no_channel_is_created(
    stack, sessionmaker, clean_asterisk: AsteriskInstance
) -> None:
    engine, client = stack
    tenant_id, _ = await seed_number(sessionmaker, [], trunk_context="sb-sim")
    await engine.routing.reload()
    async with sessionmaker() as s, s.begin():
        key = (await api_keys.create_key(s, tenant_id, name="ops", role=Role.AGENT)).key
        s.add(DncEntry(tenant_id=tenant_id, phone=LISTED, reason="litigator"))
    headers = {"X-API-Key": key}
    r = await client.post("/api/v1/calls/outbound", headers=headers,
                          json={"from_number": DID, "to_number": LISTED})
    assert r.status_code == 451, r.text
    details = r.json()["details"]
    assert (details["reason"], details["list_reason"], details["channel"]) == (
        "do_not_call", "litigator", "call")
    assert await _channels(clean_asterisk) == 0
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(CallLog)) == 0
    # Off the list, the same request places the call (the refusal was the list's doing).
    async with sessionmaker() as s, s.begin():
        await s.execute(DncEntry.__table__.delete())
    placed = await client.post("/api/v1/calls/outbound", headers=headers,
                               json={"from_number": DID, "to_number": LISTED})
    assert placed.status_code == 201, placed.text
    await client.post(f"/api/v1/calls/{placed.json()['call_sid']}/hangup", headers=headers)
    for _ in range(100):
        if await _channels(clean_asterisk) == 0:
            break
        await asyncio.sleep(0.1)
    assert await _channels(clean_asterisk) == 0
