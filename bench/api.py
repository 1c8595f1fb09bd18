"""Call-log listing benchmark: filtered pages over a large call log.

Fills a fresh database with ``--rows`` call logs (default 1 000 000; 90 % in
one tenant, a year of calls, 1 000 caller numbers, 20 staff, 10 % recorded),
then times the service functions the API routes call, ``--queries`` times
each: newest page and filtered pages by keyset (``list_after``), a page 40
deep by cursor, and page/limit with a total (``list_page``, which counts every
match). Prints p50/p99 in ms and each p99 as a ratio of the 25 ms target
(below 1.0 meets it). Transcript search is benchmarked in
``bench/transcription.py``.

Run: ``.venv/bin/python bench/api.py [--rows 1000000] [--queries 200]
[--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/DB]``
(the PostgreSQL database must exist and be empty; SQLite gets a temp file).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from switchboard import ids
from switchboard.models import CallLog, Tenant, User
from switchboard.models.migrate import upgrade
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.services import call_logs
from switchboard.services.call_logs import CallLogFilter

TARGET_MS = 25.0
STATUSES = ["ANSWERED_BY_STAFF", "MISSED", "VOICEMAIL_RECEIVED", "ANSWERED_BY_CALLS_PROVIDER"]


async def _fill(maker: Any, rows: int) -> tuple[str, list[str], list[str]]:
    rng = random.Random(7)
    async with maker() as s:
        main, other = Tenant(name="Bench main"), Tenant(name="Bench other")
        s.add_all([main, other])
        await s.flush()
        staff = [User(tenant_id=main.id, email=f"s{i}@bench.test") for i in range(20)]
        s.add_all(staff)
        await s.commit()
        staff_ids = [u.id for u in staff]
    callers = [f"+1512555{i:04d}" for i in range(1000)]
    now = datetime.now(UTC)
    batch: list[dict[str, Any]] = []
    started = time.perf_counter()
    for n in range(rows):
        tenant = main.id if n % 10 else other.id
        at = now - timedelta(seconds=rng.randrange(365 * 86400))
        recorded = rng.random() < 0.1
        batch.append({
            "id": ids.new_uuid(), "call_sid": ids.call_sid(), "tenant_id": tenant,
            "direction": "INBOUND" if rng.random() < 0.7 else "OUTBOUND",
            "status": rng.choice(STATUSES), "call_status": "completed",
            "from_number": rng.choice(callers), "to_number": "+15125550100",
            "staff_id": rng.choice(staff_ids) if tenant == main.id else None,
            "provider": "ASTERISK", "price": "0", "started_at": at, "ended_at": at,
            "duration": rng.randrange(600), "has_recording": recorded,
            "has_voicemail": False, "handled_by": "engine", "notes": [],
            "created_at": at, "updated_at": at,
        })
        if len(batch) == 5000:
            async with maker() as s:
                await s.execute(insert(CallLog), batch)
                await s.commit()
            batch = []
    if batch:
        async with maker() as s:
            await s.execute(insert(CallLog), batch)
            await s.commit()
    print(f"filled {rows} call logs in {time.perf_counter() - started:.1f} s")
    return main.id, callers, staff_ids


async def _time(label: str, queries: int, run: Callable[[], Awaitable[object]]) -> None:
    await run()  # warm caches and plans
    samples = []
    for _ in range(queries):
        t0 = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"{label:44s} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  p99/target {p99 / TARGET_MS:6.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = make_engine(url)
    await upgrade(engine)
    maker = make_sessionmaker(engine)
    tenant, callers, staff = await _fill(maker, args.rows)
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
    rng = random.Random(11)
    year_ago = datetime.now(UTC) - timedelta(days=365)

    def keyset(make: Callable[[], CallLogFilter]) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            async with maker() as s:
                return await call_logs.list_after(s, tenant, make(), cursor=None, limit=25)
        return run

    async def deep() -> object:
        async with maker() as s:
            cursor = None
            for _ in range(40):
                batch = await call_logs.list_after(s, tenant, CallLogFilter(), cursor=cursor,
                                                   limit=25)
                cursor = batch.next_cursor
            return cursor

    def paged(make: Callable[[], CallLogFilter]) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            async with maker() as s:
                return await call_logs.list_page(s, tenant, make(), page=1, limit=25)
        return run

    def window() -> CallLogFilter:
        start = year_ago + timedelta(days=rng.randrange(300))
        return CallLogFilter(date_start=start, date_end=start + timedelta(days=7))

    print(f"{url.split(':')[0]}: {args.rows} rows, {args.queries} queries each")
    await _time("newest page (keyset)", args.queries, keyset(CallLogFilter))
    await _time("direction + status (keyset)", args.queries,
                keyset(lambda: CallLogFilter(direction="inbound", status="MISSED")))
    await _time("from one caller of 1000 (keyset)", args.queries,
                keyset(lambda: CallLogFilter(from_number=rng.choice(callers))))
    await _time("staff member (keyset)", args.queries,
                keyset(lambda: CallLogFilter(staff_id=rng.choice(staff))))
    await _time("has_recording (keyset)", args.queries,
                keyset(lambda: CallLogFilter(has_recording=True)))
    await _time("one week window (keyset)", args.queries, keyset(window))
    await _time("40 pages by cursor (all 40, from the top)", max(3, args.queries // 20), deep)
    await _time("page 1 with total, one week window", args.queries, paged(window))
    await _time("page 1 with total, unfiltered", max(5, args.queries // 20),
                paged(CallLogFilter))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
