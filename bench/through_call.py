"""Corpus source for bench/transcription.py: each file spoken into voicemail
through a real call (local Asterisk + the engine + a SQLite database).

A number rings one simulated phone that never answers; the simulated caller
speaks the file once the voicemail recording starts. What comes back is the
voicemail recording the engine stored: the audio a caller really leaves.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from switchboard.asterisk import AsteriskInstance, ensure_rootfs, free_ports
from switchboard.config import Settings
from switchboard.models import (
    ForwardingRule,
    PhoneNumber,
    Recording,
    Tenant,
    Trunk,
    Voicemail,
)
from switchboard.models.migrate import upgrade
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.models.state import bump_routing_revision
from switchboard.runtime import build_engine
from switchboard.simulate import place_call, stage_audio, wait_for_call_log

DID = "+15550100999"
CALLER = "+15557650000"


async def _seed(sessionmaker: Any) -> None:
    async with sessionmaker() as session, session.begin():
        tenant = Tenant(name="Bench")
        session.add(tenant)
        await session.flush()
        session.add(Trunk(tenant_id=tenant.id, name="bench", kind="local", context="sb-test"))
        number = PhoneNumber(tenant_id=tenant.id, e164=DID, voicemail_max_seconds=120)
        session.add(number)
        await session.flush()
        session.add(
            ForwardingRule(
                tenant_id=tenant.id,
                number_id=number.id,
                priority=0,
                targets=["+15550001111"],
                ring_timeout=1,
            )
        )
        await bump_routing_revision(session)


async def _voicemail_file(sessionmaker: Any, settings: Settings, call_sid: str) -> Path | None:
    async with sessionmaker() as session:
        vm = await session.scalar(select(Voicemail).where(Voicemail.call_sid == call_sid))
        if vm is None or vm.recording_id is None:
            return None
        rec = await session.get(Recording, vm.recording_id)
    return settings.resolved_storage_root / rec.path if rec else None


async def _run(paths: list[Path], keep_dir: Path, parallel: int) -> list[Path | None]:
    base = Settings()
    rootfs = ensure_rootfs(base.rootfs_cache, base.debian_mirror or None, lambda _line: None)
    with tempfile.TemporaryDirectory(prefix="sb-bench-call-") as tmp:
        state = Path(tmp)
        asterisk = AsteriskInstance.create(
            "bench", base_dir=state / "asterisk", ports=free_ports(), rootfs=rootfs
        )
        await asyncio.to_thread(asterisk.start, 60)
        db = make_engine(f"sqlite+aiosqlite:///{state / 'bench.db'}")
        try:
            await upgrade(db)
            sessionmaker = make_sessionmaker(db)
            settings = asterisk.apply_to(
                Settings(
                    database_url=f"sqlite+aiosqlite:///{state / 'bench.db'}",
                    state_dir=state,
                    storage_root=state / "storage",
                )  # the product's defaults (voicemail silence timeout 5 s): what users get
            )
            await _seed(sessionmaker)
            engine = build_engine(settings, sessionmaker)
            await engine.start()
            await engine.wait_ready()
            await engine.routing.reload()
            await engine.astdb.sync(engine.routing.routes)
            gate = asyncio.Semaphore(parallel)
            spool = settings.asterisk_spool_dir
            assert spool is not None

            async def one(index: int, path: Path) -> Path | None:
                async with gate:
                    sound = await asyncio.to_thread(stage_audio, path, spool)
                    call = await place_call(
                        settings, did=DID, caller=CALLER, behaviour="noanswer", say=sound
                    )
                    row = await wait_for_call_log(sessionmaker, call, timeout=180)
                    if row is None:
                        return None
                    await engine.writer.flush()
                    for _ in range(50):
                        found = await _voicemail_file(sessionmaker, settings, row.call_sid)
                        if found is not None and found.is_file():
                            kept = keep_dir / f"voicemail-{index}{found.suffix}"
                            kept.write_bytes(found.read_bytes())
                            return kept
                        await asyncio.sleep(0.2)
                    return None

            try:
                return list(await asyncio.gather(*(one(i, p) for i, p in enumerate(paths))))
            finally:
                await engine.stop()
        finally:
            await db.dispose()
            await asyncio.to_thread(asterisk.stop)


def through_call(paths: list[Path], keep_dir: Path, *, parallel: int = 3) -> list[Path | None]:
    """Speak each file into voicemail through a real call; the recordings' paths.

    The recordings are copied into ``keep_dir``; an entry is None when that
    call left no voicemail.
    """
    return asyncio.run(_run(paths, keep_dir, parallel))
