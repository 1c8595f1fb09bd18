"""API query benchmark: filtered call-log pages at 1 M rows, transcript search at 100 k.

Fills a fresh database with ``--rows`` call logs (default 1 000 000; 90 % in
one tenant, a year of calls, 1 000 caller numbers, 20 staff, 10 % recorded,
2.5 % with a voicemail),
then times the service functions the API routes call, ``--queries`` times
each: newest page and filtered pages by keyset (``list_after``), a page 40
deep by cursor, and page/limit with a total (``list_page``, which counts every
match). Prints p50/p99 in ms and each p99 as a ratio of the 25 ms target
(below 1.0 meets it).

Then ``--transcripts`` transcripts (default 100 000: the recorded calls
first, each 4-12 Asterisk core-sound prompts long, so the words and their
frequencies are real speech) are searched the way
``GET /api/v1/transcripts/search`` does (``search_transcripts``: ranked
SQLite FTS5 or PostgreSQL full text, snippets, and the total): a frequent
word, a median one, a rare one, two words, and the frequent word within a
month, inbound only, from one caller, and on page 100. ``--search-only``
skips the call-log lines but the base. Each
line adds ``x base``: its p50 over the p50 of the newest call-log page,
measured in the same run, so runs on a noisy machine compare. Last, the
recording-storage limit check the engine makes before every recording, with
the bench's recordings in the tenant.

Run: ``.venv/bin/python bench/api.py [--rows 1000000] [--queries 200]
[--transcripts 100000] [--search-only]
[--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/DB]``
(the PostgreSQL database must exist and be empty; SQLite gets a temp file).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gzip
import random
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from switchboard import ids
from switchboard.models import CallLog, Recording, Tenant, Transcript, User
from switchboard.models.migrate import upgrade
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.services import call_logs, limits, transcripts
from switchboard.services.call_logs import CallLogFilter
from switchboard.transcription.corpus import parse_references

TARGET_MS = 25.0
CORE_SOUNDS = "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
STATUSES = ["ANSWERED_BY_STAFF", "MISSED", "VOICEMAIL_RECEIVED", "ANSWERED_BY_CALLS_PROVIDER"]


async def _fill(
    maker: Any, rows: int
) -> tuple[str, list[str], list[str], list[tuple[str, str, datetime]]]:
    rng = random.Random(7)
    recorded_calls: list[tuple[str, str, datetime]] = []  # (call sid, tenant, started)
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
        status = rng.choice(STATUSES)
        voicemail = status == "VOICEMAIL_RECEIVED" and rng.random() < 0.1  # 2.5 % of calls
        sid = ids.call_sid()
        if recorded:
            recorded_calls.append((sid, tenant, at))
        batch.append({
            "id": ids.new_uuid(), "call_sid": sid, "tenant_id": tenant,
            "direction": "INBOUND" if rng.random() < 0.7 else "OUTBOUND",
            "status": status, "call_status": "completed",
            "from_number": rng.choice(callers), "to_number": "+15125550100",
            "staff_id": rng.choice(staff_ids) if tenant == main.id else None,
            "provider": "ASTERISK", "price": "0", "started_at": at, "ended_at": at,
            "duration": rng.randrange(600), "has_recording": recorded,
            "has_voicemail": voicemail, "handled_by": "engine", "notes": [],
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
    return main.id, callers, staff_ids, recorded_calls


def _prompts(rootfs: Path) -> list[str]:
    with gzip.open(rootfs / CORE_SOUNDS, "rt", encoding="utf-8", errors="replace") as fh:
        return list(parse_references(fh.read()).values())


async def _fill_transcripts(
    maker: Any, count: int, prompts: list[str], recorded: list[tuple[str, str, datetime]],
    tenants: tuple[str, str],
) -> collections.Counter[str]:
    """``count`` recordings with a transcript each; returns how many transcripts hold each word."""
    rng = random.Random(13)
    seen: collections.Counter[str] = collections.Counter()
    now = datetime.now(UTC)
    started = time.perf_counter()
    recs: list[dict[str, Any]] = []
    texts: list[dict[str, Any]] = []
    for n in range(count):
        if n < len(recorded):
            call_sid, tenant, at = recorded[n]
        else:
            call_sid, tenant = None, tenants[0] if n % 10 else tenants[1]
            at = now - timedelta(seconds=rng.randrange(365 * 86400))
        body = " ".join(rng.choice(prompts) for _ in range(rng.randint(4, 12)))
        seen.update(set(re.findall(r"[a-z]+", body.lower())))
        rec_id = ids.new_uuid()
        recs.append({"id": rec_id, "recording_sid": ids.recording_sid(), "tenant_id": tenant,
                     "call_sid": call_sid, "path": f"recordings/{rec_id}.wav",
                     "source": "DialVerb", "status": "completed", "channels": 2,
                     "duration": 60.0, "size_bytes": 960_044, "format": "wav",
                     "created_at": at, "updated_at": at})
        texts.append({"id": ids.new_uuid(), "tenant_id": tenant, "recording_id": rec_id,
                      "call_sid": call_sid, "model": "tiny.en", "language": "en",
                      "text": body, "segments": [], "audio_seconds": 60.0,
                      "processing_seconds": 2.0, "is_current": True,
                      "created_at": at, "updated_at": at})
        if len(recs) == 2000 or n == count - 1:
            async with maker() as s:
                await s.execute(insert(Recording), recs)
                await s.execute(insert(Transcript), texts)
                await s.commit()
            recs, texts = [], []
    print(f"filled {count} transcripts in {time.perf_counter() - started:.1f} s")
    return seen


async def _time(
    label: str, queries: int, run: Callable[[], Awaitable[object]], *, base: float | None = None
) -> float:
    await run()  # warm caches and plans
    samples = []
    for _ in range(queries):
        t0 = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    line = f"{label:44s} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  p99/target {p99 / TARGET_MS:6.2f}"
    if base:
        line += f"  x base {p50 / base:6.1f}"
    print(line, flush=True)
    return p50


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--transcripts", type=int, default=100_000)
    parser.add_argument("--rootfs", type=Path, default=Path("/var/cache/switchboard/rootfs"),
                        help="Asterisk rootfs with the core-sound prompts' texts")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--search-only", action="store_true",
                        help="time only the newest call-log page (the base) and the searches")
    args = parser.parse_args()
    prompts = _prompts(args.rootfs) if args.transcripts else []
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = make_engine(url)
    await upgrade(engine)
    maker = make_sessionmaker(engine)
    tenant, callers, staff, recorded = await _fill(maker, args.rows)
    async with maker() as s:
        other = await s.scalar(select(Tenant.id).where(Tenant.id != tenant))
    assert other is not None
    words = await _fill_transcripts(maker, args.transcripts, prompts, recorded, (tenant, other))
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
        if engine.dialect.name == "sqlite" and args.transcripts:
            await conn.execute(
                text("INSERT INTO transcript_search(transcript_search) VALUES('optimize')"))
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
    base = await _time("newest page (keyset)", args.queries, keyset(CallLogFilter))
    if not args.search_only:
        await _time("direction + status (keyset)", args.queries,
                    keyset(lambda: CallLogFilter(direction="inbound", status="MISSED")))
        await _time("from one caller of 1000 (keyset)", args.queries,
                    keyset(lambda: CallLogFilter(from_number=rng.choice(callers))))
        await _time("staff member (keyset)", args.queries,
                    keyset(lambda: CallLogFilter(staff_id=rng.choice(staff))))
        await _time("has_recording (keyset)", args.queries,
                    keyset(lambda: CallLogFilter(has_recording=True)))
        await _time("has_voicemail, 2.5 % of calls (keyset)", args.queries,
                    keyset(lambda: CallLogFilter(has_voicemail=True)))
        await _time("one week window (keyset)", args.queries, keyset(window))
        await _time("40 pages by cursor (all 40, from the top)", max(3, args.queries // 20), deep)
        await _time("page 1 with total, one week window", args.queries, paged(window))
        await _time("page 1 with total, unfiltered", max(5, args.queries // 20),
                    paged(CallLogFilter))
    if args.transcripts:
        await _search(maker, tenant, words, args.transcripts, args.queries, base, callers)

        async def storage_check() -> object:
            async with maker() as s:
                return await limits.recording_refusal(s, tenant)

        # Asked before every recording starts (on the call's path).
        await _time("recording storage limit check", args.queries, storage_check, base=base)
    await engine.dispose()


async def _search(
    maker: Any, tenant: str, words: collections.Counter[str], count: int, queries: int,
    base: float, callers: list[str],
) -> None:
    """Time ranked transcript search for words of a high, median and low frequency."""
    ranked = [w for w, _ in words.most_common() if len(w) > 3]
    frequent, median, rare = ranked[0], ranked[len(ranked) // 2], ranked[-1]
    print(f"transcript search over {count} transcripts; words in how many: "
          f"{frequent!r} {words[frequent]}, {median!r} {words[median]}, {rare!r} {words[rare]}")
    month_start = datetime.now(UTC) - timedelta(days=60)

    def search(q: str, **filters: Any) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            async with maker() as s:
                return await transcripts.search_transcripts(s, q, tenant_id=tenant,
                                                            **{"limit": 25, **filters})
        return run

    await _time(f"search frequent word {frequent!r}", queries, search(frequent), base=base)
    await _time(f"search median word {median!r}", queries, search(median), base=base)
    await _time(f"search rare word {rare!r}", queries, search(rare), base=base)
    await _time(f"search two words {frequent!r} {median!r}", queries,
                search(f"{frequent} {median}"), base=base)
    await _time(f"search {frequent!r} within a month", queries,
                search(frequent, date_start=month_start,
                       date_end=month_start + timedelta(days=30)), base=base)
    await _time(f"search {frequent!r}, inbound", queries,
                search(frequent, direction="inbound"), base=base)
    pick = random.Random(5)
    await _time(f"search {frequent!r}, one caller of 1000", queries,
                lambda: search(frequent, number=pick.choice(callers))(), base=base)
    await _time(f"search {frequent!r}, page 100 (past a rank window)", max(5, queries // 10),
                search(frequent, page=100), base=base)


if __name__ == "__main__":
    asyncio.run(main())
