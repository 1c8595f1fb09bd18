"""Webhook benchmark: outbox delivery throughput against raw HTTP POSTs.

A receiver runs in its own process (uvicorn, a bare ASGI app answering 204)
so it does not share the event loop being measured. The outbox side enqueues
``--calls`` calls of ``--per-call`` status callbacks each (committed first,
one transaction per call), then times an :class:`OutboxDispatcher` from
start until every row is ``delivered``: that includes claiming with leases,
signing, per-call ordering and recording each result. The baseline sends the
same number of signed POSTs with plain httpx, with the same concurrency, in
the same process. The ratio says what durability costs.

Run: ``.venv/bin/python bench/webhook_roundtrip.py [--calls 200 --per-call 5]
[--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/DB]``

The voice-URL round-trip part (answer -> first verb executing, voice URL vs
the built-in path) needs the call-flow executor and is not measured here yet.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from switchboard.config import Settings
from switchboard.fetch_policy import LOOPBACK, FetchPolicy, GuardedClient
from switchboard.models import Tenant, WebhookDelivery
from switchboard.models.migrate import upgrade
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.outbox import enqueue
from switchboard.outbox.delivery import OutboxDispatcher
from switchboard.outbox.http import signed_request

TOKEN = "0123456789abcdef0123456789abcdef"


async def receiver_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The receiver: drain the body, answer 204."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_receiver(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(Path(__file__).parent),
            "webhook_roundtrip:receiver_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("receiver did not start")


async def _baseline(url: str, total: int, concurrency: int) -> float:
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient() as client:  # raw httpx: the baseline has no fetch policy

        async def one(i: int) -> None:
            async with semaphore:
                request = signed_request(
                    client,
                    url=url,
                    method="POST",
                    params={"CallSid": f"CA{i:032x}", "CallStatus": "completed"},
                    auth_token=TOKEN,
                )
                response = await client.send(request)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(total)))
        return time.perf_counter() - started


async def _outbox(
    url: str, database_url: str, calls: int, per_call: int, settings: Settings
) -> float:
    engine = make_engine(database_url)
    await upgrade(engine)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        tenant = Tenant(name="bench", auth_token=TOKEN)
        session.add(tenant)
        await session.flush()
        tenant_id = tenant.id
    for c in range(calls):
        call_sid = f"CA{c:032x}"
        async with sessionmaker() as session, session.begin():
            for n in range(per_call):
                await enqueue(
                    session,
                    tenant_id=tenant_id,
                    call_sid=call_sid,
                    url=url,
                    params={"CallSid": call_sid, "CallStatus": f"s{n}"},
                    kind="status",
                )
    total = calls * per_call
    async with GuardedClient(FetchPolicy.from_entries(LOOPBACK)) as client:
        dispatcher = OutboxDispatcher(sessionmaker=sessionmaker, client=client, settings=settings)
        started = time.perf_counter()
        dispatcher.start()
        while dispatcher.delivered < total:  # noqa: ASYNC110 - a bench polls a counter
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        await dispatcher.stop()
    async with sessionmaker() as session:
        done = await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status == "delivered", WebhookDelivery.tenant_id == tenant_id)
        )
    await engine.dispose()
    if done != total:
        raise SystemExit(f"only {done} of {total} rows recorded as delivered")
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--per-call", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    settings = Settings(outbox_concurrency=args.concurrency, outbox_poll_seconds=0.05)
    port = _free_port()
    receiver = _start_receiver(port)
    url = f"http://127.0.0.1:{port}/status"
    total = args.calls * args.per_call
    try:
        with tempfile.TemporaryDirectory() as tmp:
            database_url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
            await _baseline(url, min(total, 200), args.concurrency)  # warm-up
            # Baseline before and after, best kept: the order does not favour either side.
            raw = await _baseline(url, total, args.concurrency)
            outbox = await _outbox(url, database_url, args.calls, args.per_call, settings)
            raw = min(raw, await _baseline(url, total, args.concurrency))
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    backend = database_url.split(":", 1)[0]
    print(
        f"deliveries: {total} ({args.calls} calls x {args.per_call}), "
        f"concurrency {args.concurrency}, database {backend}"
    )
    print(f"raw httpx POSTs : {total / raw:8.1f} /s")
    print(f"outbox delivery : {total / outbox:8.1f} /s")
    print(f"ratio outbox/raw: {raw / outbox:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
