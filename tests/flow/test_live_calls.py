"""Live-call commands and outbound calls, replayed from real calls.

Commands travel typed into the call's mailbox and are carried out by the
call's own task; one the call cannot take is refused at once.
"""

from __future__ import annotations

import asyncio

import pytest

from switchboard.callflow.status import CallLogStatus
from switchboard.engine.calls.commands import CallNotConnected, CallNotFound
from tests.flow.harness import FlowWorld
from tests.flow.scenarios import SCENARIOS


async def test_hold_unhold_and_blind_transfer_are_carried_out_by_the_call(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["live-call-held-unheld-and-blind-transferred"], tmp_path)
    row = await world.run()
    assert world.outcomes == [
        "hold: on_hold=True",
        "unhold: on_hold=False",
        "transfer: transferred",
        "hangup",
    ]
    assert row["answered_by"] == "+15550002222"
    assert row["status"] == CallLogStatus.ANSWERED_BY_STAFF
    targets = [leg["target"] for leg in world.log.legs_in_order()]
    assert targets == ["+15550001111", "+15550002222"]
    assert world.replay.unused_requests == []


async def test_warm_transfer_swaps_the_parties_and_the_new_one_is_hung_up_at_the_end(
    tmp_path,
) -> None:
    world = FlowWorld(SCENARIOS["live-call-warm-transferred"], tmp_path)
    row = await world.run()
    assert world.outcomes == ["transfer: transferred", "hangup"]
    assert row["answered_by"] == "+15550002222"
    legs = world.log.legs_in_order()
    assert all(leg.get("ended_at") is not None for leg in legs)
    # The transferred-to party is hung up when the caller goes (no leg left behind).
    hangups = [r["uri"] for r in world.replay.sent if r["method"] == "DELETE"]
    second = world.replay.bound["leg-2"]
    assert f"channels/{second}" in hangups
    assert world.replay.unused_requests == []


async def test_a_command_to_a_call_that_is_not_connected_is_refused_at_once(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["caller-hangs-up-while-targets-ring"], tmp_path)
    running = asyncio.create_task(world.run())
    for _ in range(1000):
        if world.router.registry.all():
            break
        await asyncio.sleep(0.001)
    [call] = world.router.registry.all()
    control, tenant = world.router.control, world.route.tenant_id
    with pytest.raises(CallNotConnected):
        await asyncio.wait_for(control.hold(tenant, call.call_sid, on=True), 0.05)
    with pytest.raises(CallNotConnected):
        await asyncio.wait_for(
            control.transfer(tenant, call.call_sid, target="+15550002222"), 0.05
        )
    await running
    with pytest.raises(CallNotFound):
        await control.hangup(tenant, call.call_sid)


async def test_an_outbound_call_connects_the_callee_with_the_numbers_staff(tmp_path) -> None:
    world = FlowWorld(SCENARIOS["outbound-call-connects-the-numbers-staff"], tmp_path)
    row = await world.run()
    assert row["direction"] == "OUTBOUND" and row["to_number"] == "+15550003333"
    assert row["status"] == CallLogStatus.ANSWERED_BY_STAFF
    assert row["answered_by"] == "+15550004444" and row["call_status"] == "completed"
    assert world.replay.unused_requests == []
