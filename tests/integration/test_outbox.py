"""The webhook outbox: rows written with the state change, delivered signed and in order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from outbox_helpers import (
    TOKEN,
    all_finished,
    enqueue_status,
    fast_settings,
    make_tenant,
    rows,
    wait_for,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from webhook_receiver import Received, Receiver, Reply

from switchboard.fetch_policy import LOOPBACK, FetchPolicy, GuardedClient
from switchboard.models import CallLog, WebhookDelivery, utcnow
from switchboard.outbox import enqueue
from switchboard.outbox.delivery import OutboxDispatcher
from switchboard.outbox.http import IDEMPOTENCY_HEADER
from switchboard.services.exceptions import NotFound
from switchboard.services.webhooks import get_delivery, list_deliveries, replay_delivery

CALL_A = "CA" + "a" * 32
CALL_B = "CA" + "b" * 32
STATUSES = ["initiated", "ringing", "answered", "completed"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(token=TOKEN)
    server.routes["/status"] = Reply(status=204, body="")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with GuardedClient(FetchPolicy.from_entries(LOOPBACK)) as http:
        yield http


@pytest.fixture
async def tenant_id(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    return await make_tenant(sessionmaker)


@pytest.fixture
async def dispatcher(
    sessionmaker: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> AsyncIterator[OutboxDispatcher]:
    outbox = OutboxDispatcher(sessionmaker=sessionmaker, client=client, settings=fast_settings())
    yield outbox
    await outbox.stop(grace=1)


async def test_enqueue_commits_with_the_state_change(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str
) -> None:
    async with sessionmaker() as session:
        async with session.begin():
            session.add(
                CallLog(
                    call_sid=CALL_A,
                    tenant_id=tenant_id,
                    direction="INBOUND",
                    status="INCOMING_CALL",
                    started_at=utcnow(),
                )
            )
            await enqueue(
                session,
                tenant_id=tenant_id,
                call_sid=CALL_A,
                url="http://x/s",
                params={"CallStatus": "ringing"},
                kind="status",
            )
        with pytest.raises(RuntimeError):
            async with session.begin():
                await enqueue(
                    session,
                    tenant_id=tenant_id,
                    call_sid=CALL_A,
                    url="http://x/s",
                    params={"CallStatus": "answered"},
                    kind="status",
                )
                raise RuntimeError("state change failed")
    [row] = await rows(sessionmaker)
    assert row.params["CallStatus"] == "ringing"
    assert row.status == "pending"


async def test_sequence_per_call_and_sequence_number_per_status_callback(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str
) -> None:
    async with sessionmaker() as session, session.begin():
        for kind, call in [
            ("status", CALL_A),
            ("dial-action", CALL_A),
            ("status", CALL_B),
            ("status", CALL_A),
            ("recording", CALL_A),
            ("status", CALL_A),
        ]:
            await enqueue(
                session,
                tenant_id=tenant_id,
                call_sid=call,
                url="http://x/s",
                params={"CallSid": call},
                kind=kind,
            )
    current = await rows(sessionmaker)
    call_a = [r for r in current if r.call_sid == CALL_A]
    assert [r.sequence for r in call_a] == [1, 2, 3, 4, 5]
    assert [r.params.get("SequenceNumber") for r in call_a] == ["0", None, "1", None, "2"]
    [call_b] = [r for r in current if r.call_sid == CALL_B]
    assert (call_b.sequence, call_b.params["SequenceNumber"]) == (1, "0")
    assert len({r.idempotency_key for r in current}) == len(current)


async def test_callbacks_arrive_signed_in_order_with_increasing_sequence_number(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    receiver: Receiver,
    dispatcher: OutboxDispatcher,
) -> None:
    url = receiver.url("/status")
    await enqueue_status(sessionmaker, tenant_id, CALL_A, url, STATUSES)
    await enqueue_status(sessionmaker, tenant_id, CALL_B, url, STATUSES)
    dispatcher.start()
    current = await wait_for(sessionmaker, lambda rs: len(rs) == 8 and all_finished(rs))
    assert {r.status for r in current} == {"delivered"}
    requests = receiver.requests_to("/status")
    assert len(requests) == 8
    assert all(r.signature_ok for r in requests)
    for call in (CALL_A, CALL_B):
        seen = [r for r in requests if r.form["CallSid"] == call]
        assert [r.form["CallStatus"] for r in seen] == STATUSES
        assert [int(r.form["SequenceNumber"]) for r in seen] == [0, 1, 2, 3]
    keys = {r.idempotency_key for r in current}
    assert {r.headers[IDEMPOTENCY_HEADER] for r in requests} == keys
    assert all(r.attempts == 1 and r.delivered_at is not None for r in current)


async def test_notify_wakes_the_dispatcher_without_waiting_for_the_poll(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    receiver: Receiver,
    client: httpx.AsyncClient,
) -> None:
    slow_poll = fast_settings(outbox_poll_seconds=60.0)
    outbox = OutboxDispatcher(sessionmaker=sessionmaker, client=client, settings=slow_poll)
    outbox.start()
    try:
        await wait_for(sessionmaker, lambda rs: True)  # let it enter its first long sleep
        await enqueue_status(
            sessionmaker, tenant_id, CALL_A, receiver.url("/status"), STATUSES, notify=outbox.notify
        )
        await wait_for(sessionmaker, lambda rs: len(rs) == 4 and all_finished(rs), timeout=10)
    finally:
        await outbox.stop(grace=1)


async def test_server_errors_are_retried_with_the_same_idempotency_key(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    receiver: Receiver,
    dispatcher: OutboxDispatcher,
) -> None:
    def flaky(request: Received) -> Reply:
        if len(receiver.requests_to("/flaky")) <= 2:
            return Reply(status=503, body="busy")
        return Reply(status=200, body="ok")

    receiver.routes["/flaky"] = flaky
    await enqueue_status(sessionmaker, tenant_id, CALL_A, receiver.url("/flaky"), ["completed"])
    dispatcher.start()
    [row] = await wait_for(sessionmaker, all_finished)
    assert row.status == "delivered"
    assert row.attempts == 3
    assert row.last_status_code == 200
    requests = receiver.requests_to("/flaky")
    assert len(requests) == 3
    assert {r.headers[IDEMPOTENCY_HEADER] for r in requests} == {row.idempotency_key}


async def test_client_error_fails_at_once_and_unblocks_the_next_callback(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    receiver: Receiver,
    dispatcher: OutboxDispatcher,
) -> None:
    receiver.routes["/gone"] = Reply(status=404, body="no such hook")
    async with sessionmaker() as session, session.begin():
        await enqueue(
            session,
            tenant_id=tenant_id,
            call_sid=CALL_A,
            url=receiver.url("/gone"),
            params={"CallStatus": "ringing"},
            kind="status",
        )
        await enqueue(
            session,
            tenant_id=tenant_id,
            call_sid=CALL_A,
            url=receiver.url("/status"),
            params={"CallStatus": "completed"},
            kind="status",
        )
    dispatcher.start()
    first, second = await wait_for(sessionmaker, lambda rs: len(rs) == 2 and all_finished(rs))
    assert (first.status, first.attempts, first.last_status_code) == ("failed", 1, 404)
    assert first.last_error == "HTTP 404"
    assert second.status == "delivered"


async def test_retry_window_exhausted_marks_failed(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    client: httpx.AsyncClient,
    receiver: Receiver,
) -> None:
    receiver.routes["/down"] = Reply(status=500, body="")
    short = fast_settings(outbox_retry_hours=0.5 / 3600)
    outbox = OutboxDispatcher(sessionmaker=sessionmaker, client=client, settings=short)
    await enqueue_status(sessionmaker, tenant_id, CALL_A, receiver.url("/down"), ["completed"])
    outbox.start()
    try:
        [row] = await wait_for(sessionmaker, all_finished)
    finally:
        await outbox.stop(grace=1)
    assert row.status == "failed"
    assert row.attempts >= 2
    assert row.last_status_code == 500


async def test_replay_delivers_a_failed_callback_again_with_its_key(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    receiver: Receiver,
    dispatcher: OutboxDispatcher,
) -> None:
    receiver.routes["/later"] = Reply(status=410, body="")
    await enqueue_status(sessionmaker, tenant_id, CALL_A, receiver.url("/later"), ["completed"])
    dispatcher.start()
    [failed] = await wait_for(sessionmaker, all_finished)
    assert failed.status == "failed"
    receiver.routes["/later"] = Reply(status=200, body="")
    async with sessionmaker() as session, session.begin():
        await replay_delivery(
            session, tenant_id=tenant_id, delivery_id=failed.id, notify=dispatcher.notify
        )
    [row] = await wait_for(sessionmaker, lambda rs: rs[0].status == "delivered")
    assert row.attempts == 2
    keys = [r.headers[IDEMPOTENCY_HEADER] for r in receiver.requests_to("/later")]
    assert keys == [failed.idempotency_key] * 2


async def test_list_and_get_deliveries_are_per_tenant(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str
) -> None:
    other = await make_tenant(sessionmaker)
    await enqueue_status(sessionmaker, tenant_id, CALL_A, "http://x/s", STATUSES)
    await enqueue_status(sessionmaker, other, CALL_B, "http://x/s", ["ringing"])
    async with sessionmaker() as session:
        page = await list_deliveries(session, tenant_id=tenant_id, call_sid=CALL_A)
        assert page.total == 4
        assert [r.params["CallStatus"] for r in page.items] == STATUSES
        pending = await list_deliveries(session, tenant_id=tenant_id, status="pending", limit=2)
        assert (pending.total, len(pending.items)) == (4, 2)
        theirs = (
            await session.scalars(select(WebhookDelivery).where(WebhookDelivery.tenant_id == other))
        ).one()
        with pytest.raises(NotFound):
            await get_delivery(session, tenant_id=tenant_id, delivery_id=theirs.id)


async def test_lease_shorter_than_a_request_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> None:
    unsafe = fast_settings(outbox_lease_seconds=5.0, outbox_request_timeout_seconds=15.0)
    with pytest.raises(ValueError, match="outbox_lease_seconds"):
        OutboxDispatcher(sessionmaker=sessionmaker, client=client, settings=unsafe)


async def test_notify_runs_once_per_commit_and_never_on_rollback(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str
) -> None:
    calls: list[str] = []

    def notify() -> None:
        calls.append("wake")

    async with sessionmaker() as session:
        with pytest.raises(RuntimeError):
            async with session.begin():
                await enqueue(
                    session,
                    tenant_id=tenant_id,
                    call_sid=CALL_A,
                    url="http://x/s",
                    params={},
                    kind="status",
                    notify=notify,
                )
                raise RuntimeError("rolled back")
        assert calls == []
        async with session.begin():
            for _ in range(3):
                await enqueue(
                    session,
                    tenant_id=tenant_id,
                    call_sid=CALL_A,
                    url="http://x/s",
                    params={},
                    kind="status",
                    notify=notify,
                )
            assert calls == []
        assert calls == ["wake"]
        async with session.begin():
            await enqueue(
                session,
                tenant_id=tenant_id,
                call_sid=CALL_B,
                url="http://x/s",
                params={},
                kind="status",
                notify=notify,
            )
        assert calls == ["wake", "wake"]


async def test_prune_keeps_pending_and_recent_rows(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from switchboard.services.webhooks import prune_deliveries

    await enqueue_status(sessionmaker, tenant_id, CALL_A, "http://x/s", STATUSES)
    old = utcnow() - timedelta(days=40)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.sequence <= 3)
            .values(created_at=old, status="delivered")
        )
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.sequence == 3).values(status="pending")
        )
    async with sessionmaker() as session, session.begin():
        deleted = await prune_deliveries(session, finished_before=utcnow() - timedelta(days=30))
    assert deleted == 2
    assert [r.sequence for r in await rows(sessionmaker)] == [3, 4]
