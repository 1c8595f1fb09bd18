"""The outbox loses nothing: target down, dispatcher restarted or crashed, shared."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from outbox_helpers import TOKEN, all_finished, enqueue_status, fast_settings, make_tenant, wait_for
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from webhook_receiver import Received, Receiver, Reply

from switchboard.fetch_policy import LOOPBACK, FetchPolicy, GuardedClient
from switchboard.models import WebhookDelivery
from switchboard.outbox.delivery import OutboxDispatcher
from switchboard.outbox.http import IDEMPOTENCY_HEADER
from tests.eventually import eventually

STATUSES = ["initiated", "ringing", "answered", "completed"]
CALLS = ["CA" + str(i) * 32 for i in range(1, 4)]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with GuardedClient(FetchPolicy.from_entries(LOOPBACK)) as http:
        yield http


@pytest.fixture
async def tenant_id(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    return await make_tenant(sessionmaker)


def _assert_in_order_per_call(requests: list[Received], calls: list[str]) -> None:
    for call in calls:
        seen = [r for r in requests if r.form["CallSid"] == call]
        assert [r.form["CallStatus"] for r in seen] == STATUSES, call
        assert [int(r.form["SequenceNumber"]) for r in seen] == list(range(len(STATUSES)))


def _assert_once_per_key(requests: list[Received], rows: list[WebhookDelivery]) -> None:
    counts = Counter(r.headers[IDEMPOTENCY_HEADER] for r in requests)
    assert counts == Counter({row.idempotency_key: 1 for row in rows})


async def test_target_down_for_a_while_then_everything_delivered_once_in_order(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str, client: httpx.AsyncClient
) -> None:
    probe = Receiver(token=TOKEN)
    probe.start()
    port = probe.port
    probe.stop()  # the target is down; its port is known
    url = f"http://127.0.0.1:{port}/status"
    for call in CALLS:
        await enqueue_status(sessionmaker, tenant_id, call, url, STATUSES)
    outbox = OutboxDispatcher(sessionmaker=sessionmaker, client=client, settings=fast_settings())
    outbox.start()
    receiver = Receiver(token=TOKEN, port=port)
    receiver.routes["/status"] = Reply(status=200, body="")
    try:
        # Every call's first callback has failed at least twice against the dead target.
        await wait_for(sessionmaker, lambda rs: all(r.attempts >= 2 for r in rs if r.sequence == 1))
        current = await wait_for(sessionmaker, lambda rs: True)
        assert not [r for r in current if r.status in ("delivered", "failed")]
        # The later callbacks of each call are held back behind the first, untried.
        assert all(r.status == "pending" and r.attempts == 0 for r in current if r.sequence > 1)
        receiver.start()
        current = await wait_for(sessionmaker, lambda rs: all(r.status == "delivered" for r in rs))
    finally:
        await outbox.stop(grace=1)
        receiver.stop()
    requests = receiver.requests_to("/status")
    assert all(r.signature_ok for r in requests)
    _assert_once_per_key(requests, current)
    _assert_in_order_per_call(requests, CALLS)
    assert all(r.last_error is None and r.last_status_code == 200 for r in current)


async def test_engine_down_between_enqueue_and_delivery_delivers_after_restart(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str, client: httpx.AsyncClient
) -> None:
    receiver = Receiver(token=TOKEN)
    receiver.routes["/status"] = Reply(status=200, body="")
    receiver.start()
    try:
        # The state changes commit while no dispatcher runs (the engine died after them).
        for call in CALLS:
            await enqueue_status(sessionmaker, tenant_id, call, receiver.url("/status"), STATUSES)
        restarted = OutboxDispatcher(
            sessionmaker=sessionmaker, client=client, settings=fast_settings()
        )
        restarted.start()
        try:
            current = await wait_for(sessionmaker, lambda rs: len(rs) == 12 and all_finished(rs))
        finally:
            await restarted.stop(grace=1)
    finally:
        receiver.stop()
    assert {r.status for r in current} == {"delivered"}
    requests = receiver.requests_to("/status")
    _assert_once_per_key(requests, current)
    _assert_in_order_per_call(requests, CALLS)


async def test_rows_claimed_by_a_crashed_dispatcher_are_taken_again_after_the_lease(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str, client: httpx.AsyncClient
) -> None:
    receiver = Receiver(token=TOKEN)
    receiver.routes["/status"] = Reply(status=200, body="")
    receiver.start()
    try:
        for call in CALLS:
            await enqueue_status(sessionmaker, tenant_id, call, receiver.url("/status"), STATUSES)
        crashed = OutboxDispatcher(
            sessionmaker=sessionmaker,
            client=client,
            settings=fast_settings(outbox_lease_seconds=0.5, outbox_request_timeout_seconds=0.4),
            name="crashed",
        )
        claimed = await crashed.claim(limit=10)  # then it dies before sending anything
        assert len(claimed) == len(CALLS)  # only the head of each call
        current = await wait_for(sessionmaker, lambda rs: True)
        assert sorted(r.status for r in current if r.sequence == 1) == ["delivering"] * 3
        successor = OutboxDispatcher(
            sessionmaker=sessionmaker, client=client, settings=fast_settings(), name="successor"
        )
        successor.start()
        try:
            current = await wait_for(sessionmaker, lambda rs: all_finished(rs))
        finally:
            await successor.stop(grace=1)
    finally:
        receiver.stop()
    assert {r.status for r in current} == {"delivered"}
    requests = receiver.requests_to("/status")
    _assert_once_per_key(requests, current)
    _assert_in_order_per_call(requests, CALLS)


async def test_dispatcher_killed_mid_delivery_redelivers_with_the_same_key(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str, client: httpx.AsyncClient
) -> None:
    receiver = Receiver(token=TOKEN)

    def stall_once(request: Received) -> Reply:
        if len(receiver.requests_to("/status")) == 1:
            return Reply(status=200, body="", delay=2.0)
        return Reply(status=200, body="")

    receiver.routes["/status"] = stall_once
    receiver.start()
    call = CALLS[0]
    try:
        await enqueue_status(sessionmaker, tenant_id, call, receiver.url("/status"), STATUSES)
        first = OutboxDispatcher(
            sessionmaker=sessionmaker,
            client=client,
            settings=fast_settings(outbox_lease_seconds=0.5, outbox_request_timeout_seconds=0.4),
        )
        first.start()
        await eventually(
            lambda: receiver.requests_to("/status"), timeout=10, interval=0.02,
            what="a request in flight",
        )
        await first.stop(grace=0)  # killed while its request is in flight
        second = OutboxDispatcher(
            sessionmaker=sessionmaker, client=client, settings=fast_settings()
        )
        second.start()
        try:
            current = await wait_for(sessionmaker, lambda rs: all_finished(rs))
        finally:
            await second.stop(grace=1)
    finally:
        receiver.stop()
    assert {r.status for r in current} == {"delivered"}
    requests = receiver.requests_to("/status")
    keys = [r.headers[IDEMPOTENCY_HEADER] for r in requests]
    # The interrupted callback is sent again with its key; nothing else is repeated.
    assert keys[0] == keys[1] == current[0].idempotency_key
    assert Counter(keys[1:]) == Counter(r.idempotency_key for r in current)
    assert [r.form["CallStatus"] for r in requests[1:]] == STATUSES


async def test_two_dispatchers_share_the_outbox_without_duplicates(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str, client: httpx.AsyncClient
) -> None:
    receiver = Receiver(token=TOKEN)
    receiver.routes["/status"] = Reply(status=200, body="")
    receiver.start()
    calls = ["CA" + f"{i:032x}" for i in range(12)]
    try:
        for call in calls:
            await enqueue_status(sessionmaker, tenant_id, call, receiver.url("/status"), STATUSES)
        pair = [
            OutboxDispatcher(sessionmaker=sessionmaker, client=client, settings=fast_settings())
            for _ in range(2)
        ]
        for outbox in pair:
            outbox.start()
        try:
            current = await wait_for(sessionmaker, lambda rs: all_finished(rs), timeout=30)
        finally:
            for outbox in pair:
                await outbox.stop(grace=1)
    finally:
        receiver.stop()
    assert {r.status for r in current} == {"delivered"}
    requests = receiver.requests_to("/status")
    _assert_once_per_key(requests, current)
    _assert_in_order_per_call(requests, calls)
    assert sum(outbox.delivered for outbox in pair) == len(calls) * len(STATUSES)
